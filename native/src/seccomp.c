#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "seccomp.h"
#include "util.h"

#define MAX_ARGS 6
#define ERRNO_MAX 0xffff /* SECCOMP_RET_DATA */

static const struct {
	const char *name;
	uint32_t action;
	bool data; /* takes ERRNO */
} actions[] = {
	{ "allow", SCMP_ACT_ALLOW, false },
	{ "errno", SCMP_ACT_ERRNO(0), true },
	{ "kill", SCMP_ACT_KILL_THREAD, false },
	{ "kill-thread", SCMP_ACT_KILL_THREAD, false },
	{ "kill-process", SCMP_ACT_KILL_PROCESS, false },
	{ "trap", SCMP_ACT_TRAP, false },
	{ "trace", SCMP_ACT_TRACE(0), true },
	{ "log", SCMP_ACT_LOG, false },
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
	{ "ne", SCMP_CMP_NE }, { "lt", SCMP_CMP_LT }, { "le", SCMP_CMP_LE },	       { "eq", SCMP_CMP_EQ },
	{ "ge", SCMP_CMP_GE }, { "gt", SCMP_CMP_GT }, { "masked-eq", SCMP_CMP_MASKED_EQ },
};

static const struct {
	const char *name;
	enum scmp_filter_attr attr;
} flags[] = {
	{ "tsync", SCMP_FLTATR_CTL_TSYNC },
	{ "log", SCMP_FLTATR_CTL_LOG },
	{ "spec-allow", SCMP_FLTATR_CTL_SSB },
};

/* The libseccomp action for ACTION and ERRNO; false if either is invalid. */
static bool action_of(const char *name, const char *err, uint32_t *out)
{
	uint64_t n;

	if (!hx_parse_u64(err, 10, &n))
		return false;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(actions[i].name, name) != 0)
			continue;
		if (actions[i].data && n > ERRNO_MAX)
			return false;
		*out = actions[i].action | (actions[i].data ? (uint32_t)n : 0);
		return true;
	}
	return false;
}

static int op_of(const char *name)
{
	for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++)
		if (strcmp(operators[i].name, name) == 0)
			return operators[i].op;
	return -1;
}

static int flag_of(const char *name)
{
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcmp(flags[i].name, name) == 0)
			return flags[i].attr;
	return -1;
}

static int check_action(const struct hx_frame *s, int at, struct hx_error *e)
{
	uint32_t a;
	uint64_t n;

	if (!action_of(s->f[at], "0", &a))
		return hx_bad_field(s, "action", s->f[at], e);
	/* Any number, but one the action carries must fit in 16 bits. */
	if (!hx_parse_u64(s->f[at + 1], 10, &n) || !action_of(s->f[at], s->f[at + 1], &a))
		return hx_bad_field(s, "errno", s->f[at + 1], e);
	return 0;
}

int hx_check_seccomp(const struct hx_frame *s, struct hx_error *e)
{
	return check_action(s, 1, e);
}

int hx_check_seccomp_arch(const struct hx_frame *s, struct hx_error *e)
{
	return seccomp_arch_resolve_name(s->f[1]) ? 0 : hx_bad_field(s, "architecture", s->f[1], e);
}

int hx_check_seccomp_flag(const struct hx_frame *s, struct hx_error *e)
{
	return flag_of(s->f[1]) >= 0 ? 0 : hx_bad_field(s, "flag", s->f[1], e);
}

int hx_check_seccomp_rule(const struct hx_frame *s, struct hx_error *e)
{
	bool used[MAX_ARGS] = { false };
	long long idx;
	uint64_t v;

	if (check_action(s, 1, e) < 0)
		return -1;
	if (s->f[3][0] == '\0')
		return hx_bad_field(s, "syscall", s->f[3], e);
	if ((s->n - 4) % 4 != 0)
		return hx_fail(e, "plan", EINVAL, "plan: step \"%s\": arguments come in groups of four", s->f[0]);
	for (int i = 4; i < s->n; i += 4) {
		if (!hx_parse_ll(s->f[i], 10, 0, MAX_ARGS - 1, &idx))
			return hx_bad_field(s, "argument index", s->f[i], e);
		/* libseccomp refuses it (EINVAL); runc makes one rule per condition. */
		if (used[idx])
			return hx_fail(e, "plan", EINVAL,
				       "plan: step \"%s\" %s: argument %lld is compared twice (use one rule per condition)",
				       s->f[0], s->f[3], idx);
		used[idx] = true;
		if (op_of(s->f[i + 1]) < 0)
			return hx_bad_field(s, "operator", s->f[i + 1], e);
		for (int j = i + 2; j <= i + 3; j++)
			if (!hx_parse_u64(s->f[j], 10, &v))
				return hx_bad_field(s, "value", s->f[j], e);
	}
	return 0;
}

int hx_step_seccomp(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	uint32_t def = 0;

	action_of(s->f[1], s->f[2], &def);
	if (c->seccomp)
		seccomp_release(c->seccomp);
	c->seccomp = seccomp_init(def);
	if (c->seccomp == NULL)
		return hx_fail(e, s->f[0], EINVAL, "seccomp_init %s: failed", s->f[1]);
	c->seccomp_default = def;
	/* no_new_privs is the `no-new-privs` step's business, never a side effect;
	 * and errors should carry the kernel's errno, not ECANCELED. */
	if (seccomp_attr_set(c->seccomp, SCMP_FLTATR_CTL_NNP, 0) < 0)
		return hx_fail(e, s->f[0], EINVAL, "seccomp: cannot turn off libseccomp's no_new_privs");
	seccomp_attr_set(c->seccomp, SCMP_FLTATR_API_SYSRAWRC, 1); /* libseccomp >= 2.5 */
	return 0;
}

int hx_step_seccomp_arch(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	int r = seccomp_arch_add(c->seccomp, seccomp_arch_resolve_name(s->f[1]));

	/* The native architecture is always there already. */
	if (r < 0 && r != -EEXIST)
		return hx_fail(e, s->f[0], -r, "seccomp_arch_add %s: %s", s->f[1], strerror(-r));
	return 0;
}

int hx_step_seccomp_flag(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	int r = seccomp_attr_set(c->seccomp, flag_of(s->f[1]), 1);

	if (r < 0)
		return hx_fail(e, s->f[0], -r, "seccomp flag %s: %s", s->f[1], strerror(-r));
	return 0;
}

int hx_step_seccomp_rule(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	struct scmp_arg_cmp args[MAX_ARGS];
	unsigned int n = 0;
	uint32_t action = 0;
	int nr, r;

	action_of(s->f[1], s->f[2], &action);
	nr = seccomp_syscall_resolve_name(s->f[3]);
	/* Unknown here (a newer or another architecture's syscall): skipped, as
	 * runc does. The default action needs no rule (libseccomp refuses one). */
	if (nr == __NR_SCMP_ERROR || action == c->seccomp_default)
		return 0;
	for (int i = 4; i < s->n; i += 4, n++) {
		uint64_t a = 0, b = 0;
		hx_parse_u64(s->f[i + 2], 10, &a);
		hx_parse_u64(s->f[i + 3], 10, &b);
		args[n] = (struct scmp_arg_cmp){
			.arg = hx_num(s->f[i]), .op = op_of(s->f[i + 1]), .datum_a = a, .datum_b = b,
		};
	}
	r = seccomp_rule_add_array(c->seccomp, action, nr, n, args);
	if (r < 0)
		return hx_fail(e, s->f[0], -r, "seccomp_rule_add %s: %s", s->f[3], strerror(-r));
	return 0;
}

static int load(struct hx_ctx *c, const char *step, struct hx_error *e)
{
	int r = seccomp_load(c->seccomp);

	seccomp_release(c->seccomp);
	c->seccomp = NULL;
	c->seccomp_at_exec = false;
	if (r == -EACCES || r == -EPERM)
		return hx_fail(e, step, -r, "seccomp_load: %s (without no_new_privs, loading needs CAP_SYS_ADMIN)",
			       strerror(-r));
	if (r < 0)
		return hx_fail(e, step, -r, "seccomp_load: %s", strerror(-r));
	return 0;
}

int hx_step_seccomp_load(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const struct hx_plan *p = c->plan;

	/* Right before `exec`: leave it to exec, which loads it as its last act. */
	if (s + 1 < p->steps + p->n && strcmp(s[1].f[0], "exec") == 0) {
		c->seccomp_at_exec = true;
		return 0;
	}
	return load(c, s->f[0], e);
}

int hx_seccomp_load_at_exec(struct hx_ctx *c, struct hx_error *e)
{
	return c->seccomp_at_exec ? load(c, "seccomp-load", e) : 0;
}
