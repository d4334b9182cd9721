/* monitor.state: key=value lines, replaced atomically (temp file + rename). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"

#define STATE_FILE "monitor.state"
#define STATE_TMP "monitor.state.tmp"

struct mon_state S = { .status = "created" };

/* Field 22 of /proc/self/stat: with the pid it names this process even after the
 * pid is reused. Counted after the last ')' since the name may hold spaces. */
static unsigned long long start_ticks(void)
{
	char buf[1024], *p, *end;
	unsigned long long v = 0;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		mon_die(1, "open /proc/self/stat: %s", strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		mon_die(1, "read /proc/self/stat: %s", n < 0 ? strerror(errno) : "empty");
	buf[n] = '\0';
	p = strrchr(buf, ')');
	for (int field = 2; p != NULL && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		v = strtoull(p + 1, &end, 10);
	if (p == NULL || end == p + 1)
		mon_die(1, "/proc/self/stat: no start time");
	return v;
}

void state_init(void)
{
	S.monitor_pid = getpid();
	S.monitor_start = start_ticks();
}

void state_write(void)
{
	char buf[2048];
	int fd, n;

	n = snprintf(buf, sizeof(buf),
		     "monitor_pid=%d\nmonitor_start=%llu\nstatus=%s\npid=%d\nstarted_at=%s\nfinished_at=%s\n"
		     "exit_code=%d\nrestart_count=%u\nerror=%s\n",
		     (int)S.monitor_pid, S.monitor_start, S.status, (int)S.pid, S.started_at, S.finished_at,
		     S.exit_code, S.restart_count, S.error);
	fd = open(STATE_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		mon_warn("open %s: %s", STATE_TMP, strerror(errno));
		return;
	}
	if (mon_write_all(fd, buf, (size_t)n) < 0) {
		mon_warn("write %s: %s", STATE_TMP, strerror(errno));
		close(fd);
		return;
	}
	if (close(fd) < 0)
		mon_warn("close %s: %s", STATE_TMP, strerror(errno));
	else if (rename(STATE_TMP, STATE_FILE) < 0)
		mon_warn("rename %s: %s", STATE_TMP, strerror(errno));
}
