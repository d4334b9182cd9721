/* Files below /proc that steps write to (sysctls, LSM attributes). */
#ifndef HX_PROCFS_H
#define HX_PROCFS_H

#include "error.h"

/* Opens /proc/REL with flags, making sure both /proc and the file are procfs and
 * REL stays below /proc (openat2 RESOLVE_BENEATH, no magic links): a container
 * cannot redirect the write to another file by a mount or a symlink. */
int hx_proc_open(const char *rel, int flags, const char *step, struct hx_error *e);

/* Writes all of value to fd; errors name /proc/REL. */
int hx_proc_write(int fd, const char *rel, const char *value, const char *step, struct hx_error *e);

#endif
