#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "compat.h"
#include "harden.h"
#include "util.h"

/* Set for the re-executed copy only; it removes it at once. */
#define SEALED_ENV "_HAKO_EXEC_SEALED"
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define STEP "hako-exec"

extern char **environ;

/* The binary we run from can no longer change: a memfd with every seal. */
static bool running_sealed(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int seals = fd >= 0 ? fcntl(fd, F_GET_SEALS) : -1;

	return seals >= 0 && (seals & SEALS) == SEALS;
}

static int sealed_copy(struct hx_error *e)
{
	_cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int mem = -1;
	struct stat st;
	off_t done = 0;

	if (src < 0 || fstat(src, &st) < 0)
		return hx_fail(e, STEP, errno, "open /proc/self/exe: %s", strerror(errno));
	/* MFD_EXEC: where vm.memfd_noexec is set, a memfd is only executable if
	 * asked for; kernels before 6.3 do not know the flag. */
	mem = memfd_create("hako-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mem < 0 && errno == EINVAL)
		mem = memfd_create("hako-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem < 0)
		return hx_fail(e, STEP, errno, "memfd_create: %s", strerror(errno));
	while (done < st.st_size) {
		ssize_t n = sendfile(mem, src, &done, st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return hx_fail(e, STEP, n < 0 ? errno : EIO, "copy /proc/self/exe to a memfd: %s",
				       n < 0 ? strerror(errno) : "short copy");
	}
	if (fcntl(mem, F_ADD_SEALS, SEALS) < 0)
		return hx_fail(e, STEP, errno, "seal the memfd copy of /proc/self/exe: %s", strerror(errno));
	return hx_steal_fd(&mem);
}

/* Removes the marker from the environment, and its bytes from the copy the
 * kernel keeps (/proc/PID/environ): it was put last, so only NULs trail. */
static bool take_marker(void)
{
	char *value = getenv(SEALED_ENV);
	char *entry = value ? value - sizeof(SEALED_ENV) : NULL; /* "NAME=" precedes the value */

	if (entry == NULL)
		return false;
	unsetenv(SEALED_ENV);
	memset(entry, 0, strlen(entry));
	return true;
}

/* The current environment plus the marker, last. */
static char **marked_env(void)
{
	size_t n = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(char *));
	if (env == NULL)
		return NULL;
	memcpy(env, environ, n * sizeof(char *));
	env[n] = SEALED_ENV "=1";
	return env;
}

int hx_harden(char **argv, struct hx_error *e)
{
	_cleanup_close_ int mem = -1;
	_cleanup_free_ char **env = NULL;
	bool again = take_marker(); /* never passed on, not even to hooks */

	/* Again after the re-exec: execve makes a process dumpable. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return hx_fail(e, STEP, errno, "prctl PR_SET_DUMPABLE: %s", strerror(errno));
	if (running_sealed())
		return 0;
	if (again)
		return hx_fail(e, STEP, ELOOP, "re-executed from a memfd, but /proc/self/exe is not sealed");
	mem = sealed_copy(e);
	if (mem < 0)
		return -1;
	env = marked_env();
	if (env == NULL)
		return hx_fail(e, STEP, ENOMEM, "out of memory");
	fexecve(mem, argv, env);
	return hx_fail(e, STEP, errno, "fexecve the sealed copy of /proc/self/exe: %s", strerror(errno));
}
