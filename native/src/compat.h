/* Kernel interfaces that older libc or kernel headers may lack. */
#ifndef HX_COMPAT_H
#define HX_COMPAT_H

#include <stdint.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sched.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define HX_PROC_SUPER_MAGIC 0x9fa0

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

/* statfs f_flags bits (ST_*): not all equal to their MS_* twins. */
#define HX_ST_RDONLY 0x0001
#define HX_ST_NOSUID 0x0002
#define HX_ST_NODEV 0x0004
#define HX_ST_NOEXEC 0x0008
#define HX_ST_NOATIME 0x0400
#define HX_ST_NODIRATIME 0x0800
#define HX_ST_RELATIME 0x1000
#define HX_ST_NOSYMFOLLOW 0x2000

/* Our own copies so that <linux/openat2.h> and <linux/sched.h> are not needed. */
struct hx_open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#define HX_RESOLVE_NO_MAGICLINKS 0x02
#define HX_RESOLVE_BENEATH 0x08
#define HX_RESOLVE_IN_ROOT 0x10

struct hx_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
};

#endif
