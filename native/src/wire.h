/* Frames on the control socket: u32le length, then NUL-terminated fields. */
#ifndef HX_WIRE_H
#define HX_WIRE_H

#include "error.h"

#define HX_CTL_FD 3
#define HX_FRAME_MAX (4u << 20)

struct hx_frame {
	char *buf;   /* the payload; fields point into it */
	char **f;    /* f[0] is the name; f[n] is NULL so &f[1] is an argv */
	int n;       /* number of fields, name included */
};

/* Reads exactly one frame (never more bytes, so a forked reader can take over).
 * At a clean EOF before the first byte, returns -1 with e->err == 0. */
int hx_frame_read(int fd, struct hx_frame *fr, struct hx_error *e);
void hx_frame_free(struct hx_frame *fr);

/* Sends one frame of n fields with a single send(MSG_NOSIGNAL). */
int hx_frame_write(int fd, const char *const *fields, int n, struct hx_error *e);

/* hx_send(fd, e, "sync", name, NULL): the fields as varargs, NULL-terminated. */
int hx_send(int fd, struct hx_error *e, const char *name, ...) __attribute__((sentinel));

/* Best effort `error STEP ERRNO MESSAGE`: the peer may be gone already. */
void hx_send_error(int fd, const struct hx_error *e);

#endif
