# kindling - build, test, demo, bench.
#
#   make            build build/kindling
#   make test       install what is missing, build, run every test suite
#   make demo       install, build, seed a sample data folder and serve it
#   make bench      benchmarks (not part of make test)
#   make unit [TEST=name]          the unit tests (or tests/unit/test_<name>.c)
#   make integration [SUITE=name]  the integration suites (or one of them)
#   make crash      50 rounds of kill -9 at random moments (3 run in make test)
#   make soak       10 minutes of browsing, uploads and ingest at once
#   make fuzz-long  an hour of fuzzing (make test runs each target 10 s)
#
# Build output goes to $(O) (build/ by default); sanitizer builds go to
# build/san/ and are made by calling this Makefile again with O and SAN set.

O       ?= build
SAN     ?=
CC      ?= cc

# The C libraries, as pkg-config name:Debian package.  `make` checks them
# first and names the packages to install, instead of failing on a header.
LIBS := libavformat:libavformat-dev libavcodec:libavcodec-dev libavutil:libavutil-dev \
        libswscale:libswscale-dev libswresample:libswresample-dev sqlite3:libsqlite3-dev \
        libmicrohttpd:libmicrohttpd-dev jansson:libjansson-dev libsodium:libsodium-dev \
        libcurl:libcurl4-openssl-dev libcrypto:libssl-dev libseccomp:libseccomp-dev \
        libpq:libpq-dev cjose:libcjose-dev libzip:libzip-dev
PKGS := $(foreach l,$(LIBS),$(firstword $(subst :, ,$(l))))

# Debian packages: to build, to test, to benchmark.
DEB_BUILD := gcc make pkg-config $(foreach l,$(LIBS),$(lastword $(subst :, ,$(l))))
DEB_TEST  := $(DEB_BUILD) libcmocka-dev clang libclang-rt-14-dev curl jq ffmpeg sqlite3 \
             chromium fonts-dejavu-core postgresql nginx-light zip python3 python3-prometheus-client \
             pocketsphinx pocketsphinx-en-us espeak-ng python3-aiosmtpd
DEB_DEMO  := $(DEB_BUILD) ffmpeg
DEB_BENCH := $(DEB_BUILD) wrk nginx-light curl jq ffmpeg

CFLAGS_BASE := -std=c17 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow \
               -Wstrict-prototypes -Wmissing-prototypes -Iinclude -g -MMD -MP
ifeq ($(SAN),1)
  CFLAGS_OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined
  LDFLAGS_SAN := -fsanitize=address,undefined
else
  CFLAGS_OPT := -O2
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += $(CFLAGS_BASE) $(CFLAGS_OPT) $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread -lm
LDFLAGS += $(LDFLAGS_SAN)

LIB_SRC  := $(sort $(wildcard src/util/*.c src/storage/*.c src/catalogue/*.c src/media/*.c \
                              src/jobs/*.c src/identity/*.c src/mail/*.c src/web/*.c src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/obj/%.o) $(O)/obj/gen/schema.o $(O)/obj/gen/assets.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
SUITES   := $(sort $(basename $(notdir $(filter-out tests/integration/lib.sh,\
                $(wildcard tests/integration/*.sh)))))

.PHONY: all deps deps-test deps-bench deps-demo build-deps test unit integration postgres layers \
        sanitize fuzz fuzz-long crash soak demo bench clean
all: $(O)/kindling

# Every missing library at once, with the packages that bring it.
build-deps:
	@missing=""; for l in $(LIBS); do \
	  pkg-config --exists "$${l%%:*}" 2>/dev/null || missing="$$missing $${l#*:}"; \
	done; \
	command -v pkg-config >/dev/null || missing="pkg-config$$missing"; \
	if [ -n "$$missing" ]; then \
	  echo "kindling: cannot build: the Debian packages$$missing are missing."; \
	  echo "kindling: install them with 'make deps' (it runs apt-get), then run make again."; \
	  exit 1; \
	fi

$(O)/obj/%.o: %.c | build-deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Isrc -c -o $@ $<

GEN_O := $(O)/gen
include src/tools/gen.mk

$(O)/obj/gen/%.o: $(O)/gen/%.c | build-deps
	@mkdir -p $(dir $@)
	@$(CC) $(CFLAGS) -c -o $@ $<

$(O)/libkindling.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(O)/kindling: $(O)/obj/src/main.o $(O)/libkindling.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: tests/unit/%.c tests/unit/helpers.h $(O)/libkindling.a | build-deps
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -Isrc -o $@ $< $(O)/libkindling.a $(LDFLAGS) $(LDLIBS) -lcmocka

# The storage suite drives src/storage through a program of its own
# (tests/integration/storage_tool.c), built beside the unit tests.
$(O)/tests/storage_tool: tests/integration/storage_tool.c $(O)/libkindling.a | build-deps
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -Isrc -o $@ $< $(O)/libkindling.a $(LDFLAGS) $(LDLIBS)

-include $(shell find $(O)/obj $(O)/tests -name '*.d' 2>/dev/null)
# Install what is missing: apt-get update once, then apt-get install -y.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
endef

# The same, as one shell command (for use inside a recipe line).
apt_install_now = sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $(1)

deps:
	$(call apt_install,$(DEB_BUILD))
# Test clients from npm (tus-js-client, playwright-core, aws4) and s3rver, at the versions of the
# lock file.
deps-test:
	$(call apt_install,$(DEB_TEST))
	@command -v npm >/dev/null || { $(call apt_install_now,nodejs npm); }
	@if [ ! -d tests/node_modules ] || [ tests/package-lock.json -nt tests/node_modules ]; then \
	  echo "npm ci (tests/)"; cd tests && npm ci --no-audit --no-fund --loglevel=error && touch node_modules; \
	fi
deps-bench:
	$(call apt_install,$(DEB_BENCH))
deps-demo:
	$(call apt_install,$(DEB_DEMO))

# One piece: `make unit TEST=catalogue`, `make integration SUITE=upload`.
UNIT_RUN   := $(if $(TEST),$(O)/tests/test_$(TEST),$(UNIT_BIN))
SUITES_RUN := $(if $(SUITE),$(SUITE),$(SUITES))

unit:
	@[ -z "$(TEST)" ] || [ -f tests/unit/test_$(TEST).c ] || \
	  { echo "make unit: no tests/unit/test_$(TEST).c; the unit tests are: $(UNIT_SRC:tests/unit/test_%.c=%)"; exit 2; }
	@$(MAKE) --no-print-directory $(UNIT_RUN)
	@sh tests/run_unit.sh $(UNIT_RUN)

integration: $(O)/kindling $(O)/tests/storage_tool
	@rc=0; for t in $(SUITES_RUN); do \
	  [ -f tests/integration/$$t.sh ] || \
	    { echo "make integration: no suite '$$t'; the suites are: $(SUITES)"; rc=2; continue; }; \
	  KINDLING_BIN=$(abspath $(O)/kindling) bash tests/integration/$$t.sh || rc=1; \
	done; exit $$rc

# The unit tests and the suites that touch the catalogue again, on
# PostgreSQL (a throwaway cluster for the run: tests/run_pg.sh).  `make
# postgres SUITE=upload` runs one suite (and the unit tests).
PG_SUITES := answers auth authz browser catalogue cli edit hardening media nodes pipeline s3media server upload visits catadmin accounts oidc rosterpage roster backup consent metrics check retention audit moments moment_pages captions transcribe spread mail mail_events mail_people
postgres: $(UNIT_BIN) $(O)/kindling $(O)/tests/storage_tool
	@bash tests/run_pg.sh $(abspath $(O)) $(UNIT_BIN) -- $(if $(SUITE),$(SUITE),$(PG_SUITES))

# The house rules of the tree (tests/layers.sh), read from the objects.
layers: $(O)/kindling
	@bash tests/layers.sh $(O)/obj

# The unit and integration suites again, built with ASan and UBSan.
sanitize:
	$(MAKE) --no-print-directory O=build/san SAN=1 unit integration

fuzz:
	@$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk run FUZZ_PKGS="$(PKGS)"

# An hour of fuzzing in all, shared by the targets (not part of make test).
FUZZ_TARGET_COUNT = $(words $(wildcard tests/fuzz/fuzz_*.c))
fuzz-long:
	@$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk run FUZZ_PKGS="$(PKGS)" \
	  FUZZ_SECONDS=$$((3600 / $(FUZZ_TARGET_COUNT)))

# kill -9 at random moments, many rounds (a few run in make test).
crash: deps-test
	$(MAKE) --no-print-directory all
	CRASH_ROUNDS=$${CRASH_ROUNDS:-50} KINDLING_BIN=$(abspath $(O)/kindling) \
	  bash tests/integration/crash.sh

# Ten minutes of browsing, uploads and ingest at once (not part of make test).
soak: deps-test deps-bench
	$(MAKE) --no-print-directory all
	KINDLING_BIN=$(abspath $(O)/kindling) bash tests/soak.sh

test: deps-test
	$(MAKE) --no-print-directory all
	@MAKE="$(MAKE)" bash tests/run_all.sh

DEMO_DATA ?= kindling-data
demo: deps-demo
	$(MAKE) --no-print-directory all
	sh src/tools/demo.sh $(O)/kindling $(DEMO_DATA)

# The in-process media benchmark is a program of its own, built beside the
# binary (bench/media.c).
$(O)/bench/media: bench/media.c $(O)/libkindling.a | build-deps
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -Isrc -o $@ $< $(O)/libkindling.a $(LDFLAGS) $(LDLIBS)

bench: deps-bench
	$(MAKE) --no-print-directory all $(O)/bench/media
	bash bench/bench.sh $(abspath $(O)/kindling)

clean:
	rm -rf build
