/* The executor's protection of itself, before it reads the plan. */
#ifndef HX_HARDEN_H
#define HX_HARDEN_H

#include "error.h"

/* Makes the process non-dumpable, then, unless it already runs from a sealed
 * memfd, re-executes itself from a sealed memfd copy of /proc/self/exe (does not
 * return then). fds 0-3 must not be close-on-exec yet. */
int hx_harden(char **argv, struct hx_error *e);

#endif
