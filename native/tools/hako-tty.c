/*
 * hako-tty SOCKET_PATH: the user's end of `hako exec -t`.
 *
 * The runtime hands the pty master of an exec'd process to a console socket
 * (runc's contract: one SCM_RIGHTS message whose payload is the slave's path).
 * Node cannot receive a descriptor that way, so this process receives it and
 * then stands between the user's terminal (stdin/stdout) and the master, as
 * `docker exec -t` does: the user's terminal in raw mode, its window size
 * mirrored onto the pty.
 *
 * Exits 0 once the master hangs up and its output is written out; 1 with
 * "hako-tty: WHAT: reason" on stderr on an error; 2 on bad usage. SIGTERM,
 * SIGINT and SIGHUP end it by that same signal, after the terminal mode has
 * been put back (and the socket path removed, if it still exists).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/ttydefaults.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define BUF_SIZE 32768

/* Exit-path state: the socket name that exists on disk right now, and the
 * terminal mode to put back. Globals because every exit path needs them. */
static char g_sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static bool g_raw;
static struct termios g_saved;

/* Best effort: an exit path must not fail again (after SIGHUP the terminal
 * may be gone and refuse every request). */
static void cleanup(void)
{
	if (g_raw && tcsetattr(0, TCSANOW, &g_saved) < 0)
		fprintf(stderr, "hako-tty: restore terminal mode: %s\n", strerror(errno));
	g_raw = false;
	if (g_sock_path[0] != '\0' && unlink(g_sock_path) < 0 && errno != ENOENT)
		fprintf(stderr, "hako-tty: unlink %s: %s\n", g_sock_path, strerror(errno));
	g_sock_path[0] = '\0';
}

static noreturn void fail(const char *what, int err)
{
	/* cleanup may clobber errno, so the message comes first */
	fprintf(stderr, "hako-tty: %s: %s\n", what, strerror(err));
	cleanup();
	exit(1);
}

static noreturn void die(const char *what)
{
	fail(what, errno);
}

static void xclose(int fd, const char *what)
{
	/* EINTR still closes the descriptor on Linux; retrying could close another */
	if (close(fd) < 0 && errno != EINTR)
		die(what);
}

/* Dies by the signal itself so the parent sees why we ended. */
static noreturn void exit_on_signal(int sig)
{
	sigset_t set;

	cleanup();
	if (signal(sig, SIG_DFL) == SIG_ERR)
		die("signal");
	if (sigemptyset(&set) < 0 || sigaddset(&set, sig) < 0)
		die("sigset");
	if (raise(sig) != 0)
		die("raise");
	/* the signal is blocked, so it is pending now and lands right here */
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
		die("sigprocmask");
	_exit(128 + sig);
}

/* Signals arrive through a descriptor rather than handlers: they are served
 * in the poll loop, in order with the data, and no syscall sees EINTR. */
static int make_signalfd(void)
{
	sigset_t set;
	int fd;

	if (sigemptyset(&set) < 0 || sigaddset(&set, SIGWINCH) < 0 || sigaddset(&set, SIGTERM) < 0 ||
	    sigaddset(&set, SIGINT) < 0 || sigaddset(&set, SIGHUP) < 0)
		die("sigset");
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask");
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		die("signalfd");
	return fd;
}

static void copy_winsize(int from, int master)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) < 0)
		die("get window size");
	/* the kernel passes the change on as SIGWINCH to the pty's foreground */
	if (ioctl(master, TIOCSWINSZ, &ws) < 0)
		die("set window size");
}

/* ws_src < 0: no terminal to take a size from (or no master yet). */
static void handle_signals(int sfd, int ws_src, int master)
{
	struct signalfd_siginfo si;
	ssize_t r;

	while ((r = read(sfd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGWINCH)
			exit_on_signal((int)si.ssi_signo);
		if (ws_src >= 0)
			copy_winsize(ws_src, master);
	}
	if (r < 0 && errno != EAGAIN && errno != EINTR)
		die("read signalfd");
	if (r >= 0)
		fail("read signalfd", EIO);
}

/* Waits for fd to be readable while still answering signals: a peer that
 * never connects or never sends must not make us deaf to SIGTERM. */
static void wait_readable(int fd, int sfd)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = fd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[0].revents)
			handle_signals(sfd, -1, -1);
		if (p[1].revents)
			return;
	}
}

static void set_addr(struct sockaddr_un *a, const char *path)
{
	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a->sun_path))
		fail(path, ENAMETOOLONG);
	strcpy(a->sun_path, path);
}

/* Bound and listening under a temporary name, then renamed into place: a
 * runtime that sees the path can connect at once, never to a dead name. */
static int listen_at(const char *path)
{
	struct sockaddr_un addr;
	char tmp[sizeof(addr.sun_path)];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		fail(path, ENAMETOOLONG);
	set_addr(&addr, tmp);
	/* a leftover of a dead process with our pid would make bind fail */
	if (unlink(tmp) < 0 && errno != ENOENT)
		die(tmp);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die(tmp);
	strcpy(g_sock_path, tmp);
	if (listen(fd, 1) < 0)
		die("listen");
	if (rename(tmp, path) < 0)
		die(path);
	strcpy(g_sock_path, path);
	return fd;
}

/* The listener is non-blocking: a client that gave up between poll and
 * accept must send us back to waiting, not block us in accept. */
static int accept_one(int lfd, int sfd)
{
	for (;;) {
		int conn;

		wait_readable(lfd, sfd);
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn >= 0)
			return conn;
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			die("accept");
	}
}

/* Exactly one descriptor, and a terminal: anything else is a confused or
 * hostile peer. The payload (the slave's path) is not needed here. */
static int recv_master(int conn, int sfd)
{
	char name[256];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t r;
	int fd;

	wait_readable(conn, sfd);
	do
		r = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		die("recvmsg");
	cm = CMSG_FIRSTHDR(&msg);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		fail("console socket: no pty master received", EPROTO);
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (msg.msg_flags & MSG_CTRUNC)
		fail("console socket: more than one descriptor received", EPROTO);
	if (!isatty(fd))
		die("console socket: received descriptor");
	return fd;
}

/* Only the master becomes non-blocking: stdin/stdout share their open file
 * with the user's shell, which would inherit the flag after we exit. */
static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl master");
}

/* Raw like `docker exec -t`: keys, ^C included, go to the container's
 * terminal, which does its own echo and line editing. */
static void make_raw(void)
{
	struct termios raw;

	if (tcgetattr(0, &g_saved) < 0)
		die("get terminal mode");
	raw = g_saved;
	cfmakeraw(&raw);
	if (tcsetattr(0, TCSANOW, &raw) < 0)
		die("set raw mode");
	g_raw = true;
}

/* One direction of the copy. Data is read only once the previous chunk is
 * fully written, so a stalled reader backs up into its writer instead of
 * into memory, and the other direction keeps flowing meanwhile. */
struct chan {
	int src, dst;
	size_t off, len;
	bool done; /* src gives no more */
	char buf[BUF_SIZE];
};

/* stdin ended: with a pipe on stdin, the program under the pty sees EOF
 * only if we type the terminal's EOF character, as a user would. */
static void stdin_ended(struct chan *in, int master)
{
	struct termios t;

	in->done = true;
	if (isatty(0))
		return; /* a terminal that ends has hung up; SIGHUP follows */
	/* the master reports the slave's settings; ^D if they can't be had */
	if (tcgetattr(master, &t) < 0 || t.c_cc[VEOF] == _POSIX_VDISABLE)
		t.c_cc[VEOF] = CEOF;
	in->buf[0] = (char)t.c_cc[VEOF];
	in->off = 0;
	in->len = 1;
}

static void fill_in(struct chan *in, int master)
{
	ssize_t r = read(in->src, in->buf, sizeof(in->buf));

	if (r > 0) {
		in->off = 0;
		in->len = (size_t)r;
	} else if (r == 0 || errno == EIO) {
		stdin_ended(in, master);
	} else if (errno != EAGAIN && errno != EINTR) {
		die("read stdin");
	}
}

/* Returns false once the master has hung up (EIO, or 0 on some kernels):
 * every slave descriptor is closed and everything it wrote has been read. */
static bool fill_out(struct chan *out)
{
	ssize_t r = read(out->src, out->buf, sizeof(out->buf));

	if (r > 0) {
		out->off = 0;
		out->len = (size_t)r;
		return true;
	}
	if (r == 0 || errno == EIO)
		return false;
	if (errno != EAGAIN && errno != EINTR)
		die("read pty");
	return true;
}

/* Writes what it can; EAGAIN leaves the rest for the next POLLOUT. */
static void flush(struct chan *c, const char *what)
{
	ssize_t w = write(c->dst, c->buf + c->off, c->len);

	if (w < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (c->dst != 1 && errno == EIO) {
			/* the program is gone: its pending input has no reader */
			c->len = 0;
			c->done = true;
			return;
		}
		die(what);
	}
	c->off += (size_t)w;
	c->len -= (size_t)w;
}

static void proxy(int master, int sfd, int ws_src)
{
	static struct chan in, out;

	in = (struct chan){ .src = 0, .dst = master };
	out = (struct chan){ .src = master, .dst = 1 };
	for (;;) {
		struct pollfd p[3] = { { .fd = sfd, .events = POLLIN } };
		bool use_in = in.len > 0 || !in.done;

		/* each direction waits on its writer while it holds data, else its reader */
		p[1] = in.len ? (struct pollfd){ .fd = master, .events = POLLOUT }
			      : (struct pollfd){ .fd = use_in ? 0 : -1, .events = POLLIN };
		p[2] = out.len ? (struct pollfd){ .fd = 1, .events = POLLOUT }
			       : (struct pollfd){ .fd = master, .events = POLLIN };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		/* signals first: a resize is applied before any later keystroke */
		if (p[0].revents)
			handle_signals(sfd, ws_src, master);
		if (p[1].revents && in.len)
			flush(&in, "write pty");
		else if (p[1].revents)
			fill_in(&in, master);
		if (p[2].revents && out.len)
			flush(&out, "write stdout");
		else if (p[2].revents && !fill_out(&out))
			return; /* out was empty, or we would not have read: all written */
	}
}

/* stdout is where the picture is drawn, so its size wins over stdin's. */
static int winsize_source(void)
{
	if (isatty(1))
		return 1;
	if (isatty(0))
		return 0;
	return -1;
}

int main(int argc, char **argv)
{
	int sfd, lfd, conn, master, ws_src;

	if (argc != 2 || argv[1][0] == '\0') {
		fprintf(stderr, "usage: hako-tty SOCKET_PATH\n");
		return 2;
	}
	/* the socket must be connectable by its owner (the runtime) only */
	umask(077);
	/* a closed stdout must come back as EPIPE, to put the terminal back */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal");
	sfd = make_signalfd();
	lfd = listen_at(argv[1]);
	conn = accept_one(lfd, sfd);
	xclose(lfd, "close listener");
	if (unlink(g_sock_path) < 0)
		die(g_sock_path);
	g_sock_path[0] = '\0';
	master = recv_master(conn, sfd);
	xclose(conn, "close connection");
	set_nonblock(master);
	if (isatty(0))
		make_raw();
	ws_src = winsize_source();
	if (ws_src >= 0)
		copy_winsize(ws_src, master);
	proxy(master, sfd, ws_src);
	cleanup();
	return 0;
}
