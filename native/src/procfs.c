#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>

#include "compat.h"
#include "procfs.h"
#include "util.h"

static bool on_procfs(int fd)
{
	struct statfs st;

	return fstatfs(fd, &st) == 0 && st.f_type == HX_PROC_SUPER_MAGIC;
}

int hx_proc_open(const char *rel, int flags, const char *step, struct hx_error *e)
{
	struct hx_open_how how = {
		.flags = flags | O_CLOEXEC | O_NOCTTY,
		.resolve = HX_RESOLVE_BENEATH | HX_RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = -1;

	if (proc < 0)
		return hx_fail(e, step, errno, "open /proc: %s", strerror(errno));
	if (!on_procfs(proc))
		return hx_fail(e, step, EXDEV, "/proc is not a procfs mount");
	fd = syscall(SYS_openat2, proc, rel, &how, sizeof(how));
	if (fd < 0)
		return hx_fail(e, step, errno, "open /proc/%s: %s", rel, strerror(errno));
	if (!on_procfs(fd))
		return hx_fail(e, step, EXDEV, "/proc/%s is not on procfs (something is mounted over it)", rel);
	return hx_steal_fd(&fd);
}

int hx_proc_write(int fd, const char *rel, const char *value, const char *step, struct hx_error *e)
{
	size_t left = strlen(value);

	while (left > 0) {
		ssize_t w = write(fd, value, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return hx_fail(e, step, errno, "write \"%s\" to /proc/%s: %s", value, rel, strerror(errno));
		if (w == 0)
			return hx_fail(e, step, EIO, "write \"%s\" to /proc/%s: short write", value, rel);
		value += w;
		left -= w;
	}
	return 0;
}
