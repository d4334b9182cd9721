#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "plan.h"
#include "process.h"
#include "util.h"

int hx_step_setsid(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	(void)c;
	if (setsid() < 0)
		return hx_fail(e, s->f[0], errno, "setsid: %s", strerror(errno));
	return 0;
}

/* A user namespace whose setgroups is "deny" refuses even an empty list. */
static bool setgroups_denied(void)
{
	char buf[8] = { 0 };
	_cleanup_close_ int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

	return fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && strncmp(buf, "deny", 4) == 0;
}

/* Clearing the list where the kernel forbids any change is not a failure: the
 * process has nothing it could drop. */
static int set_groups(size_t n, const gid_t *gids, const char *step, struct hx_error *e)
{
	if (setgroups(n, gids) == 0)
		return 0;
	if (errno == EPERM && n == 0 && setgroups_denied())
		return 0;
	return hx_fail(e, step, errno, "setgroups: %s", strerror(errno));
}

static int set_ids(uid_t uid, gid_t gid, size_t ngroups, const gid_t *groups, const char *step,
		   struct hx_error *e)
{
	if (setresgid(gid, gid, gid) < 0)
		return hx_fail(e, step, errno, "setresgid %u: %s", gid, strerror(errno));
	if (set_groups(ngroups, groups, step, e) < 0)
		return -1;
	if (setresuid(uid, uid, uid) < 0)
		return hx_fail(e, step, errno, "setresuid %u: %s", uid, strerror(errno));
	return 0;
}

int hx_step_become_root(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	(void)c;
	return set_ids(0, 0, 0, NULL, s->f[0], e);
}

int hx_step_user(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	size_t n = s->n - 3;
	_cleanup_free_ gid_t *groups = calloc(n + 1, sizeof(gid_t));

	(void)c;
	if (groups == NULL)
		return hx_fail(e, s->f[0], ENOMEM, "user: out of memory");
	for (size_t i = 0; i < n; i++)
		groups[i] = hx_num(s->f[3 + i]);
	return set_ids(hx_num(s->f[1]), hx_num(s->f[2]), n, groups, s->f[0], e);
}

int hx_step_umask(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	(void)c;
	(void)e;
	umask(hx_octal(s->f[1]));
	return 0;
}

int hx_step_hostname(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	(void)c;
	if (sethostname(s->f[1], strlen(s->f[1])) < 0)
		return hx_fail(e, s->f[0], errno, "sethostname %s: %s", s->f[1], strerror(errno));
	return 0;
}

int hx_step_domainname(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	(void)c;
	if (setdomainname(s->f[1], strlen(s->f[1])) < 0)
		return hx_fail(e, s->f[0], errno, "setdomainname %s: %s", s->f[1], strerror(errno));
	return 0;
}

/* The kernel's getcwd(2) (not libc's) says "(unreachable)/..." for a directory
 * outside the process's root: e.g. a chdir through a leaked host fd,
 * /proc/self/fd/N (CVE-2024-21626). */
int hx_step_chdir(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	char cwd[PATH_MAX];

	(void)c;
	if (chdir(s->f[1]) < 0)
		return hx_fail(e, s->f[0], errno, "chdir %s: %s", s->f[1], strerror(errno));
	if (syscall(SYS_getcwd, cwd, sizeof(cwd)) < 0)
		return hx_fail(e, s->f[0], errno, "chdir %s: getcwd: %s", s->f[1], strerror(errno));
	if (cwd[0] != '/')
		return hx_fail(e, s->f[0], EPERM, "chdir %s: the working directory is outside the container", s->f[1]);
	return 0;
}
