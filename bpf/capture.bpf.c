// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * capture.bpf.c - the state the capture object's programs share: the
 * load-time knobs and the maps declared in capture.bpf.h.  Linked with
 * proc.bpf.c and one file per TLS stack (openssl.bpf.c) into the one
 * object the loader opens (sensor/capture/capture.c, capture.skel.h).
 */
#include "capture.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_max_call_bytes = 262144;
const volatile __u64 targ_wakeup_bytes = 2 << 20;
const volatile __u64 targ_wakeup_small_bytes = 1 << 20;
const volatile __u32 targ_self_tgid = 0;
const volatile bool targ_write_at_entry = false;
const volatile bool targ_targeted = false;
const volatile __u64 targ_wakeup_gap_ns = 1000000;
const volatile __u32 targ_chunk_bytes = CAP_CLASS_3;
/* rustls.bpf.c: name a connection by its fd (kernels before 6.3) */
const volatile bool targ_rustls_fd = false;

calls_map_t calls SEC(".maps");
rb_map_t rb SEC(".maps");
rb_map_t rb_small SEC(".maps");
cap_stats_map_t cap_stats SEC(".maps");
cpu_state_map_t cpu_state SEC(".maps");
traced_tgids_map_t traced_tgids SEC(".maps");
conn_time_map_t skip_conns SEC(".maps");
__u32 skip_gen;
conn_time_map_t conn_ends SEC(".maps");
exec_ts_map_t exec_ts SEC(".maps");
selected_map_t selected SEC(".maps");
