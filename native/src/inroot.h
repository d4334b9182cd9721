/* IN-ROOT paths: resolved by openat2(RESOLVE_IN_ROOT) below the rootfs fd, so
 * `..` and absolute symlinks can never lead out of the rootfs. */
#ifndef HX_INROOT_H
#define HX_INROOT_H

#include "error.h"

enum hx_kind { HX_DIR, HX_FILE };

/* O_PATH fd for an existing PATH; -1 with errno set (no hx_error: callers
 * decide whether ENOENT matters). */
int hx_inroot_open(int rootfd, const char *path);

/* O_PATH fd for PATH, creating it as KIND if missing, and missing parents as
 * directories, one component at a time relative to the parent's fd. */
int hx_inroot_mkpath(int rootfd, const char *path, enum hx_kind kind, const char *step, struct hx_error *e);

/* O_PATH fd of PATH's parent (created like hx_inroot_mkpath); *name points
 * into *buf, which the caller frees. PATH's last component must be a name. */
int hx_inroot_parent(int rootfd, const char *path, char **buf, const char **name, const char *step,
		     struct hx_error *e);

#endif
