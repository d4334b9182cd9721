#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "caps.h"
#include "plan.h"
#include "util.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* For messages only: the kernel speaks numbers. */
static const char *const names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

static const char *cap_name(int n, char buf[16])
{
	if (n < (int)(sizeof(names) / sizeof(names[0])))
		return names[n];
	snprintf(buf, 16, "cap %d", n);
	return buf;
}

int hx_check_caps(const struct hx_frame *s, struct hx_error *e)
{
	uint64_t m;

	for (int i = 1; i < s->n; i++)
		if (!hx_parse_u64(s->f[i], 16, &m))
			return hx_bad_field(s, "capability mask", s->f[i], e);
	return 0;
}

static uint64_t mask_of(const char *field)
{
	uint64_t m = 0;
	hx_parse_u64(field, 16, &m);
	return m;
}

/* The kernel's last capability: the bounding set answers EINVAL past it. Same
 * number as /proc/sys/kernel/cap_last_cap, without needing a /proc. */
static int last_cap(void)
{
	int n = 0;

	while (n < 63 && prctl(PR_CAPBSET_READ, n + 1, 0, 0, 0) >= 0)
		n++;
	return n;
}

/* The capabilities this kernel has; bits above the last one are ignored (a newer
 * runtime may name capabilities an older kernel lacks). */
static uint64_t known_caps(int last)
{
	return last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
}

int hx_step_caps_bounding(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	uint64_t keep = mask_of(s->f[1]);
	int last = last_cap();
	char buf[16];

	(void)c;
	for (int n = 0; n <= last; n++) {
		if ((keep >> n) & 1 || prctl(PR_CAPBSET_READ, n, 0, 0, 0) != 1)
			continue; /* kept, or already gone */
		if (prctl(PR_CAPBSET_DROP, n, 0, 0, 0) < 0)
			return hx_fail(e, s->f[0], errno, "prctl PR_CAPBSET_DROP %s: %s", cap_name(n, buf), strerror(errno));
	}
	/* The permitted set must survive the uid change of the `user` step. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return hx_fail(e, s->f[0], errno, "prctl PR_SET_KEEPCAPS: %s", strerror(errno));
	return 0;
}

/* Names of the capabilities in mask, for a message. */
static void list_caps(uint64_t mask, char *out, size_t len)
{
	size_t used = 0;
	char buf[16];

	out[0] = '\0';
	for (int n = 0; n < 64 && mask; n++, mask >>= 1)
		if ((mask & 1) && used < len)
			used += snprintf(out + used, len - used, "%s%s", used ? " " : "", cap_name(n, buf));
}

struct capsets {
	uint64_t eff, perm, inh;
};

static int get_caps(struct capsets *now)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	now->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	now->perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	now->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int set_caps(const struct capsets *to, const char *step, struct hx_error *e)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)to->eff, (uint32_t)to->perm, (uint32_t)to->inh },
		{ (uint32_t)(to->eff >> 32), (uint32_t)(to->perm >> 32), (uint32_t)(to->inh >> 32) },
	};
	char extra[256];

	if (syscall(SYS_capset, &h, d) == 0)
		return 0;
	list_caps(to->eff & ~to->perm, extra, sizeof(extra));
	if (errno == EPERM && extra[0])
		return hx_fail(e, step, EPERM, "capset: %s: effective but not permitted: %s", strerror(EPERM), extra);
	return hx_fail(e, step, errno, "capset (effective %llx, permitted %llx, inheritable %llx): %s",
		       (unsigned long long)to->eff, (unsigned long long)to->perm, (unsigned long long)to->inh,
		       strerror(errno));
}

static uint64_t bounding_set(int last)
{
	uint64_t set = 0;

	for (int n = 0; n <= last; n++)
		if (prctl(PR_CAPBSET_READ, n, 0, 0, 0) == 1)
			set |= 1ULL << n;
	return set;
}

int hx_step_caps(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e)
{
	int last = last_cap();
	uint64_t known = known_caps(last), bnd = bounding_set(last), amb;
	struct capsets now, to;
	char buf[16];

	(void)c;
	if (get_caps(&now) < 0)
		return hx_fail(e, s->f[0], errno, "capget: %s", strerror(errno));
	/* Capabilities the process does not have (a host whose root lacks some)
	 * cannot be given: they are left out, like those the kernel does not know.
	 * An inheritable cap must be in the bounding set, and without CAP_SETPCAP
	 * in the permitted set too, unless it is inheritable already. */
	to.perm = mask_of(s->f[2]) & known & now.perm;
	to.eff = mask_of(s->f[1]) & known & now.perm;
	to.inh = mask_of(s->f[3]) & known & ((now.perm & bnd) | now.inh);
	/* The kernel only raises an ambient cap that is both permitted and
	 * inheritable; others are skipped, as runc does (its default spec asks for
	 * ambient caps with an empty inheritable set). */
	amb = mask_of(s->f[4]) & to.perm & to.inh;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return hx_fail(e, s->f[0], errno, "prctl PR_SET_KEEPCAPS: %s", strerror(errno));
	if (set_caps(&to, s->f[0], e) < 0)
		return -1;
	/* Kernels before 4.3 have no ambient set: fine when none is asked for. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && (amb || errno != EINVAL))
		return hx_fail(e, s->f[0], errno, "prctl PR_CAP_AMBIENT_CLEAR_ALL: %s", strerror(errno));
	for (int n = 0; n < 64; n++)
		if ((amb >> n) & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, n, 0, 0) < 0)
			return hx_fail(e, s->f[0], errno, "prctl PR_CAP_AMBIENT_RAISE %s: %s", cap_name(n, buf),
				       strerror(errno));
	return 0;
}
