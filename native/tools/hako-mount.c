/*
 * hako-mount: the one place the engine mounts and unmounts (Node has no mount(2)),
 * and where it makes what Node cannot: device nodes, fifos, overlay whiteouts and
 * extended attributes (Node has no mknod, mkfifo or setxattr).
 *
 *   hako-mount mount FSTYPE SOURCE TARGET DATA [CHDIR]
 *       chdir(CHDIR) first (so overlay's lowerdir= can name short relative paths),
 *       then mount(SOURCE, TARGET, FSTYPE, 0, DATA); DATA empty means none, SOURCE
 *       "-" none. A failure carries the kernel's own explanation when it gives one.
 *   hako-mount umount TARGET                       umount2(TARGET, MNT_DETACH)
 *   hako-mount setxattr PATH NAME VALUE            lsetxattr; VALUE "0x…" is hex bytes
 *   hako-mount getxattr PATH NAME                  lgetxattr; prints the value as 0x… hex
 *   hako-mount mknod PATH TYPE MAJOR MINOR MODE UID GID
 *       TYPE c, b or p; MODE octal permission bits (exact, umask ignored); then
 *       lchown (UID/GID -1: unchanged) and chmod again, because chown clears setuid.
 *       An overlay whiteout is `mknod PATH c 0 0 0 0 0`.
 *   hako-mount batch
 *       the same operations read as frames from stdin (u32le length, then NUL-terminated
 *       fields, as in PROTOCOL.md), each answered on stdout by a frame `ok [OUTPUT]` or
 *       `error ERRNO MESSAGE`; a failing operation does not stop the batch. One apply
 *       of a layer spawns this once, not once per file.
 *
 * Paths are used as given: the caller has already resolved them inside its own
 * directory, component by component. No operation follows a symlink in the last
 * component (lsetxattr, mknod, umount2 with UMOUNT_NOFOLLOW).
 * A failing operation prints `mount overlay on /x: Invalid argument` (the style of
 * hako-exec's errors) on stderr and exits 1; bad usage exits 2.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_FRAME (4u << 20)
#define MAX_FIELDS 16

struct failure {
	int err;
	char msg[8192];
	char *out; /* what a successful operation prints (getxattr), malloc'd */
};

__attribute__((format(printf, 3, 4)))
static int fail(struct failure *f, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	f->err = err;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	n = strlen(f->msg);
	if (err != 0)
		snprintf(f->msg + n, sizeof(f->msg) - n, ": %s", strerror(err));
	return -1;
}

/* A bad request: the message explains it, no strerror appended. */
__attribute__((format(printf, 2, 3)))
static int bad(struct failure *f, const char *fmt, ...)
{
	va_list ap;

	f->err = EINVAL;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_ll(const char *s, int base, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (*s == '\0' || isspace((unsigned char)*s) || *s == '+')
		return -1;
	errno = 0;
	v = strtoll(s, &end, base);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

#ifndef SYS_fsopen
#define SYS_fsopen 430
#define SYS_fsconfig 431
#endif
#define HM_FSCONFIG_SET_STRING 1
#define HM_FSCONFIG_SET_FLAG 0
#define HM_FSCONFIG_CMD_CREATE 6

/*
 * mount(2) says only "Invalid argument"; the kernel's reason (overlay: "filesystem on
 * upper not supported as upperdir") goes to dmesg. The new mount API hands it to the
 * caller instead: after a failed mount, build the same superblock again through
 * fsopen/fsconfig just to read the messages, and append them. Nothing is mounted by
 * this (no fsmount). Kernels without it (or without overlay's lowerdir+, needed
 * because fsconfig takes at most 256 bytes a value) just add nothing.
 */
static int set_opt(int fd, const char *key, const char *value, char *what, size_t wlen)
{
	if (syscall(SYS_fsconfig, fd, value ? HM_FSCONFIG_SET_STRING : HM_FSCONFIG_SET_FLAG, key, value, 0) == 0)
		return 0;
	snprintf(what, wlen, "%s%s%s: %s", key, value ? "=" : "", value ? value : "", strerror(errno));
	return -1;
}

static void explain_mount(struct failure *f, const char *fstype, const char *source, const char *data)
{
	char *opts = strdup(data), *save = NULL, msg[512], what[512] = "";
	size_t len = strlen(f->msg);
	int fd = (int)syscall(SYS_fsopen, fstype, 0);
	int first = 1;

	if (fd < 0 || opts == NULL)
		goto out;
	if (strcmp(source, "-") != 0)
		syscall(SYS_fsconfig, fd, HM_FSCONFIG_SET_STRING, "source", source, 0);
	for (char *o = strtok_r(opts, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		if (eq == NULL) {
			if (set_opt(fd, o, NULL, what, sizeof(what)) < 0)
				goto report;
			continue;
		}
		*eq = '\0';
		if (strcmp(o, "lowerdir") == 0 && strlen(eq + 1) > 255) {
			char *save2 = NULL;
			for (char *l = strtok_r(eq + 1, ":", &save2); l != NULL; l = strtok_r(NULL, ":", &save2))
				if (set_opt(fd, "lowerdir+", l, what, sizeof(what)) < 0)
					goto report;
		} else if (set_opt(fd, o, eq + 1, what, sizeof(what)) < 0) {
			goto report;
		}
	}
	if (syscall(SYS_fsconfig, fd, HM_FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		goto out; /* it works now: nothing to explain */
report:
	for (;;) {
		ssize_t r = read(fd, msg, sizeof(msg) - 1);
		if (r <= 0)
			break;
		while (r > 0 && msg[r - 1] == '\n')
			r--;
		msg[r] = '\0';
		/* "e overlay: …" for errors, "w …" warnings, "i …" information */
		if (msg[0] != 'e' || msg[1] != ' ' || len + 8 >= sizeof(f->msg))
			continue;
		len += snprintf(f->msg + len, sizeof(f->msg) - len, "%s%s", first ? " (" : "; ", msg + 2);
		first = 0;
	}
	/* no message from the file system: at least name the option it refused */
	if (first && what[0] != '\0' && len + 8 < sizeof(f->msg)) {
		len += snprintf(f->msg + len, sizeof(f->msg) - len, " (%s", what);
		first = 0;
	}
	if (!first && len + 2 < sizeof(f->msg))
		strcat(f->msg, ")");
out:
	if (fd >= 0)
		close(fd);
	free(opts);
}

static int op_mount(struct failure *f, char **a, int n)
{
	const char *fstype = a[0], *source = a[1], *target = a[2], *data = a[3];
	long page = sysconf(_SC_PAGESIZE);
	int cwd = -1, rc = 0;

	if (n != 4 && n != 5)
		return bad(f, "usage: mount FSTYPE SOURCE TARGET DATA [CHDIR]");
	/* The kernel copies one page of options and would cut the rest silently. */
	if (page > 0 && strlen(data) >= (size_t)page) {
		bad(f, "mount %s on %s: the options are %zu bytes, the kernel takes at most %ld",
		    fstype, target, strlen(data), page - 1);
		f->err = E2BIG;
		return -1;
	}
	if (n == 5) {
		cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cwd < 0)
			return fail(f, errno, "open the current directory");
		if (chdir(a[4]) < 0) {
			rc = fail(f, errno, "chdir %s", a[4]);
			close(cwd);
			return rc;
		}
	}
	if (mount(strcmp(source, "-") == 0 ? NULL : source, target, fstype, 0, *data ? data : NULL) < 0) {
		rc = fail(f, errno, "mount %s on %s", fstype, target);
		explain_mount(f, fstype, source, data);
	}
	if (cwd >= 0) {
		/* batch mode goes on in the directory it started in */
		if (fchdir(cwd) < 0 && rc == 0)
			rc = fail(f, errno, "return to the starting directory");
		close(cwd);
	}
	return rc;
}

static int op_umount(struct failure *f, char **a, int n)
{
	if (n != 1)
		return bad(f, "usage: umount TARGET");
	if (umount2(a[0], MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		return fail(f, errno, "umount %s", a[0]);
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int op_setxattr(struct failure *f, char **a, int n)
{
	const char *path = a[0], *name = a[1], *value = a[2];
	size_t len = strlen(value);
	unsigned char *buf;
	int rc = 0;

	if (n != 3)
		return bad(f, "usage: setxattr PATH NAME VALUE");
	buf = malloc(len + 1);
	if (buf == NULL)
		return fail(f, ENOMEM, "setxattr %s on %s", name, path);
	if (value[0] == '0' && (value[1] == 'x' || value[1] == 'X')) {
		const char *h = value + 2;
		size_t hl = strlen(h);
		if (hl % 2 != 0) {
			free(buf);
			return bad(f, "setxattr %s on %s: odd number of hex digits in the value", name, path);
		}
		for (len = 0; len < hl / 2; len++) {
			int hi = hexval((unsigned char)h[2 * len]), lo = hexval((unsigned char)h[2 * len + 1]);
			if (hi < 0 || lo < 0) {
				free(buf);
				return bad(f, "setxattr %s on %s: the value is not hex", name, path);
			}
			buf[len] = (unsigned char)(hi << 4 | lo);
		}
	} else {
		memcpy(buf, value, len);
	}
	if (lsetxattr(path, name, buf, len, 0) < 0)
		rc = fail(f, errno, "setxattr %s on %s", name, path);
	free(buf);
	return rc;
}

static int op_getxattr(struct failure *f, char **a, int n)
{
	const char *path = a[0], *name = a[1];
	unsigned char buf[65536];
	ssize_t len;

	if (n != 2)
		return bad(f, "usage: getxattr PATH NAME");
	len = lgetxattr(path, name, buf, sizeof(buf));
	if (len < 0)
		return fail(f, errno, "getxattr %s on %s", name, path);
	f->out = malloc(2 * (size_t)len + 3);
	if (f->out == NULL)
		return fail(f, ENOMEM, "getxattr %s on %s", name, path);
	strcpy(f->out, "0x");
	for (ssize_t i = 0; i < len; i++)
		sprintf(f->out + 2 + 2 * i, "%02x", buf[i]);
	return 0;
}

static int op_mknod(struct failure *f, char **a, int n)
{
	const char *path = a[0], *type = a[1];
	long long major, minor, mode, uid, gid;
	mode_t fmt;
	struct stat st;

	if (n != 7)
		return bad(f, "usage: mknod PATH TYPE MAJOR MINOR MODE UID GID");
	if (strcmp(type, "c") == 0)
		fmt = S_IFCHR;
	else if (strcmp(type, "b") == 0)
		fmt = S_IFBLK;
	else if (strcmp(type, "p") == 0)
		fmt = S_IFIFO;
	else
		return bad(f, "mknod %s: type \"%s\" is not c, b or p", path, type);
	if (parse_ll(a[2], 10, 0, 0xfffff, &major) < 0 || parse_ll(a[3], 10, 0, 0xfffff, &minor) < 0)
		return bad(f, "mknod %s: bad device number %s:%s", path, a[2], a[3]);
	if (parse_ll(a[4], 8, 0, 07777, &mode) < 0)
		return bad(f, "mknod %s: bad mode %s", path, a[4]);
	if (parse_ll(a[5], 10, -1, UINT32_MAX - 1, &uid) < 0 || parse_ll(a[6], 10, -1, UINT32_MAX - 1, &gid) < 0)
		return bad(f, "mknod %s: bad owner %s:%s", path, a[5], a[6]);
	if (mknod(path, fmt | (mode_t)mode, makedev(major, minor)) < 0)
		return fail(f, errno, "mknod %s", path);
	if ((uid != -1 || gid != -1) && lchown(path, (uid_t)uid, (gid_t)gid) < 0)
		return fail(f, errno, "chown %s", path);
	/* chown dropped setuid/setgid; the node is ours, freshly made, not a symlink */
	if (lstat(path, &st) < 0)
		return fail(f, errno, "stat %s", path);
	if ((st.st_mode & S_IFMT) != fmt)
		return fail(f, EEXIST, "mknod %s: replaced while it was being made", path);
	if ((st.st_mode & 07777) != (mode_t)mode && chmod(path, (mode_t)mode) < 0)
		return fail(f, errno, "chmod %s", path);
	return 0;
}

static int run_op(struct failure *f, char **argv, int argc)
{
	static const struct {
		const char *name;
		int (*fn)(struct failure *, char **, int);
	} ops[] = {
		{ "mount", op_mount },
		{ "umount", op_umount },
		{ "setxattr", op_setxattr },
		{ "getxattr", op_getxattr },
		{ "mknod", op_mknod },
	};
	char *none[8] = { 0 };

	f->err = 0;
	f->msg[0] = '\0';
	free(f->out);
	f->out = NULL;
	if (argc < 1)
		return bad(f, "empty operation");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(argv[0], ops[i].name) != 0)
			continue;
		/* handlers index their fields before checking the count: give them NULL-free slots */
		if (argc - 1 < 8) {
			for (int j = 0; j < 8; j++)
				none[j] = j < argc - 1 ? argv[1 + j] : "";
			return ops[i].fn(f, none, argc - 1);
		}
		return ops[i].fn(f, argv + 1, argc - 1);
	}
	return bad(f, "unknown operation \"%s\"", argv[0]);
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return got == 0 ? 0 : (errno = EPIPE, -1);
		got += r;
	}
	return 1;
}

static int write_full(int fd, const void *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf = (const char *)buf + w;
		len -= w;
	}
	return 0;
}

static int reply(const struct failure *f, int failed)
{
	size_t cap = sizeof(f->msg) + 64 + (f->out != NULL ? strlen(f->out) : 0);
	char *body = malloc(cap);
	unsigned char head[4];
	uint32_t len;
	int rc;

	if (body == NULL)
		return -1;
	if (failed)
		len = (uint32_t)snprintf(body, cap, "error%c%d%c%s", 0, f->err, 0, f->msg) + 1;
	else if (f->out != NULL)
		len = (uint32_t)snprintf(body, cap, "ok%c%s", 0, f->out) + 1;
	else
		len = (uint32_t)snprintf(body, cap, "ok") + 1;
	head[0] = len & 0xff;
	head[1] = (len >> 8) & 0xff;
	head[2] = (len >> 16) & 0xff;
	head[3] = (len >> 24) & 0xff;
	rc = write_full(1, head, 4) < 0 || write_full(1, body, len) < 0 ? -1 : 0;
	free(body);
	return rc;
}

static int batch(void)
{
	struct failure f = { 0 };
	unsigned char head[4];
	char *buf = NULL;

	for (;;) {
		char *fields[MAX_FIELDS];
		int nf = 0, r, failed;
		uint32_t len;

		r = read_full(0, head, 4);
		if (r == 0)
			break;
		if (r < 0) {
			fprintf(stderr, "batch: read a frame: %s\n", strerror(errno));
			return 1;
		}
		len = head[0] | head[1] << 8 | head[2] << 16 | (uint32_t)head[3] << 24;
		if (len == 0 || len > MAX_FRAME) {
			fprintf(stderr, "batch: frame of %u bytes\n", len);
			return 1;
		}
		free(buf);
		buf = malloc(len);
		if (buf == NULL || read_full(0, buf, len) != 1) {
			fprintf(stderr, "batch: read a frame: %s\n", strerror(buf == NULL ? ENOMEM : errno));
			return 1;
		}
		if (buf[len - 1] != '\0') {
			fprintf(stderr, "batch: frame does not end with NUL\n");
			return 1;
		}
		for (uint32_t i = 0; i < len && nf < MAX_FIELDS; i += strlen(buf + i) + 1)
			fields[nf++] = buf + i;
		failed = run_op(&f, fields, nf) < 0;
		if (reply(&f, failed) < 0) {
			fprintf(stderr, "batch: write a reply: %s\n", strerror(errno));
			return 1;
		}
	}
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct failure f = { 0 };

	umask(0);
	if (argc < 2) {
		fprintf(stderr, "usage: hako-mount mount|umount|setxattr|getxattr|mknod|batch ARGS...\n");
		return 2;
	}
	if (strcmp(argv[1], "batch") == 0 && argc == 2)
		return batch();
	if (run_op(&f, argv + 1, argc - 1) < 0) {
		fprintf(stderr, "%s\n", f.msg);
		return strncmp(f.msg, "usage:", 6) == 0 ? 2 : 1;
	}
	if (f.out != NULL)
		printf("%s\n", f.out);
	return 0;
}
