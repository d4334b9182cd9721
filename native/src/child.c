#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "caps.h"
#include "child.h"
#include "console.h"
#include "exec.h"
#include "hooks.h"
#include "lsm.h"
#include "mounts.h"
#include "nodes.h"
#include "process.h"
#include "rlimit.h"
#include "rootchange.h"
#include "seccomp.h"
#include "sysctl.h"
#include "util.h"
#include "values.h"

static int step_sync(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	struct hx_frame reply;
	int r;

	if (hx_send(c->ctl, e, "sync", s->f[1], NULL) < 0)
		return -1;
	if (hx_frame_read(c->ctl, &reply, e) < 0) {
		char why[sizeof(e->msg)];
		snprintf(why, sizeof(why), "%s", e->msg);
		return hx_fail(e, s->f[0], e->err ? e->err : EPIPE, "sync %s: %s", s->f[1], why);
	}
	if (strcmp(reply.f[0], "continue") == 0) {
		r = hx_values_add(c, &reply, s->f[0], e);
	} else if (strcmp(reply.f[0], "abort") == 0) {
		/* TypeScript asked for silence: nothing more is sent. */
		_exit(1);
	} else {
		r = hx_fail(e, s->f[0], EPROTO, "sync %s: unexpected reply \"%s\"", s->f[1], reply.f[0]);
	}
	hx_frame_free(&reply);
	return r;
}

static int step_ready(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	int at = hx_plan_find_exec(c->plan);

	/* A missing program must fail before `ready`, while TypeScript listens. */
	if (hx_exec_resolve(c, &c->plan->steps[at], s->f[0], e) < 0)
		return -1;
	return hx_send(c->ctl, e, "ready", NULL);
}

static int open_fifo(struct hx_ctx *c, const char *step, struct hx_error *e)
{
	char path[32];
	int fd;

	/* Re-opening the O_PATH fd needs no search permission on the state dir
	 * (the process may no longer be root); without a /proc, fall back. */
	fd = open(hx_fd_path(path, c->fifo_fd), O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = openat(c->statedir_fd, "exec.fifo", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return hx_fail(e, step, errno, "open exec.fifo: %s", strerror(errno));
	return fd;
}

static int step_wait_start(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	_cleanup_close_ int fd = -1;

	fd = open_fifo(c, s->f[0], e); /* blocks until `start` opens it for reading */
	if (fd < 0)
		return -1;
	while (write(fd, "0", 1) < 0)
		if (errno != EINTR)
			return hx_fail(e, s->f[0], errno, "write exec.fifo: %s", strerror(errno));
	close(c->fifo_fd);
	close(c->statedir_fd);
	c->fifo_fd = c->statedir_fd = -1;
	return 0;
}

static int step_no_new_privs(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	(void)c;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return hx_fail(e, s->f[0], errno, "prctl PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	return 0;
}

typedef int (*step_fn)(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

static const struct {
	const char *name;
	step_fn fn;
} steps[] = {
	{ "sync", step_sync },
	{ "setsid", hx_step_setsid },
	{ "become-root", hx_step_become_root },
	{ "propagation", hx_step_propagation },
	{ "rootfs", hx_step_rootfs },
	{ "bind-self", hx_step_bind_self },
	{ "mount", hx_step_mount },
	{ "mknod", hx_step_mknod },
	{ "symlink", hx_step_symlink },
	{ "hook", hx_step_hook },
	{ "pivot-root", hx_step_pivot_root },
	{ "chroot", hx_step_chroot },
	{ "mask", hx_step_mask },
	{ "readonly", hx_step_readonly },
	{ "remount-ro", hx_step_remount_ro },
	{ "hostname", hx_step_hostname },
	{ "domainname", hx_step_domainname },
	{ "console", hx_step_console },
	{ "chdir", hx_step_chdir },
	{ "user", hx_step_user },
	{ "umask", hx_step_umask },
	{ "env", hx_step_env },
	{ "ready", step_ready },
	{ "wait-start", step_wait_start },
	{ "rlimit", hx_step_rlimit },
	{ "no-new-privs", step_no_new_privs },
	{ "caps-bounding", hx_step_caps_bounding },
	{ "caps", hx_step_caps },
	{ "sysctl", hx_step_sysctl },
	{ "apparmor", hx_step_apparmor },
	{ "selinux", hx_step_selinux },
	{ "seccomp", hx_step_seccomp },
	{ "seccomp-arch", hx_step_seccomp_arch },
	{ "seccomp-flag", hx_step_seccomp_flag },
	{ "seccomp-rule", hx_step_seccomp_rule },
	{ "seccomp-load", hx_step_seccomp_load },
	{ "exec", hx_step_exec },
};

static int run_step(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(steps[i].name, s->f[0]) == 0)
			return steps[i].fn(c, s, e);
	/* hx_plan_read let only known names through. */
	return hx_fail(e, "plan", EINVAL, "plan: unknown step \"%s\"", s->f[0]);
}

static _Noreturn void fail(struct hx_ctx *c, const struct hx_error *e)
{
	hx_send_error(c->ctl, e);
	_exit(1);
}

_Noreturn void hx_child_main(struct hx_ctx *c, int gate)
{
	struct hx_error e = { 0 };
	char byte;
	ssize_t r;

	/* `pid` must reach TypeScript before anything this child sends. */
	do
		r = read(gate, &byte, 1);
	while (r < 0 && errno == EINTR);
	close(gate);
	if (r != 1)
		_exit(1); /* the parent failed and already reported why */

	for (int i = c->plan->clone_at + 1; i < c->plan->n; i++)
		if (run_step(c, &c->plan->steps[i], &e) < 0)
			fail(c, &e);
	_exit(0);
}
