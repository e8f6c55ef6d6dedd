# subnode — plain Makefile.
#
#   make            build every program into build/bin/
#   make asan       the same with ASan+UBSan into build-asan/bin/
#   make test       unit tests (cmocka, under ASan+UBSan) + integration tests
#                   (bats); ends with "N passed, M failed"
#   make bench      benchmarks in bench/ (figures go to docs/BENCHMARKS.md)
#   make conformance  OCI runtime-tools suite, subrun and runc side by side
#
# Layout: one folder per layer under src/ (base runtime image node manager
# cli). Every .c in src/<layer>/ goes into build/lib/libsn_<layer>.a; every
# folder src/cli/<prog>/ is one program build/bin/<prog>. New files need no
# Makefile edit. tests/unit/<layer>/test_*.c are cmocka programs.

.DEFAULT_GOAL := all
LAYERS   := base runtime image node manager
BUILD    ?= build
CC       ?= gcc
PKGS     := libseccomp libcap jansson libcrypto libmicrohttpd libcurl libarchive sqlite3 libmnl libnftnl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS_BASE := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -g
ifeq ($(SANITIZE),1)
OPT := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
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
LIBS_ALL := $(foreach l,manager node image runtime base,$(BUILD)/lib/libsn_$(l).a)

# ---- programs
# The plain build keeps its debug info beside the program (bin/X.debug, found
# by gdb through the debuglink) instead of inside it: subrun copies its own
# executable into a sealed memfd on every create/run/exec (clone_binary.c),
# and the copy costs in proportion to the file — 865 KB with -g, 221 KB
# without: -0.37 ms CPU per `subrun run` (docs/BENCHMARKS.md, Runtime).
SPLIT_DEBUG = objcopy --only-keep-debug $$@ $$@.debug && objcopy --strip-debug --add-gnu-debuglink=$$@.debug $$@
PROGS := $(notdir $(patsubst %/,%,$(wildcard src/cli/*/)))
define prog_rules
$(1)_SRCS := $$(wildcard src/cli/$(1)/*.c)
$(1)_OBJS := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRCS))
$(BUILD)/bin/$(1): $$($(1)_OBJS) $(LIBS_ALL)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$($(1)_OBJS) $(LIBS_ALL) $(PKG_LIBS) -lpthread
	$$(if $$(filter 1,$$(SANITIZE)),,$(SPLIT_DEBUG))
endef
$(foreach p,$(PROGS),$(eval $(call prog_rules,$(p))))

# ---- unit tests
UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TEST_HELPER_SRCS := $(wildcard tests/unit/*.c)
TEST_HELPER_OBJS := $(patsubst tests/unit/%.c,$(BUILD)/obj/tests/%.o,$(TEST_HELPER_SRCS))
$(BUILD)/tests/%: tests/unit/%.c $(TEST_HELPER_OBJS) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(LIBS_ALL) $(PKG_LIBS) -lcmocka -lpthread
$(BUILD)/obj/tests/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

.PHONY: all asan unit-bins test unit integration bench conformance deps demo clean check-layers
all: $(addprefix $(BUILD)/bin/,$(PROGS))
unit-bins: $(UNIT_BINS)

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
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
