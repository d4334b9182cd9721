/* `sysctl KEY VALUE`: a kernel setting of the container's namespaces. */
#ifndef HX_SYSCTL_H
#define HX_SYSCTL_H

#include "context.h"
#include "wire.h"

int hx_check_sysctl(const struct hx_frame *s, struct hx_error *e);
int hx_step_sysctl(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
