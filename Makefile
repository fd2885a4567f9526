# SPDX-License-Identifier: MIT
#
# oisp-sensor build.  Everything goes to $(OUT) (default build/).
#   make            sensor binary (build/oisp-sensor)
#   make test       README's test command: deps, unit tests, a short fuzz
#                   run (tests/fuzz/fuzz.mk), e2e tests and the podman
#                   mode of the cookbook (root)
#   make test-unit  Criterion unit tests only (no root)
#   make V=1        show the commands
#   make SANITIZER=address|undefined
#   make MALLOC=libc   the sensor with glibc's malloc instead of mimalloc
#   make VMLINUX_H=path/to/vmlinux.h   pin a vmlinux.h instead of generating it
.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

OUT ?= build
OBJDIR := $(OUT)/obj
TESTDIR := $(OUT)/tests
CC ?= cc
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION ?= 0.1.0

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
	    -Wstrict-prototypes -Wundef -Wwrite-strings -Wno-unused-parameter
# The project's preprocessor flags: one set for make, make check and the
# fuzzers.  Sources include project headers by their stage folder
# ("capture/attach.h"), relative to sensor/.
OISP_CPPFLAGS := -std=gnu11 -D_GNU_SOURCE -DOISP_VERSION='"$(VERSION)"' \
	-Ibpf -Isensor
CFLAGS ?= -g -O2
CFLAGS += $(WARNINGS) $(OISP_CPPFLAGS) -I$(OUT) -MMD -MP
LDLIBS := -lbpf -lelf -lz -lcjson -lpcre2-8 -lyaml -lbrotlidec -lhttp_parser -lnghttp2 -lm \
	  -lcurl -lpthread -lmicrohttpd $(shell pkg-config --libs capstone)

ifneq ($(SANITIZER),)
CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZER)
endif

# The sensor's allocator.  cJSON allocates each node, key and string of a
# parsed body one by one, and glibc's malloc and free were a fifth of the
# time to parse AI traffic; mimalloc halves that (bench/results/RESULTS.md,
# replay).  The sanitizers bring their own allocator, and the unit tests
# and fuzz targets keep glibc's, which valgrind and ASan understand.
MALLOC ?= mimalloc
ifneq ($(SANITIZER),)
override MALLOC := libc
endif
ifeq ($(MALLOC),mimalloc)
SENSOR_LDLIBS := -lmimalloc
$(OBJDIR)/lib/heap.o: CFLAGS += -DOISP_MIMALLOC
else ifneq ($(MALLOC),libc)
$(error MALLOC must be mimalloc or libc, not '$(MALLOC)')
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUT) -Ibpf \
	      -Wall -Werror -MMD -MP

# Every userspace source, one folder per stage (README, "Design").  All
# but main.c go into one static archive that the sensor, the unit tests
# and the fuzzers link: a program takes the objects it uses, and -MMD
# files track the headers, so no list of dependencies is written here.
SRCS := $(wildcard sensor/*/*.c)
MAIN_SRC := sensor/cmd/main.c
OBJS := $(patsubst sensor/%.c,$(OBJDIR)/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(OBJDIR)/cmd/main.o,$(OBJS))
LIB := $(OUT)/liboisp.a

# Unit tests: tests/unit/test_NAME.c, linked with the archive (parsers
# need no libbpf at run time and no root).
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(TESTDIR)/%,$(TEST_SRCS))
TEST_LDLIBS := -lcriterion
# test_k8s runs a loopback HTTPS server; test_badinput builds brotli bombs.
$(TESTDIR)/test_k8s: TEST_LDLIBS += -lssl -lcrypto
$(TESTDIR)/test_badinput: TEST_LDLIBS += -lbrotlienc

.PHONY: all clean test test-unit test-e2e test-podman deps install bench
all: $(OUT)/oisp-sensor

$(OUT) $(OBJDIR) $(TESTDIR):
	$(Q)mkdir -p $@

ifneq ($(VMLINUX_H),)
$(OUT)/vmlinux.h: $(VMLINUX_H) | $(OUT)
	$(Q)cp $< $@
else
$(OUT)/vmlinux.h: | $(OUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@
endif

# The capture object is linked from one unit per file of bpf/: the
# shared state (capture.bpf.c), the process events (proc.bpf.c) and one
# file per TLS stack.  A new stack is a new file here.
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUT)/capture.bpf.o: $(BPF_OBJS)
	$(call msg,BPF-LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# The loader includes the generated skeleton.
$(OBJDIR)/capture/capture.o: $(OUT)/capture.skel.h
# .incbin does not show up in -MMD output.
$(OBJDIR)/ai/rules_default.o: rules/default.yaml

$(OBJDIR)/%.o: sensor/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# MALLOC's value, rewritten when it changes: heap.o and the link follow.
MALLOC_STAMP := $(OUT)/malloc.stamp
$(shell mkdir -p $(OUT) && { [ "$$(cat $(MALLOC_STAMP) 2>/dev/null)" = \
	"$(MALLOC)" ] || echo "$(MALLOC)" > $(MALLOC_STAMP); })
$(OBJDIR)/lib/heap.o: $(MALLOC_STAMP)

$(OUT)/oisp-sensor: $(OBJDIR)/cmd/main.o $(LIB) $(MALLOC_STAMP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(OBJDIR)/cmd/main.o $(LIB) $(SENSOR_LDLIBS) \
		$(LDLIBS) -o $@

$(TESTDIR)/test_%: tests/unit/test_%.c $(LIB) | $(TESTDIR)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) $(TEST_LDLIBS) -o $@

# The tests run in tests/unit (their fixtures' paths are relative to it);
# absolute paths let OUT be anywhere.
test-unit: $(TEST_BINS)
	$(Q)set -e; for t in $(abspath $(TEST_BINS)); do \
		echo "== $$t"; (cd tests/unit && $$t --jobs 1); done

# End-to-end tests need root, real eBPF and the test fixtures.
test-e2e: all bench-tools
	$(Q)/usr/bin/python3 -m pytest -v -p no:cacheprovider tests/e2e

# The sensor's image under podman with the rendered DaemonSet's pod spec
# (cookbook/podman).  Like test-e2e it takes no lock here: run it as
# `flock /tmp/oisp-e2e.lock make test-podman` (podman_test.py takes the lock
# itself when no ancestor holds it).
test-podman:
	$(Q)./test-all.sh --podman --results $(OUT)/cookbook/podman-results.txt podman

deps:
	$(Q)tests/install-deps.sh

# The README's test command.
test: deps
	$(Q)$(MAKE) --no-print-directory all test-unit
	$(Q)$(MAKE) --no-print-directory test-fuzz
	$(Q)$(MAKE) --no-print-directory test-e2e
	$(Q)$(MAKE) --no-print-directory test-podman

install: all
	install -D -m 0755 $(OUT)/oisp-sensor $(DESTDIR)/usr/sbin/oisp-sensor
	install -D -m 0644 rules/default.yaml $(DESTDIR)/etc/oisp-sensor/rules.yaml

clean:
	rm -rf $(OUT)

# Fuzzers (make test-fuzz), benchmarks (make bench) and static and
# dynamic checks (make check).
include tests/fuzz/fuzz.mk
include bench/bench.mk
include tests/check.mk

-include $(wildcard $(OBJDIR)/*/*.d $(OUT)/bpf/*.d $(TESTDIR)/*.d)
