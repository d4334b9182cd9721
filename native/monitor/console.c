/* console.sock: the runtime connects and sends the pty master with SCM_RIGHTS
 * (runc's console-socket contract); every new master replaces the last one. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor.h"

#define CONSOLE_SOCK "console.sock"
#define MAX_CONNS 4

static int listen_fd = -1;
static int conns[MAX_CONNS] = { -1, -1, -1, -1 };

static void conn_close(int i)
{
	if (close(conns[i]) < 0)
		mon_warn("close a console connection: %s", strerror(errno));
	conns[i] = -1;
}

/* The payload (runc: the slave's name) is not needed, only the fd. */
static void on_conn(int i, int fd, short revents)
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
	int master;

	(void)revents;
	if (conns[i] != fd)
		return;
	r = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	cm = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		if (r != 0)
			mon_warn("%s: a message without a file descriptor", CONSOLE_SOCK);
		conn_close(i);
		return;
	}
	memcpy(&master, CMSG_DATA(cm), sizeof(int));
	conn_close(i);
	if (!isatty(master)) {
		mon_warn("%s: the file descriptor received is not a terminal", CONSOLE_SOCK);
		close(master);
		return;
	}
	mon_on_master(master);
}

static void on_accept(int idx, int fd, short revents)
{
	int c;

	(void)idx;
	(void)revents;
	c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			mon_warn("accept on %s: %s", CONSOLE_SOCK, strerror(errno));
		return;
	}
	for (int i = 0; i < MAX_CONNS; i++) {
		if (conns[i] < 0) {
			conns[i] = c;
			return;
		}
	}
	close(c);
}

void console_listen(void)
{
	listen_fd = mon_listen(CONSOLE_SOCK, MAX_CONNS);
}

void console_poll(void)
{
	if (listen_fd < 0)
		return;
	poll_add(listen_fd, POLLIN, on_accept, 0);
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i] >= 0)
			poll_add(conns[i], POLLIN, on_conn, i);
}

void console_shutdown(void)
{
	if (listen_fd < 0)
		return;
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i] >= 0)
			conn_close(i);
	close(listen_fd);
	listen_fd = -1;
	if (unlink(CONSOLE_SOCK) < 0 && errno != ENOENT)
		mon_warn("unlink %s: %s", CONSOLE_SOCK, strerror(errno));
}
