/*
 * Control channels: fd 4 from the CLI, and each relaunch's socketpair. Lines
 * both ways; a line longer than the buffer is dropped whole.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"

#define CHAN_COUNT 2

struct chan {
	int fd;
	bool eof;       /* the peer will send nothing more */
	bool nocleanup;
	bool skipping;  /* inside an overlong line */
	size_t len;
	char buf[1024];
};

static struct chan ch[CHAN_COUNT] = { { .fd = -1 }, { .fd = -1 } };

void chan_init(bool fd4_open)
{
	if (!fd4_open)
		return;
	ch[CHAN_CLI].fd = 4;
	if (mon_set_nonblock(4) < 0)
		mon_die(1, "fd 4: %s", strerror(errno));
}

void chan_set(int idx, int fd)
{
	if (ch[idx].fd >= 0)
		close(ch[idx].fd);
	ch[idx] = (struct chan){ .fd = fd };
}

static void take_lines(int idx)
{
	struct chan *c = &ch[idx];
	char *nl;

	while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
		size_t used = (size_t)(nl - c->buf) + 1;
		*nl = '\0';
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		if (!c->skipping)
			mon_on_line(idx, c->buf);
		c->skipping = false;
		c = &ch[idx]; /* a handler may have replaced the channel */
		if (c->len < used)
			return;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	if (c->len == sizeof(c->buf)) {
		c->skipping = true;
		c->len = 0;
	}
}

void chan_read(int idx)
{
	struct chan *c = &ch[idx];

	while (c->fd >= 0 && !c->eof) {
		ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			/* an error is as final as EOF: nothing more comes */
			c->eof = true;
			mon_on_eof(idx);
			return;
		}
		c->len += (size_t)r;
		take_lines(idx);
	}
}

static void on_readable(int idx, int fd, short revents)
{
	(void)revents;
	if (ch[idx].fd == fd)
		chan_read(idx);
}

void chan_poll(void)
{
	for (int i = 0; i < CHAN_COUNT; i++)
		if (ch[i].fd >= 0 && !ch[i].eof)
			poll_add(ch[i].fd, POLLIN, on_readable, i);
}

bool chan_is_open(int idx)
{
	return idx >= 0 && ch[idx].fd >= 0 && !ch[idx].eof;
}

void chan_send(int idx, const char *line)
{
	/* never wait on the CLI: a line it has no room for is lost, and once it is
	 * gone (EPIPE, SIGPIPE is ignored) there is nobody to tell */
	if (ch[idx].fd >= 0 && write(ch[idx].fd, line, strlen(line)) < 0 && errno != EPIPE &&
	    errno != EAGAIN && errno != ECONNRESET)
		mon_warn("control channel: %s", strerror(errno));
}

/* "Skipped while a control channel that sent nocleanup is still open": what is
 * pending is read first, so a close that already happened counts. */
bool chan_vetoes_cleanup(void)
{
	for (int i = 0; i < CHAN_COUNT; i++) {
		chan_read(i);
		if (ch[i].nocleanup && chan_is_open(i))
			return true;
	}
	return false;
}

void chan_mark_nocleanup(int idx)
{
	ch[idx].nocleanup = true;
}
