/* seccomp with libseccomp: `seccomp` starts a filter, `seccomp-arch`, `-flag` and
 * `-rule` add to it, `seccomp-load` loads it. */
#ifndef HX_SECCOMP_H
#define HX_SECCOMP_H

#include "context.h"
#include "wire.h"

int hx_check_seccomp(const struct hx_frame *s, struct hx_error *e);
int hx_check_seccomp_arch(const struct hx_frame *s, struct hx_error *e);
int hx_check_seccomp_flag(const struct hx_frame *s, struct hx_error *e);
int hx_check_seccomp_rule(const struct hx_frame *s, struct hx_error *e);

int hx_step_seccomp(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_seccomp_arch(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_seccomp_flag(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_seccomp_rule(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_seccomp_load(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

/* Called by `exec` right before execve when `seccomp-load` deferred the load to
 * it (nothing to do otherwise): after the fds and signals are dealt with, so the
 * filter only has to allow execve. Errors are reported as step `seccomp-load`. */
int hx_seccomp_load_at_exec(struct hx_ctx *c, struct hx_error *e);

#endif
