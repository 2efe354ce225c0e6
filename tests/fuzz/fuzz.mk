# fuzz.mk - libFuzzer targets for every parser of untrusted input.
# Run by the top Makefile as `make fuzz` (make -f tests/fuzz/fuzz.mk run); each target runs for
# FUZZ_SECONDS from its seed corpus in tests/fuzz/corpus/<name>/.

FUZZ_O       := build/fuzz
FUZZ_SECONDS ?= 10
FUZZ_CC      := clang
# The top Makefile passes its own list (PKGS), so a library added there is linked here too.
FUZZ_PKGS    ?= $(error run me through the top Makefile: make fuzz)
FUZZ_CFLAGS  := -std=c17 -D_DEFAULT_SOURCE -g -O1 -fno-omit-frame-pointer -Iinclude -Isrc \
                -fsanitize=fuzzer-no-link,address,undefined $(shell pkg-config --cflags $(FUZZ_PKGS))
FUZZ_LIBS    := $(shell pkg-config --libs $(FUZZ_PKGS)) -lpthread -lm
# src/cli is the command line, not linked here, but for the manifest reader:
# a manifest may come from anywhere (fuzz_manifest.c).
FUZZ_SRC     := $(sort $(wildcard src/util/*.c src/storage/*.c src/catalogue/*.c src/media/*.c src/jobs/*.c \
                  src/identity/*.c src/web/*.c) src/cli/manifest.c)
FUZZ_OBJ     := $(FUZZ_SRC:%.c=$(FUZZ_O)/obj/%.o) $(FUZZ_O)/obj/schema.o $(FUZZ_O)/obj/assets.o
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: run
.SECONDARY:
run: $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz_%)
	@passed=0; failed=0; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_O)/corpus/$$t; \
	  if $(FUZZ_O)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	       -artifact_prefix=$(FUZZ_O)/crash-$$t- $(FUZZ_O)/corpus/$$t tests/fuzz/corpus/$$t \
	       > $(FUZZ_O)/$$t.log 2>&1; then \
	    echo "ok - fuzz $$t: $$(grep -a -o 'Done [0-9]* runs' $(FUZZ_O)/$$t.log | tail -1)"; passed=$$((passed+1)); \
	  else \
	    echo "FAIL - fuzz $$t (see $(FUZZ_O)/$$t.log)"; tail -30 $(FUZZ_O)/$$t.log; failed=$$((failed+1)); \
	  fi; \
	done; \
	echo "fuzz: $$passed passed, $$failed failed"; [ $$failed -eq 0 ]

$(FUZZ_O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

GEN_O := $(FUZZ_O)/gen
include src/tools/gen.mk

$(FUZZ_O)/obj/%.o: $(FUZZ_O)/gen/%.c
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

-include $(shell find $(FUZZ_O)/obj -name '*.d' 2>/dev/null)

$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	@echo "  FUZZ-LD $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(FUZZ_LIBS)
