#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"

int hx_values_add(struct hx_ctx *c, struct hx_frame *fr, const char *step, struct hx_error *e)
{
	struct hx_frame *grown;

	for (int i = 1; i < fr->n; i++)
		if (strchr(fr->f[i], '=') == NULL || fr->f[i][0] == '=')
			return hx_fail(e, step, EPROTO, "%s: \"continue\" field \"%s\" is not KEY=VALUE", step, fr->f[i]);
	if (fr->n == 1) {
		hx_frame_free(fr);
		return 0;
	}
	grown = realloc(c->values, (c->nvalues + 1) * sizeof(*grown));
	if (grown == NULL)
		return hx_fail(e, step, ENOMEM, "%s: out of memory", step);
	c->values = grown;
	c->values[c->nvalues++] = *fr;
	*fr = (struct hx_frame){ 0 };
	return 0;
}

const char *hx_value(const struct hx_ctx *c, const char *key)
{
	size_t klen = strlen(key);

	for (int i = c->nvalues - 1; i >= 0; i--)
		for (int j = c->values[i].n - 1; j >= 1; j--) {
			const char *kv = c->values[i].f[j];
			if (strncmp(kv, key, klen) == 0 && kv[klen] == '=')
				return kv + klen + 1;
		}
	return NULL;
}
