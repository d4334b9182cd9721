/*
 * Keeping the resident set small. A static glibc binary is ~650 KB of code and
 * read-only data, and the kernel's fault-around (64 KB per fault) maps nearly all
 * of it during start-up, although a poll loop runs a small part of it: that would
 * be ~2/3 of the monitor's 1 MiB budget for nothing. So after start-up, and again
 * whenever the process has been idle a while, the pages of the binary's clean
 * read-only mappings are dropped with MADV_DONTNEED; the ones in use come back
 * from the page cache on the next fault, a minor fault.
 * Only mappings of the binary that are not writable and hold no dirty page are
 * touched (so never RELRO: its relocated GOT exists nowhere else), so nothing but
 * file contents is ever discarded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "slim.h"

extern char __executable_start[], _end[];

#define MAX_RANGES 8

static struct {
	uintptr_t lo, hi;
	bool candidate, clean;
} cur;
static struct {
	uintptr_t lo, hi;
} ranges[MAX_RANGES];
static int n_ranges;

static void end_mapping(void)
{
	if (cur.candidate && cur.clean && n_ranges < MAX_RANGES) {
		ranges[n_ranges].lo = cur.lo;
		ranges[n_ranges].hi = cur.hi;
		n_ranges++;
	}
	cur.candidate = false;
}

/* "lo-hi perms offset dev inode path" starts a mapping (lowercase hex; the
 * field names that follow start with a capital); "*_Dirty: N kB" describe it. */
static void smaps_line(char *l)
{
	char *end;

	if ((l[0] >= '0' && l[0] <= '9') || (l[0] >= 'a' && l[0] <= 'f')) {
		end_mapping();
		cur.lo = strtoul(l, &end, 16);
		cur.hi = *end == '-' ? strtoul(end + 1, &end, 16) : 0;
		cur.candidate = *end == ' ' && end[1] == 'r' && end[2] == '-' && cur.lo >= (uintptr_t)__executable_start &&
				cur.hi <= (uintptr_t)_end && cur.hi > cur.lo;
		cur.clean = true;
	} else if (strncmp(l, "Private_Dirty:", 14) == 0 || strncmp(l, "Shared_Dirty:", 13) == 0) {
		if (strtoul(strchr(l, ':') + 1, NULL, 10) != 0)
			cur.clean = false;
	}
}

static int read_smaps(void)
{
	char buf[4096];
	size_t len = 0;
	int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
		char *p = buf, *nl;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		while ((nl = strchr(p, '\n')) != NULL) {
			*nl = '\0';
			smaps_line(p);
			p = nl + 1;
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
		if (len == sizeof(buf) - 1)
			len = 0; /* no line is this long: skip it */
	}
	end_mapping();
	return close(fd);
}

void slim_again(void)
{
	/* failing only costs memory: nothing to report */
	for (int i = 0; i < n_ranges; i++)
		(void)madvise((void *)ranges[i].lo, ranges[i].hi - ranges[i].lo, MADV_DONTNEED);
}

int slim_init(void)
{
	if (read_smaps() < 0)
		return -1;
	slim_again();
	return 0;
}
