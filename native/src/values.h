/* Named values: KEY=VALUE fields of `continue`, known only after the clone
 * (the state JSON with the pid), referenced by later steps as `$KEY`. */
#ifndef HX_VALUES_H
#define HX_VALUES_H

#include "context.h"

/* Takes ownership of a `continue` frame; fails if a field is not KEY=VALUE. */
int hx_values_add(struct hx_ctx *c, struct hx_frame *fr, const char *step, struct hx_error *e);

/* The latest value named key, or NULL. */
const char *hx_value(const struct hx_ctx *c, const char *key);

#endif
