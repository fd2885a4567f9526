# SPDX-License-Identifier: MIT
#
# oisp-sensor build.  Everything goes to $(OUT) (default build/).
#   make            sensor binary (build/oisp-sensor)
#   make test       README's test command: deps, unit tests, a short fuzz
#                   run (tests/fuzz/fuzz.mk), e2e tests (root)
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
CFLAGS ?= -g -O2
CFLAGS += $(WARNINGS) -std=gnu11 -D_GNU_SOURCE -DOISP_VERSION='"$(VERSION)"' \
	  -I$(OUT) -Ibpf -Isensor -MMD -MP
LDLIBS := -lbpf -lelf -lz -lcjson -lpcre2-8 -lyaml -lbrotlidec -lhttp_parser -lm \
	  -lcurl -lpthread -lmicrohttpd

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
$(OBJDIR)/heap.o: CFLAGS += -DOISP_MIMALLOC
else ifneq ($(MALLOC),libc)
$(error MALLOC must be mimalloc or libc, not '$(MALLOC)')
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUT) -Ibpf \
	      -Wall -Werror -MMD -MP

SRCS := $(wildcard sensor/*.c)
OBJS := $(patsubst sensor/%.c,$(OBJDIR)/%.o,$(SRCS))

# Unit tests: tests/unit/test_NAME.c links the modules listed in
# TEST_DEPS_NAME (parsers only: no libbpf, no root).
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(TESTDIR)/%,$(TEST_SRCS))
TEST_DEPS_test_http := http log
TEST_DEPS_test_decode := decode log
TEST_DEPS_test_sse := sse log
TEST_DEPS_test_rules := rules rules_default yamlutil log
TEST_DEPS_test_config := config redact yamlutil log
TEST_DEPS_test_redact := redact log
TEST_DEPS_test_extract := extract event ulid utf8 log
TEST_DEPS_test_event := event ulid utf8 log
TEST_DEPS_test_output := output log
TEST_DEPS_test_elfsym := elfsym procmaps log
TEST_DEPS_test_recfile := recfile log
TEST_DEPS_test_procinfo := procinfo cgroup log
TEST_DEPS_test_cgroup := cgroup
TEST_DEPS_test_target := target cgroup log
TEST_DEPS_test_k8s := k8s log
# test_k8s runs a loopback HTTPS server.
$(TESTDIR)/test_k8s: LDLIBS += -lssl -lcrypto
TEST_DEPS_test_status := status log
TEST_DEPS_test_privs := privs log
TEST_DEPS_test_pipeline := pipeline conntab http decode sse rules \
	rules_default yamlutil redact extract event ulid utf8 output procinfo cgroup \
	recfile aistats k8s log
TEST_DEPS_test_badinput := $(TEST_DEPS_test_pipeline)
TEST_DEPS_test_conntab := conntab
TEST_DEPS_test_aistats := aistats
TEST_DEPS_test_metrics := metrics aistats utf8 log

.PHONY: all clean test test-unit test-e2e deps install bench
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

$(OUT)/%.bpf.o: bpf/%.bpf.c $(OUT)/vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# The loader includes the generated skeleton.
$(OBJDIR)/capture.o: $(OUT)/capture.skel.h
# .incbin does not show up in -MMD output.
$(OBJDIR)/rules_default.o: rules/default.yaml

$(OBJDIR)/%.o: sensor/%.c | $(OBJDIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# MALLOC's value, rewritten when it changes: heap.o and the link follow.
MALLOC_STAMP := $(OUT)/malloc.stamp
$(shell mkdir -p $(OUT) && { [ "$$(cat $(MALLOC_STAMP) 2>/dev/null)" = \
	"$(MALLOC)" ] || echo "$(MALLOC)" > $(MALLOC_STAMP); })
$(OBJDIR)/heap.o: $(MALLOC_STAMP)

$(OUT)/oisp-sensor: $(OBJS) $(MALLOC_STAMP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(OBJS) $(SENSOR_LDLIBS) $(LDLIBS) -o $@

.SECONDEXPANSION:
$(TESTDIR)/test_%: tests/unit/test_%.c $$(addprefix $(OBJDIR)/,$$(addsuffix .o,$$(TEST_DEPS_test_$$*))) | $(TESTDIR)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c %.o,$^) $(LDLIBS) -lcriterion -o $@

# The tests run in tests/unit (their fixtures' paths are relative to it);
# absolute paths let OUT be anywhere.
test-unit: $(TEST_BINS)
	$(Q)set -e; for t in $(abspath $(TEST_BINS)); do \
		echo "== $$t"; (cd tests/unit && $$t --jobs 1); done

# End-to-end tests need root, real eBPF and the test fixtures.
test-e2e: all
	$(Q)/usr/bin/python3 -m pytest -v -p no:cacheprovider tests/e2e

deps:
	$(Q)tests/install-deps.sh

# The README's test command.
test: deps
	$(Q)$(MAKE) --no-print-directory all test-unit
	$(Q)$(MAKE) --no-print-directory test-fuzz
	$(Q)$(MAKE) --no-print-directory test-e2e

install: all
	install -D -m 0755 $(OUT)/oisp-sensor $(DESTDIR)/usr/sbin/oisp-sensor
	install -D -m 0644 rules/default.yaml $(DESTDIR)/etc/oisp-sensor/rules.yaml

clean:
	rm -rf $(OUT)

include tests/fuzz/fuzz.mk
# Issue 4 fragments: benchmarks (make bench) and static/dynamic checks (make check).
-include bench/bench.mk
-include tests/check.mk

-include $(wildcard $(OBJDIR)/*.d $(OUT)/*.d $(TESTDIR)/*.d)
