/* Errors travel up as a negative return plus a filled struct hx_error. */
#ifndef HX_ERROR_H
#define HX_ERROR_H

struct hx_error {
	int err;        /* errno, 0 if none */
	char step[64];  /* the step's frame name */
	char msg[512];  /* complete, human readable */
};

/* Fills *e and returns -1, so callers can write `return hx_fail(...)`. */
int hx_fail(struct hx_error *e, const char *step, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
