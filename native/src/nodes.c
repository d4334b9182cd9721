#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "inroot.h"
#include "nodes.h"
#include "plan.h"
#include "util.h"

static mode_t node_type(const char *t)
{
	return t[0] == 'c' ? S_IFCHR : t[0] == 'b' ? S_IFBLK : S_IFIFO;
}

int hx_step_mknod(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *step = s->f[0], *dest = s->f[1], *name;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int dir = -1;
	dev_t dev = makedev(hx_num(s->f[3]), hx_num(s->f[4]));
	mode_t mode = node_type(s->f[2]) | hx_octal(s->f[5]), old;
	int r;

	dir = hx_inroot_parent(c->rootfd, dest, &buf, &name, step, e);
	if (dir < 0)
		return -1;
	/* A directory stays: mknodat then fails with EEXIST, which is reported. */
	if (unlinkat(dir, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
		return hx_fail(e, step, errno, "remove %s: %s", dest, strerror(errno));
	old = umask(0); /* MODE is exact */
	r = mknodat(dir, name, mode, dev);
	umask(old);
	if (r < 0)
		return hx_fail(e, step, errno, "mknod %s: %s", dest, strerror(errno));
	/* -1 leaves the owner or group unchanged. */
	if (fchownat(dir, name, hx_num(s->f[6]), hx_num(s->f[7]), AT_SYMLINK_NOFOLLOW) < 0)
		return hx_fail(e, step, errno, "chown %s: %s", dest, strerror(errno));
	return 0;
}

int hx_step_symlink(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *step = s->f[0], *target = s->f[1], *dest = s->f[2], *name;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int dir = -1;

	dir = hx_inroot_parent(c->rootfd, dest, &buf, &name, step, e);
	if (dir < 0)
		return -1;
	if (symlinkat(target, dir, name) < 0 && errno != EEXIST)
		return hx_fail(e, step, errno, "symlink %s -> %s: %s", dest, target, strerror(errno));
	return 0;
}
