/* The container's terminal: a pty whose master goes to the console socket. */
#ifndef HX_CONSOLE_H
#define HX_CONSOLE_H

#include "context.h"
#include "wire.h"

int hx_step_console(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
