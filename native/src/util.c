#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>

#include "compat.h"
#include "util.h"

bool hx_parse_ll(const char *s, int base, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (*s == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &end, base);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool hx_parse_u64(const char *s, int base, uint64_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull would take a sign, spaces and "0x": none is a valid field. */
	for (const char *p = s; *p; p++)
		if (base == 16 ? !isxdigit((unsigned char)*p) : !isdigit((unsigned char)*p))
			return false;
	if (*s == '\0')
		return false;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

const char *hx_fd_path(char buf[32], int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

void hx_reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;

	/* SIGKILL, SIGSTOP and libc-internal signals refuse; that is fine. */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int set_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return errno == EBADF ? 0 : -1;
	return (flags & FD_CLOEXEC) ? 0 : fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

static int cloexec_listed(int from)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int r = 0;

	if (d == NULL)
		return -1;
	while (r == 0 && (de = readdir(d)) != NULL) {
		long long fd;
		if (hx_parse_ll(de->d_name, 10, from, INT32_MAX, &fd) && fd != dirfd(d))
			r = set_cloexec(fd);
	}
	closedir(d); /* its own fd goes away here */
	return r;
}

int hx_cloexec_from(int from)
{
	struct rlimit rl;

	if (syscall(SYS_close_range, from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (cloexec_listed(from) == 0)
		return 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	for (rlim_t fd = from; fd < rl.rlim_cur && fd < (1u << 20); fd++)
		if (set_cloexec(fd) < 0)
			return -1;
	return 0;
}
