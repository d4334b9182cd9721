#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"
#include "wire.h"

/* Returns bytes read: less than len only at EOF. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = read(fd, (char *)buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

static int split_fields(struct hx_frame *fr, uint32_t len, struct hx_error *e)
{
	int n = 0;

	if (len == 0 || fr->buf[len - 1] != '\0')
		return hx_fail(e, "wire", EPROTO, "control socket: malformed frame (fields must end with NUL)");
	for (uint32_t i = 0; i < len; i++)
		n += fr->buf[i] == '\0';
	fr->f = calloc(n + 1, sizeof(char *));
	if (fr->f == NULL)
		return hx_fail(e, "wire", errno, "control socket: %s", strerror(errno));
	for (uint32_t i = 0, k = 0; i < len; k++) {
		fr->f[k] = fr->buf + i;
		i += strlen(fr->buf + i) + 1;
	}
	fr->n = n;
	return 0;
}

int hx_frame_read(int fd, struct hx_frame *fr, struct hx_error *e)
{
	unsigned char head[4];
	uint32_t len;
	ssize_t r;

	*fr = (struct hx_frame){ 0 };
	r = read_full(fd, head, sizeof(head));
	if (r < 0)
		return hx_fail(e, "wire", errno, "control socket: read: %s", strerror(errno));
	if (r == 0)
		return hx_fail(e, "wire", 0, "control socket: closed");
	if (r < (ssize_t)sizeof(head))
		return hx_fail(e, "wire", EPROTO, "control socket: truncated frame header");
	len = head[0] | head[1] << 8 | head[2] << 16 | (uint32_t)head[3] << 24;
	if (len > HX_FRAME_MAX)
		return hx_fail(e, "wire", EMSGSIZE, "control socket: frame of %u bytes exceeds the limit", len);
	fr->buf = malloc(len + 1);
	if (fr->buf == NULL)
		return hx_fail(e, "wire", errno, "control socket: %s", strerror(errno));
	r = read_full(fd, fr->buf, len);
	if (r != (ssize_t)len) {
		int err = r < 0 ? errno : EPROTO;
		hx_frame_free(fr);
		return hx_fail(e, "wire", err, "control socket: truncated frame");
	}
	if (split_fields(fr, len, e) < 0) {
		hx_frame_free(fr);
		return -1;
	}
	return 0;
}

void hx_frame_free(struct hx_frame *fr)
{
	free(fr->buf);
	free(fr->f);
	*fr = (struct hx_frame){ 0 };
}

int hx_frame_write(int fd, const char *const *fields, int n, struct hx_error *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, off = 4;

	for (int i = 0; i < n; i++)
		len += strlen(fields[i]) + 1;
	if (len > HX_FRAME_MAX)
		return hx_fail(e, "wire", EMSGSIZE, "control socket: frame %s too large", fields[0]);
	buf = malloc(len + 4);
	if (buf == NULL)
		return hx_fail(e, "wire", errno, "control socket: %s", strerror(errno));
	for (int i = 0; i < 4; i++)
		buf[i] = (char)(len >> (8 * i));
	for (int i = 0; i < n; i++) {
		size_t l = strlen(fields[i]) + 1;
		memcpy(buf + off, fields[i], l);
		off += l;
	}
	for (size_t done = 0; done < off;) {
		/* MSG_NOSIGNAL: a vanished peer must be an error here, never a SIGPIPE. */
		ssize_t w = send(fd, buf + done, off - done, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return hx_fail(e, "wire", errno, "control socket: send %s: %s", fields[0], strerror(errno));
		done += w;
	}
	return 0;
}

int hx_send(int fd, struct hx_error *e, const char *name, ...)
{
	const char *fields[16];
	int n = 0;
	va_list ap;

	fields[n++] = name;
	va_start(ap, name);
	for (const char *s; n < 16 && (s = va_arg(ap, const char *)) != NULL;)
		fields[n++] = s;
	va_end(ap);
	return hx_frame_write(fd, fields, n, e);
}

void hx_send_error(int fd, const struct hx_error *e)
{
	struct hx_error ignored;
	char num[16];

	snprintf(num, sizeof(num), "%d", e->err);
	if (hx_send(fd, &ignored, "error", e->step[0] ? e->step : "hako-exec", num, e->msg, NULL) < 0)
		fprintf(stderr, "hako-exec: %s\n", e->msg);
}
