# SPDX-License-Identifier: MIT
#
# Benchmarks (issue "Prove it fast"), included by the top Makefile.
#   make bench              build the helpers and run every benchmark;
#                           results go to bench/results/RESULTS.md and .json
#   make bench BENCH_ARGS="--only cost --seconds 2"   see bench/run.py --help
# Not part of `make test` (which builds and checks the helpers:
# bench-tools).  Needs root (eBPF) for the cost, footprint,
# loss and start-up sections; replay needs nothing.

BENCH_OUT := $(OUT)/bench
BENCH_BINS := $(BENCH_OUT)/tlsbench $(BENCH_OUT)/gnutlsbench $(BENCH_OUT)/count \
	      $(BENCH_OUT)/dlsleeper $(BENCH_OUT)/gotlsbench $(BENCH_OUT)/syscallbench \
	      $(BENCH_OUT)/ringbench
BENCH_ARGS ?=

$(BENCH_OUT):
	$(Q)mkdir -p $@

$(BENCH_OUT)/count.bpf.o: bench/count.bpf.c $(OUT)/vmlinux.h | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BENCH_OUT)/count.skel.h: $(BENCH_OUT)/count.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name count_bpf > $@

# Links the sensor's library for --stack go: the same resolver puts the
# counting probes where the sensor puts its own.
$(BENCH_OUT)/count: bench/count.c $(BENCH_OUT)/count.skel.h $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH_OUT) -Ibench $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BENCH_OUT)/ringbench.bpf.o: bench/ringbench.bpf.c $(OUT)/vmlinux.h | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BENCH_OUT)/ringbench.skel.h: $(BENCH_OUT)/ringbench.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ringbench_bpf > $@

$(BENCH_OUT)/ringbench: bench/ringbench.c $(BENCH_OUT)/ringbench.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH_OUT) $(LDFLAGS) $< $(LDLIBS) -lpthread -o $@

$(BENCH_OUT)/tlsbench: bench/tlsbench.c bench/msgs.h | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -lssl -lcrypto -lpthread -o $@

$(BENCH_OUT)/gnutlsbench: bench/gnutlsbench.c bench/msgs.h | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -lgnutls -o $@

# Debian's go (golang-go); its build cache stays under build/.
$(BENCH_OUT)/gotlsbench: bench/gotlsbench/main.go | $(BENCH_OUT)
	$(call msg,GO,$@)
	$(Q)GOCACHE=$(abspath $(BENCH_OUT))/gocache \
		go build -trimpath -o $@ $<

$(BENCH_OUT)/syscallbench: bench/syscallbench.c | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

$(BENCH_OUT)/dlsleeper: bench/dlsleeper.c | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -ldl -o $@

.PHONY: bench-libc bench-tools

# The helpers alone: make test-e2e builds them, and tests/e2e/
# test_bench_tools.py runs them briefly, so that they keep working.
bench-tools: $(BENCH_BINS)

# The sensor again with glibc's malloc (Makefile MALLOC), which the replay
# section runs too, for comparison.
bench-libc: $(OUT)/vmlinux.h
	$(Q)$(MAKE) --no-print-directory OUT=$(BENCH_OUT)/libc MALLOC=libc \
		VMLINUX_H=$(abspath $(OUT)/vmlinux.h) all

bench: $(OUT)/oisp-sensor $(BENCH_BINS) bench-libc
	$(Q)/usr/bin/python3 bench/run.py --build $(OUT) $(BENCH_ARGS)

-include $(wildcard $(BENCH_OUT)/*.d)
