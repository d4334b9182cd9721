/* `devices-bpf CGROUP_DIR RULE...`: cgroup v2 device control, an eBPF program of
 * type BPF_PROG_TYPE_CGROUP_DEVICE built from the rules and attached to the cgroup. */
#ifndef HX_DEVICES_BPF_H
#define HX_DEVICES_BPF_H

#include "context.h"
#include "wire.h"

int hx_check_devices_bpf(const struct hx_frame *s, struct hx_error *e);
int hx_step_devices_bpf(struct hx_ctx *c, const struct hx_frame *s, struct hx_error *e);

#endif
