#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "child.h"
#include "compat.h"
#include "devices_bpf.h"
#include "parent.h"
#include "util.h"

static const struct {
	const char *name;
	int flag;
} ns_flags[] = {
	{ "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },	   { "pid", CLONE_NEWPID },
	{ "net", CLONE_NEWNET },   { "ipc", CLONE_NEWIPC },	   { "uts", CLONE_NEWUTS },
	{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

static int ns_flag(const char *name)
{
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++)
		if (strcmp(ns_flags[i].name, name) == 0)
			return ns_flags[i].flag;
	return 0; /* hx_plan_read let only known names through */
}

static int open_ns(const struct hx_frame *s, struct hx_error *e)
{
	int fd = open(s->f[2], O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return hx_fail(e, s->f[0], errno, "open %s namespace %s: %s", s->f[1], s->f[2], strerror(errno));
	return fd;
}

static int step_join(const struct hx_frame *s, int fd, struct hx_error *e)
{
	if (setns(fd, ns_flag(s->f[1])) < 0)
		return hx_fail(e, s->f[0], errno, "setns %s namespace %s: %s", s->f[1], s->f[2], strerror(errno));
	return 0;
}

static int step_unshare_time(const struct hx_frame *s, struct hx_error *e)
{
	if (unshare(CLONE_NEWTIME) < 0)
		return hx_fail(e, s->f[0], errno, "unshare time namespace: %s", strerror(errno));
	return 0;
}

static int step_timens_offset(const struct hx_frame *s, struct hx_error *e)
{
	_cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	char line[128];
	int len = snprintf(line, sizeof(line), "%s %s %s\n", s->f[1], s->f[2], s->f[3]);

	if (fd < 0)
		return hx_fail(e, s->f[0], errno, "open /proc/self/timens_offsets: %s", strerror(errno));
	if (len >= (int)sizeof(line))
		return hx_fail(e, s->f[0], EINVAL, "timens offset %s: too long", s->f[1]);
	if (write(fd, line, len) != len)
		return hx_fail(e, s->f[0], errno, "write /proc/self/timens_offsets (%s %s %s): %s", s->f[1], s->f[2],
			       s->f[3], strerror(errno));
	return 0;
}

static int step_console_socket(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = s->f[1];

	if (strlen(path) >= sizeof(addr.sun_path))
		return hx_fail(e, s->f[0], ENAMETOOLONG, "console socket %s: path too long", path);
	strcpy(addr.sun_path, path);
	if (c->console_fd >= 0)
		close(c->console_fd);
	c->console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->console_fd < 0)
		return hx_fail(e, s->f[0], errno, "socket: %s", strerror(errno));
	while (connect(c->console_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		if (errno != EINTR)
			return hx_fail(e, s->f[0], errno, "connect to console socket %s: %s", path, strerror(errno));
	return 0;
}

/* The fifo is opened (O_PATH) now, while the executor is privileged: after
 * `user` the child may not be allowed to search the state dir any more. */
static int step_state_dir(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *path = s->f[1];
	mode_t old;
	int r;

	if (c->statedir_fd >= 0 || c->fifo_fd >= 0)
		return hx_fail(e, s->f[0], EINVAL, "state dir %s: a state dir was already given", path);
	c->statedir_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->statedir_fd < 0)
		return hx_fail(e, s->f[0], errno, "open state dir %s: %s", path, strerror(errno));
	old = umask(0); /* 0622 exactly: the container's user must be able to write it */
	r = mkfifoat(c->statedir_fd, "exec.fifo", 0622);
	umask(old);
	if (r < 0)
		return hx_fail(e, s->f[0], errno, "mkfifo %s/exec.fifo: %s", path, strerror(errno));
	c->fifo_fd = openat(c->statedir_fd, "exec.fifo", O_PATH | O_CLOEXEC);
	if (c->fifo_fd < 0)
		return hx_fail(e, s->f[0], errno, "open %s/exec.fifo: %s", path, strerror(errno));
	return 0;
}

static int run_parent_step(struct hx_ctx *c, const struct hx_frame *s, int nsfd, struct hx_error *e)
{
	const char *n = s->f[0];

	if (strcmp(n, "join") == 0)
		return step_join(s, nsfd, e);
	if (strcmp(n, "unshare-time") == 0)
		return step_unshare_time(s, e);
	if (strcmp(n, "timens-offset") == 0)
		return step_timens_offset(s, e);
	if (strcmp(n, "console-socket") == 0)
		return step_console_socket(c, s, e);
	if (strcmp(n, "state-dir") == 0)
		return step_state_dir(c, s, e);
	if (strcmp(n, "devices-bpf") == 0)
		return hx_step_devices_bpf(c, s, e);
	return 0; /* `mode` was read by hx_plan_read */
}

static bool is_host_step(const char *name)
{
	return strcmp(name, "console-socket") == 0 || strcmp(name, "state-dir") == 0 || strcmp(name, "devices-bpf") == 0;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Every `join` path is opened before the first setns: once inside a user or
 * mount namespace, the other namespaces' paths may no longer be reachable
 * (ptrace checks on /proc/PID/ns, a different root). Likewise the host steps
 * run before it. */
int hx_parent_steps(struct hx_ctx *c, struct hx_error *e)
{
	const struct hx_plan *p = c->plan;
	_cleanup_free_ int *nsfds = malloc((p->clone_at + 1) * sizeof(int));
	int r = 0;

	if (nsfds == NULL)
		return hx_fail(e, "join", ENOMEM, "out of memory");
	for (int i = 0; i < p->clone_at; i++)
		nsfds[i] = -1;
	for (int i = 0; i < p->clone_at && r == 0; i++)
		if (strcmp(p->steps[i].f[0], "join") == 0 && (nsfds[i] = open_ns(&p->steps[i], e)) < 0)
			r = -1;
	/* Host steps first: their paths are the host's, and loading a BPF program
	 * needs the host's privileges (gone after a `join user`). */
	for (int i = 0; i < p->clone_at && r == 0; i++)
		if (is_host_step(p->steps[i].f[0]))
			r = run_parent_step(c, &p->steps[i], nsfds[i], e);
	for (int i = 0; i < p->clone_at && r == 0; i++)
		if (!is_host_step(p->steps[i].f[0]))
			r = run_parent_step(c, &p->steps[i], nsfds[i], e);
	close_all(nsfds, p->clone_at);
	return r;
}

static unsigned long clone_flags(const struct hx_frame *s)
{
	unsigned long flags = 0;

	for (int i = 1; i < s->n; i++)
		flags |= ns_flag(s->f[i]);
	return flags;
}

/* fork() semantics (no new stack), with namespaces: clone3, or clone where
 * clone3 is filtered out. */
static pid_t clone_child(unsigned long flags)
{
	struct hx_clone_args args = { .flags = flags, .exit_signal = SIGCHLD };
	long pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid < 0 && errno == ENOSYS)
		pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	return pid;
}

static int wait_child(pid_t pid, int *status, struct hx_error *e)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return hx_fail(e, "waitpid", errno, "waitpid %d: %s", pid, strerror(errno));
	return 0;
}

static int report_exit(struct hx_ctx *c, pid_t pid, struct hx_error *e)
{
	char num[16];
	int status;

	if (wait_child(pid, &status, e) < 0)
		return -1;
	if (WIFSIGNALED(status)) {
		snprintf(num, sizeof(num), "%d", WTERMSIG(status));
		return hx_send(c->ctl, e, "exited", "signal", num, NULL);
	}
	snprintf(num, sizeof(num), "%d", WEXITSTATUS(status));
	return hx_send(c->ctl, e, "exited", "code", num, NULL);
}

/* Those belong to the child now; the executor must not keep a console
 * connection or the fifo alive on its behalf. */
static void close_child_fds(struct hx_ctx *c)
{
	int *fds[] = { &c->console_fd, &c->statedir_fd, &c->fifo_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

int hx_parent_launch(struct hx_ctx *c, struct hx_error *e)
{
	const struct hx_frame *cl = &c->plan->steps[c->plan->clone_at];
	_cleanup_close_ int gate_r = -1, gate_w = -1;
	char num[16];
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return hx_fail(e, "clone", errno, "pipe: %s", strerror(errno));
	gate_r = fds[0], gate_w = fds[1];
	pid = clone_child(clone_flags(cl));
	if (pid < 0)
		return hx_fail(e, "clone", errno, "clone: %s", strerror(errno));
	if (pid == 0) {
		close(hx_steal_fd(&gate_w));
		hx_child_main(c, hx_steal_fd(&gate_r));
	}
	close(hx_steal_fd(&gate_r));
	close_child_fds(c);

	snprintf(num, sizeof(num), "%d", pid);
	if (hx_send(c->ctl, e, "pid", num, NULL) < 0 || write(gate_w, "", 1) != 1) {
		/* The child would run unobserved: stop it. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (e->msg[0] == '\0')
			hx_fail(e, "clone", errno, "release the child: %s", strerror(errno));
		return -1;
	}
	close(hx_steal_fd(&gate_w));
	if (!c->plan->run_mode)
		return 0;
	return report_exit(c, pid, e);
}
