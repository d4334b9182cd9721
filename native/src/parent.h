/* The executor process: parent steps, the clone, `pid`, and in run mode `exited`. */
#ifndef HX_PARENT_H
#define HX_PARENT_H

#include "context.h"

/* Runs the parent steps; returns -1 with *e filled if one fails. */
int hx_parent_steps(struct hx_ctx *c, struct hx_error *e);

/* Clones the child (which never returns from here), reports `pid`, and in
 * run mode waits and reports `exited`. Returns the executor's exit status. */
int hx_parent_launch(struct hx_ctx *c, struct hx_error *e);

#endif
