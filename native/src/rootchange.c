#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>

#include "compat.h"
#include "rootchange.h"
#include "util.h"

static int open_dir(const char *path, const char *step, struct hx_error *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return hx_fail(e, step, errno, "open %s: %s", path, strerror(errno));
	return fd;
}

int hx_step_pivot_root(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *step = s->f[0];
	_cleanup_close_ int oldroot = -1, newroot = -1;

	oldroot = open_dir("/", step, e);
	if (oldroot < 0)
		return -1;
	newroot = open_dir(c->rootfs, step, e);
	if (newroot < 0)
		return -1;
	if (fchdir(newroot) < 0)
		return hx_fail(e, step, errno, "chdir %s: %s", c->rootfs, strerror(errno));
	/* pivot_root(".", ".") stacks the old root on top of the new one: no
	 * directory for it is needed inside the rootfs. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return hx_fail(e, step, errno, "pivot_root: %s", strerror(errno));
	if (fchdir(oldroot) < 0)
		return hx_fail(e, step, errno, "chdir to the old root: %s", strerror(errno));
	/* Slave first, so the detach below cannot propagate to the host. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return hx_fail(e, step, errno, "make the old root rslave: %s", strerror(errno));
	if (umount2(".", MNT_DETACH) < 0)
		return hx_fail(e, step, errno, "unmount the old root: %s", strerror(errno));
	if (chdir("/") < 0)
		return hx_fail(e, step, errno, "chdir /: %s", strerror(errno));
	return 0;
}

int hx_step_chroot(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *step = s->f[0];

	/* in-place: the host's mount namespace is shared; moving a mount onto its "/"
	 * would replace the host's root for everyone. */
	bool in_place = s->n > 1;

	if (chdir(c->rootfs) < 0)
		return hx_fail(e, step, errno, "chdir %s: %s", c->rootfs, strerror(errno));
	if (!in_place && mount(c->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
		return hx_fail(e, step, errno, "move mount %s to /: %s", c->rootfs, strerror(errno));
	if (chroot(".") < 0)
		return hx_fail(e, step, errno, "chroot %s: %s", c->rootfs, strerror(errno));
	if (chdir("/") < 0)
		return hx_fail(e, step, errno, "chdir /: %s", strerror(errno));
	return 0;
}
