/* Small helpers: messages, clocks, RFC 3339 time, sockets, numbers. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "monitor.h"

static void vmessage(const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "hako-monitor: ");

	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* stderr may be gone (the CLI's terminal closed): nothing else to tell */
	(void)!write(2, buf, n);
}

void mon_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void mon_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	exit(code);
}

int64_t mon_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer; deadlines need no wall clock */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mon_realtime(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm): gmtime_r would
 * pull the time zone code into a static binary for nothing. */
static void civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void mon_fmt_time(char out[40], const struct timespec *ts)
{
	int64_t secs = ts->tv_sec, days = secs / 86400, rem = secs % 86400;
	unsigned m, d;
	int y;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil(days, &y, &m, &d);
	snprintf(out, 40, "%04d-%02u-%02uT%02u:%02u:%02u.%09luZ", y, m, d, (unsigned)(rem / 3600),
		 (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), (unsigned long)ts->tv_nsec);
}

int mon_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= w;
	}
	return 0;
}

int mon_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return (fl & O_NONBLOCK) ? 0 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int set_addr(struct sockaddr_un *a, const char *path)
{
	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a->sun_path, path);
	return 0;
}

int mon_listen(const char *path, int backlog)
{
	struct sockaddr_un addr;
	char tmp[sizeof(addr.sun_path)];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp) || set_addr(&addr, tmp) < 0)
		mon_die(1, "%s: %s", path, strerror(ENAMETOOLONG));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		mon_die(1, "socket: %s", strerror(errno));
	if ((unlink(path) < 0 && errno != ENOENT) || (unlink(tmp) < 0 && errno != ENOENT))
		mon_die(1, "remove the stale %s: %s", path, strerror(errno));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		mon_die(1, "bind %s: %s", path, strerror(errno));
	/* before listen: nobody can connect while the mode is still the umask's */
	if (chmod(tmp, 0600) < 0)
		mon_die(1, "chmod %s: %s", tmp, strerror(errno));
	if (listen(fd, backlog) < 0)
		mon_die(1, "listen %s: %s", path, strerror(errno));
	if (rename(tmp, path) < 0)
		mon_die(1, "rename %s: %s", tmp, strerror(errno));
	return fd;
}

bool mon_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}
