# kindling - build, test, demo, bench.
#
#   make            build build/kindling
#   make test       install what is missing, build, run every test suite
#   make demo       install, build, seed a sample data folder and serve it
#   make bench      benchmarks (not part of make test)
#
# Build output goes to $(O) (build/ by default); sanitizer builds go to
# build/san/ and are made by calling this Makefile again with O and SAN set.

O       ?= build
SAN     ?=
CC      ?= cc
PKGS    := libavformat libavcodec libavutil libswscale libswresample sqlite3 libmicrohttpd \
           jansson libsodium libcurl

# Debian packages: to build, to test, to benchmark.
DEB_BUILD := gcc make pkg-config libavformat-dev libavcodec-dev libavutil-dev \
             libswscale-dev libswresample-dev libsqlite3-dev libmicrohttpd-dev libjansson-dev \
             libsodium-dev libcurl4-openssl-dev
DEB_TEST  := $(DEB_BUILD) libcmocka-dev clang libclang-rt-14-dev curl jq ffmpeg sqlite3 \
             chromium fonts-dejavu-core
DEB_DEMO  := $(DEB_BUILD) ffmpeg
DEB_BENCH := $(DEB_BUILD) wrk nginx-light curl jq ffmpeg

CFLAGS_BASE := -std=c17 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow \
               -Wstrict-prototypes -Wmissing-prototypes -Iinclude -g
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

LIB_SRC  := $(sort $(wildcard src/util/*.c src/catalogue/*.c src/media/*.c src/jobs/*.c \
                              src/web/*.c src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/obj/%.o) $(O)/obj/gen/schema.o $(O)/obj/gen/assets.o
MIGRATIONS := $(sort $(wildcard schema/*.sql))
ASSETS   := $(sort $(wildcard assets/*.css assets/*.js assets/*.svg))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

.PHONY: all deps deps-test deps-bench deps-demo test unit integration sanitize fuzz demo bench clean
all: $(O)/kindling

$(O)/obj/%.o: %.c $(wildcard include/kindling/*.h) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -Isrc -c -o $@ $<

# The migrations are compiled into the binary: one string per schema/ file.
$(O)/gen/schema.c: $(MIGRATIONS) tests/embed.sh
	@mkdir -p $(dir $@)
	@sh tests/embed.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(O)/obj/gen/schema.o: $(O)/gen/schema.c
	@mkdir -p $(dir $@)
	@$(CC) $(CFLAGS) -c -o $@ $<

# The web assets too: one byte array per assets/ file, and a content hash
# that goes into their URLs.
$(O)/gen/assets.c: $(ASSETS) tests/embed_assets.sh
	@mkdir -p $(dir $@)
	@sh tests/embed_assets.sh $(ASSETS) > $@.tmp && mv $@.tmp $@

$(O)/obj/gen/assets.o: $(O)/gen/assets.c include/kindling/assets.h
	@mkdir -p $(dir $@)
	@$(CC) $(CFLAGS) -c -o $@ $<

$(O)/libkindling.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(O)/kindling: $(O)/obj/src/main.o $(O)/libkindling.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: tests/unit/%.c tests/unit/helpers.h $(O)/libkindling.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -Isrc -o $@ $< $(O)/libkindling.a $(LDFLAGS) $(LDLIBS) -lcmocka

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
# Test clients from npm (tus-js-client, playwright-core), at the versions of the lock file.
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

unit: $(UNIT_BIN)
	@sh tests/run_unit.sh $(UNIT_BIN)

integration: $(O)/kindling
	@rc=0; for t in $(filter-out tests/integration/lib.sh,$(wildcard tests/integration/*.sh)); do \
	  KINDLING_BIN=$(abspath $(O)/kindling) bash $$t || rc=1; \
	done; exit $$rc

# The unit and integration suites again, built with ASan and UBSan.
sanitize:
	$(MAKE) --no-print-directory O=build/san SAN=1 unit integration

fuzz:
	@$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk run

test: deps-test
	$(MAKE) --no-print-directory all
	@MAKE="$(MAKE)" bash tests/run_all.sh

DEMO_DATA ?= kindling-data
demo: deps-demo
	$(MAKE) --no-print-directory all
	sh tests/demo.sh $(O)/kindling $(DEMO_DATA)

bench: deps-bench
	$(MAKE) --no-print-directory all
	bash bench/bench.sh $(abspath $(O)/kindling)

clean:
	rm -rf build
