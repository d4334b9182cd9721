#include <stdarg.h>
#include <stdio.h>

#include "error.h"

int hx_fail(struct hx_error *e, const char *step, int err, const char *fmt, ...)
{
	va_list ap;

	e->err = err;
	snprintf(e->step, sizeof(e->step), "%s", step);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}
