/*
 * attach.sock: clients get the output as stdcopy frames [TYPE 0 0 0 SIZE(be32)]
 * and send stdin (0), resize (5) and signals (6) the same way.
 *
 * A client never blocks the monitor, and costs it no memory per byte: each frame
 * is one non-blocking sendmsg into a socket buffer raised to hold 1 MiB. On Linux a
 * unix stream send of at most 32 KiB is one skb, all or nothing, so a frame is
 * never cut: EAGAIN means 1 MiB is queued and the client cannot keep up, and it is
 * dropped (as is, defensively, a client after a partial send). Only the exit frame
 * may wait for room, during the final flush.
 * Stdin is back-pressured instead: while the container has not taken the last
 * read, no client is read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "monitor.h"

#define ATTACH_SOCK "attach.sock"
/* The kernel doubles it, and counts each skb's overhead too: 8 KiB frames fill
 * 2 MiB of buffer at about 1 MiB of payload. */
#define SNDBUF (1024 * 1024)

enum { T_STDIN = 0, T_STDOUT = 1, T_STDERR = 2, T_EXIT = 4, T_RESIZE = 5, T_SIGNAL = 6 };

struct client {
	int fd;
	bool closing;     /* the exit frame waits for room: close once it is out */
	bool rd_eof;      /* the client shut down its side: output only */
	bool hup;         /* hung up while we were not reading it */
	bool sent_stdin, stdin_done;
	uint8_t hdr[8], hlen;
	uint8_t type;
	uint32_t left;    /* payload bytes still to come */
	char ctl[32];     /* a resize or signal payload */
	uint8_t clen;
};

static struct client cl[MON_MAX_CLIENTS];
static int listen_fd = -1;
static bool exited;
static int exit_code;

static struct {
	int fd;            /* pipe write end or pty master; -1: stdin is discarded */
	bool tty, closed, close_after;
	char buf[MON_CHUNK];
	size_t off, len;
} in = { .fd = -1 };

static void stdin_close_now(void)
{
	if (in.fd >= 0 && in.tty) {
		struct termios t;
		/* a tty has no EOF of its own: the line discipline's VEOF (^D) is one */
		char eof = tcgetattr(in.fd, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
		if (write(in.fd, &eof, 1) < 0)
			mon_warn("write ^D to the console: %s", strerror(errno));
	} else if (in.fd >= 0 && close(in.fd) < 0) {
		mon_warn("close stdin: %s", strerror(errno));
	}
	if (!in.tty)
		in.fd = -1;
	in.closed = true;
	in.len = in.off = 0;
}

static void stdin_close(void)
{
	if (in.closed || in.close_after)
		return;
	if (in.len > 0)
		in.close_after = true;
	else
		stdin_close_now();
}

/* Write what is queued for the container's stdin; false while it is full. */
static bool stdin_flush(void)
{
	while (in.len > 0) {
		ssize_t w = write(in.fd, in.buf + in.off, in.len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return false;
		if (w < 0) {
			/* the reader is gone (EPIPE, a hung-up tty): drop the input */
			in.len = 0;
			break;
		}
		in.off += w;
		in.len -= w;
	}
	in.off = 0;
	if (in.close_after) {
		in.close_after = false;
		stdin_close_now();
	}
	return true;
}

static void stdin_feed(const char *p, size_t n)
{
	if (in.fd < 0 || in.closed || in.close_after || n == 0)
		return;
	if (in.len == 0) {
		ssize_t w = write(in.fd, p, n);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return; /* nobody reads it any more */
		if (w > 0) {
			p += w;
			n -= w;
		}
	}
	/* Only read when the queue was empty, and a read is at most MON_CHUNK. */
	if (n > sizeof(in.buf) - in.off - in.len) {
		mon_warn("stdin queue overflow: %zu bytes dropped", n);
		return;
	}
	memcpy(in.buf + in.off + in.len, p, n);
	in.len += n;
}

static void on_stdin_writable(int idx, int fd, short revents)
{
	(void)idx;
	(void)revents;
	if (fd == in.fd)
		stdin_flush();
}

void attach_set_stdin(int fd, bool tty)
{
	in.fd = fd;
	in.tty = tty;
	if (fd < 0)
		in.len = in.off = 0;
}

static void stdin_client_done(struct client *c)
{
	if (!c->sent_stdin || c->stdin_done)
		return;
	c->stdin_done = true;
	if (O.stdin_once)
		stdin_close();
}

static void client_close(int i, bool by_client)
{
	struct client *c = &cl[i];

	if (by_client)
		stdin_client_done(c);
	if (close(c->fd) < 0)
		mon_warn("close an attach client: %s", strerror(errno));
	c->fd = -1;
}

/* One whole frame or nothing: 1 sent, 0 no room (EAGAIN), -1 the client is gone
 * (closed here). */
static int client_send(int i, int type, const char *data, size_t n)
{
	uint8_t hdr[8] = { (uint8_t)type, 0, 0, 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	struct iovec iov[2] = { { hdr, 8 }, { (void *)data, n } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t w;

	do
		w = sendmsg(cl[i].fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)(8 + n))
		return 1;
	if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	client_close(i, w < 0); /* an error: it is gone; a partial frame: cannot go on */
	return -1;
}

static void client_queue(int i, int type, const char *data, size_t n)
{
	if (client_send(i, type, data, n) == 0)
		client_close(i, false); /* 1 MiB behind */
}

/* The exit frame, then the client is closed; without room it waits for POLLOUT. */
static void send_exit(int i)
{
	char code[16];
	int n = snprintf(code, sizeof(code), "%d", exit_code);

	cl[i].closing = true;
	if (client_send(i, T_EXIT, code, (size_t)n) == 1)
		client_close(i, false);
}

void attach_broadcast(int type, const char *data, size_t n)
{
	for (int i = 0; i < MON_MAX_CLIENTS; i++)
		if (cl[i].fd >= 0 && !cl[i].closing)
			client_queue(i, type, data, n);
}

void attach_exit(int code)
{
	exited = true;
	exit_code = code;
	for (int i = 0; i < MON_MAX_CLIENTS; i++)
		if (cl[i].fd >= 0 && !cl[i].closing)
			send_exit(i);
}

void attach_reset(void)
{
	exited = false;
}

bool attach_idle(void)
{
	for (int i = 0; i < MON_MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			return false;
	return true;
}

/* "ROWS COLS" or a signal number: decimal fields separated by one space. */
static int parse_fields(char *s, unsigned *v, int max)
{
	int n = 0;

	for (char *tok = s; n < max; n++) {
		char *sp = strchr(tok, ' ');
		uint64_t x;
		if (sp != NULL)
			*sp = '\0';
		if (!mon_parse_uint(tok, 65535, &x))
			return -1;
		v[n] = (unsigned)x;
		if (sp == NULL)
			return n + 1;
		tok = sp + 1;
	}
	return -1;
}

static void control_frame(struct client *c)
{
	unsigned v[2];

	c->ctl[c->clen] = '\0';
	if (c->type == T_RESIZE && parse_fields(c->ctl, v, 2) == 2)
		mon_on_resize(v[0], v[1]);
	else if (c->type == T_SIGNAL && parse_fields(c->ctl, v, 1) == 1 && v[0] > 0 && v[0] < 65)
		mon_on_signal((int)v[0]);
	else
		mon_warn("attach: bad %s frame ignored", c->type == T_RESIZE ? "resize" : "signal");
}

/* A header is complete: what its payload is. */
static void frame_start(struct client *c)
{
	c->type = c->hdr[0];
	c->left = (uint32_t)c->hdr[4] << 24 | (uint32_t)c->hdr[5] << 16 | (uint32_t)c->hdr[6] << 8 | c->hdr[7];
	c->hlen = 0;
	c->clen = 0;
	if (c->type == T_STDIN) {
		c->sent_stdin = true;
		if (c->left == 0)
			stdin_client_done(c);
	} else if ((c->type == T_RESIZE || c->type == T_SIGNAL) && c->left == 0) {
		control_frame(c);
	}
}

/* Returns false when the client had to go (a control payload too long). */
static bool client_parse(int i, const char *p, size_t n)
{
	struct client *c = &cl[i];

	while (n > 0) {
		size_t take;
		if (c->left == 0) {
			take = n < (size_t)(8 - c->hlen) ? n : (size_t)(8 - c->hlen);
			memcpy(c->hdr + c->hlen, p, take);
			c->hlen += take;
			p += take;
			n -= take;
			if (c->hlen == 8)
				frame_start(c);
			continue;
		}
		take = n < c->left ? n : c->left;
		if (c->type == T_STDIN) {
			stdin_feed(p, take);
		} else if (c->type == T_RESIZE || c->type == T_SIGNAL) {
			if (c->clen + take >= sizeof(c->ctl)) {
				mon_warn("attach: control frame too long, client dropped");
				client_close(i, true);
				return false;
			}
			memcpy(c->ctl + c->clen, p, take);
			c->clen += take;
		} /* other types: skipped */
		c->left -= take;
		p += take;
		n -= take;
		if (c->left == 0 && (c->type == T_RESIZE || c->type == T_SIGNAL))
			control_frame(c);
	}
	return true;
}

static void client_read(int i)
{
	static char buf[MON_CHUNK];
	struct client *c = &cl[i];
	ssize_t r = read(c->fd, buf, sizeof(buf));

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r < 0) {
		client_close(i, true);
		return;
	}
	if (r == 0) {
		c->rd_eof = true;
		stdin_client_done(c);
		if (c->hup)
			client_close(i, true);
		return;
	}
	client_parse(i, buf, (size_t)r);
}

static bool reading_allowed(void)
{
	return in.len == 0;
}

static void on_client(int i, int fd, short revents)
{
	struct client *c = &cl[i];

	if (c->fd != fd)
		return; /* closed earlier in this turn */
	if (revents & POLLERR) {
		client_close(i, true);
		return;
	}
	if ((revents & POLLOUT) && c->closing) {
		send_exit(i);
		if (c->fd != fd)
			return;
	}
	if (!c->rd_eof && (revents & (POLLIN | POLLHUP))) {
		if (!reading_allowed()) {
			c->hup = c->hup || (revents & POLLHUP);
			return;
		}
		client_read(i);
		return;
	}
	if (revents & POLLHUP)
		client_close(i, true);
}

static void on_accept(int idx, int fd, short revents)
{
	int c, sz = SNDBUF;

	(void)idx;
	(void)revents;
	c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			mon_warn("accept on %s: %s", ATTACH_SOCK, strerror(errno));
		return;
	}
	for (int i = 0; i < MON_MAX_CLIENTS; i++) {
		if (cl[i].fd >= 0)
			continue;
		cl[i] = (struct client){ .fd = c };
		/* FORCE needs CAP_NET_ADMIN; otherwise up to net.core.wmem_max */
		if (setsockopt(c, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0 &&
		    setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) < 0)
			mon_warn("attach: SO_SNDBUF: %s", strerror(errno));
		if (exited)
			send_exit(i);
		return;
	}
	close(c); /* 32 clients already */
}

void attach_listen(void)
{
	for (int i = 0; i < MON_MAX_CLIENTS; i++)
		cl[i].fd = -1;
	listen_fd = mon_listen(ATTACH_SOCK, 64); /* above the 32-client limit: a refusal is a close, never EAGAIN */
}

void attach_poll(void)
{
	if (listen_fd >= 0)
		poll_add(listen_fd, POLLIN, on_accept, 0);
	if (in.fd >= 0 && in.len > 0)
		poll_add(in.fd, POLLOUT, on_stdin_writable, 0);
	for (int i = 0; i < MON_MAX_CLIENTS; i++) {
		struct client *c = &cl[i];
		short ev = c->closing ? POLLOUT : 0;
		if (c->fd < 0)
			continue;
		if (!c->rd_eof) {
			if (!reading_allowed() && c->hup)
				continue; /* its last input waits until stdin drains */
			if (reading_allowed())
				ev |= POLLIN;
		}
		poll_add(c->fd, ev, on_client, i);
	}
}

void attach_shutdown(void)
{
	for (int i = 0; i < MON_MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			client_close(i, false);
	if (listen_fd >= 0) {
		close(listen_fd);
		listen_fd = -1;
	}
	if (unlink(ATTACH_SOCK) < 0 && errno != ENOENT)
		mon_warn("unlink %s: %s", ATTACH_SOCK, strerror(errno));
}
