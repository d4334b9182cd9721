/* The cloned child: runs the child steps in order, reports the first failure. */
#ifndef HX_CHILD_H
#define HX_CHILD_H

#include "context.h"

/* gate: read end of the pipe the parent closes once `pid` is sent. */
_Noreturn void hx_child_main(struct hx_ctx *c, int gate);

#endif
