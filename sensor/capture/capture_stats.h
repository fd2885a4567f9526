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
	  "OpenSSL files (libssl or executables) with uprobes attached.") \
	X(ldso_attached, GAUGE, OK, \
	  "ld.so files with the dlopen uprobe attached.") \
	X(procs_traced, GAUGE, OK, \
	  "Processes mapping an attached OpenSSL file, at the last full scan.") \
	X(attach_errors, GAUGE, BAD, \
	  "OpenSSL files whose uprobes could not be attached.") \
	X(roots_scanned, COUNTER, OK, \
	  "Container root directories scanned for OpenSSL files at exec.") \
	X(procs_targeted, GAUGE, OK, \
	  "Targeted mode: processes with probes of their own.") \
	X(procs_denied, GAUGE, BAD, \
	  "Processes whose maps or mapped files could not be read at the last full scan (their OpenSSL is missed).")

struct capture_stats {
	struct cap_stats kern;	/* summed over CPUs */
	CAPTURE_STATS(STATS_MEMBER)
	bool targeted;		/* targeted mode is on */
	bool multi;		/* uprobe_multi links */
};

#endif /* OISP_CAPTURE_STATS_H */
