/* The command line (MONITOR.md "Command line"): any mistake is exit 2. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"

struct mon_options O = { .log_max_file = 1 };

__attribute__((format(printf, 1, 2), noreturn))
static void bad(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mon_die(2, "%s (usage: hako-monitor --dir DIR [OPTIONS] -- PROGRAM [ARG...])", buf);
}

enum opt_id {
	OPT_DIR, OPT_LOG, OPT_MAX_SIZE, OPT_MAX_FILE, OPT_TTY, OPT_STDIN, OPT_STDIN_ONCE,
	OPT_ANNOUNCE, OPT_RESTART, OPT_RELAUNCH, OPT_CLEANUP, OPT_TICK, OPT_TICK_CMD,
};

static const struct {
	const char *name;
	bool arg;
} opts[] = {
	[OPT_DIR] = { "--dir", true },
	[OPT_LOG] = { "--log", true },
	[OPT_MAX_SIZE] = { "--log-max-size", true },
	[OPT_MAX_FILE] = { "--log-max-file", true },
	[OPT_TTY] = { "--tty", false },
	[OPT_STDIN] = { "--stdin", false },
	[OPT_STDIN_ONCE] = { "--stdin-once", false },
	[OPT_ANNOUNCE] = { "--announce", false },
	[OPT_RESTART] = { "--restart", true },
	[OPT_RELAUNCH] = { "--relaunch", true },
	[OPT_CLEANUP] = { "--cleanup", true },
	[OPT_TICK] = { "--tick", true },
	[OPT_TICK_CMD] = { "--tick-cmd", true },
};

/* A repeated option's values, in order; the arrays are sized for the whole argv
 * once, so no growth. */
static void push(char ***list, char *value, int argc)
{
	size_t n = 0;

	if (*list == NULL) {
		*list = calloc(argc + 1, sizeof(char *));
		if (*list == NULL)
			mon_die(1, "out of memory");
	}
	while ((*list)[n] != NULL)
		n++;
	(*list)[n] = value;
}

/* 0 and the policy set, or -1 for text that is not one (the file `restart` is
 * read with this too: there a bad value is ignored, not fatal). */
int mon_parse_policy(const char *v, enum mon_policy *policy, unsigned *max)
{
	uint64_t n = 0;

	if (strcmp(v, "no") == 0)
		*policy = POLICY_NO;
	else if (strcmp(v, "always") == 0)
		*policy = POLICY_ALWAYS;
	else if (strcmp(v, "unless-stopped") == 0)
		*policy = POLICY_UNLESS_STOPPED;
	else if (strcmp(v, "on-failure") == 0 ||
		 (strncmp(v, "on-failure:", 11) == 0 && mon_parse_uint(v + 11, 1000000000, &n)))
		*policy = POLICY_ON_FAILURE;
	else
		return -1;
	*max = (unsigned)n;
	return 0;
}

static void parse_restart(const char *v)
{
	if (mon_parse_policy(v, &O.restart, &O.max_restarts) < 0)
		bad("--restart %s: expected no, always, unless-stopped, on-failure or on-failure:N", v);
}

/* SECS: whole seconds with an optional fraction (milliseconds are kept). */
static void parse_tick(const char *v)
{
	const char *dot = strchr(v, '.');
	char whole[24];
	uint64_t secs, ms = 0;
	size_t wl = dot ? (size_t)(dot - v) : strlen(v);

	if (wl == 0 || wl >= sizeof(whole))
		bad("--tick %s: expected a number of seconds", v);
	memcpy(whole, v, wl);
	whole[wl] = '\0';
	if (!mon_parse_uint(whole, 86400 * 365, &secs))
		bad("--tick %s: expected a number of seconds", v);
	if (dot != NULL) {
		unsigned scale = 100;
		if (dot[1] == '\0')
			bad("--tick %s: expected a number of seconds", v);
		for (const char *p = dot + 1; *p; p++, scale /= 10) {
			if (*p < '0' || *p > '9')
				bad("--tick %s: expected a number of seconds", v);
			ms += (uint64_t)(*p - '0') * scale;
		}
	}
	O.tick_ms = (int64_t)(secs * 1000 + ms);
	if (O.tick_ms <= 0)
		bad("--tick %s: must be more than 0", v);
}

static void apply(enum opt_id id, char *v, int argc)
{
	uint64_t n;

	switch (id) {
	case OPT_DIR: O.dir = v; break;
	case OPT_LOG: O.log = v; break;
	case OPT_MAX_SIZE:
		if (!mon_parse_uint(v, INT64_MAX, &n))
			bad("--log-max-size %s: expected a number of bytes", v);
		O.log_max_size = n;
		break;
	case OPT_MAX_FILE:
		if (!mon_parse_uint(v, 1000, &n) || n == 0)
			bad("--log-max-file %s: expected a number from 1 to 1000", v);
		O.log_max_file = (unsigned)n;
		break;
	case OPT_TTY: O.tty = true; break;
	case OPT_STDIN: O.stdin_open = true; break;
	case OPT_STDIN_ONCE: O.stdin_once = true; break;
	case OPT_ANNOUNCE: O.announce = true; break;
	case OPT_RESTART: parse_restart(v); break;
	case OPT_RELAUNCH: push(&O.relaunch, v, argc); break;
	case OPT_CLEANUP: push(&O.cleanup, v, argc); break;
	case OPT_TICK: parse_tick(v); break;
	case OPT_TICK_CMD: push(&O.tick_cmd, v, argc); break;
	}
}

/* One option at argv[*i], `--name value` or `--name=value`. */
static void parse_one(int argc, char **argv, int *i)
{
	char *a = argv[*i], *eq = strchr(a, '=');
	size_t len = eq ? (size_t)(eq - a) : strlen(a);

	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		if (strlen(opts[k].name) != len || strncmp(opts[k].name, a, len) != 0)
			continue;
		if (!opts[k].arg) {
			if (eq != NULL)
				bad("%s takes no value", opts[k].name);
			apply(k, NULL, argc);
		} else if (eq != NULL) {
			apply(k, eq + 1, argc);
		} else {
			if (*i + 1 >= argc)
				bad("%s needs a value", opts[k].name);
			apply(k, argv[++*i], argc);
		}
		return;
	}
	bad("unknown option %s", a);
}

static void check(void)
{
	if (O.dir == NULL || O.dir[0] == '\0')
		bad("--dir is required");
	if (O.program == NULL || O.program[0] == NULL)
		bad("no PROGRAM given");
	if (O.relaunch != NULL && O.relaunch[0][0] != '/')
		bad("--relaunch: the program must be an absolute path, not %s", O.relaunch[0]);
	if (O.restart != POLICY_NO && O.relaunch == NULL)
		bad("--restart needs --relaunch (the argv that starts the container again)");
	if ((O.tick_ms > 0) != (O.tick_cmd != NULL))
		bad("--tick and --tick-cmd go together");
}

void options_parse(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			break; /* PROGRAM without "--" */
		parse_one(argc, argv, &i);
	}
	O.program = argv + i;
	check();
}
