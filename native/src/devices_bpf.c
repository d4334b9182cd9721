#include <fcntl.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "devices_bpf.h"
#include "plan.h"
#include "util.h"

/* How hako recognises its own program among those attached to a cgroup. */
#define PROG_NAME "hako_devices"
#define RULE_FIELDS 5
#define LOG_SIZE (64 * 1024)

struct rule {
	bool allow;
	uint32_t type;    /* BPF_DEVCG_DEV_*, 0 = any */
	int64_t major;    /* -1 = any */
	int64_t minor;    /* -1 = any */
	uint32_t access;  /* BPF_DEVCG_ACC_* bits */
};

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

static bool parse_number(const char *v, int64_t *out)
{
	uint64_t n;

	if (strcmp(v, "-1") == 0) {
		*out = -1;
		return true;
	}
	if (!hx_parse_u64(v, 10, &n) || n > UINT32_MAX)
		return false;
	*out = n;
	return true;
}

/* A non-empty subset of "rwm", each letter at most once. */
static bool parse_access(const char *v, uint32_t *out)
{
	uint32_t acc = 0;

	for (const char *p = v; *p; p++) {
		uint32_t bit = *p == 'r' ? BPF_DEVCG_ACC_READ : *p == 'w' ? BPF_DEVCG_ACC_WRITE
			     : *p == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
		if (bit == 0 || (acc & bit))
			return false;
		acc |= bit;
	}
	*out = acc;
	return acc != 0;
}

/* Fields f[0..4] of one rule; on failure *bad names the field that is wrong. */
static bool parse_rule(char *const *f, struct rule *r, const char **what, const char **bad)
{
	*r = (struct rule){ .allow = strcmp(f[0], "1") == 0 };
	*what = "allow flag", *bad = f[0];
	if (strcmp(f[0], "0") != 0 && strcmp(f[0], "1") != 0)
		return false;
	*what = "device type", *bad = f[1];
	if (strcmp(f[1], "a") == 0)
		r->type = 0;
	else if (strcmp(f[1], "c") == 0)
		r->type = BPF_DEVCG_DEV_CHAR;
	else if (strcmp(f[1], "b") == 0)
		r->type = BPF_DEVCG_DEV_BLOCK;
	else
		return false;
	*what = "major", *bad = f[2];
	if (!parse_number(f[2], &r->major))
		return false;
	*what = "minor", *bad = f[3];
	if (!parse_number(f[3], &r->minor))
		return false;
	*what = "access", *bad = f[4];
	return parse_access(f[4], &r->access);
}

int hx_check_devices_bpf(const struct hx_frame *s, struct hx_error *e)
{
	const char *what, *bad;
	struct rule r;

	if ((s->n - 2) % RULE_FIELDS != 0)
		return hx_fail(e, "plan", EINVAL, "plan: step \"%s\": rules come in groups of %d fields", s->f[0],
			       RULE_FIELDS);
	for (int i = 2; i < s->n; i += RULE_FIELDS)
		if (!parse_rule(s->f + i, &r, &what, &bad))
			return hx_bad_field(s, what, bad, e);
	return 0;
}

/* ---- the program ---- */

struct prog {
	struct bpf_insn *insns;
	size_t n, cap;
	bool oom;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct bpf_insn *grown = realloc(p->insns, cap * sizeof(*grown));
		if (grown == NULL) {
			p->oom = true;
			return;
		}
		p->insns = grown;
		p->cap = cap;
	}
	p->insns[p->n++] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

/* Registers while the rules are tested (r1 holds the context on entry). */
enum { R_RET = BPF_REG_0, R_CTX = BPF_REG_1, R_ACC = BPF_REG_2, R_TYPE = BPF_REG_3,
       R_MAJOR = BPF_REG_4, R_MINOR = BPF_REG_5, R_TMP = BPF_REG_6 };

#define LOAD_U32(dst, field) \
	emit(p, BPF_LDX | BPF_MEM | BPF_W, dst, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, field), 0)

static void emit_prologue(struct prog *p)
{
	LOAD_U32(R_ACC, access_type);
	LOAD_U32(R_MAJOR, major);
	LOAD_U32(R_MINOR, minor);
	emit(p, BPF_ALU | BPF_MOV | BPF_X, R_TYPE, R_ACC, 0, 0);       /* type = access_type & 0xffff */
	emit(p, BPF_ALU | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
	emit(p, BPF_ALU | BPF_RSH | BPF_K, R_ACC, 0, 0, 16);           /* access = access_type >> 16 */
}

static void emit_return(struct prog *p, int value)
{
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R_RET, 0, 0, value);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* Number of conditional jumps (one per test) the rule needs. */
static int rule_tests(const struct rule *r)
{
	return (r->type != 0) + 3 * (r->access != ACC_ALL) + (r->major >= 0) + (r->minor >= 0);
}

/* One rule: each test that fails jumps past the block to the next rule; if all
 * pass, return the rule's verdict. An allow rule must grant every requested
 * access; a deny rule matches if it denies any of them. */
static void emit_rule(struct prog *p, const struct rule *r)
{
	int left = rule_tests(r) + 2; /* instructions from here to the end of the block */

#define JUMP_IF(op, reg, imm) (left--, emit(p, BPF_JMP32 | (op) | BPF_K, reg, 0, left, (int32_t)(imm)))
	if (r->type != 0)
		JUMP_IF(BPF_JNE, R_TYPE, r->type);
	if (r->access != ACC_ALL) {
		emit(p, BPF_ALU | BPF_MOV | BPF_X, R_TMP, R_ACC, 0, 0);
		left--;
		emit(p, BPF_ALU | BPF_AND | BPF_K, R_TMP, 0, 0, r->allow ? ACC_ALL & ~r->access : r->access);
		left--;
		if (r->allow)
			JUMP_IF(BPF_JNE, R_TMP, 0); /* asks for something not granted */
		else
			JUMP_IF(BPF_JEQ, R_TMP, 0); /* asks for nothing denied */
	}
	if (r->major >= 0)
		JUMP_IF(BPF_JNE, R_MAJOR, (uint32_t)r->major);
	if (r->minor >= 0)
		JUMP_IF(BPF_JNE, R_MINOR, (uint32_t)r->minor);
#undef JUMP_IF
	emit_return(p, r->allow);
}

/* The last matching rule wins: test them from the last one back; none = deny.
 * A rule that matches everything ends the program (the verifier refuses
 * unreachable instructions). */
static int build(const struct hx_frame *s, struct prog *p)
{
	int nrules = (s->n - 2) / RULE_FIELDS;
	const char *what, *bad;

	emit_prologue(p);
	for (int i = nrules - 1; i >= 0; i--) {
		struct rule r;
		parse_rule(s->f + 2 + i * RULE_FIELDS, &r, &what, &bad);
		emit_rule(p, &r);
		if (rule_tests(&r) == 0)
			return p->oom ? -1 : 0;
	}
	emit_return(p, 0);
	return p->oom ? -1 : 0;
}

/* ---- bpf(2) ---- */

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

/* The verifier's last words, on one line. */
static void log_tail(char *log, char *out, size_t len)
{
	size_t n = strnlen(log, LOG_SIZE - 1);

	while (n > 0 && (log[n - 1] == '\n' || log[n - 1] == ' '))
		log[--n] = '\0';
	for (char *q = log; *q; q++)
		if (*q == '\n')
			*q = ' ';
	snprintf(out, len, "%s", n > len - 1 ? log + n - (len - 1) : log);
}

static int prog_load(const struct prog *p, const char *step, struct hx_error *e)
{
	union bpf_attr a;
	_cleanup_free_ char *log = NULL;
	char tail[200];
	int fd, err;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uintptr_t)p->insns;
	a.insn_cnt = p->n;
	a.license = (uintptr_t) "GPL";
	memcpy(a.prog_name, PROG_NAME, sizeof(PROG_NAME));
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	err = errno;
	/* Again with a log, to say why the verifier refused it. */
	log = calloc(1, LOG_SIZE);
	if (err != EPERM && log != NULL) {
		a.log_buf = (uintptr_t)log;
		a.log_size = LOG_SIZE;
		a.log_level = 1;
		fd = sys_bpf(BPF_PROG_LOAD, &a);
		if (fd >= 0)
			return fd;
		err = errno;
		log_tail(log, tail, sizeof(tail));
		if (tail[0])
			return hx_fail(e, step, err, "bpf BPF_PROG_LOAD: %s (verifier: %s)", strerror(err), tail);
	}
	return hx_fail(e, step, err, "bpf BPF_PROG_LOAD: %s", strerror(err));
}

/* Ids of the device programs attached to the cgroup, *n of them (caller frees). */
static uint32_t *query(int cg, uint32_t *n)
{
	uint32_t cap = 16;

	for (;;) {
		uint32_t *ids = calloc(cap, sizeof(uint32_t));
		union bpf_attr a;

		if (ids == NULL)
			return NULL;
		memset(&a, 0, sizeof(a));
		a.query.target_fd = cg;
		a.query.attach_type = BPF_CGROUP_DEVICE;
		a.query.prog_ids = (uintptr_t)ids;
		a.query.prog_cnt = cap;
		if (sys_bpf(BPF_PROG_QUERY, &a) == 0) {
			*n = a.query.prog_cnt;
			return ids;
		}
		free(ids);
		if (errno != ENOSPC || a.query.prog_cnt <= cap)
			return NULL;
		cap = a.query.prog_cnt; /* more were attached meanwhile: again */
	}
}

/* An fd for program id if it is one of ours, else -1 (errno 0 if it is not ours). */
static int our_prog(uint32_t id)
{
	struct bpf_prog_info info;
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0) {
		hx_closep(&fd);
		return -1;
	}
	if (info.type == BPF_PROG_TYPE_CGROUP_DEVICE && strncmp(info.name, PROG_NAME, sizeof(info.name)) == 0)
		return fd;
	close(fd);
	errno = 0;
	return -1;
}

static int attach(int cg, int prog, const char *dir, const char *step, struct hx_error *e)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.target_fd = cg;
	a.attach_bpf_fd = prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return hx_fail(e, step, errno, "bpf BPF_PROG_ATTACH to %s: %s", dir, strerror(errno));
	return 0;
}

/* Detaches the programs of ours among old (attached before the new one). One
 * that vanished meanwhile (ENOENT) is fine. */
static int detach_old(int cg, const uint32_t *old, uint32_t n, const char *dir, const char *step, struct hx_error *e)
{
	for (uint32_t i = 0; i < n; i++) {
		_cleanup_close_ int fd = our_prog(old[i]);
		union bpf_attr a;

		if (fd < 0) {
			if (errno == 0 || errno == ENOENT)
				continue;
			return hx_fail(e, step, errno, "bpf BPF_PROG_GET_FD_BY_ID %u: %s", old[i], strerror(errno));
		}
		memset(&a, 0, sizeof(a));
		a.target_fd = cg;
		a.attach_bpf_fd = fd;
		a.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
			return hx_fail(e, step, errno, "bpf BPF_PROG_DETACH from %s: %s", dir, strerror(errno));
	}
	return 0;
}

int hx_step_devices_bpf(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	const char *step = s->f[0], *dir = s->f[1];
	_cleanup_close_ int cg = -1, prog = -1;
	_cleanup_free_ uint32_t *old = NULL;
	struct prog p = { 0 };
	uint32_t nold = 0;
	int r;

	(void)c;
	cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return hx_fail(e, step, errno, "open cgroup %s: %s", dir, strerror(errno));
	old = query(cg, &nold);
	if (old == NULL)
		return hx_fail(e, step, errno, "bpf BPF_PROG_QUERY %s: %s%s", dir, strerror(errno),
			       errno == EBADF ? " (not a cgroup2 directory)" : "");
	r = build(s, &p);
	if (r == 0)
		prog = prog_load(&p, step, e);
	else
		hx_fail(e, step, ENOMEM, "devices program: out of memory");
	free(p.insns);
	if (prog < 0)
		return -1;
	/* New first, old after: in between both apply (a device must pass each),
	 * so the container never gets more than the old or the new rules allow. */
	if (attach(cg, prog, dir, step, e) < 0)
		return -1;
	return detach_old(cg, old, nold, dir, step, e);
}
