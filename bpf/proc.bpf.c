// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * proc.bpf.c - the process events userspace needs to keep its uprobes
 * current, whatever the TLS stack: exec (a new image, maybe in a new
 * container root), exit, fork (targeted mode) and dlopen (ld.so changed
 * a process's link map).  Records: struct cap_proc (capture_abi.h).
 */
#include "capture.bpf.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u32 ppid = BPF_CORE_READ(p, real_parent, tgid);
	struct call_args *c;
	__u64 *ts;

	/*
	 * The new image's connection ids are not the old one's (see
	 * skip_conns), and the exec'ing thread, the only one left, forgets
	 * its cached answers (skipped()).
	 */
	ts = bpf_task_storage_get(&exec_ts, p, 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (ts)
		*ts = bpf_ktime_get_ns();
	c = bpf_task_storage_get(&calls, p, 0, 0);
	if (c) {
		c->skip_conn[0] = 0;
		c->skip_conn[1] = 0;
	}

	/*
	 * Targeted mode: the new image stays in `selected` until userspace
	 * reads this record and decides; it drops the calls an unselected
	 * image made meanwhile (attach__pid_selected()).
	 */
	emit_proc(CAP_KIND_EXEC, tgid, ppid, 0, true);
	return 0;
}

/*
 * Only the last thread of a group reports, and only for processes that
 * made a captured call or are selected (targeted mode).  signal->live
 * reaches 0 in do_exit() before this tracepoint, on kernels with and
 * without its group_dead argument.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	/* Selected processes too: userspace drops their probes. */
	if (!bpf_map_lookup_elem(&traced_tgids, &tgid) &&
	    !bpf_map_lookup_elem(&selected, &tgid))
		return 0;
	bpf_map_delete_elem(&traced_tgids, &tgid);
	emit_proc(CAP_KIND_EXIT, tgid, BPF_CORE_READ(p, real_parent, tgid),
		  BPF_CORE_READ(p, exit_code), false);
	return 0;
}

/*
 * Targeted mode (attached only then): a process that has probes of its
 * own forked a child, which inherits its text but not its probes;
 * userspace attaches for the child too.  Threads are not reported.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);

	if (ptgid == ctgid || !bpf_map_lookup_elem(&selected, &ptgid))
		return 0;
	emit_proc(CAP_KIND_FORK, ctgid, ptgid, 0, true);
	return 0;
}

/*
 * glibc's ld.so calls _dl_debug_state() on every link-map change,
 * dlopen() included: userspace then rescans the process's maps.
 */
SEC("uprobe")
int BPF_KPROBE(dl_debug_state)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (is_self())
		return 0;
	emit_proc(CAP_KIND_DLOPEN, pid_tgid >> 32, 0, 0, true);
	return 0;
}
