#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <termios.h>

#include "console.h"
#include "util.h"

/* The master travels as SCM_RIGHTS; the payload names the slave, like runc. */
static int send_master(int sock, int master, const char *slave_path, const char *step, struct hx_error *e)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = { 0 };
	struct iovec iov = { .iov_base = (void *)slave_path, .iov_len = strlen(slave_path) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return hx_fail(e, step, errno, "send the console to the console socket: %s", strerror(errno));
	return 0;
}

static int open_pty(int *master, char slave_path[32], const char *step, struct hx_error *e)
{
	unsigned int n;
	int unlock = 0;

	*master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return hx_fail(e, step, errno, "open /dev/ptmx: %s", strerror(errno));
	if (ioctl(*master, TIOCSPTLCK, &unlock) < 0)
		return hx_fail(e, step, errno, "unlockpt: %s", strerror(errno));
	if (ioctl(*master, TIOCGPTN, &n) < 0)
		return hx_fail(e, step, errno, "ptsname: %s", strerror(errno));
	snprintf(slave_path, 32, "/dev/pts/%u", n);
	return 0;
}

/* /dev/console must exist as a file to bind the slave on; O_EXCL so that an
 * existing entry (device node or not) is never opened. */
static int bind_console(const char *slave_path, const char *step, struct hx_error *e)
{
	int fd = open("/dev/console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		return hx_fail(e, step, errno, "create /dev/console: %s", strerror(errno));
	if (mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return hx_fail(e, step, errno, "mount %s on /dev/console: %s", slave_path, strerror(errno));
	return 0;
}

static int become_stdio(int slave, const char *step, struct hx_error *e)
{
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return hx_fail(e, step, errno, "ioctl TIOCSCTTY: %s", strerror(errno));
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(slave, fd) < 0)
			return hx_fail(e, step, errno, "dup2 the console onto %d: %s", fd, strerror(errno));
	return 0;
}

int hx_step_console(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *step = s->f[0];
	_cleanup_close_ int master = -1, slave = -1;
	char slave_path[32];

	if (open_pty(&master, slave_path, step, e) < 0)
		return -1;
	slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return hx_fail(e, step, errno, "open %s: %s", slave_path, strerror(errno));
	/* `console exec`: a process joining a container whose init owns /dev/console. */
	if (s->n == 1 && bind_console(slave_path, step, e) < 0)
		return -1;
	if (send_master(c->console_fd, master, slave_path, step, e) < 0)
		return -1;
	close(hx_steal_fd(&master));
	close(c->console_fd);
	c->console_fd = -1;
	if (become_stdio(slave, step, e) < 0)
		return -1;
	if (slave <= 2)
		hx_steal_fd(&slave); /* now one of the stdio fds: keep it */
	return 0;
}
