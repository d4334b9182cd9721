#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "lsm.h"
#include "procfs.h"
#include "util.h"

/* thread-self: the exec attribute belongs to the thread that will execve. */
static int write_attr(const char *rel, const char *value, const char *what, const char *step, struct hx_error *e)
{
	_cleanup_close_ int fd = hx_proc_open(rel, O_WRONLY, step, e);

	if (fd < 0 || hx_proc_write(fd, rel, value, step, e) < 0) {
		char why[sizeof(e->msg)];
		snprintf(why, sizeof(why), "%s", e->msg);
		return hx_fail(e, step, e->err, "%s: %s", what, why);
	}
	return 0;
}

int hx_step_apparmor(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *rel = "thread-self/attr/apparmor/exec";
	char what[300], value[300];
	struct hx_error probe = { 0 };
	int fd;

	(void)c;
	snprintf(what, sizeof(what), "apparmor profile %s", s->f[1]);
	if (snprintf(value, sizeof(value), "exec %s", s->f[1]) >= (int)sizeof(value))
		return hx_fail(e, s->f[0], ENAMETOOLONG, "%s: name too long", what);
	/* Kernels before 5.8 (no LSM stacking) only have the shared attr/exec. */
	fd = hx_proc_open(rel, O_WRONLY, s->f[0], &probe);
	if (fd < 0 && probe.err == ENOENT)
		rel = "thread-self/attr/exec";
	if (fd >= 0)
		close(fd);
	return write_attr(rel, value, what, s->f[0], e);
}

int hx_step_selinux(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	char what[300];

	(void)c;
	snprintf(what, sizeof(what), "selinux label %s", s->f[1]);
	return write_attr("thread-self/attr/exec", s->f[1], what, s->f[0], e);
}
