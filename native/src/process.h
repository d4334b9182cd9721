/* Process attributes: session, credentials, umask, names, working directory. */
#ifndef HX_PROCESS_H
#define HX_PROCESS_H

#include "context.h"
#include "wire.h"

int hx_step_setsid(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_become_root(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_user(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_umask(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_hostname(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_domainname(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);
int hx_step_chdir(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
