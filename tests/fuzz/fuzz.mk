# SPDX-License-Identifier: MIT
# libFuzzer targets (clang, ASan + UBSan), included by the top Makefile.
#   make fuzz-build            build/fuzz/fuzz_NAME for every target
#   make fuzz-smoke            each target for FUZZ_SMOKE_SECONDS (default 10)
#   make fuzz                  each target for FUZZ_SECONDS (default 300)
#   make test-fuzz             each target for FUZZ_TEST_SECONDS (default 5),
#                              run by `make test`
# A crash, a leak, a timeout or running out of memory fails the run; the
# input is left in build/fuzz/crash-NAME-* and the log's tail is shown.
# Seeds live in tests/fuzz/corpus/NAME/; runs write new inputs to a
# scratch copy under build/fuzz/, never into the repository.
FUZZ_OUT := $(OUT)/fuzz
FUZZ_OBJDIR := $(FUZZ_OUT)/obj
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wall \
	$(OISP_CPPFLAGS) -I$(OUT) -MMD -MP
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_TEST_SECONDS ?= 5

# The sensor's objects built again with the fuzzers' instrumentation, in
# an archive of their own: each target takes what it uses.
FUZZ_LIB_OBJS := $(patsubst $(OBJDIR)/%,$(FUZZ_OBJDIR)/%,$(LIB_OBJS))
FUZZ_LIB := $(FUZZ_OUT)/liboisp.a

FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(addprefix $(FUZZ_OUT)/,$(FUZZ_NAMES))

$(FUZZ_OBJDIR)/%.o: sensor/%.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_OBJDIR)/capture/capture.o: $(OUT)/capture.skel.h
$(FUZZ_OBJDIR)/ai/rules_default.o: rules/default.yaml

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_LDFLAGS) $< $(FUZZ_LIB) \
		$(LDLIBS) -o $@

.PHONY: fuzz-build fuzz fuzz-smoke test-fuzz
fuzz-build: $(FUZZ_BINS)

# $(1): seconds per target
define fuzz_run
	$(Q)set -e; for n in $(FUZZ_NAMES); do \
		rm -rf $(FUZZ_OUT)/work/$$n; mkdir -p $(FUZZ_OUT)/work/$$n; \
		cp -r tests/fuzz/corpus/$$n/. $(FUZZ_OUT)/work/$$n/ 2>/dev/null || true; \
		echo "== $$n ($(1) s)"; \
		if ! $(FUZZ_OUT)/$$n -max_total_time=$(1) -rss_limit_mb=2048 \
			-timeout=10 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_OUT)/crash-$$n- \
			$(FUZZ_OUT)/work/$$n > $(FUZZ_OUT)/$$n.log 2>&1; then \
			tail -60 $(FUZZ_OUT)/$$n.log; exit 1; fi; \
		grep -E "^Done|number_of_executed_units" $(FUZZ_OUT)/$$n.log; \
	done
endef

fuzz-smoke: fuzz-build
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS))

test-fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_TEST_SECONDS))

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_SECONDS))

-include $(wildcard $(FUZZ_OBJDIR)/*/*.d $(FUZZ_OUT)/*.d)
