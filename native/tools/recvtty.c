/*
 * recvtty [--once] SOCKET_PATH: a test peer for `console-socket`.
 *
 * Listens on SOCKET_PATH (the path appears only once it accepts connections),
 * takes one connection, receives the pty master over SCM_RIGHTS, then copies
 * stdin -> master and master -> stdout until the master hangs up, and exits 0.
 * Only the terminal's output goes to stdout; diagnostics go to stderr.
 * One connection is all it ever serves, so --once is accepted and implied.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void set_addr(struct sockaddr_un *a, const char *path)
{
	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a->sun_path)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	strcpy(a->sun_path, path);
}

/* Bound and listening under a temporary name, then renamed into place: a
 * client that sees the path can connect at once. */
static int listen_at(const char *path)
{
	struct sockaddr_un addr;
	char tmp[sizeof(addr.sun_path)];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	set_addr(&addr, tmp);
	unlink(tmp);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die(tmp);
	if (listen(fd, 1) < 0)
		die("listen");
	if (rename(tmp, path) < 0)
		die(path);
	return fd;
}

static int recv_master(int conn)
{
	char name[256];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
		die("recvmsg");
	cm = CMSG_FIRSTHDR(&msg);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		fprintf(stderr, "recvtty: no file descriptor received\n");
		exit(1);
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void write_all(int fd, const char *buf, size_t len, const char *what)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die(what);
		buf += w;
		len -= w;
	}
}

/* Returns when the master hangs up: EIO once every slave fd is closed. */
static void copy_loop(int master)
{
	bool stdin_open = true;
	char buf[4096];

	for (;;) {
		struct pollfd p[2] = { { .fd = master, .events = POLLIN }, { .fd = 0, .events = POLLIN } };
		if (poll(p, stdin_open ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[0].revents) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return;
			write_all(1, buf, r, "write stdout");
		}
		if (stdin_open && p[1].revents) {
			ssize_t r = read(0, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				stdin_open = false; /* keep draining the master */
			else
				write_all(master, buf, r, "write master");
		}
	}
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int lfd, conn, master;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0)
			continue;
		if (path != NULL || argv[i][0] == '-') {
			fprintf(stderr, "usage: recvtty [--once] SOCKET_PATH\n");
			return 2;
		}
		path = argv[i];
	}
	if (path == NULL) {
		fprintf(stderr, "usage: recvtty [--once] SOCKET_PATH\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_at(path);
	do
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (conn < 0 && errno == EINTR);
	if (conn < 0)
		die("accept");
	close(lfd);
	unlink(path);
	master = recv_master(conn);
	close(conn);
	copy_loop(master);
	return 0;
}
