#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "compat.h"
#include "inroot.h"
#include "mounts.h"
#include "plan.h"
#include "util.h"

/* Per-mount flags a bind mount only gets through a second, remounting call. */
#define BIND_REMOUNT_FLAGS                                                                             \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |   \
	 MS_STRICTATIME | MS_NOSYMFOLLOW)

/* The per-mount flags a mount already has, as MS_* bits (statfs speaks ST_*). A
 * mount inherited from a more privileged namespace is locked with these: a
 * remount that drops one fails with EPERM. */
static unsigned long mount_flags_of(const struct statfs *st)
{
	static const struct { unsigned long st, ms; } map[] = {
		{ HX_ST_RDONLY, MS_RDONLY },	 { HX_ST_NOSUID, MS_NOSUID },
		{ HX_ST_NODEV, MS_NODEV },	 { HX_ST_NOEXEC, MS_NOEXEC },
		{ HX_ST_NOATIME, MS_NOATIME },	 { HX_ST_NODIRATIME, MS_NODIRATIME },
		{ HX_ST_RELATIME, MS_RELATIME }, { HX_ST_NOSYMFOLLOW, MS_NOSYMFOLLOW },
	};
	unsigned long ms = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (st->f_flags & map[i].st)
			ms |= map[i].ms;
	return ms;
}

int hx_step_propagation(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	unsigned long flags = hx_num(s->f[2]);

	(void)c;
	if (mount(NULL, s->f[1], NULL, flags, NULL) < 0)
		return hx_fail(e, s->f[0], errno, "set propagation 0x%lx on %s: %s", flags, s->f[1],
			       strerror(errno));
	return 0;
}

static int open_rootfs(struct hx_ctx *c, const char *path, const char *step, struct hx_error *e)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return hx_fail(e, step, errno, "open rootfs %s: %s", path, strerror(errno));
	if (c->rootfd >= 0)
		close(c->rootfd);
	c->rootfd = fd;
	return 0;
}

int hx_step_rootfs(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	if (open_rootfs(c, s->f[1], s->f[0], e) < 0)
		return -1;
	c->rootfs = s->f[1];
	return 0;
}

static bool same_dir(int fd, const char *path)
{
	struct stat a, b;

	return fd >= 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int hx_step_bind_self(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *path = s->f[1];
	bool is_rootfs = same_dir(c->rootfd, path);

	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return hx_fail(e, s->f[0], errno, "bind mount %s on itself: %s", path, strerror(errno));
	/* A root fd opened before the bind points below the new mount: mounts made
	 * through it would be hidden under it. Re-open it on top. */
	if (is_rootfs)
		return open_rootfs(c, c->rootfs, s->f[0], e);
	return 0;
}

/* The bind's second half; on EPERM retried once keeping the locked flags. */
static int bind_remount(int fd, unsigned long flags, const char *dest, const char *step, struct hx_error *e)
{
	char target[32];
	struct statfs st;

	hx_fd_path(target, fd);
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) == 0)
		return 0;
	if (errno == EPERM && fstatfs(fd, &st) == 0 && (flags | mount_flags_of(&st)) != flags) {
		flags |= mount_flags_of(&st);
		if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) == 0)
			return 0;
	}
	return hx_fail(e, step, errno, "remount %s (bind, flags 0x%lx): %s", dest, flags, strerror(errno));
}

static const char *dash_null(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

int hx_step_mount(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *step = s->f[0], *dest = s->f[1];
	const char *src = dash_null(s->f[3]), *fstype = dash_null(s->f[4]);
	const char *data = s->f[6][0] ? s->f[6] : NULL;
	unsigned long flags = hx_num(s->f[5]);
	enum hx_kind kind = strcmp(s->f[2], "dir") == 0 ? HX_DIR : HX_FILE;
	_cleanup_close_ int fd = -1, top = -1;
	char target[32];

	fd = hx_inroot_mkpath(c->rootfd, dest, kind, step, e);
	if (fd < 0)
		return -1;
	hx_fd_path(target, fd);
	if (mount(src, target, fstype, (flags & MS_BIND) ? MS_BIND | (flags & MS_REC) : flags, data) < 0)
		return hx_fail(e, step, errno, "mount %s on %s: %s", src ? src : fstype ? fstype : "none", dest,
			       strerror(errno));
	if (!(flags & MS_BIND && flags & BIND_REMOUNT_FLAGS) && s->n <= 7)
		return 0;

	/* fd is the mount point, below the new mount: resolve again to land on top. */
	top = hx_inroot_open(c->rootfd, dest);
	if (top < 0)
		return hx_fail(e, step, errno, "open %s in the rootfs after mounting: %s", dest, strerror(errno));
	if (flags & MS_BIND && flags & BIND_REMOUNT_FLAGS && bind_remount(top, flags, dest, step, e) < 0)
		return -1;
	hx_fd_path(target, top);
	for (int i = 7; i < s->n; i++) {
		unsigned long prop = hx_num(s->f[i]);
		if (mount(NULL, target, NULL, prop, NULL) < 0)
			return hx_fail(e, step, errno, "set propagation 0x%lx on %s: %s", prop, dest, strerror(errno));
	}
	return 0;
}

int hx_step_mask(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *path = s->f[1];
	struct stat st;
	int r;

	(void)c;
	/* ENOENT: nothing to hide. */
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : hx_fail(e, s->f[0], errno, "mask %s: stat: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		r = mount("tmpfs", path, "tmpfs", MS_RDONLY, "mode=755");
	else
		r = mount("/dev/null", path, NULL, MS_BIND, NULL);
	if (r < 0)
		return hx_fail(e, s->f[0], errno, "mask %s: mount %s: %s", path, S_ISDIR(st.st_mode) ? "tmpfs" : "/dev/null",
			       strerror(errno));
	return 0;
}

/* Read-only remount of the mount at PATH, keeping the flags it has. */
static int remount_ro(const char *path, unsigned long extra, const char *step, struct hx_error *e)
{
	struct statfs st;
	unsigned long flags;

	if (statfs(path, &st) < 0)
		return hx_fail(e, step, errno, "statfs %s: %s", path, strerror(errno));
	flags = MS_BIND | MS_REMOUNT | MS_RDONLY | extra | mount_flags_of(&st);
	if (mount(NULL, path, NULL, flags, NULL) < 0)
		return hx_fail(e, step, errno, "remount %s read-only: %s", path, strerror(errno));
	return 0;
}

int hx_step_readonly(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *path = s->f[1];

	(void)c;
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : hx_fail(e, s->f[0], errno, "bind mount %s on itself: %s", path, strerror(errno));
	return remount_ro(path, MS_REC, s->f[0], e);
}

int hx_step_remount_ro(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	(void)c;
	return remount_ro(s->f[1], 0, s->f[0], e);
}
