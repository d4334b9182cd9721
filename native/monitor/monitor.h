/*
 * hako-monitor: shared declarations. The contract is native/MONITOR.md.
 *
 * The monitor is one poll() loop over fixed tables: every buffer is a static
 * array sized below, so its memory does not grow with the container's output.
 */
#ifndef MON_MONITOR_H
#define MON_MONITOR_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define MON_CHUNK 8192          /* one read of output, client input or stdin */
#define MON_LINE_MAX 16384      /* a partial log line is flushed at this size */
#define MON_MAX_CLIENTS 32
#define MON_FLUSH_MS 1000       /* bounded wait for attach clients at the end */

/* ---- options.c ---- */
enum mon_policy { POLICY_NO, POLICY_ALWAYS, POLICY_UNLESS_STOPPED, POLICY_ON_FAILURE };
int mon_parse_policy(const char *v, enum mon_policy *policy, unsigned *max);

struct mon_options {
	const char *dir;
	const char *log;
	uint64_t log_max_size;  /* 0: never rotate */
	unsigned log_max_file;  /* >= 1 */
	bool tty, stdin_open, stdin_once, announce;
	enum mon_policy restart;
	unsigned max_restarts;  /* on-failure:N, 0 = no limit */
	char **relaunch, **cleanup, **tick_cmd; /* NULL-terminated, NULL when not given */
	int64_t tick_ms;        /* 0: no ticks */
	char **program;
};

extern struct mon_options O;
void options_parse(int argc, char **argv);

/* ---- util.c ---- */
__attribute__((format(printf, 1, 2))) void mon_warn(const char *fmt, ...);
__attribute__((format(printf, 2, 3), noreturn)) void mon_die(int code, const char *fmt, ...);
int64_t mon_now_ms(void);
void mon_realtime(struct timespec *ts);
/* RFC 3339, UTC, 9 fraction digits: 2026-11-23T10:00:00.123456789Z (31 bytes + NUL). */
void mon_fmt_time(char out[40], const struct timespec *ts);
int mon_write_all(int fd, const void *buf, size_t len);
int mon_set_nonblock(int fd);
/* Bound under a temporary name, chmod 0600, listening, then renamed into place
 * (stale file removed first): a client that sees the path can connect. */
int mon_listen(const char *path, int backlog);
bool mon_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* The poll table: every fd and the handler of its events, rebuilt each turn. */
typedef void (*mon_handler)(int idx, int fd, short revents);
void poll_add(int fd, short events, mon_handler fn, int idx);

/* ---- spawn.c ---- */
struct spawn_io {
	int in, out, err; /* become 0, 1, 2 */
	bool pass3;       /* keep the monitor's fd 3 */
	int chan;         /* becomes fd 4; -1: none */
};
/* Fork + exec argv (PATH searched). On an exec failure the child is reaped and
 * -1 returned with the reason in err. */
pid_t mon_spawn(char *const argv[], const struct spawn_io *io, char *err, size_t errlen);
/* execve the --cleanup argv in place of the monitor; returns only on failure. */
void mon_exec_self(char *const argv[]);

/* ---- state.c ---- */
struct mon_state {
	pid_t monitor_pid;
	unsigned long long monitor_start;
	const char *status;     /* created running restarting exited failed */
	pid_t pid;
	char started_at[40], finished_at[40];
	int exit_code;
	unsigned restart_count;
	char error[512];
};
extern struct mon_state S;
void state_init(void);
void state_write(void);

/* ---- logfile.c ---- */
enum { STREAM_STDOUT = 0, STREAM_STDERR = 1 };
void log_open(void);
void log_output(int stream, const char *data, size_t n, const struct timespec *ts);
void log_flush_partial(int stream, const struct timespec *ts);

/* ---- attach.c ---- */
void attach_listen(void);
void attach_poll(void);
void attach_broadcast(int type, const char *data, size_t n);
void attach_exit(int code);     /* exit frame to all; later clients get it at once */
void attach_reset(void);        /* a new run: new clients wait for its output */
bool attach_idle(void);
void attach_shutdown(void);     /* close every client, unlink attach.sock */
/* Where client stdin goes: the stdin pipe or the pty master; -1: discarded. */
void attach_set_stdin(int fd, bool tty);

/* ---- console.c ---- */
void console_listen(void);
void console_poll(void);
void console_shutdown(void);

/* ---- channel.c ---- */
#define CHAN_CLI 0      /* fd 4 from the CLI */
#define CHAN_RELAUNCH 1 /* the current relaunch's socketpair */
void chan_init(bool fd4_open);
void chan_set(int idx, int fd);
void chan_poll(void);
void chan_read(int idx);        /* read what is pending now (non-blocking) */
bool chan_is_open(int idx);
void chan_send(int idx, const char *line);
void chan_mark_nocleanup(int idx);
bool chan_vetoes_cleanup(void);

/* ---- main.c: what the modules report ---- */
void mon_on_line(int chan, char *line);
void mon_on_eof(int chan);
void mon_on_master(int fd);
void mon_on_resize(unsigned rows, unsigned cols);
void mon_on_signal(int sig);

#endif
