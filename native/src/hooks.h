/* OCI hooks: run to completion (or timeout) with the state JSON on stdin. */
#ifndef HX_HOOKS_H
#define HX_HOOKS_H

#include "context.h"
#include "wire.h"

int hx_step_hook(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
