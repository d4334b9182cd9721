/*
 * hako-init [--] PROG [ARG...]: a minimal init for `run --init` (like tini).
 *
 * As PID 1 it forks PROG into its own process group (the terminal's foreground
 * group when there is a controlling terminal, so ^C reaches it and not init),
 * forwards every signal it gets to PROG, reaps every zombie that the container
 * leaves to it, and exits with PROG's code (128+N when killed by signal N).
 * Exit 2 without PROG; 127 (not found) or 126 (other) when PROG cannot run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "slim.h"

static void msg(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "hako-init: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
}

/* Child side: own group, the terminal's foreground, then PROG. */
__attribute__((noreturn))
static void run(char **argv, const sigset_t *orig)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int tty, err;

	if (setpgid(0, 0) < 0)
		msg("setpgid: %s%s", strerror(errno), "");
	/* every signal is still blocked, SIGTTOU included: a background group may
	 * take the terminal */
	tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty >= 0) {
		if (tcsetpgrp(tty, getpid()) < 0)
			msg("tcsetpgrp: %s%s", strerror(errno), "");
		close(tty);
	}
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigprocmask(SIG_SETMASK, orig, NULL);
	execvp(argv[0], argv);
	err = errno;
	msg("exec %s: %s", argv[0], strerror(err));
	exit(err == ENOENT ? 127 : 126);
}

static int code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* Reaps whatever has exited; true once `child` is among them. */
static int reap(pid_t child, int *code)
{
	int status, done = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == child) {
			*code = code_of(status);
			done = 1;
		}
	}
	if (pid < 0 && errno != ECHILD && errno != EINTR)
		msg("waitpid: %s%s", strerror(errno), "");
	return done;
}

int main(int argc, char **argv)
{
	sigset_t all, orig;
	int code = 0, i = 1;
	pid_t child;

	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc) {
		fprintf(stderr, "hako-init: no program given (usage: hako-init [--] PROG [ARG...])\n");
		return 2;
	}
	/* outside a pid namespace (tests, `exec`), orphans still come to us */
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		msg("PR_SET_CHILD_SUBREAPER: %s%s", strerror(errno), "");
	/* Blocked signals are queued even for a namespace's PID 1, whose default
	 * dispositions would otherwise drop them: sigwaitinfo takes them all. */
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &orig) < 0) {
		msg("sigprocmask: %s%s", strerror(errno), "");
		return 1;
	}
	child = fork();
	if (child < 0) {
		msg("fork: %s%s", strerror(errno), "");
		return 1;
	}
	if (child == 0)
		run(argv + i, &orig);
	/* the parent too, so that a signal forwarded early finds the group */
	setpgid(child, child);
	/* init sleeps for the container's lifetime: only the pages its loop touches
	 * need to stay (failing costs only memory) */
	(void)slim_init();
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0) {
			if (errno != EINTR)
				msg("sigwaitinfo: %s%s", strerror(errno), "");
			continue;
		}
		if (sig != SIGCHLD) {
			if (kill(child, sig) < 0 && errno != ESRCH)
				msg("forward a signal: %s%s", strerror(errno), "");
		} else if (reap(child, &code)) {
			reap(0, &code); /* the rest that is already gone */
			return code;
		}
		slim_again();
	}
}
