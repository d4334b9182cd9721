#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "procfs.h"
#include "sysctl.h"
#include "util.h"

/* Dot-separated names, each non-empty, no `/`: the path can only name a file
 * below /proc/sys. */
int hx_check_sysctl(const struct hx_frame *s, struct hx_error *e)
{
	const char *k = s->f[1];
	size_t len = strlen(k);

	if (len == 0 || k[0] == '.' || k[len - 1] == '.' || strstr(k, "..") || strchr(k, '/'))
		return hx_bad_field(s, "key", k, e);
	return 0;
}

int hx_step_sysctl(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	char rel[4096];
	_cleanup_close_ int fd = -1;
	int len = snprintf(rel, sizeof(rel), "sys/%s", s->f[1]);

	(void)c;
	if (len >= (int)sizeof(rel))
		return hx_fail(e, s->f[0], ENAMETOOLONG, "sysctl %s: name too long", s->f[1]);
	for (char *p = rel; *p; p++)
		if (*p == '.')
			*p = '/';
	fd = hx_proc_open(rel, O_WRONLY, s->f[0], e);
	if (fd < 0 || hx_proc_write(fd, rel, s->f[2], s->f[0], e) < 0) {
		char why[sizeof(e->msg)];
		snprintf(why, sizeof(why), "%s", e->msg);
		return hx_fail(e, s->f[0], e->err, "sysctl %s: %s", s->f[1], why);
	}
	return 0;
}
