/* Starting programs: the container or its launcher, relaunches, ticks, cleanup. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Every fd from `from` up closes at exec; close_range may be denied (seccomp),
 * then each possible fd is marked. */
static void cloexec_from(int from)
{
	long max;

	if (syscall(SYS_close_range, from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > (1 << 20))
		max = 1 << 20;
	for (int fd = from; fd < max; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
}

/* What a new program expects: default dispositions, nothing blocked. */
static void reset_signals(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	/* SIGKILL, SIGSTOP and libc's own signals refuse: that is fine */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* dup2, or for an fd already in place just drop its close-on-exec flag. */
static int place(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

__attribute__((noreturn))
static void child(char *const argv[], const struct spawn_io *io, int report)
{
	int err;

	reset_signals();
	if (place(io->in, 0) < 0 || place(io->out, 1) < 0 || place(io->err, 2) < 0)
		goto fail;
	if (io->pass3 ? place(3, 3) < 0 : (close(3) < 0 && errno != EBADF))
		goto fail;
	if (io->chan >= 0 ? place(io->chan, 4) < 0 : (close(4) < 0 && errno != EBADF))
		goto fail;
	cloexec_from(5);
	execvp(argv[0], argv);
fail:
	err = errno;
	(void)!write(report, &err, sizeof(err));
	_exit(127);
}

pid_t mon_spawn(char *const argv[], const struct spawn_io *io, char *errbuf, size_t errlen)
{
	int p[2], err = 0;
	ssize_t r;
	pid_t pid;

	/* close-on-exec: the parent reads EOF once exec succeeded, an errno if not */
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(errbuf, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0)
		child(argv, io, p[1]);
	close(p[1]);
	if (pid < 0) {
		snprintf(errbuf, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		return -1;
	}
	do
		r = read(p[0], &err, sizeof(err));
	while (r < 0 && errno == EINTR);
	close(p[0]);
	if (r != (ssize_t)sizeof(err))
		return pid;
	snprintf(errbuf, errlen, "exec %s: %s", argv[0], strerror(err));
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return -1;
}

void mon_exec_self(char *const argv[])
{
	reset_signals();
	cloexec_from(3);
	execvp(argv[0], argv);
	mon_warn("exec %s: %s", argv[0], strerror(errno));
}
