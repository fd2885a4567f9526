/* SPDX-License-Identifier: MIT */
/*
 * capture_stats.h - the capture's counters (capture__stats()), one row
 * each in the layout of lib/stats.h.  Section "capture": the kernel's
 * counters (CAP_STATS, bpf/capture_abi.h) first, then these.
 */
#ifndef OISP_CAPTURE_STATS_H
#define OISP_CAPTURE_STATS_H

#include <stdbool.h>

#include "capture_abi.h"
#include "lib/stats.h"

#define CAPTURE_STATS(X) \
	X(records, COUNTER, OK, \
	  "Data records read from the BPF ring buffer.") \
	X(bytes, COUNTER, OK, \
	  "Plaintext bytes read from the BPF ring buffer.") \
	X(unselected_records, COUNTER, OK, \
	  "Targeted mode: data records dropped because their process had exec'd an unselected program.") \
	X(skipped_conns, COUNTER, OK, \
	  "Connections whose calls the sensor stopped copying in the kernel.") \
	X(files_attached, GAUGE, OK, \
	  "TLS stack files (libraries or executables) with uprobes attached.") \
	X(ldso_attached, GAUGE, OK, \
	  "ld.so files with the dlopen uprobe attached.") \
	X(ldso_errors, GAUGE, BAD, \
	  "ld.so files whose dlopen uprobe could not be attached.") \
	X(procs_traced, GAUGE, OK, \
	  "Processes mapping an attached TLS stack file, at the last full scan.") \
	X(attach_errors, GAUGE, BAD, \
	  "TLS stack files whose uprobes could not be attached.") \
	X(files_identifying, GAUGE, OK, \
	  "Files whose code is being searched for a TLS stack off the event loop (queued or running).") \
	X(identify_cached, COUNTER, OK, \
	  "Files probed with the result of an earlier search of a file with the same build id and size (its bytes at the probed offsets checked), not searched again.") \
	X(identify_deferred, COUNTER, BAD, \
	  "Files not queued for that search because the queue was full (looked at again at the next scan).") \
	X(roots_scanned, COUNTER, OK, \
	  "Container root directories scanned for TLS stack files at exec.") \
	X(procs_targeted, GAUGE, OK, \
	  "Targeted mode: processes with probes of their own.") \
	X(procs_denied, GAUGE, BAD, \
	  "Processes whose maps or mapped files could not be read at the last full scan (their TLS library is missed).")

/*
 * Per TLS stack, as in CAPTURE_STATS (the same names, help and
 * families): the stack's row of the kernel's counters (CAP_STATS_STACK)
 * and these.  Status key "capture_by_stack"; in /metrics these families
 * have one series per stack, labelled stack.
 */
#define CAPTURE_STACK_STATS(X) \
	X(files_attached, GAUGE, OK, \
	  "TLS stack files (libraries or executables) with uprobes attached.") \
	X(attach_errors, GAUGE, BAD, \
	  "TLS stack files whose uprobes could not be attached.")

struct capture_stack_stats {
	struct cap_stats kern;	/* the stack's row, summed over CPUs */
	CAPTURE_STACK_STATS(STATS_MEMBER)
};

struct capture_stats {
	struct cap_stats kern;	/* all rows, summed over CPUs */
	CAPTURE_STATS(STATS_MEMBER)
	bool targeted;		/* targeted mode is on */
	bool multi;		/* uprobe_multi links */
	bool rustls_fd;		/* rustls connections named by fd (sys_enter) */
	bool rustls_attached;	/* rustls's socket programs are attached */
	/* By enum cap_stack; stack_label[i] NULL: no stack has that id. */
	struct capture_stack_stats stack[CAP_STACK_NR];
	const char *stack_label[CAP_STACK_NR];	/* tls_stack.label */
};

#endif /* OISP_CAPTURE_STATS_H */
