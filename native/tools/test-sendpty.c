/*
 * test-sendpty SOCKET_PATH PROGRAM [ARG...]: a test stand-in for the runtime's
 * side of the console-socket contract, the peer of hako-tty.
 *
 * Opens a pty pair, sends the master over SOCKET_PATH with SCM_RIGHTS (the
 * payload is the slave's path, as runc sends it), then makes the slave its
 * controlling terminal and stdio and execs PROGRAM, as the runtime does for a
 * process with `terminal: true`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "test-sendpty: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		die("socket");
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	strcpy(addr.sun_path, path);
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die(path);
	return s;
}

static void send_fd(int s, int fd, const char *payload)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = { 0 };
	struct iovec iov = { .iov_base = (void *)payload, .iov_len = strlen(payload) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	while (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			die("sendmsg");
}

/* Session leader with the slave as controlling terminal: the program gets
 * SIGWINCH on resize and SIGHUP when the master goes away. */
static void take_terminal(int slave)
{
	if (setsid() < 0)
		die("setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		die("TIOCSCTTY");
	if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		die("dup2");
	if (slave > 2 && close(slave) < 0)
		die("close slave");
}

int main(int argc, char **argv)
{
	int master, slave, s;
	char *name;

	if (argc < 3) {
		fprintf(stderr, "usage: test-sendpty SOCKET_PATH PROGRAM [ARG...]\n");
		return 2;
	}
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die("posix_openpt");
	if (grantpt(master) < 0 || unlockpt(master) < 0 || (name = ptsname(master)) == NULL)
		die("unlockpt");
	/* open the slave before the master leaves: a master without any slave
	 * reads as hung up to the receiver */
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0)
		die(name);
	s = connect_to(argv[1]);
	send_fd(s, master, name);
	if (close(s) < 0 || close(master) < 0)
		die("close");
	take_terminal(slave);
	execvp(argv[2], argv + 2);
	fprintf(stderr, "test-sendpty: exec %s: %s\n", argv[2], strerror(errno));
	return 127;
}
