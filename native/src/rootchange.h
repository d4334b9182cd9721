/* Changing the root: pivot_root (the normal way) or chroot (--no-pivot). */
#ifndef HX_ROOTCHANGE_H
#define HX_ROOTCHANGE_H

#include "context.h"
#include "wire.h"

int hx_step_pivot_root(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_chroot(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
