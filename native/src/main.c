/* hako-exec: carries out the launch plan read from fd 3 (see ../PROTOCOL.md). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "harden.h"
#include "parent.h"
#include "plan.h"
#include "util.h"
#include "wire.h"

/* A closed stdio fd would be reused by the next open() and later clobbered
 * by dup2 onto 0-2 or handed to the container as its stdio. */
static int ensure_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int null = open("/dev/null", O_RDWR);
		if (null != fd)
			return -1;
	}
	return 0;
}

static int die(int ctl, const struct hx_error *e)
{
	hx_send_error(ctl, e);
	return 1;
}

int main(int argc, char **argv)
{
	struct hx_ctx c = { .ctl = HX_CTL_FD, .console_fd = -1, .statedir_fd = -1, .fifo_fd = -1, .rootfd = -1 };
	struct hx_error e = { 0 };
	struct hx_plan plan;

	(void)argc;
	if (ensure_stdio() < 0 || fcntl(HX_CTL_FD, F_GETFD) < 0) {
		fprintf(stderr, "hako-exec: fd 3 must be the control socket: %s\n", strerror(errno));
		return 1;
	}
	/* Before fd 3 becomes close-on-exec: it must survive the re-exec. A
	 * failure is reported once the plan is read, like an invalid plan. */
	if (hx_harden(argv, &e) < 0) {
		struct hx_error ignored;
		hx_plan_read(c.ctl, &plan, &ignored); /* consumed: the error frame is not lost */
		return die(c.ctl, &e);
	}
	if (fcntl(HX_CTL_FD, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "hako-exec: fd 3 must be the control socket: %s\n", strerror(errno));
		return 1;
	}
	/* Every send uses MSG_NOSIGNAL, but hook stdin pipes are plain writes. */
	signal(SIGPIPE, SIG_IGN);

	if (hx_plan_read(c.ctl, &plan, &e) < 0)
		return die(c.ctl, &e);
	c.plan = &plan;
	if (hx_parent_steps(&c, &e) < 0)
		return die(c.ctl, &e);
	if (hx_parent_launch(&c, &e) < 0)
		return die(c.ctl, &e);
	return 0;
}
