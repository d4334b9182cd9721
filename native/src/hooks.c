#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "compat.h"
#include "hooks.h"
#include "plan.h"
#include "util.h"
#include "values.h"

struct hook {
	const char *path;
	char **argv, **envp; /* NULL-terminated copies of the frame's slices */
	const char *state;
	int timeout;         /* seconds, 0 = none */
};

/* Runs in the forked hook process: never returns. errfd (close-on-exec) gets
 * execve's errno, so the step can tell "could not run" from "ran and failed". */
static _Noreturn void hook_exec(const struct hook *h, int in, int errfd)
{
	int err;

	if (dup2(in, 0) < 0) {
		err = errno;
		goto fail;
	}
	hx_reset_signals();
	/* Every fd above stdio goes, errfd included once execve succeeds. */
	if (hx_cloexec_from(3) < 0) {
		err = errno;
		goto fail;
	}
	execve(h->path, h->argv, h->envp);
	err = errno;
fail:
	if (write(errfd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Feeds the state to the hook while waiting for it to exit. Returns 0 when it
 * exited, 1 on timeout, -1 on error (errno set). */
static int feed_and_wait(int pidfd, int *in, const char *state, int timeout)
{
	long long deadline = timeout ? now_ms() + timeout * 1000LL : 0;
	size_t left = strlen(state);

	for (;;) {
		struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = *in, .events = POLLOUT } };
		int wait_ms = -1, r;

		if (deadline) {
			long long rem = deadline - now_ms();
			if (rem <= 0)
				return 1;
			wait_ms = (int)rem;
		}
		r = poll(p, *in >= 0 ? 2 : 1, wait_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (p[0].revents)
			return 0;
		if (*in >= 0 && p[1].revents) {
			ssize_t w = write(*in, state, left);
			/* A hook that does not read its stdin is allowed to (EPIPE). */
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				left = 0;
			if (w > 0) {
				state += w;
				left -= w;
			}
			if (left == 0) {
				close(*in); /* EOF for the hook */
				*in = -1;
			}
		}
	}
}

static int hook_status(const struct hook *h, int status, int errfd, const char *step, struct hx_error *e)
{
	int err;

	if (read(errfd, &err, sizeof(err)) == (ssize_t)sizeof(err))
		return hx_fail(e, step, err, "hook %s: %s", h->path, strerror(err));
	if (WIFSIGNALED(status))
		return hx_fail(e, step, 0, "hook %s: killed by signal %d", h->path, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return hx_fail(e, step, 0, "hook %s: exit status %d", h->path, WEXITSTATUS(status));
	return 0;
}

static int run_hook(const struct hook *h, const char *step, struct hx_error *e)
{
	_cleanup_close_ int in_r = -1, in_w = -1, err_r = -1, err_w = -1, pidfd = -1;
	int fds[2], status, r;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return hx_fail(e, step, errno, "hook %s: pipe: %s", h->path, strerror(errno));
	in_r = fds[0], in_w = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return hx_fail(e, step, errno, "hook %s: pipe: %s", h->path, strerror(errno));
	err_r = fds[0], err_w = fds[1];
	pid = fork();
	if (pid < 0)
		return hx_fail(e, step, errno, "hook %s: fork: %s", h->path, strerror(errno));
	if (pid == 0)
		hook_exec(h, in_r, err_w);
	close(hx_steal_fd(&in_r));
	close(hx_steal_fd(&err_w));
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		int err = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return hx_fail(e, step, err, "hook %s: pidfd_open: %s", h->path, strerror(err));
	}
	if (fcntl(in_w, F_SETFL, O_NONBLOCK) < 0)
		return hx_fail(e, step, errno, "hook %s: fcntl: %s", h->path, strerror(errno));
	r = feed_and_wait(pidfd, &in_w, h->state, h->timeout);
	if (r != 0) {
		int err = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (r > 0)
			return hx_fail(e, step, ETIMEDOUT, "hook %s: timed out after %d s", h->path, h->timeout);
		return hx_fail(e, step, err, "hook %s: poll: %s", h->path, strerror(err));
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hx_fail(e, step, errno, "hook %s: waitpid: %s", h->path, strerror(errno));
	return hook_status(h, status, err_r, step, e);
}

/* A NULL-terminated copy of n fields. */
static char **slice(char *const *f, int n)
{
	char **v = calloc(n + 1, sizeof(char *));

	if (v != NULL)
		memcpy(v, f, n * sizeof(char *));
	return v;
}

int hx_step_hook(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	int nargs = hx_num(s->f[4]);
	_cleanup_free_ char **argv = slice(s->f + 5, nargs);
	_cleanup_free_ char **envp = slice(s->f + 5 + nargs, s->n - 5 - nargs);
	struct hook h = {
		.path = s->f[3], .argv = argv, .envp = envp, .state = s->f[2], .timeout = hx_num(s->f[1]),
	};

	if (argv == NULL || envp == NULL)
		return hx_fail(e, s->f[0], ENOMEM, "hook %s: out of memory", h.path);
	/* `$KEY`: the state JSON sent with a `continue` (it holds the pid). */
	if (h.state[0] == '$') {
		h.state = hx_value(c, s->f[2] + 1);
		if (h.state == NULL)
			return hx_fail(e, s->f[0], EINVAL, "hook %s: no value named \"%s\"", h.path, s->f[2] + 1);
	}
	return run_hook(&h, s->f[0], e);
}
