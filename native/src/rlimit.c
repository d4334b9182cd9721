#include <string.h>
#include <sys/resource.h>

#include "plan.h"
#include "rlimit.h"
#include "util.h"

static const struct {
	const char *name;
	int resource;
} limits[] = {
	{ "RLIMIT_AS", RLIMIT_AS },		{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },		{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },		{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static int resource_of(const char *name)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (strcmp(limits[i].name, name) == 0)
			return limits[i].resource;
	return -1;
}

/* `-1` is RLIM_INFINITY; anything else an unsigned decimal. */
static bool parse_limit(const char *v, rlim_t *out)
{
	uint64_t n;

	if (strcmp(v, "-1") == 0) {
		*out = RLIM_INFINITY;
		return true;
	}
	if (!hx_parse_u64(v, 10, &n))
		return false;
	*out = n;
	return true;
}

int hx_check_rlimit(const struct hx_frame *s, struct hx_error *e)
{
	rlim_t v;

	if (resource_of(s->f[1]) < 0)
		return hx_bad_field(s, "limit", s->f[1], e);
	for (int i = 2; i <= 3; i++)
		if (!parse_limit(s->f[i], &v))
			return hx_bad_field(s, i == 2 ? "soft limit" : "hard limit", s->f[i], e);
	return 0;
}

static const char *shown(const char *v)
{
	return strcmp(v, "-1") == 0 ? "unlimited" : v;
}

int hx_step_rlimit(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	struct rlimit rl;

	(void)c;
	parse_limit(s->f[2], &rl.rlim_cur);
	parse_limit(s->f[3], &rl.rlim_max);
	if (setrlimit(resource_of(s->f[1]), &rl) < 0)
		return hx_fail(e, s->f[0], errno, "setrlimit %s (soft %s, hard %s): %s", s->f[1], shown(s->f[2]),
			       shown(s->f[3]), strerror(errno));
	return 0;
}
