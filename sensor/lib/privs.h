/* SPDX-License-Identifier: MIT */
/*
 * privs.h - the capabilities (capabilities(7)) the sensor keeps.
 *
 * `run` needs, measured on Linux 6.18 (see README, "Capabilities"):
 *	CAP_BPF, CAP_PERFMON	loading the programs, bpf(2) map reads, the
 *				tracepoints, uprobe_multi links (Linux >= 6.6)
 *	CAP_SYS_ADMIN		only for perf-event uprobes (kernels without
 *				uprobe_multi, or capture.attach_mode: perf):
 *				perf_event_open(2) of the uprobe PMU gives
 *				EACCES without it, CAP_PERFMON is not enough;
 *				it also implies CAP_BPF and CAP_PERFMON
 *	CAP_SYS_PTRACE		/proc/PID/maps, root, environ, exe of other
 *				users' processes
 *	CAP_DAC_READ_SEARCH	OpenSSL files in directories or with modes
 *				the sensor's uid cannot read
 *	CAP_CHECKPOINT_RESTORE	/proc/PID/map_files (or CAP_SYS_ADMIN): files
 *				deleted or replaced since they were mapped,
 *				as a package upgrade leaves them
 * and needs them for as long as it runs: every new process may map an
 * OpenSSL file that has to be found and attached.
 *
 * Two steps, because capabilities belong to threads:
 *  - privs__limit(PRIVS_RUN | PRIVS_SETUP) before any thread exists (the
 *    Kubernetes worker inherits what the main thread has then);
 *  - privs__limit(PRIVS_RUN) once the probes are attached, which drops
 *    PRIVS_SETUP (a privileged metrics port, output paths owned by
 *    others, the memlock rlimit of old kernels, CAP_SETPCAP itself).
 * Raw capget/capset/prctl: no libcap.
 */
#ifndef OISP_PRIVS_H
#define OISP_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/capability.h>

#define PRIVS_CAP(c)	(1ULL << (c))

/* What `run` keeps once attached with uprobe_multi links. */
#define PRIVS_RUN_MULTI	(PRIVS_CAP(CAP_BPF) | PRIVS_CAP(CAP_PERFMON) |	\
			 PRIVS_CAP(CAP_SYS_PTRACE) |			\
			 PRIVS_CAP(CAP_DAC_READ_SEARCH) |		\
			 PRIVS_CAP(CAP_CHECKPOINT_RESTORE))
/* What `run` may need, and keeps once attached with perf-event uprobes. */
#define PRIVS_RUN	(PRIVS_RUN_MULTI | PRIVS_CAP(CAP_SYS_ADMIN))
/* What setup may need on top, until the probes are attached. */
#define PRIVS_SETUP	(PRIVS_CAP(CAP_SETPCAP) |			\
			 PRIVS_CAP(CAP_NET_BIND_SERVICE) |		\
			 PRIVS_CAP(CAP_DAC_OVERRIDE) |			\
			 PRIVS_CAP(CAP_SYS_RESOURCE))

struct privs_state {
	uint64_t effective, permitted, inheritable, bounding, ambient;
	bool no_new_privs;
};

/* Reads the calling thread's capability sets.  Returns 0 or -errno. */
int privs__get(struct privs_state *st);

/*
 * Limits the calling thread to the capabilities in @keep:
 *  - with CAP_SETPCAP effective, every capability outside @keep is
 *    dropped from the bounding set (PR_CAPBSET_DROP); without it the
 *    bounding set is left as is and *@bounding_kept is set (may be NULL);
 *  - the ambient set is cleared, the inheritable set emptied;
 *  - permitted and effective become (permitted & @keep): nothing is
 *    ever raised, so running with fewer capabilities than @keep is fine;
 *  - with @no_new_privs, PR_SET_NO_NEW_PRIVS (the sensor never execs).
 * Returns 0 or -errno of capget/capset/prctl.
 */
int privs__limit(uint64_t keep, bool no_new_privs, bool *bounding_kept);

/*
 * Writes the names of the capabilities in @mask ("cap_bpf,cap_perfmon",
 * or "none") to @buf; unknown numbers as "cap_N".  Always terminated.
 */
void privs__names(uint64_t mask, char *buf, size_t len);

/*
 * Raises the soft limit on open files (RLIMIT_NOFILE) to the hard one, as
 * tracers do (bcc, bpftrace): each attached file holds an fd and two or
 * three BPF links, and in targeted mode each selected process its own
 * links.  A failure is logged (warning) and otherwise ignored: the
 * sensor then runs with fewer files.
 */
void privs__raise_nofile(void);

#endif /* OISP_PRIVS_H */
