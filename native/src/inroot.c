#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "compat.h"
#include "inroot.h"
#include "util.h"

int hx_inroot_open(int rootfd, const char *path)
{
	struct hx_open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = HX_RESOLVE_IN_ROOT | HX_RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	/* EAGAIN: the kernel saw a concurrent rename or mount and wants a retry. */
	for (int tries = 0; tries < 32; tries++) {
		fd = syscall(SYS_openat2, rootfd, path[0] ? path : "/", &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
}

/* Creates NAME in DIRFD; a concurrent creator (EEXIST) is not a failure. The
 * umask is cleared so the modes are exactly the documented ones. */
static int create_at(int dirfd, const char *name, enum hx_kind kind)
{
	mode_t old = umask(0);
	int r;

	if (kind == HX_DIR) {
		r = mkdirat(dirfd, name, 0755);
	} else {
		/* O_EXCL|O_NOFOLLOW: never opens (or creates through) an existing symlink. */
		r = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (r >= 0)
			r = close(r);
	}
	umask(old);
	return r < 0 && errno == EEXIST ? 0 : r;
}

static int open_fail(const char *step, const char *path, struct hx_error *e)
{
	return hx_fail(e, step, errno, "open %s in the rootfs: %s", path, strerror(errno));
}

int hx_inroot_mkpath(int rootfd, const char *path, enum hx_kind kind, const char *step, struct hx_error *e)
{
	_cleanup_free_ char *prefix = NULL;
	_cleanup_close_ int cur = -1;
	size_t plen = 0;

	cur = hx_inroot_open(rootfd, path);
	if (cur >= 0)
		return hx_steal_fd(&cur);
	if (errno != ENOENT)
		return open_fail(step, path, e);
	prefix = malloc(strlen(path) + 2);
	if (prefix == NULL)
		return hx_fail(e, step, ENOMEM, "%s: out of memory", path);
	cur = hx_inroot_open(rootfd, "/");
	if (cur < 0)
		return open_fail(step, "/", e);

	for (const char *p = path + strspn(path, "/"); *p; p += strspn(p, "/")) {
		size_t len = strcspn(p, "/");
		const char *name = prefix + plen + 1;
		bool last = p[len + strspn(p + len, "/")] == '\0';
		int next;

		if (len == 1 && p[0] == '.') {
			p += len;
			continue;
		}
		plen += sprintf(prefix + plen, "/%.*s", (int)len, p);
		p += len;
		next = hx_inroot_open(rootfd, prefix);
		if (next < 0 && errno == ENOENT && strcmp(name, "..") != 0) {
			/* Created relative to the parent's fd, never through a host path. */
			if (create_at(cur, name, last ? kind : HX_DIR) < 0)
				return hx_fail(e, step, errno, "create %s in the rootfs: %s", prefix, strerror(errno));
			next = hx_inroot_open(rootfd, prefix);
		}
		if (next < 0)
			return open_fail(step, prefix, e);
		close(cur);
		cur = next;
	}
	return hx_steal_fd(&cur);
}

int hx_inroot_parent(int rootfd, const char *path, char **buf, const char **name, const char *step,
		     struct hx_error *e)
{
	_cleanup_free_ char *parent = NULL;
	char *slash;

	*buf = strdup(path);
	if (*buf == NULL)
		return hx_fail(e, step, ENOMEM, "%s: out of memory", path);
	/* Trailing slashes name the same entry. */
	for (size_t l = strlen(*buf); l > 1 && (*buf)[l - 1] == '/'; l--)
		(*buf)[l - 1] = '\0';
	slash = strrchr(*buf, '/');
	*name = slash ? slash + 1 : *buf;
	if (**name == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0)
		return hx_fail(e, step, EINVAL, "%s: not a name in a directory", path);
	parent = strndup(*buf, slash ? (size_t)(slash - *buf) : 0);
	if (parent == NULL)
		return hx_fail(e, step, ENOMEM, "%s: out of memory", path);
	return hx_inroot_mkpath(rootfd, parent[0] ? parent : "/", HX_DIR, step, e);
}
