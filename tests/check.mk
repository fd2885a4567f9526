# SPDX-License-Identifier: MIT
# Static and dynamic checks, included by the top Makefile.
#   make check            everything below; -k to see every failure
#   make check-tidy       clang-tidy (.clang-tidy) over sensor/*/*.c
#   make check-cppcheck   cppcheck over sensor/*/*.c
#   make check-asan       unit tests built in $(OUT)/asan with ASan + UBSan
#   make check-valgrind   unit tests under valgrind memcheck
#   make check-fuzz       make fuzz-smoke (each fuzzer FUZZ_SMOKE_SECONDS)
# Each part writes to its own directory, so make -j runs them side by side.
CLANG_TIDY ?= clang-tidy
CPPCHECK ?= cppcheck
VALGRIND ?= valgrind
CHECK_OUT := $(OUT)/check

# The project's preprocessor flags (see CFLAGS).  $(OUT) is a system
# include directory here: the generated skeleton is bpftool's code, and
# the analyzer's findings in it (libbpf frees what it sees leaking) are
# not ours.
CHECK_CPPFLAGS := $(OISP_CPPFLAGS) -isystem $(OUT)

.PHONY: check check-tidy check-cppcheck check-asan check-valgrind check-fuzz
check: check-tidy check-cppcheck check-asan check-valgrind check-fuzz
	@echo "check: all clean"

# ---- clang-tidy: one stamp per source file, redone when it, any
# project header, the skeleton or .clang-tidy changes.  A finding located
# in sensor/ or bpf/ fails; findings located in the generated skeleton do
# not: the analyzer follows calls into it and reports there (whatever
# -isystem says) a leak of the object bpf_object__destroy_skeleton()
# frees, and its notes in capture.c defeat --line-filter.
TIDY_STAMPS := $(patsubst sensor/%.c,$(CHECK_OUT)/tidy/%.ok,$(SRCS))

$(CHECK_OUT)/tidy:
	$(Q)mkdir -p $@

$(CHECK_OUT)/tidy/%.ok: sensor/%.c .clang-tidy $(wildcard sensor/*/*.h bpf/*.h) \
		$(OUT)/capture.skel.h
	$(call msg,TIDY,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG_TIDY) --quiet --warnings-as-errors='-*' $< -- \
		$(CHECK_CPPFLAGS) > $(@:.ok=.log) 2>&1 || \
		{ cat $(@:.ok=.log) >&2; exit 1; }
	$(Q)if grep -Eq '^([^ ]*/)?(sensor|bpf)/([^ :/]+/)?[^ :/]+:[0-9]+:[0-9]+: (warning|error):' \
		$(@:.ok=.log); then cat $(@:.ok=.log) >&2; exit 1; fi
	$(Q)touch $@

check-tidy: $(TIDY_STAMPS)

# ---- cppcheck.  The library headers it must expand (cJSON_ArrayForEach,
# LIBBPF_OPTS) are linked into a directory of their own: pointing it at
# /usr/include would make it parse glibc, which it cannot.
CPPCHECK_INC := $(CHECK_OUT)/cppcheck-inc

$(CPPCHECK_INC):
	$(Q)mkdir -p $@ && ln -sfn /usr/include/cjson $@/cjson && \
		ln -sfn /usr/include/bpf $@/bpf

check-cppcheck: | $(CPPCHECK_INC)
	$(call msg,CPPCHECK,sensor/*/*.c)
	$(Q)$(CPPCHECK) --quiet --error-exitcode=1 --inline-suppr \
		--enable=warning,performance,portability --std=c11 \
		--library=posix --suppress-xml=tests/cppcheck-suppressions.xml \
		-D_GNU_SOURCE -D__$(shell uname -m)__ -DOISP_VERSION='"$(VERSION)"' \
		-Isensor -Ibpf -I$(CPPCHECK_INC) $(SRCS)

# ---- ASan + UBSan: the whole unit suite rebuilt in its own tree.  UBSan
# recovers by default; halt_on_error makes a finding fail the test.  The
# binaries are checked for the sanitizer runtimes, so that a Makefile
# that stopped passing -fsanitize to the compiler or the linker fails.
ASAN_OUT := $(OUT)/asan
# GCC's flow warnings see the sanitizers' instrumentation and report
# out-of-bounds accesses that are not there (the GCC manual warns about
# -fsanitize with -Werror); they stay warnings in this build only.
ASAN_ENV := CFLAGS='-g -O2 -Wno-error=array-bounds -Wno-error=stringop-overflow'

check-asan:
	$(Q)$(ASAN_ENV) $(MAKE) --no-print-directory OUT=$(ASAN_OUT) \
		SANITIZER=address,undefined $(patsubst $(OUT)/%,$(ASAN_OUT)/%,$(TEST_BINS))
	$(Q)for t in $(patsubst $(OUT)/%,$(ASAN_OUT)/%,$(TEST_BINS)); do \
		nm $$t | grep -q '__asan_report_load' && \
		nm $$t | grep -q '__ubsan_handle_' || \
		{ echo "$$t: not built with ASan and UBSan" >&2; exit 1; }; \
	done
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(ASAN_ENV) $(MAKE) --no-print-directory OUT=$(ASAN_OUT) \
		SANITIZER=address,undefined test-unit

# ---- valgrind memcheck on each unit test binary (the ordinary build).
# Criterion runs each test in a child process; --trace-children follows
# it there (system programs the tests exec are skipped: not ours).
# Criterion records a child's result before the child exits, so
# memcheck's exit code would be lost: every process writes its own log,
# and a log whose ERROR SUMMARY is not 0 (leaks count: definite and
# indirect), or that shows a process killed by a signal, fails the check.
# CRITERION_NO_EARLY_EXIT lets the children return from main, so that
# their leaks are checked too.
VALGRIND_DIR := $(CHECK_OUT)/valgrind
VALGRIND_FLAGS := --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --trace-children=yes \
	--trace-children-skip='/usr/*,/bin/*,/sbin/*' --num-callers=30 \
	--suppressions=$(abspath $(VALGRIND_DIR))/pcre2-jit.supp
# Tests that measure time, which means nothing at valgrind's speed (they
# still run in test-unit and check-asan).  stop_is_prompt_during_a_request
# passes under memcheck, but its k8s__stop took up to 1.0 s of 1.5 s.
VALGRIND_SKIP_test_k8s := client/stop_is_prompt_during_a_request
check_rparen := )

# PCRE2 compiles the rules' and the redactor's regexes to machine code
# (pcre2_jit_compile) that reads past the subject on purpose, in 16-byte
# loads; Debian's libpcre2 is not built with --enable-valgrind, so
# memcheck reports reads and jumps in code that belongs to no object.
# Only errors whose top frame is in no object are matched.
PCRE2_JIT_KINDS := Cond Value1 Value2 Value4 Value8 Value16 Value32 \
	Addr1 Addr2 Addr4 Addr8 Addr16 Addr32

$(VALGRIND_DIR)/pcre2-jit.supp:
	$(Q)mkdir -p $(@D)
	$(Q)for k in $(PCRE2_JIT_KINDS); do \
		printf '{\n   pcre2-jit-code-%s\n   Memcheck:%s\n   obj:???\n}\n' \
			$$k $$k; done > $@

check-valgrind: $(TEST_BINS) $(VALGRIND_DIR)/pcre2-jit.supp
	$(Q)$(VALGRIND) -q /bin/true || { echo "valgrind cannot run here:" \
		"a uprobe in ld.so or libc (a running oisp-sensor attaches" \
		"_dl_debug_state) is an int3 that valgrind executes as" \
		"SIGTRAP; stop the sensor and retry" >&2; exit 1; }
	$(Q)rm -f $(VALGRIND_DIR)/*.log
	$(Q)set -e; for t in $(abspath $(TEST_BINS)); do \
		n=$${t##*/}; echo "== valgrind $$t"; \
		case $$n in \
		$(foreach b,$(patsubst $(TESTDIR)/%,%,$(TEST_BINS)),$(if \
			$(VALGRIND_SKIP_$(b)),$(b)$(check_rparen) f='--filter=!($(VALGRIND_SKIP_$(b)))';;)) \
		*$(check_rparen) f=;; \
		esac; \
		(cd tests/unit && CRITERION_NO_EARLY_EXIT=1 $(VALGRIND) \
		 $(VALGRIND_FLAGS) --log-file=$(abspath $(VALGRIND_DIR))/$$n.%p.log \
		 $$t --jobs 1 $$f); \
	done
	$(Q)bad=$$(grep -lE 'ERROR SUMMARY: [1-9]|Process terminating with default action' \
		$(VALGRIND_DIR)/*.log); if [ -n "$$bad" ]; then cat $$bad >&2; \
		echo "valgrind: errors in $$bad" >&2; exit 1; fi

# ---- libFuzzer smoke run (tests/fuzz/fuzz.mk).
check-fuzz:
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
