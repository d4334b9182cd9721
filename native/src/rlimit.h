/* `rlimit NAME SOFT HARD`: resource limits, set while still privileged. */
#ifndef HX_RLIMIT_H
#define HX_RLIMIT_H

#include "context.h"
#include "wire.h"

int hx_check_rlimit(const struct hx_frame *s, struct hx_error *e);
int hx_step_rlimit(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
