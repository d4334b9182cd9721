/*
 * The json-file log, in Docker's line format:
 *   {"log":"hi\n","stream":"stdout","time":"2026-11-23T10:00:00.123456789Z"}
 * Lines are cut at '\n'; a partial line waits in a fixed 16 KiB buffer per stream.
 * The escaped line goes out through a fixed buffer, its length computed first so
 * that rotation can be decided before anything is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor.h"

static int log_fd = -1;
static uint64_t log_size;
static bool log_failing; /* one message per run of failures, not one per line */
static char partial[2][MON_LINE_MAX];
static size_t partial_len[2];

/* The output buffer; counting mode only measures. */
static struct {
	char buf[8192];
	size_t n;
	uint64_t total;
	bool count_only;
	bool failed;
} ob;

static void note_failure(const char *what)
{
	if (!log_failing)
		mon_warn("%s %s: %s", what, O.log, strerror(errno));
	log_failing = true;
}

static void ob_flush(void)
{
	if (ob.n > 0 && !ob.failed && mon_write_all(log_fd, ob.buf, ob.n) < 0) {
		note_failure("write");
		ob.failed = true;
	}
	ob.n = 0;
}

static void ob_put(const char *s, size_t n)
{
	ob.total += n;
	if (ob.count_only)
		return;
	while (n > 0) {
		size_t room = sizeof(ob.buf) - ob.n, c = n < room ? n : room;
		memcpy(ob.buf + ob.n, s, c);
		ob.n += c;
		s += c;
		n -= c;
		if (ob.n == sizeof(ob.buf))
			ob_flush();
	}
}

/* Length of the valid UTF-8 sequence at s (what Go's decoder accepts: no
 * overlongs, no surrogates, at most U+10FFFF), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xBF;
	size_t len;

	if (b < 0x80)
		return 1;
	if (b < 0xC2 || b > 0xF4)
		return 0;
	len = b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
	if (b == 0xE0)
		lo = 0xA0;
	else if (b == 0xED)
		hi = 0x9F;
	else if (b == 0xF0)
		lo = 0x90;
	else if (b == 0xF4)
		hi = 0x8F;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

static void escape(const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0, i = 0;

	while (i < n) {
		unsigned char b = s[i];
		char esc[8];
		size_t len, el = 2;

		if (b >= 0x20 && b != '"' && b != '\\' && b < 0x80) {
			i++;
			continue;
		}
		len = b < 0x80 ? 1 : utf8_len(s + i, n - i);
		if (len > 1) {
			i += len;
			continue;
		}
		ob_put((const char *)s + start, i - start);
		esc[0] = '\\';
		switch (b) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			if (b < 0x80) {
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[b >> 4];
				esc[5] = hex[b & 15];
			} else {
				memcpy(esc + 1, "ufffd", 5);
			}
			el = 6;
		}
		ob_put(esc, el);
		start = ++i;
	}
	ob_put((const char *)s + start, n - start);
}

static void line(int stream, const char *data, size_t n, const char *time)
{
	ob_put("{\"log\":\"", 8);
	escape((const unsigned char *)data, n);
	ob_put(stream == STREAM_STDOUT ? "\",\"stream\":\"stdout\",\"time\":\"" : "\",\"stream\":\"stderr\",\"time\":\"", 28);
	ob_put(time, strlen(time));
	ob_put("\"}\n", 3);
}

static int open_live(int extra_flags)
{
	int fd = open(O.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra_flags, 0640);

	if (fd < 0)
		note_failure("open");
	return fd;
}

/* FILE.(N-2) -> FILE.(N-1) ... FILE -> FILE.1, then a new FILE; with one file
 * the live one is truncated (Docker's max-file=1). */
static void rotate(void)
{
	char from[PATH_MAX], to[PATH_MAX];

	if (O.log_max_file <= 1) {
		if (ftruncate(log_fd, 0) < 0)
			note_failure("truncate");
		log_size = 0;
		return;
	}
	for (unsigned i = O.log_max_file - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", O.log);
		else
			snprintf(from, sizeof(from), "%s.%u", O.log, i - 1);
		snprintf(to, sizeof(to), "%s.%u", O.log, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			note_failure("rotate");
	}
	close(log_fd);
	log_fd = open_live(O_TRUNC);
	log_size = 0;
}

static void emit(int stream, const char *data, size_t n, const struct timespec *ts)
{
	char time[40];
	uint64_t len;

	if (log_fd < 0 && (log_fd = open_live(0)) < 0)
		return; /* tried again at the next line: the disk may come back */
	mon_fmt_time(time, ts);
	ob.count_only = true;
	ob.total = 0;
	line(stream, data, n, time);
	len = ob.total;
	if (O.log_max_size > 0 && log_size > 0 && log_size + len > O.log_max_size) {
		rotate();
		if (log_fd < 0)
			return;
	}
	ob.count_only = false;
	ob.failed = false;
	ob.n = 0;
	line(stream, data, n, time);
	ob_flush();
	if (!ob.failed) {
		log_size += len;
		log_failing = false;
	}
}

void log_open(void)
{
	struct stat st;

	if (O.log == NULL)
		return;
	log_fd = open_live(0);
	if (log_fd < 0)
		mon_die(1, "open %s: %s", O.log, strerror(errno));
	if (fstat(log_fd, &st) < 0)
		mon_die(1, "stat %s: %s", O.log, strerror(errno));
	log_size = (uint64_t)st.st_size;
}

void log_output(int stream, const char *data, size_t n, const struct timespec *ts)
{
	char *buf = partial[stream];
	size_t *len = &partial_len[stream];

	if (O.log == NULL)
		return;
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) + 1 : n, room = MON_LINE_MAX - *len;

		if (*len == 0 && nl != NULL) {
			emit(stream, data, take, ts); /* a whole line: no copy */
		} else {
			if (take > room)
				take = room;
			memcpy(buf + *len, data, take);
			*len += take;
			if (*len == MON_LINE_MAX || buf[*len - 1] == '\n') {
				emit(stream, buf, *len, ts);
				*len = 0;
			}
		}
		data += take;
		n -= take;
	}
}

void log_flush_partial(int stream, const struct timespec *ts)
{
	if (O.log == NULL || partial_len[stream] == 0)
		return;
	emit(stream, partial[stream], partial_len[stream], ts);
	partial_len[stream] = 0;
}
