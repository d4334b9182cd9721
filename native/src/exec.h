/* The last step: find the program and become it. */
#ifndef HX_EXEC_H
#define HX_EXEC_H

#include "context.h"
#include "wire.h"

/* Looks ARG[0] up (in the env's PATH unless it contains '/') into c->exec_path. */
int hx_exec_resolve(struct hx_ctx *c, const struct hx_frame *exec_step, const char *step, struct hx_error *e);

int hx_step_env(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_exec(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
