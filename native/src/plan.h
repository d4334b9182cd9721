/* The launch plan: every frame up to `end`, checked before anything is cloned. */
#ifndef HX_PLAN_H
#define HX_PLAN_H

#include <stdbool.h>

#include "error.h"
#include "wire.h"

struct hx_plan {
	struct hx_frame *steps; /* `end` excluded */
	int n;
	int clone_at;           /* index of the `clone` frame */
	bool run_mode;          /* `mode run` */
};

/* Reads the plan from fd until `end`; validates names, field counts, numbers and
 * the order constraints. */
int hx_plan_read(int fd, struct hx_plan *p, struct hx_error *e);

/* Index of the `exec` child step, or -1. */
int hx_plan_find_exec(const struct hx_plan *p);

/* For the per-step validators (plan.c and the files of the steps): fills *e with
 * `plan: step "NAME": invalid WHAT "VAL"` and returns -1. */
int hx_bad_field(const struct hx_frame *s, const char *what, const char *val, struct hx_error *e);

/* Parsers for fields already validated by hx_plan_read. */
long long hx_num(const char *s);
long long hx_octal(const char *s);

#endif
