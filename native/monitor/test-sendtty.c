/*
 * test-sendtty SOCKET_PATH PROGRAM [ARG...]: a test stand-in for the runtime's
 * side of the console-socket contract (the other side of tools/recvtty.c).
 *
 * Opens a pty, sends the master over SOCKET_PATH with SCM_RIGHTS (payload: the
 * slave's name, as runc does), then becomes a session leader with the slave as
 * its controlling terminal and stdio, and execs PROGRAM there.
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
	fprintf(stderr, "test-sendtty: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void send_master(const char *path, int master, const char *slave)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = { 0 };
	struct iovec iov = { .iov_base = (void *)slave, .iov_len = strlen(slave) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
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
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	while (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			die("sendmsg");
	close(s);
}

int main(int argc, char **argv)
{
	int master, slave;
	char *name;

	if (argc < 3) {
		fprintf(stderr, "usage: test-sendtty SOCKET_PATH PROGRAM [ARG...]\n");
		return 2;
	}
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die("posix_openpt");
	if (grantpt(master) < 0 || unlockpt(master) < 0 || (name = ptsname(master)) == NULL)
		die("unlockpt");
	/* the slave is open before the master leaves: the receiver never sees a
	 * master without a slave (that reads as a hang-up) */
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0)
		die(name);
	send_master(argv[1], master, name);
	close(master);
	if (setsid() < 0)
		die("setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		die("TIOCSCTTY");
	if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		die("dup2");
	if (slave > 2)
		close(slave);
	execvp(argv[2], argv + 2);
	fprintf(stderr, "test-sendtty: exec %s: %s\n", argv[2], strerror(errno));
	return 127;
}
