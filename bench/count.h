/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * count.h - shared by bench/count.bpf.c and its loader bench/count.c:
 * the slots of the per-CPU `hits` array, one per probe.
 */
#ifndef OISP_BENCH_COUNT_H
#define OISP_BENCH_COUNT_H

enum count_slot {
	COUNT_WRITE_ENTER,
	COUNT_WRITE_EX_ENTER,
	COUNT_READ_ENTER,
	COUNT_READ_EX_ENTER,
	COUNT_WRITE_RETURN,
	COUNT_WRITE_EX_RETURN,
	COUNT_READ_RETURN,
	COUNT_READ_EX_RETURN,
	COUNT_SOCK_RECV,	/* rustls: the socket-read tracepoint */
	COUNT_NR,
};

#endif /* OISP_BENCH_COUNT_H */
