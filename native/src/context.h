/* State carried from the parent steps into the child, and between child steps. */
#ifndef HX_CONTEXT_H
#define HX_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"

struct hx_ctx {
	int ctl;            /* the control socket */
	int console_fd;     /* `console-socket`, connected; -1 if none */
	int statedir_fd;    /* `state-dir`, O_PATH; -1 if none */
	int fifo_fd;        /* <state-dir>/exec.fifo, O_PATH; -1 if none */
	int rootfd;         /* `rootfs`, O_PATH; -1 until set */
	const char *rootfs; /* the `rootfs` path as given */
	char **env;         /* `env` fields, NULL-terminated; NULL = empty environment */
	char *exec_path;    /* the resolved program, once `ready` or `exec` looked it up */
	struct hx_frame *values; /* `continue KEY=VALUE...` frames, kept whole */
	int nvalues;
	void *seccomp;            /* the filter `seccomp` started (scmp_filter_ctx); NULL if none */
	uint32_t seccomp_default; /* its default action, to skip rules with the same one */
	bool seccomp_at_exec;     /* `seccomp-load` right before `exec`: loaded by `exec` */
	const struct hx_plan *plan;
};

#endif
