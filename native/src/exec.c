#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "exec.h"
#include "seccomp.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_path(char **env)
{
	for (; env && *env; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			return *env + 5;
	return DEFAULT_PATH;
}

/* What Go's exec.LookPath accepts: not a directory, some execute bit set. */
static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111);
}

/* 1 with *out set when found, 0 when not, -1 when out of memory. */
static int search_path(const char *name, const char *path, char **out)
{
	size_t nlen = strlen(name);

	for (const char *p = path;; p++) {
		size_t len = strcspn(p, ":");
		char *cand = malloc(len + nlen + 3);

		if (cand == NULL)
			return -1;
		/* An empty element means the current directory. */
		sprintf(cand, "%.*s/%s", (int)(len ? len : 1), len ? p : ".", name);
		if (executable(cand)) {
			*out = cand;
			return 1;
		}
		free(cand);
		p += len;
		if (*p == '\0')
			return 0;
	}
}

int hx_exec_resolve(struct hx_ctx *c, const struct hx_frame *exec_step, const char *step, struct hx_error *e)
{
	const char *name = exec_step->f[1];
	struct stat st;
	int r = 1;

	free(c->exec_path);
	c->exec_path = NULL;
	if (strchr(name, '/') != NULL) {
		if (stat(name, &st) < 0)
			return hx_fail(e, step, errno, "exec %s: %s", name, strerror(errno));
		/* Refused before `ready`, as runc's LookPath does: Docker maps it to 126. */
		if (S_ISDIR(st.st_mode))
			return hx_fail(e, step, EISDIR, "exec: \"%s\": is a directory", name);
		if (!(st.st_mode & 0111))
			return hx_fail(e, step, EACCES, "exec: \"%s\": permission denied", name);
		c->exec_path = strdup(name);
	} else {
		r = search_path(name, env_path(c->env), &c->exec_path);
	}
	if (r == 0)
		return hx_fail(e, step, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
	if (c->exec_path == NULL)
		return hx_fail(e, step, ENOMEM, "exec %s: out of memory", name);
	return 0;
}

int hx_step_env(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	(void)e;
	c->env = s->f + 1; /* the frame keeps f[n] == NULL */
	return 0;
}

int hx_step_exec(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	static char *empty_env[] = { NULL };

	if (c->exec_path == NULL && hx_exec_resolve(c, s, s->f[0], e) < 0)
		return -1;
	/* CLOEXEC rather than close: the control socket must survive a failed
	 * execve to report it, and vanish with a successful one. */
	if (hx_cloexec_from(3) < 0)
		return hx_fail(e, s->f[0], errno, "close_range: %s", strerror(errno));
	hx_reset_signals();
	/* A seccomp filter deferred to here (no_new_privs) only has to allow execve. */
	if (hx_seccomp_load_at_exec(c, e) < 0)
		return -1;
	execve(c->exec_path, s->f + 1, c->env ? c->env : empty_env);
	return hx_fail(e, s->f[0], errno, "exec %s: %s", c->exec_path, strerror(errno));
}
