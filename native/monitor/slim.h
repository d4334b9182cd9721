/* Keeping the resident set small: see slim.c. Shared by hako-monitor and hako-init. */
#ifndef MON_SLIM_H
#define MON_SLIM_H

/* Finds the binary's clean read-only mappings (once) and drops their pages;
 * -1 with errno if /proc/self/smaps could not be read. */
int slim_init(void);
/* Drops those pages again: they come back one fault (and its fault-around) at a time. */
void slim_again(void);

#endif
