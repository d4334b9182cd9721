/* Small helpers shared by every file: scope-bound cleanup and number parsing. */
#ifndef HX_UTIL_H
#define HX_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static inline void hx_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno; /* keep the errno the caller is about to report */
		close(*fd);
		errno = saved;
	}
}

static inline void hx_freep(void *p)
{
	int saved = errno;
	free(*(void **)p);
	errno = saved;
}

#define _cleanup_close_ __attribute__((cleanup(hx_closep)))
#define _cleanup_free_ __attribute__((cleanup(hx_freep)))

/* Hands ownership of an fd out of a _cleanup_close_ variable. */
static inline int hx_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* Whole-string decimal (base 10) or octal (base 8) number within [min, max]. */
bool hx_parse_ll(const char *s, int base, long long min, long long max, long long *out);

/* Whole-string unsigned number in base 10 or 16: digits only (no sign, no
 * prefix, no spaces), at most 64 bits. */
bool hx_parse_u64(const char *s, int base, uint64_t *out);

/* "/proc/self/fd/N" for fd, in buf (at least 32 bytes). */
const char *hx_fd_path(char buf[32], int fd);

/* Resets every signal to SIG_DFL and unblocks all: what a new program expects. */
void hx_reset_signals(void);

/* Marks every fd >= from close-on-exec: close_range, else each fd listed in
 * /proc/self/fd, else every fd below RLIMIT_NOFILE (a seccomp profile may deny
 * close_range). -1 with errno set if none of them worked. */
int hx_cloexec_from(int from);

#endif
