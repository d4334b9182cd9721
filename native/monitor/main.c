/*
 * hako-monitor: keeps one container company after the CLI has gone — its stdio
 * or pty, the json-file log, attach clients, the exit status and the restart
 * policy. The contract is native/MONITOR.md; this file is the life cycle.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "monitor.h"
#include "slim.h"

/* The current launch: the first start or a restart. */
static struct {
	pid_t launcher;     /* PROGRAM (--announce) or a relaunch, until reaped */
	bool launcher_done;
	bool wants_pid;     /* the container's pid arrives as `pid N` */
	int chan;           /* the channel that brings it; -1: none */
	pid_t container;    /* 0 until known */
	bool exited;
	int64_t run_start;  /* monotonic ms: `started`, else when the pid came */
} L;

static struct {
	int devnull;
	bool fd3_open, fd4_open;
	int out_r[2], out_w[2]; /* stdout, stderr pipes (no tty) */
	int in_r;               /* the container's end of the stdin pipe */
	int master;
	struct winsize ws;
	bool ws_set;
	int sigfd;
	pid_t tick_pid;
	unsigned consecutive;   /* restarts in a row, for the back-off */
	int64_t restart_at, tick_at, final_at; /* 0: not due */
	bool final;
} M = { .out_r = { -1, -1 }, .out_w = { -1, -1 }, .in_r = -1, .master = -1 };

/* Reaped processes that were not known yet: the container may exit before its
 * `pid` line is read. */
#define RING 16
static struct {
	pid_t pid;
	int code;
} ring[RING];
static unsigned ring_next;

/* ---- the poll table ---- */
#define MAX_WATCH 64
static struct pollfd pfd[MAX_WATCH];
static struct {
	mon_handler fn;
	int idx;
} watch[MAX_WATCH];
static int n_watch;

void poll_add(int fd, short events, mon_handler fn, int idx)
{
	if (n_watch == MAX_WATCH) {
		mon_warn("poll table full");
		return;
	}
	pfd[n_watch] = (struct pollfd){ .fd = fd, .events = events };
	watch[n_watch].fn = fn;
	watch[n_watch].idx = idx;
	n_watch++;
}

/* ---- endings ---- */
/* The file `cgroups` (one directory per line, written by the engine) names the
 * container's cgroups: empty now, they go, as Docker's shim removes them at exit.
 * One still in use (EBUSY) stays for `rm`. */
/* A small file the engine leaves in DIR, as a string; false when absent or empty. */
static bool read_note(const char *name, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

static void remove_cgroups(void)
{
	char buf[4096];

	if (!read_note("cgroups", buf, sizeof(buf)))
		return;
	for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if (line[0] == '/')
			(void)rmdir(line);
}

__attribute__((noreturn))
static void finish(void)
{
	remove_cgroups();
	attach_shutdown();
	console_shutdown();
	if (O.cleanup != NULL && !chan_vetoes_cleanup()) {
		mon_exec_self(O.cleanup);
		_exit(1);
	}
	_exit(0);
}

/* The launch failed (or the CLI says so): recorded, then gone — no restart,
 * no cleanup; the CLI tears down. */
__attribute__((noreturn))
static void mon_fail(const char *msg)
{
	size_t i;

	snprintf(S.error, sizeof(S.error), "%s", msg);
	for (i = 0; S.error[i]; i++)
		if (S.error[i] == '\n' || S.error[i] == '\r')
			S.error[i] = ' ';
	S.status = "failed";
	state_write();
	attach_shutdown();
	console_shutdown();
	_exit(0);
}

static void go_final(void)
{
	M.final = true;
	M.final_at = mon_now_ms() + MON_FLUSH_MS;
	M.restart_at = 0;
	M.tick_at = 0;
}

/* ---- output ---- */
static void master_close(void)
{
	if (close(M.master) < 0)
		mon_warn("close the console: %s", strerror(errno));
	M.master = -1;
	attach_set_stdin(-1, true);
}

/* One read into the fixed buffer, to the log then to the clients. Returns the
 * bytes read, 0 when nothing is there now, -1 when the fd is done. */
static ssize_t pump(int stream, int fd)
{
	static char buf[MON_CHUNK];
	struct timespec ts;
	ssize_t r = read(fd, buf, sizeof(buf));

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r < 0 && errno != EIO) /* EIO: the pty's last slave fd is closed */
		mon_warn("read the container's output: %s", strerror(errno));
	if (r <= 0)
		return -1;
	mon_realtime(&ts);
	log_output(stream, buf, (size_t)r, &ts);
	attach_broadcast(stream == STREAM_STDOUT ? 1 : 2, buf, (size_t)r);
	return r;
}

static void output_done(int idx)
{
	if (idx == 2) {
		master_close();
		return;
	}
	close(M.out_r[idx]);
	M.out_r[idx] = -1;
}

static void on_output(int idx, int fd, short revents)
{
	(void)revents;
	if ((idx == 2 ? M.master : M.out_r[idx]) != fd)
		return;
	if (pump(idx == 2 ? STREAM_STDOUT : idx, fd) < 0)
		output_done(idx);
}

/* At the container's exit: everything it wrote, before `exit`. */
static void drain(void)
{
	struct timespec ts;
	ssize_t r;

	for (int i = 0; i < 2; i++) {
		while (M.out_r[i] >= 0 && (r = pump(i, M.out_r[i])) != 0)
			if (r < 0)
				output_done(i);
	}
	while (M.master >= 0 && (r = pump(STREAM_STDOUT, M.master)) != 0)
		if (r < 0)
			master_close();
	mon_realtime(&ts);
	log_flush_partial(STREAM_STDOUT, &ts);
	log_flush_partial(STREAM_STDERR, &ts);
}

void mon_on_master(int fd)
{
	if (M.master >= 0) {
		ssize_t r;
		while ((r = pump(STREAM_STDOUT, M.master)) > 0)
			;
		master_close();
	}
	if (mon_set_nonblock(fd) < 0)
		mon_warn("console: O_NONBLOCK: %s", strerror(errno));
	M.master = fd;
	if (M.ws_set && ioctl(fd, TIOCSWINSZ, &M.ws) < 0)
		mon_warn("console: TIOCSWINSZ: %s", strerror(errno));
	attach_set_stdin(O.stdin_open ? fd : -1, true);
}

void mon_on_resize(unsigned rows, unsigned cols)
{
	/* kept for a master that has not arrived yet (attach comes before start) */
	M.ws = (struct winsize){ .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	M.ws_set = true;
	if (M.master >= 0 && ioctl(M.master, TIOCSWINSZ, &M.ws) < 0)
		mon_warn("console: TIOCSWINSZ: %s", strerror(errno));
}

void mon_on_signal(int sig)
{
	if (L.container > 0 && !L.exited && kill(L.container, sig) < 0 && errno != ESRCH)
		mon_warn("kill %d %d: %s", (int)L.container, sig, strerror(errno));
}

/* ---- the container's life ---- */
static struct spawn_io launch_io(void)
{
	if (O.tty)
		return (struct spawn_io){ M.devnull, M.devnull, M.devnull, false, -1 };
	return (struct spawn_io){ O.stdin_open ? M.in_r : M.devnull, M.out_w[0], M.out_w[1], false, -1 };
}

static void mark_started(void)
{
	struct timespec ts;

	if (strcmp(S.status, "created") != 0 && strcmp(S.status, "restarting") != 0)
		return;
	mon_realtime(&ts);
	mon_fmt_time(S.started_at, &ts);
	S.status = "running";
	L.run_start = mon_now_ms();
	if (O.tick_ms > 0)
		M.tick_at = L.run_start + O.tick_ms;
	state_write();
}

static bool stopped(void)
{
	return access("stopped", F_OK) == 0;
}

/* `update --restart` writes the file `restart`: the policy from then on. */
static void reread_policy(void)
{
	char buf[64];

	if (!read_note("restart", buf, sizeof(buf)))
		return;
	buf[strcspn(buf, "\n")] = '\0';
	mon_parse_policy(buf, &O.restart, &O.max_restarts);
}

static bool restart_allowed(int code)
{
	if (stopped())
		return false;
	reread_policy();
	if (O.relaunch == NULL)
		return false;
	switch (O.restart) {
	case POLICY_ALWAYS:
	case POLICY_UNLESS_STOPPED:
		return true;
	case POLICY_ON_FAILURE:
		return code != 0 && (O.max_restarts == 0 || S.restart_count < O.max_restarts);
	default:
		return false;
	}
}

/* 100 ms, doubling for each restart in a row, at most 60 s; a run of 10 s or
 * more starts the series again. */
static void schedule_restart(void)
{
	int64_t now = mon_now_ms(), delay = 100;

	if (now - L.run_start >= 10000)
		M.consecutive = 0;
	for (unsigned i = 0; i < M.consecutive && delay < 60000; i++)
		delay *= 2;
	if (delay > 60000)
		delay = 60000;
	M.consecutive++;
	M.restart_at = now + delay;
	S.status = "restarting";
	state_write();
}

static void container_exited(int code)
{
	struct timespec ts;
	char line[32];

	L.exited = true;
	L.container = 0;
	drain();
	mon_realtime(&ts);
	mon_fmt_time(S.finished_at, &ts);
	S.status = "exited";
	S.exit_code = code;
	S.pid = 0;
	M.tick_at = 0;
	state_write();
	snprintf(line, sizeof(line), "exit %d\n", code);
	chan_send(CHAN_CLI, line);
	attach_exit(code);
	if (restart_allowed(code))
		schedule_restart();
	else
		go_final();
}

static bool ring_take(pid_t pid, int *code)
{
	for (int i = 0; i < RING; i++) {
		if (ring[i].pid == pid) {
			*code = ring[i].code;
			ring[i].pid = 0;
			return true;
		}
	}
	return false;
}

static void container_known(pid_t pid)
{
	int code;

	L.container = pid;
	L.run_start = mon_now_ms();
	S.pid = pid;
	state_write();
	if (ring_take(pid, &code))
		container_exited(code);
}

static void launcher_exited(int code)
{
	char msg[64];

	L.launcher = 0;
	if (L.container != 0 || L.exited)
		return;
	/* it may have written `pid` just before exiting */
	if (L.chan >= 0)
		chan_read(L.chan);
	L.launcher_done = true;
	if (L.container != 0 || L.exited)
		return;
	if (code != 0) {
		snprintf(msg, sizeof(msg), "launcher exited with status %d", code);
		mon_fail(msg);
	}
	if (!chan_is_open(L.chan))
		mon_fail("launcher exited before announcing the container");
}

static void relaunch(void)
{
	struct spawn_io io = launch_io();
	char err[512];
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(err, sizeof(err), "restart: socketpair: %s", strerror(errno));
		mon_fail(err);
	}
	if (mon_set_nonblock(sp[0]) < 0)
		mon_warn("restart: O_NONBLOCK: %s", strerror(errno));
	chan_set(CHAN_RELAUNCH, sp[0]);
	io.chan = sp[1];
	attach_reset();
	S.restart_count++;
	pid = mon_spawn(O.relaunch, &io, err, sizeof(err));
	close(sp[1]);
	if (pid < 0)
		mon_fail(err);
	L = (__typeof__(L)){ .launcher = pid, .wants_pid = true, .chan = CHAN_RELAUNCH };
	state_write();
}

static void restart_due(void)
{
	if (stopped()) {
		S.status = "exited";
		state_write();
		go_final();
		return;
	}
	relaunch();
}

static void tick_due(int64_t now)
{
	struct spawn_io io = { M.devnull, M.devnull, M.devnull, false, -1 };
	char err[512];
	pid_t pid;

	M.tick_at += O.tick_ms;
	if (M.tick_at <= now)
		M.tick_at = now + O.tick_ms;
	if (M.tick_pid > 0)
		return; /* the last one still runs: this one is skipped */
	pid = mon_spawn(O.tick_cmd, &io, err, sizeof(err));
	if (pid < 0)
		mon_warn("tick: %s", err);
	else
		M.tick_pid = pid;
}

/* ---- the control channel's lines ---- */
void mon_on_line(int chan, char *line)
{
	uint64_t n;

	if (strncmp(line, "pid ", 4) == 0) {
		if (!mon_parse_uint(line + 4, INT32_MAX, &n) || n == 0)
			mon_warn("control channel: bad line \"%.64s\"", line);
		else if (L.wants_pid && L.container == 0 && !L.exited && !M.final)
			container_known((pid_t)n);
	} else if (strcmp(line, "started") == 0) {
		if (!L.exited && !M.final)
			mark_started();
	} else if (strcmp(line, "nocleanup") == 0) {
		chan_mark_nocleanup(chan);
	} else if (strcmp(line, "fail") == 0 || strncmp(line, "fail ", 5) == 0) {
		mon_fail(line[4] ? line + 5 : "the launch failed");
	} else if (line[0] != '\0') {
		mon_warn("control channel: unknown line \"%.64s\"", line);
	}
}

void mon_on_eof(int chan)
{
	if (chan == L.chan && L.wants_pid && L.container == 0 && !L.exited && L.launcher_done && !M.final)
		mon_fail("launcher exited before announcing the container");
}

/* ---- children ---- */
static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

static void reaped(pid_t pid, int status)
{
	int code = exit_code_of(status);

	if (pid == M.tick_pid) {
		M.tick_pid = 0;
	} else if (L.container > 0 && pid == L.container && !L.exited) {
		container_exited(code);
	} else if (L.launcher > 0 && pid == L.launcher) {
		launcher_exited(code);
	} else {
		ring[ring_next].pid = pid;
		ring[ring_next].code = code;
		ring_next = (ring_next + 1) % RING;
	}
}

static void on_sigchld(int idx, int fd, short revents)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	(void)idx;
	(void)revents;
	while (read(fd, &si, sizeof(si)) > 0)
		; /* one SIGCHLD may stand for many children: waitpid counts */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		reaped(pid, status);
	if (pid < 0 && errno != ECHILD && errno != EINTR)
		mon_warn("waitpid: %s", strerror(errno));
}

/* ---- start-up ---- */
/* fds 0-4 are taken (by /dev/null if closed), so that nothing of ours lands on
 * them: 3 and 4 have meanings for the children. */
static void reserve_fds(void)
{
	for (int fd = 0; fd <= 4; fd++) {
		if (fcntl(fd, F_GETFD) >= 0) {
			M.fd3_open |= fd == 3;
			M.fd4_open |= fd == 4;
			continue;
		}
		if (open("/dev/null", O_RDWR) != fd)
			mon_die(1, "reserve fd %d: %s", fd, strerror(errno));
	}
}

static void setup_process(void)
{
	sigset_t chld;

	reserve_fds();
	if (chdir(O.dir) < 0)
		mon_die(1, "chdir %s: %s", O.dir, strerror(errno));
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		mon_die(1, "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	/* the container is stopped through the runtime; the monitor follows it */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || signal(SIGTERM, SIG_IGN) == SIG_ERR ||
	    signal(SIGINT, SIG_IGN) == SIG_ERR)
		mon_die(1, "signal: %s", strerror(errno));
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
		mon_die(1, "sigprocmask: %s", strerror(errno));
	M.sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (M.sigfd < 0)
		mon_die(1, "signalfd: %s", strerror(errno));
	M.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (M.devnull < 0)
		mon_die(1, "open /dev/null: %s", strerror(errno));
	chan_init(M.fd4_open);
}

/* Our end non-blocking; the container's end stays blocking, as programs expect. */
static void make_pipe(int *ours, int *theirs, bool ours_reads)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		mon_die(1, "pipe: %s", strerror(errno));
	*ours = ours_reads ? p[0] : p[1];
	*theirs = ours_reads ? p[1] : p[0];
	if (mon_set_nonblock(*ours) < 0)
		mon_die(1, "O_NONBLOCK: %s", strerror(errno));
}

static void setup_stdio(void)
{
	int in_w;

	if (O.tty) {
		console_listen();
	} else {
		make_pipe(&M.out_r[0], &M.out_w[0], true);
		make_pipe(&M.out_r[1], &M.out_w[1], true);
		if (O.stdin_open) {
			make_pipe(&in_w, &M.in_r, false);
			attach_set_stdin(in_w, false);
		}
	}
	attach_listen();
}

static void start(void)
{
	struct spawn_io io = launch_io();
	char err[512], lines[64];
	pid_t pid;

	io.pass3 = M.fd3_open;
	pid = mon_spawn(O.program, &io, err, sizeof(err));
	/* the plan socket is the launcher's: our copy would hide its EOF */
	if (M.fd3_open && dup2(M.devnull, 3) < 0)
		mon_warn("close fd 3: %s", strerror(errno));
	if (pid < 0)
		mon_fail(err);
	if (O.announce) {
		L.launcher = pid;
		L.wants_pid = true;
		L.chan = M.fd4_open ? CHAN_CLI : -1;
	} else {
		L.container = pid;
		S.pid = pid;
	}
	state_write();
	snprintf(lines, sizeof(lines), "monitor %d\nlaunched %d\n", (int)getpid(), (int)pid);
	chan_send(CHAN_CLI, lines);
	if (!O.announce) /* PROGRAM is the container: it runs from now on */
		mark_started();
}

/* ---- the loop ---- */
static int timeout_ms(int64_t now)
{
	int64_t next = 0;
	int64_t due[3] = { M.restart_at, M.tick_at, M.final ? M.final_at : 0 };

	for (int i = 0; i < 3; i++)
		if (due[i] > 0 && (next == 0 || due[i] < next))
			next = due[i];
	if (next == 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

static void build_table(void)
{
	n_watch = 0;
	/* Clients first: an attach that is waiting when the first output arrives in
	 * the same poll round must be accepted before that output is handed out. */
	attach_poll();
	chan_poll();
	console_poll();
	for (int i = 0; i < 2; i++)
		if (M.out_r[i] >= 0)
			poll_add(M.out_r[i], POLLIN, on_output, i);
	if (M.master >= 0)
		poll_add(M.master, POLLIN, on_output, 2);
	poll_add(M.sigfd, POLLIN, on_sigchld, 0);
}

/* After this long without an event, the code pages the last burst of work
 * brought in are dropped again (slim.c). */
#define IDLE_MS 2000

__attribute__((noreturn))
static void loop(void)
{
	bool slim = true; /* nothing has run since the last drop */

	for (;;) {
		int64_t now = mon_now_ms();
		bool idle_wait;
		int n, timeout;

		if (M.final && (attach_idle() || now >= M.final_at))
			finish();
		if (M.restart_at > 0 && now >= M.restart_at) {
			M.restart_at = 0;
			restart_due();
			continue;
		}
		if (M.tick_at > 0 && now >= M.tick_at)
			tick_due(now);
		build_table();
		timeout = timeout_ms(now);
		idle_wait = !slim && (timeout < 0 || timeout > IDLE_MS);
		n = poll(pfd, (nfds_t)n_watch, idle_wait ? IDLE_MS : timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			mon_die(1, "poll: %s", strerror(errno));
		if (n == 0 && idle_wait) {
			slim_again();
			slim = true;
			continue;
		}
		slim = slim && n == 0;
		for (int i = 0; i < n_watch && n > 0; i++) {
			if (pfd[i].revents == 0)
				continue;
			n--;
			watch[i].fn(watch[i].idx, pfd[i].fd, pfd[i].revents);
		}
	}
}

int main(int argc, char **argv)
{
	options_parse(argc, argv);
	setup_process();
	state_init();
	setup_stdio();
	log_open();
	start();
	if (slim_init() < 0)
		mon_warn("/proc/self/smaps: %s", strerror(errno));
	loop();
}
