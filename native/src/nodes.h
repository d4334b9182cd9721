/* Filesystem entries created inside the rootfs: device nodes, fifos, symlinks. */
#ifndef HX_NODES_H
#define HX_NODES_H

#include "context.h"
#include "wire.h"

int hx_step_mknod(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_symlink(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
