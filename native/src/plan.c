#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "devices_bpf.h"
#include "plan.h"
#include "rlimit.h"
#include "seccomp.h"
#include "sysctl.h"
#include "util.h"

enum phase { PARENT, BOUNDARY, CHILD, END };

/* Validators get the frame; they check the kinds of fields the counts allow. */
typedef int (*check_fn)(const struct hx_frame *s, struct hx_error *e);

struct spec {
	const char *name;
	enum phase phase;
	int min, max; /* fields after the name; max -1 = unbounded */
	check_fn check;
};

int hx_bad_field(const struct hx_frame *s, const char *what, const char *val, struct hx_error *e)
{
	return hx_fail(e, "plan", EINVAL, "plan: step \"%s\": invalid %s \"%s\"", s->f[0], what, val);
}

static bool is_num(const char *v)
{
	long long x;
	return hx_parse_ll(v, 10, LLONG_MIN, LLONG_MAX, &x);
}

static bool is_octal(const char *v)
{
	long long x;
	return hx_parse_ll(v, 8, 0, 07777, &x);
}

static bool one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(v, *set) == 0)
			return true;
	return false;
}

static const char *const ns_types[] = { "user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time", NULL };
static const char *const clone_types[] = { "user", "mnt", "pid", "net", "ipc", "uts", "cgroup", NULL };

static int check_join(const struct hx_frame *s, struct hx_error *e)
{
	return one_of(s->f[1], ns_types) ? 0 : hx_bad_field(s, "namespace type", s->f[1], e);
}

static int check_numbers_from(const struct hx_frame *s, int from, struct hx_error *e)
{
	for (int i = from; i < s->n; i++)
		if (!is_num(s->f[i]))
			return hx_bad_field(s, "number", s->f[i], e);
	return 0;
}

static int check_timens(const struct hx_frame *s, struct hx_error *e)
{
	return check_numbers_from(s, 2, e);
}

static int check_mode(const struct hx_frame *s, struct hx_error *e)
{
	static const char *const modes[] = { "create", "run", NULL };
	return one_of(s->f[1], modes) ? 0 : hx_bad_field(s, "mode", s->f[1], e);
}

static int check_clone(const struct hx_frame *s, struct hx_error *e)
{
	for (int i = 1; i < s->n; i++)
		if (!one_of(s->f[i], clone_types))
			return hx_bad_field(s, "namespace type", s->f[i], e);
	return 0;
}

static int check_all_numbers(const struct hx_frame *s, struct hx_error *e)
{
	return check_numbers_from(s, 1, e);
}

static int check_propagation(const struct hx_frame *s, struct hx_error *e)
{
	return check_numbers_from(s, 2, e);
}

static int check_mount(const struct hx_frame *s, struct hx_error *e)
{
	static const char *const kinds[] = { "dir", "file", NULL };

	if (!one_of(s->f[2], kinds))
		return hx_bad_field(s, "kind", s->f[2], e);
	if (!is_num(s->f[5]))
		return hx_bad_field(s, "flags", s->f[5], e);
	for (int i = 7; i < s->n; i++)
		if (!is_num(s->f[i]))
			return hx_bad_field(s, "propagation flags", s->f[i], e);
	return 0;
}

static int check_mknod(const struct hx_frame *s, struct hx_error *e)
{
	static const char *const types[] = { "c", "b", "p", NULL };

	if (!one_of(s->f[2], types))
		return hx_bad_field(s, "type", s->f[2], e);
	for (int i = 3; i <= 4; i++)
		if (!is_num(s->f[i]))
			return hx_bad_field(s, "device number", s->f[i], e);
	if (!is_octal(s->f[5]))
		return hx_bad_field(s, "mode", s->f[5], e);
	return check_numbers_from(s, 6, e);
}

static int check_hook(const struct hx_frame *s, struct hx_error *e)
{
	long long v;

	if (!hx_parse_ll(s->f[1], 10, 0, INT_MAX / 1000, &v))
		return hx_bad_field(s, "timeout", s->f[1], e);
	if (!hx_parse_ll(s->f[4], 10, 0, s->n - 5, &v))
		return hx_bad_field(s, "argument count", s->f[4], e);
	return 0;
}

static int check_umask(const struct hx_frame *s, struct hx_error *e)
{
	return is_octal(s->f[1]) ? 0 : hx_bad_field(s, "mode", s->f[1], e);
}

/* Steps with one optional variant word: `console [exec]`, `chroot [in-place]`. */
static int check_variant(const struct hx_frame *s, struct hx_error *e)
{
	const char *allowed = strcmp(s->f[0], "console") == 0 ? "exec" : "in-place";

	return s->n == 1 || strcmp(s->f[1], allowed) == 0 ? 0 : hx_bad_field(s, "variant", s->f[1], e);
}

/* `apparmor PROFILE`, `selinux LABEL` */
static int check_label(const struct hx_frame *s, struct hx_error *e)
{
	return s->f[1][0] ? 0 : hx_bad_field(s, strcmp(s->f[0], "apparmor") == 0 ? "profile" : "label", "", e);
}

static const struct spec specs[] = {
	{ "join", PARENT, 2, 2, check_join },
	{ "unshare-time", PARENT, 0, 0, NULL },
	{ "timens-offset", PARENT, 3, 3, check_timens },
	{ "console-socket", PARENT, 1, 1, NULL },
	{ "state-dir", PARENT, 1, 1, NULL },
	{ "devices-bpf", PARENT, 1, -1, hx_check_devices_bpf },
	{ "mode", PARENT, 1, 1, check_mode },
	{ "clone", BOUNDARY, 0, -1, check_clone },
	{ "end", END, 0, 0, NULL },
	{ "sync", CHILD, 1, 1, NULL },
	{ "setsid", CHILD, 0, 0, NULL },
	{ "become-root", CHILD, 0, 0, NULL },
	{ "propagation", CHILD, 2, 2, check_propagation },
	{ "rootfs", CHILD, 1, 1, NULL },
	{ "bind-self", CHILD, 1, 1, NULL },
	{ "mount", CHILD, 6, -1, check_mount },
	{ "mknod", CHILD, 7, 7, check_mknod },
	{ "symlink", CHILD, 2, 2, NULL },
	{ "hook", CHILD, 4, -1, check_hook },
	{ "pivot-root", CHILD, 0, 0, NULL },
	{ "chroot", CHILD, 0, 1, check_variant },
	{ "mask", CHILD, 1, 1, NULL },
	{ "readonly", CHILD, 1, 1, NULL },
	{ "remount-ro", CHILD, 1, 1, NULL },
	{ "hostname", CHILD, 1, 1, NULL },
	{ "domainname", CHILD, 1, 1, NULL },
	{ "console", CHILD, 0, 1, check_variant },
	{ "chdir", CHILD, 1, 1, NULL },
	{ "user", CHILD, 2, -1, check_all_numbers },
	{ "umask", CHILD, 1, 1, check_umask },
	{ "env", CHILD, 0, -1, NULL },
	{ "ready", CHILD, 0, 0, NULL },
	{ "wait-start", CHILD, 0, 0, NULL },
	{ "rlimit", CHILD, 3, 3, hx_check_rlimit },
	{ "no-new-privs", CHILD, 0, 0, NULL },
	{ "caps-bounding", CHILD, 1, 1, hx_check_caps },
	{ "caps", CHILD, 4, 4, hx_check_caps },
	{ "sysctl", CHILD, 2, 2, hx_check_sysctl },
	{ "apparmor", CHILD, 1, 1, check_label },
	{ "selinux", CHILD, 1, 1, check_label },
	{ "seccomp", CHILD, 2, 2, hx_check_seccomp },
	{ "seccomp-arch", CHILD, 1, 1, hx_check_seccomp_arch },
	{ "seccomp-flag", CHILD, 1, 1, hx_check_seccomp_flag },
	{ "seccomp-rule", CHILD, 3, 3 + 6 * 4, hx_check_seccomp_rule },
	{ "seccomp-load", CHILD, 0, 0, NULL },
	{ "exec", CHILD, 1, -1, NULL },
};

static const struct spec *find_spec(const char *name)
{
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (strcmp(specs[i].name, name) == 0)
			return &specs[i];
	return NULL;
}

/* Names, counts and field kinds of one frame, and whether it fits the phase. */
static int check_frame(const struct hx_frame *s, bool after_clone, const struct spec **out, struct hx_error *e)
{
	const struct spec *sp = find_spec(s->f[0]);
	int nargs = s->n - 1;

	if (sp == NULL)
		return hx_fail(e, "plan", EINVAL, "plan: unknown step \"%s\"", s->f[0]);
	if (nargs < sp->min || (sp->max >= 0 && nargs > sp->max))
		return hx_fail(e, "plan", EINVAL, "plan: step \"%s\": wrong number of fields (%d)", s->f[0], nargs);
	if ((sp->phase == PARENT || sp->phase == BOUNDARY) && after_clone)
		return hx_fail(e, "plan", EINVAL, "plan: step \"%s\" after \"clone\"", s->f[0]);
	if (sp->phase == CHILD && !after_clone)
		return hx_fail(e, "plan", EINVAL, "plan: step \"%s\" before \"clone\"", s->f[0]);
	if (sp->check && sp->check(s, e) < 0)
		return -1;
	*out = sp;
	return 0;
}

static bool seen(const struct hx_plan *p, int upto, const char *name)
{
	for (int i = 0; i < upto; i++)
		if (strcmp(p->steps[i].f[0], name) == 0)
			return true;
	return false;
}

static bool is_in_root_step(const char *name)
{
	return strcmp(name, "mount") == 0 || strcmp(name, "mknod") == 0 || strcmp(name, "symlink") == 0;
}

/* A filter is built by `seccomp`, the `seccomp-*` steps, and ends with `seccomp-load`. */
static int check_seccomp_order(const struct hx_plan *p, struct hx_error *e)
{
	bool building = false;

	for (int i = p->clone_at + 1; i < p->n; i++) {
		const char *name = p->steps[i].f[0];
		if (strcmp(name, "seccomp") == 0) {
			if (building)
				return hx_fail(e, "plan", EINVAL, "plan: \"seccomp\" before the previous filter's \"seccomp-load\"");
			building = true;
		} else if (strncmp(name, "seccomp-", 8) == 0) {
			if (!building)
				return hx_fail(e, "plan", EINVAL, "plan: step \"%s\" without \"seccomp\"", name);
			building = strcmp(name, "seccomp-load") != 0;
		}
	}
	if (building)
		return hx_fail(e, "plan", EINVAL, "plan: \"seccomp\" without \"seccomp-load\"");
	return 0;
}

/* Constraints between steps: what must come before what. */
static int check_order(const struct hx_plan *p, struct hx_error *e)
{
	int exec_at = hx_plan_find_exec(p);

	if (p->clone_at < 0)
		return hx_fail(e, "plan", EINVAL, "plan: no \"clone\" step");
	if (!seen(p, p->clone_at, "mode"))
		return hx_fail(e, "plan", EINVAL, "plan: no \"mode\" step");
	if (exec_at >= 0 && exec_at != p->n - 1)
		return hx_fail(e, "plan", EINVAL, "plan: \"exec\" must be the last step");
	for (int i = p->clone_at + 1; i < p->n; i++) {
		const char *name = p->steps[i].f[0];
		if (is_in_root_step(name) && !seen(p, i, "rootfs"))
			return hx_fail(e, "plan", EINVAL, "plan: step \"%s\" before \"rootfs\"", name);
		if (strcmp(name, "console") == 0 && !seen(p, p->clone_at, "console-socket"))
			return hx_fail(e, "plan", EINVAL, "plan: \"console\" without \"console-socket\"");
		if (strcmp(name, "wait-start") == 0 && !seen(p, p->clone_at, "state-dir"))
			return hx_fail(e, "plan", EINVAL, "plan: \"wait-start\" without \"state-dir\"");
		if (strcmp(name, "ready") == 0 && exec_at < 0)
			return hx_fail(e, "plan", EINVAL, "plan: \"ready\" without \"exec\"");
	}
	return check_seccomp_order(p, e);
}

static int append(struct hx_plan *p, struct hx_frame *fr, struct hx_error *e)
{
	struct hx_frame *grown = realloc(p->steps, (p->n + 1) * sizeof(*grown));

	if (grown == NULL)
		return hx_fail(e, "plan", errno, "plan: %s", strerror(errno));
	p->steps = grown;
	p->steps[p->n++] = *fr;
	return 0;
}

static int note_parent_step(struct hx_plan *p, const struct hx_frame *fr, struct hx_error *e)
{
	if (strcmp(fr->f[0], "mode") == 0) {
		if (seen(p, p->n, "mode"))
			return hx_fail(e, "plan", EINVAL, "plan: more than one \"mode\" step");
		p->run_mode = strcmp(fr->f[1], "run") == 0;
	}
	if (strcmp(fr->f[0], "clone") == 0)
		p->clone_at = p->n;
	return 0;
}

/* After the first invalid frame the rest is still read up to `end`, so that
 * TypeScript's plan is fully consumed and the error frame is not lost in a
 * connection reset. */
int hx_plan_read(int fd, struct hx_plan *p, struct hx_error *e)
{
	struct hx_error first = { 0 };
	bool failed = false;

	*p = (struct hx_plan){ .clone_at = -1 };
	for (;;) {
		struct hx_frame fr;
		const struct spec *sp = NULL;

		if (hx_frame_read(fd, &fr, e) < 0) {
			if (e->err == 0)
				hx_fail(e, "plan", EPIPE, "plan: control socket closed before \"end\"");
			return -1;
		}
		if (!failed && (check_frame(&fr, p->clone_at >= 0, &sp, e) < 0 || note_parent_step(p, &fr, e) < 0)) {
			failed = true;
			first = *e;
		}
		if (strcmp(fr.f[0], "end") == 0) {
			hx_frame_free(&fr);
			break;
		}
		if (failed) {
			hx_frame_free(&fr);
			continue;
		}
		if (append(p, &fr, e) < 0) {
			hx_frame_free(&fr);
			return -1;
		}
	}
	if (failed) {
		*e = first;
		return -1;
	}
	return check_order(p, e);
}

int hx_plan_find_exec(const struct hx_plan *p)
{
	for (int i = p->clone_at + 1; p->clone_at >= 0 && i < p->n; i++)
		if (strcmp(p->steps[i].f[0], "exec") == 0)
			return i;
	return -1;
}

long long hx_num(const char *s)
{
	long long v = 0;
	hx_parse_ll(s, 10, LLONG_MIN, LLONG_MAX, &v);
	return v;
}

long long hx_octal(const char *s)
{
	long long v = 0;
	hx_parse_ll(s, 8, 0, 07777, &v);
	return v;
}
