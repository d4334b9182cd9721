/* Capabilities: `caps-bounding MASK` before `user`, `caps E P I A` after it. */
#ifndef HX_CAPS_H
#define HX_CAPS_H

#include "context.h"
#include "wire.h"

/* Every field after the name is a hex u64 mask. */
int hx_check_caps(const struct hx_frame *s, struct hx_error *e);

int hx_step_caps_bounding(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_caps(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
