// SPDX-License-Identifier: MIT
/*
 * ringbench - what one ring-buffer record costs the traced thread, by
 * record size and ring size (bench/run.py, section "ring").
 *
 *	ringbench --ring BYTES --len BYTES [--count N] [--gap-us N]
 *		  [--hdr BYTES] [--round64] [--src-off BYTES] [--touch STRIDE]
 *		  [--src-touch] [--prequery] [--perf] [--stage]
 *		  [--fork early|late] [--idle-ms N]
 *
 * The main thread (pin it to one CPU) calls target() COUNT times, each
 * after touching 32 KiB of its own memory and waiting GAP_US
 * microseconds, as a traced program does its own work between TLS
 * calls.  bench/ringbench.bpf.c, a uprobe on target(), writes one
 * record of LEN bytes as the sensor does and times it.  A reader thread
 * on the next CPU drains the ring as the sensor does: woken when a
 * quarter is full, else every 50 ms, reading every cache line of each
 * record.  The first tenth of the calls is not counted.  Prints one JSON
 * line: ns_per_record (the BPF program's own time, bpf_ktime_get_ns
 * included), copy_ns (the bpf_probe_read_user() within it), records, lost.
 *
 * The layout variants (ringbench.bpf.c): --hdr is the bytes before the
 * payload in a record (default 88, the sensor's header), --round64 pads
 * every record to a multiple of 64 bytes so that the payload's place in
 * its cache line is (8 + hdr) mod 64 in every record.  --src-off puts
 * the source at that offset from a page boundary (default: malloc()'s).
 * --touch is the stride of the stores into a large record before the
 * copy (default 4096, as the sensor's touch_pages(); 0: none), and
 * --src-touch reads one byte of each page of the source first.
 * --prequery reads the ring's positions and size before each reservation.
 * --perf writes each record to a perf buffer (as much memory as the ring,
 * shared out among the CPUs) through the thread's task storage instead.
 * --stage copies a call over 2 KiB into a free 64 KiB slot (a hash map's
 * value, kmalloc()ed: the direct map), as many slots as the ring holds,
 * and writes a small record naming it to a 1 MiB ring; the reader, woken
 * once a quarter of the slots are taken, copies the slot out with a map
 * lookup and gives it back.
 *
 * --fork runs the calls in a child, a fresh exec of ringbench, with the
 * reader in the parent; all its calls after the attach are counted.
 * early: the uprobe (on the file, every process) is attached before the
 * exec, so the kernel writes the breakpoint when the child maps the
 * file.  late: it is attached LATE_MS after the exec, into the running
 * child.  --idle-ms makes the child wait that long before its first
 * call: with late and more than LATE_MS, the breakpoint goes in before
 * the child has run target().  (A program the sensor probes only after
 * it started, its build identified meanwhile, ran the sensor's programs
 * slower all its life: docs/design-rustls.md.)
 */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>

#include "ringbench.skel.h"

/* --fork late: the uprobe is attached this long after the child's exec. */
#define LATE_MS		300

static volatile int stop;
static volatile unsigned long sink;

void target(const void *buf, unsigned long len);

__attribute__((noinline)) void target(const void *buf, unsigned long len)
{
	__asm__ volatile("" : : "r"(buf), "r"(len) : "memory");
}

static int on_record(void *ctx, void *data, size_t size)
{
	const unsigned char *p = data;
	unsigned long s = 0;
	size_t i;

	(void)ctx;
	for (i = 0; i < size; i += 64)
		s += p[i];
	sink += s;
	return 0;
}

/* --stage: the maps of slots and of free slot numbers. */
static int slots_fd = -1, free_fd = -1;
static unsigned char *slot_copy;

/* A record naming a slot: its bytes copied out, read, the slot given back. */
static int on_stage_record(void *ctx, void *data, size_t size)
{
	const __u32 *h = data;
	__u32 idx;

	if (size < 8)
		return 0;
	idx = h[0];
	if (!bpf_map_lookup_elem(slots_fd, &idx, slot_copy))
		on_record(NULL, slot_copy, h[1]);
	bpf_map_update_elem(free_fd, NULL, &idx, 0);
	__atomic_fetch_sub((__u64 *)ctx, 1, __ATOMIC_RELAXED);
	return 0;
}

/* A PERF_RECORD_SAMPLE of PERF_SAMPLE_RAW: the header, then the raw size and bytes. */
struct raw_sample {
	struct perf_event_header h;
	__u32 size;
	unsigned char data[];
};

static enum bpf_perf_event_ret on_sample(void *ctx, int cpu,
					 struct perf_event_header *e)
{
	const struct raw_sample *s = (const void *)e;

	(void)cpu;
	if (e->type == PERF_RECORD_SAMPLE)
		on_record(ctx, (void *)s->data, s->size);
	return LIBBPF_PERF_EVENT_CONT;
}

/* What the reader thread drains: the ring, or with --perf the perf buffer. */
struct readers {
	struct ring_buffer *rb;
	struct perf_buffer *pb;
};

static void pin_next(int delta)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET((cpu + delta) % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *reader(void *arg)
{
	struct readers *r = arg;

	while (!stop) {
		if (r->pb)
			perf_buffer__poll(r->pb, 50);
		else
			ring_buffer__poll(r->rb, 50);
	}
	if (r->pb)
		perf_buffer__consume(r->pb);
	ring_buffer__consume(r->rb);
	return NULL;
}

/* The online CPUs, rounded down to a power of two (perf buffer pages). */
static unsigned long ncpus_pow2(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long p = 1;

	while (n > 0 && p * 2 <= (unsigned long)n)
		p *= 2;
	return p;
}

static unsigned long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long)ts.tv_sec * 1000000000UL + (unsigned long)ts.tv_nsec;
}

/*
 * One call as a traced program makes it: 32 KiB of its own memory
 * touched, GAP_US of its own work, then target() on the @len bytes at
 * @buf.
 */
static void make_call(unsigned char *scratch, const unsigned char *buf,
		      unsigned long len, unsigned long gap_us)
{
	unsigned long t;
	int k;

	for (k = 0; k < (32 << 10); k += 64)
		scratch[k]++;
	for (t = now_ns(); now_ns() - t < gap_us * 1000;)
		;
	target(buf, len);
}

/* The calls' source, @len bytes: malloc()'s, or at @src_off from a page. */
static unsigned char *alloc_src(unsigned long len, long src_off)
{
	unsigned char *buf;

	if (src_off < 0)
		return malloc(len);
	buf = aligned_alloc(4096, 4096 + ((len + 4095) & ~4095UL));
	return buf ? buf + src_off : NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ring", required_argument, NULL, 'r' },
		{ "len", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ "hdr", required_argument, NULL, 'h' },
		{ "round64", no_argument, NULL, 'a' },
		{ "src-off", required_argument, NULL, 's' },
		{ "touch", required_argument, NULL, 't' },
		{ "src-touch", no_argument, NULL, 'T' },
		{ "perf", no_argument, NULL, 'P' },
		{ "prequery", no_argument, NULL, 'Q' },
		{ "stage", no_argument, NULL, 'S' },
		{ "fork", required_argument, NULL, 'F' },
		{ "idle-ms", required_argument, NULL, 'I' },
		{ "child", no_argument, NULL, 'C' },
		{ 0 }
	};
	unsigned long ring = 4 << 20, len = 128, count = 40000, gap_us = 25;
	unsigned long hdr = 88;
	long src_off = -1;
	unsigned long touch = 4096;
	bool round64 = false, src_touch = false, use_perf = false, prequery = false;
	bool use_stage = false, child = false;
	int forkmode = 0;	/* 1: early (attached before exec), 2: late */
	unsigned long idle_ms = 0;
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = "target");
	struct readers rd = { 0 };
	struct ringbench_bpf *skel;
	unsigned char *buf, *scratch;
	struct bpf_link *link;
	pthread_t th;
	unsigned long i;
	int c, err = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': ring = strtoul(optarg, NULL, 0); break;
		case 'l': len = strtoul(optarg, NULL, 0); break;
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 'g': gap_us = strtoul(optarg, NULL, 0); break;
		case 'h': hdr = strtoul(optarg, NULL, 0); break;
		case 'a': round64 = true; break;
		case 't': touch = strtoul(optarg, NULL, 0); break;
		case 'T': src_touch = true; break;
		case 'P': use_perf = true; break;
		case 'Q': prequery = true; break;
		case 'S': use_stage = true; break;
		case 'F':
			forkmode = !strcmp(optarg, "early") ? 1 :
				   !strcmp(optarg, "late") ? 2 : -1;
			break;
		case 'I': idle_ms = strtoul(optarg, NULL, 0); break;
		case 'C': child = true; break;
		case 's': src_off = strtol(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: ringbench --ring BYTES --len BYTES "
				"[--count N] [--gap-us N] [--hdr BYTES] [--round64] "
				"[--src-off BYTES] [--touch STRIDE] [--src-touch] "
				"[--prequery] [--perf] [--stage] [--fork early|late] "
				"[--idle-ms N]\n");
			return 2;
		}
	}
	if (!len || len > 65536 || !ring || (ring & (ring - 1)) ||
	    hdr > 184 || hdr % 8 || src_off > 4095 || forkmode < 0) {
		fprintf(stderr, "ringbench: --len 1..65536, --ring a power of two, "
			"--hdr 0..184 in 8s, --src-off < 4096, --fork early or late\n");
		return 2;
	}
	buf = alloc_src(len, src_off);
	scratch = calloc(1, 32 << 10);
	if (!buf || !scratch)
		return 1;
	memset(buf, 'a', len);
	if (child) {
		usleep(idle_ms * 1000);
		for (i = 0; i < count; i++)
			make_call(scratch, buf, len, gap_us);
		return 0;
	}
	skel = ringbench_bpf__open();
	if (!skel)
		return 1;
	bpf_map__set_max_entries(skel->maps.rb, (__u32)ring);
	skel->rodata->wake_bytes = ring / 4;
	skel->rodata->hdr_bytes = (__u32)hdr;
	skel->rodata->round64 = round64;
	skel->rodata->touch = (__u32)touch;
	skel->rodata->src_touch = src_touch;
	skel->rodata->use_perf = use_perf;
	skel->rodata->prequery = prequery;
	skel->rodata->use_stage = use_stage;
	if (use_stage) {
		/* As many 64 KiB slots as the ring holds; the ring itself small. */
		bpf_map__set_max_entries(skel->maps.slots, (__u32)(ring / 65536));
		bpf_map__set_max_entries(skel->maps.free_slots, (__u32)(ring / 65536));
		bpf_map__set_max_entries(skel->maps.rb, 1 << 20);
		skel->rodata->wake_bytes = (1 << 20) / 4;
		skel->rodata->stage_wake = ring / 65536 / 4;
	}
	if (ringbench_bpf__load(skel))
		goto out;
	link = bpf_program__attach_uprobe_opts(skel->progs.emit,
					       forkmode ? -1 : getpid(),
					       "/proc/self/exe", 0, &uo);
	if (!link) {
		fprintf(stderr, "ringbench: attach: %s\n", strerror(errno));
		goto out;
	}
	if (forkmode == 2) {
		/* Attached again once the child runs. */
		bpf_link__destroy(link);
		link = NULL;
	}
	if (use_stage) {
		__u32 n = (__u32)(ring / 65536), idx;

		slots_fd = bpf_map__fd(skel->maps.slots);
		free_fd = bpf_map__fd(skel->maps.free_slots);
		slot_copy = calloc(1, 65536);
		if (!slot_copy)
			goto out;
		for (idx = 0; idx < n; idx++) {
			if (bpf_map_update_elem(slots_fd, &idx, slot_copy, 0) ||
			    bpf_map_update_elem(free_fd, NULL, &idx, 0)) {
				fprintf(stderr, "ringbench: slot %u: %s\n", idx,
					strerror(errno));
				goto out;
			}
		}
	}
	rd.rb = ring_buffer__new(bpf_map__fd(skel->maps.rb),
				 use_stage ? on_stage_record : on_record,
				 use_stage ? (void *)&skel->bss->stage_used : NULL, NULL);
	if (use_perf) {
		/* As much memory as the ring, shared out among the CPUs. */
		unsigned long pages = ring / 4096 / ncpus_pow2();
		struct perf_event_attr pa = {
			.size = sizeof(pa),
			.type = PERF_TYPE_SOFTWARE,
			.config = PERF_COUNT_SW_BPF_OUTPUT,
			.sample_type = PERF_SAMPLE_RAW,
			.watermark = 1,	/* woken when a quarter is full */
			.wakeup_watermark = (__u32)(pages * 4096 / 4),
		};

		rd.pb = perf_buffer__new_raw(bpf_map__fd(skel->maps.pb),
					     pages ? pages : 1, &pa, on_sample,
					     NULL, NULL);
		if (!rd.pb) {
			fprintf(stderr, "ringbench: perf buffer: %s\n",
				strerror(errno));
			goto out;
		}
	}
	if (!rd.rb)
		goto out;
	pin_next(1);
	if (pthread_create(&th, NULL, reader, &rd))
		goto out;
	pin_next(-1);
	if (forkmode) {
		char sc[32], sl[32], sg[32], si[32], so[32];
		char a0[] = "ringbench", a1[] = "--child", a2[] = "--count",
		     a3[] = "--len", a4[] = "--gap-us", a5[] = "--idle-ms",
		     a6[] = "--src-off";
		char *av[] = { a0, a1, a2, sc, a3, sl, a4, sg, a5, si, a6, so,
			       NULL };
		pid_t pid;
		int status;

		snprintf(sc, sizeof(sc), "%lu", count);
		snprintf(sl, sizeof(sl), "%lu", len);
		snprintf(sg, sizeof(sg), "%lu", gap_us);
		snprintf(si, sizeof(si), "%lu", idle_ms);
		snprintf(so, sizeof(so), "%ld", src_off);
		pid = fork();
		if (!pid) {
			execv("/proc/self/exe", av);
			_exit(127);
		}
		if (pid < 0)
			goto out;
		if (forkmode == 2) {
			usleep(LATE_MS * 1000);
			link = bpf_program__attach_uprobe_opts(skel->progs.emit,
							       -1, "/proc/self/exe", 0, &uo);
			if (!link)
				fprintf(stderr, "ringbench: attach: %s\n", strerror(errno));
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "ringbench: the child failed\n");
			goto out;
		}
		if (!link)
			goto out;
		count = 0;	/* the child made the calls */
	}
	for (i = 0; i < count; i++) {
		make_call(scratch, buf, len, gap_us);
		if (i == count / 10) {
			skel->bss->sum_ns = 0;
			skel->bss->copy_ns = 0;
			skel->bss->records = 0;
		}
	}
	stop = 1;
	pthread_join(th, NULL);
	printf("{\"ring\": %lu, \"len\": %lu, \"hdr\": %lu, \"round64\": %s, "
	       "\"src_off\": %ld, \"ns_per_record\": %.1f, \"copy_ns\": %.1f, "
	       "\"records\": %llu, \"lost\": %llu}\n", ring, len, hdr,
	       round64 ? "true" : "false", src_off,
	       skel->bss->records ? (double)skel->bss->sum_ns / skel->bss->records : 0,
	       skel->bss->records ? (double)skel->bss->copy_ns / skel->bss->records : 0,
	       (unsigned long long)skel->bss->records,
	       (unsigned long long)skel->bss->lost);
	err = 0;
out:
	perf_buffer__free(rd.pb);
	ring_buffer__free(rd.rb);
	ringbench_bpf__destroy(skel);
	return err;
}
