/* `apparmor PROFILE`, `selinux LABEL`: the label the next execve switches to. */
#ifndef HX_LSM_H
#define HX_LSM_H

#include "context.h"
#include "wire.h"

int hx_step_apparmor(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_selinux(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
