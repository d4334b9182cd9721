/* Mount steps: propagation, bind-self, mount, mask, readonly, remount-ro. */
#ifndef HX_MOUNTS_H
#define HX_MOUNTS_H

#include "context.h"
#include "wire.h"

int hx_step_propagation(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_rootfs(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_bind_self(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_mount(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_mask(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_readonly(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_remount_ro(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
