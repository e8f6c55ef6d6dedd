# subnode — plain Makefile.
#
#   make            build every program into build/bin/
#   make asan       the same with ASan+UBSan into build-asan/bin/
#   make test       unit tests (cmocka, under ASan+UBSan) + integration tests
#                   (bats); ends with "N passed, M failed"
#   make bench      benchmarks in bench/ (figures go to docs/BENCHMARKS.md)
#   make conformance  OCI runtime-tools suite, subrun and runc side by side
#   make fuzz       libFuzzer targets (clang) into build-fuzz/fuzz/;
#                   make fuzz-replay runs them over their corpus once
#
# Layout: one folder per layer under src/ (base runtime image api node manager
# cli). Every .c in src/<layer>/ goes into build/lib/libsn_<layer>.a; every
# folder src/cli/<prog>/ is one program build/bin/<prog>. New files need no
# Makefile edit. tests/unit/<layer>/test_*.c are cmocka programs.

.DEFAULT_GOAL := all
LAYERS   := base runtime image api node manager
BUILD    ?= build
CC       ?= gcc
PKGS     := libseccomp libcap jansson libcrypto libmicrohttpd gnutls libcurl libarchive sqlite3 libmnl libnftnl libnftables
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS_WARN := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -D_GNU_SOURCE -g
CFLAGS_BASE := $(CFLAGS_WARN) -Isrc $(PKG_CFLAGS)
ifeq ($(SANITIZE),1)
OPT := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),fuzz)
OPT = $(FUZZ_OPT)
else
OPT := -O2
endif
CFLAGS  ?=
CFLAGS  += $(CFLAGS_BASE) $(OPT) -MMD -MP
LDFLAGS += $(if $(filter 1,$(SANITIZE)),-fsanitize=address$(comma)undefined) -Wl,--as-needed
comma := ,

# ---- libraries, one per layer
define layer_rules
$(1)_SRCS := $$(wildcard src/$(1)/*.c)
$(1)_OBJS := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRCS))
$(BUILD)/lib/libsn_$(1).a: $$($(1)_OBJS)
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(if $$($(1)_OBJS),ar rcs $$@ $$^,ar rcs $$@)
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rules,$(l))))

# Link order: higher layers first.
LIBS_ALL := $(foreach l,manager node api image runtime base,$(BUILD)/lib/libsn_$(l).a)

# ---- programs
# The plain build keeps its debug info beside the program (bin/X.debug, found
# by gdb through the debuglink) instead of inside it: subrun copies its own
# executable into a sealed memfd on every create/run/exec (clone_binary.c),
# and the copy costs in proportion to the file — 865 KB with -g, 221 KB
# without: -0.37 ms CPU per `subrun run` (docs/BENCHMARKS.md, Runtime).
split_debug = objcopy --only-keep-debug $(1) $(1).debug && objcopy --strip-debug --add-gnu-debuglink=$(1).debug $(1)
SPLIT_DEBUG = $(call split_debug,$$@)
PROGS := $(notdir $(patsubst %/,%,$(wildcard src/cli/*/)))
# subnode-sup runs once per subnode (what conmon is to podman) and uses libc
# only, so it is linked statically against musl (Debian's musl-tools), as a
# static PIE (keeps ASLR): 0.14 MiB RSS with its subnode running, against
# 1.6 MiB with the shared glibc (whose mapped pages count in every
# supervisor's RSS) and 0.9 MiB with a static glibc; its exec to exit is
# 0.08 ms instead of 0.6 ms (docs/NODE.md, The supervisor). musl-gcc's specs
# know no -static-pie, hence the explicit start files (rcrt1.o relocates
# the program itself). The ASan build keeps glibc (ASan needs it); the node
# tests run this one (tests/lib/node.bash, NODE_SUP).
SUP_CC ?= musl-gcc
MUSL_LIB ?= /usr/lib/$(patsubst %-gnu,%-musl,$(shell gcc -dumpmachine))
SUP_LINK = $(SUP_CC) -nostartfiles -Wl,-static,-pie,--no-dynamic-linker,-z,text -o $@ \
	$(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o $(shell gcc -print-file-name=crtbeginS.o) \
	$(SUP_OBJS) $(shell gcc -print-file-name=crtendS.o) $(MUSL_LIB)/crtn.o
GLIBC_PROGS := $(if $(filter 1,$(SANITIZE)),$(PROGS),$(filter-out subnode-sup,$(PROGS)))
# The dashboard's files (web/: plain HTML, CSS and JS, no build step of
# their own) go into subnode-manager as a generated C table, so the page
# needs no other server and no file at run time (docs/MANAGER.md, The
# dashboard).
WEB_FILES := $(wildcard web/*)
$(BUILD)/gen/web_assets.c: $(WEB_FILES) scripts/embed-web.sh
	@mkdir -p $(dir $@)
	bash scripts/embed-web.sh web $@
$(BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc/cli/subnode-manager -c -o $@ $<
subnode-manager_EXTRA_OBJS := $(BUILD)/obj/gen/web_assets.o
define prog_rules
$(1)_SRCS := $$(wildcard src/cli/$(1)/*.c)
$(1)_OBJS := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRCS))
$(BUILD)/bin/$(1): $$($(1)_OBJS) $$($(1)_EXTRA_OBJS) $(LIBS_ALL)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$($(1)_OBJS) $$($(1)_EXTRA_OBJS) $(LIBS_ALL) $(PKG_LIBS) -lpthread
	$$(if $$(filter 1,$$(SANITIZE)),,$(SPLIT_DEBUG))
endef
$(foreach p,$(GLIBC_PROGS),$(eval $(call prog_rules,$(p))))

ifneq ($(SANITIZE),1)
# It shares base's error type and fd habits (one copy of each), built with musl.
SUP_OBJS := $(patsubst src/%.c,$(BUILD)/obj-musl/%.o,$(wildcard src/cli/subnode-sup/*.c) \
	src/base/err.c src/base/fd.c src/base/clock.c src/base/parse.c)
$(BUILD)/obj-musl/%.o: src/%.c
	@command -v $(SUP_CC) >/dev/null || { echo "$(SUP_CC) not found: install musl-tools (scripts/deps.sh build)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(SUP_CC) $(CFLAGS_WARN) -Isrc -fPIE $(OPT) -MMD -MP -c -o $@ $<
$(BUILD)/bin/subnode-sup: $(SUP_OBJS)
	@mkdir -p $(dir $@)
	$(SUP_LINK)
	$(call split_debug,$@)
endif

# ---- workloads: programs that run inside a subnode, not on the node.
# src/workload/demochain (docs/DEMOCHAIN.md) runs alone in a busybox-static
# image, so the plain build links it statically (glibc, with base's SHA-256
# through a static libcrypto and jansson for peers.json); it uses no NSS
# (addresses are numeric), which is what a static glibc cannot do. The
# ASan build links it like the other programs. Everything but its main.c
# is also libsn_demochain.a, which the unit tests link.
DEMOCHAIN_SRCS := $(wildcard src/workload/demochain/*.c)
DEMOCHAIN_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(DEMOCHAIN_SRCS))
DEMOCHAIN_LIB_OBJS := $(filter-out %/main.o,$(DEMOCHAIN_OBJS))
$(BUILD)/lib/libsn_demochain.a: $(DEMOCHAIN_LIB_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/bin/demochain: $(DEMOCHAIN_OBJS) $(BUILD)/lib/libsn_base.a
	@mkdir -p $(dir $@)
ifeq ($(SANITIZE),1)
	$(CC) $(LDFLAGS) -o $@ $(DEMOCHAIN_OBJS) $(BUILD)/lib/libsn_base.a $(PKG_LIBS) -lpthread
else
	@# libcrypto's dlopen (for engines we do not use) makes ld warn; only that is hidden
	$(CC) -static -o $@ $(DEMOCHAIN_OBJS) $(BUILD)/lib/libsn_base.a -ljansson -lcrypto -lpthread \
		2>$@.ld; st=$$?; grep -v -e "statically linked applications requires at runtime" \
		-e ": in function .[A-Za-z_]*.:$$" $@.ld >&2; rm -f $@.ld; exit $$st
	$(call split_debug,$@)
endif
.PHONY: demochain
demochain: $(BUILD)/bin/demochain

# ---- unit tests
UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TEST_HELPER_SRCS := $(wildcard tests/unit/*.c)
TEST_HELPER_OBJS := $(patsubst tests/unit/%.c,$(BUILD)/obj/tests/%.o,$(TEST_HELPER_SRCS))
$(BUILD)/tests/%: tests/unit/%.c $(TEST_HELPER_OBJS) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(LIBS_ALL) $(PKG_LIBS) -lcmocka -lpthread
# (the more specific pattern wins for tests/unit/workload/)
$(BUILD)/tests/workload/%: tests/unit/workload/%.c $(TEST_HELPER_OBJS) $(BUILD)/lib/libsn_demochain.a $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(BUILD)/lib/libsn_demochain.a $(LIBS_ALL) $(PKG_LIBS) -lcmocka -lpthread
$(BUILD)/obj/tests/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -c -o $@ $<

# Test helper programs: tests/helpers/X.c -> $(BUILD)/tests/helpers/X.
HELPER_BINS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(wildcard tests/helpers/*.c))
$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PKG_LIBS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

.PHONY: all asan unit-bins test unit integration bench conformance deps demo clean check-layers
all: $(addprefix $(BUILD)/bin/,$(PROGS)) $(BUILD)/bin/demochain
unit-bins: $(UNIT_BINS) $(HELPER_BINS)

asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 all unit-bins

deps:
	bash scripts/deps.sh all

check-layers:
	bash scripts/check-layers.sh

test: deps check-layers all asan
	bash scripts/run-tests.sh

unit: asan
	bash scripts/run-tests.sh unit

integration: all asan
	bash scripts/run-tests.sh integration

bench: all
	bash bench/run.sh

conformance: all
	bash scripts/conformance.sh

demo: deps all
	bash scripts/demo.sh

clean:
	rm -rf build build-asan build-fuzz

# ---- fuzzing (libFuzzer, clang): tests/fuzz/fuzz_*.c, one target each,
# linked against the layers built again with clang into build-fuzz/.
# `make fuzz` builds them; `make fuzz-replay` runs each over its committed
# corpus (tests/fuzz/corpus/<target>/) once, which is what CI does;
# bench/fuzz/run.sh fuzzes for a given time (docs/BENCHMARKS.md, Fuzzing).
FUZZ_CC  ?= clang
FUZZ_OPT := -O1 -g -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined -Wno-unknown-warning-option
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBS_ALL) $(PKG_LIBS) -lpthread
.PHONY: fuzz fuzz-bins fuzz-replay
fuzz-bins: $(FUZZ_BINS)
fuzz:
	@command -v $(FUZZ_CC) >/dev/null || { echo "$(FUZZ_CC) not found: install clang (scripts/deps.sh build)" >&2; exit 1; }
	$(MAKE) BUILD=build-fuzz SANITIZE=fuzz CC=$(FUZZ_CC) fuzz-bins
fuzz-replay: fuzz
	bash bench/fuzz/run.sh replay

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
