# invsync - plain GNU Makefile.
#
#   make            build everything into build/
#   make deps       install the Debian packages the project needs (idempotent)
#   make test       unit tests, then again under ASan+UBSan, then threaded tests under TSan
#   make asan|tsan  sanitizer builds into build-asan/ and build-tsan/
#   make fuzz       build the libFuzzer targets (clang) into build-fuzz/
#   make fuzz-run   run each target for FUZZ_SECONDS (default 20); part of make test
#   make bench      every benchmark (make bench-engine: the engine alone)
#   make clean
#
# One rule set serves every build flavour: BUILD names the output directory and
# SAN the sanitizer flags, so `make BUILD=build-asan SAN=asan tests` is the ASan build.

SHELL   := /bin/bash
BUILD   ?= build
SAN     ?=
CC      ?= cc
PKGS    := liburcu-memb libxxhash
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
CFLAGS_BASE := -std=c11 $(WARN) -O2 -g -D_GNU_SOURCE -pthread -iquote engine -iquote io -fno-strict-aliasing
LDLIBS_BASE := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lurcu-memb -lurcu-common -lxxhash) -pthread

# The plain build uses link-time optimization so the apply pipeline inlines the
# table, dedup and apply functions across files; sanitizer builds skip it.
ifeq ($(SAN),)
  LTOFLAGS := -flto=auto
  AR := gcc-ar
else
  LTOFLAGS :=
endif

# The service's malloc: mimalloc in the plain build. librdkafka allocates and
# frees a few blocks per message on several threads; mimalloc cut invsyncd's
# CPU per event by 5-13 % against glibc's malloc (README, "The Kafka pipeline").
# Sanitizer builds keep their own allocator. --no-as-needed: invsyncd names no
# mimalloc symbol, yet the library must load to take over malloc.
ifeq ($(SAN),)
  ALLOC_LDLIBS := -Wl,--push-state,--no-as-needed -lmimalloc -Wl,--pop-state
else
  ALLOC_LDLIBS :=
endif

ifeq ($(SAN),asan)
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -DINV_DEBUG
else ifeq ($(SAN),tsan)
  SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer -DINV_DEBUG
else
  SANFLAGS :=
endif

CFLAGS  := $(CFLAGS_BASE) $(SANFLAGS) $(LTOFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(LTOFLAGS) -O2

ENGINE_SRC := $(wildcard engine/*.c)
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/obj/%.o)
ENGINE_LIB := $(BUILD)/lib/libinvsync_engine.a

# io/: the Kafka, JSON and config layer; io/invsyncd.c is the service's main.
IO_MAIN    := io/invsyncd.c
IO_SRC     := $(filter-out $(IO_MAIN),$(wildcard io/*.c))
IO_OBJ     := $(IO_SRC:%.c=$(BUILD)/obj/%.o)
IO_LIB     := $(BUILD)/lib/libinvsync_io.a
IO_LDLIBS  := -lrdkafka -ljansson -lm
LIBS       := $(IO_LIB) $(ENGINE_LIB)

# Programs: the service and the tools (each one .c with a main).
PROGS      := $(BUILD)/invsyncd $(BUILD)/invsync-mock-kafka

TEST_SRC   := $(wildcard tests/test_*.c)
TEST_BIN   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# Tests that run threads: the TSan pass runs these.
THREADED_TESTS := test_table_concurrent test_worker
TEST_LDLIBS := -lcmocka $(IO_LDLIBS)

# perf/bench_NAME.c -> build/bench-NAME (bench_rcu.c is built twice, below).
BENCH_BIN  := $(patsubst perf/bench_%.c,$(BUILD)/bench-%,$(filter-out perf/bench_rcu.c,$(wildcard perf/bench_*.c)))

.PHONY: all deps tests test test-unit test-integration test-integration-mock test-integration-kafka \
        run asan tsan fuzz fuzz-run bench bench-engine bench-rcu bench-e2e clean format

all: $(LIBS) $(PROGS) $(TEST_BIN) $(BENCH_BIN)

deps:
	@bash tools/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(ENGINE_LIB): $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(IO_LIB): $(IO_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(if $(IO_OBJ),$(AR) rcs $@ $^,$(AR) rcs $@)

$(BUILD)/invsyncd: $(BUILD)/obj/io/invsyncd.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(ALLOC_LDLIBS) $(LIBS) $(IO_LDLIBS) $(LDLIBS_BASE)

$(BUILD)/invsync-mock-kafka: $(BUILD)/obj/tools/mock_kafka.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(IO_LDLIBS) $(LDLIBS_BASE)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(TEST_LDLIBS) $(LDLIBS_BASE)

$(BUILD)/bench-%: $(BUILD)/obj/perf/bench_%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BENCH_ALLOC_LDLIBS) $(LIBS) $(IO_LDLIBS) $(LDLIBS_BASE)

# bench-e2e's bare consumer (its ceiling) and in-process mock broker run on
# invsyncd's allocator: librdkafka's per-message mallocs cost either side the
# same, and on glibc's malloc the bare drain's rate split into two modes
# (1.14-1.3 M/s or 1.5-1.8 M/s on the real broker) against 2.1-2.6 M/s on mimalloc.
$(BUILD)/bench-e2e: BENCH_ALLOC_LDLIBS = $(ALLOC_LDLIBS)

tests: $(TEST_BIN)

# Runs every test binary of $(BUILD) (or only $(ONLY)); fails on the first failure.
test-unit: tests
	@set -e; for t in $(if $(ONLY),$(ONLY:%=$(BUILD)/tests/%),$(TEST_BIN)); do \
	    echo "== $$t"; $$t; done

test: deps
	$(MAKE) all
	$(MAKE) test-unit
	$(MAKE) BUILD=build-asan SAN=asan test-unit
	$(MAKE) BUILD=build-tsan SAN=tsan test-unit ONLY="$(THREADED_TESTS)"
	$(MAKE) fuzz-run
	$(MAKE) test-integration
	@echo "make test: all suites passed (plain, ASan+UBSan, TSan, fuzz, integration on the mock and on real Kafka)"

# Fuzz targets: every parser of untrusted bytes has one in tests/fuzz/. They are
# built with clang (libFuzzer) straight from the engine sources, with ASan+UBSan.
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 20
FUZZ_CFLAGS  := -std=c11 -g -O1 -D_GNU_SOURCE -iquote engine -iquote io -DINV_DEBUG \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

build-fuzz/%: tests/fuzz/%.c $(ENGINE_SRC) $(IO_SRC) $(wildcard engine/*.h io/*.h tests/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(ENGINE_SRC) $(IO_SRC) $(IO_LDLIBS) $(LDLIBS_BASE)

fuzz: $(FUZZ_BIN)

# Runs each target from its checked-in seeds (tests/fuzz/seeds/NAME, if any)
# into a scratch corpus; any crash fails the run and leaves the input in build-fuzz/.
fuzz-run: fuzz
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
	    mkdir -p build-fuzz/corpus/$$n; \
	    seeds=tests/fuzz/seeds/$$n; [ -d $$seeds ] || seeds=; \
	    echo "== $$f ($(FUZZ_SECONDS) s)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 -artifact_prefix=build-fuzz/$$n- \
	        build-fuzz/corpus/$$n $$seeds 2>&1 | tail -n 3; \
	    test $${PIPESTATUS[0]} -eq 0; done

# Integration tests (tests/integration/): invsyncd as a real process against
# librdkafka's mock cluster hosted by build/invsync-mock-kafka (so the broker
# outlives a kill -9 of the service), then against a real Apache Kafka broker
# in KRaft mode started from Maven Central jars (tests/kafka/kafka-broker.sh),
# or the cluster named by KAFKA_BOOTSTRAP. A real broker that cannot start
# fails the run; it is never skipped.
INTEGRATION_ARGS ?=
# The plain build must run on mimalloc (ALLOC_LDLIBS); the cases check its start-up line.
INTEGRATION_ALLOC := $(if $(SAN),,--expect-allocator mimalloc)
test-integration: test-integration-mock test-integration-kafka

test-integration-mock: $(BUILD)/invsyncd $(BUILD)/invsync-mock-kafka
	bash tests/integration/run.sh mock $(INTEGRATION_ALLOC) $(INTEGRATION_ARGS)

test-integration-kafka: $(BUILD)/invsyncd
	bash tests/integration/run.sh kafka $(INTEGRATION_ALLOC) $(INTEGRATION_ARGS)

# make run: build, then invsyncd on its embedded Kafka fed with the bundled sample.
run: deps
	$(MAKE) $(BUILD)/invsyncd
	bash tools/run.sh

asan:
	$(MAKE) BUILD=build-asan SAN=asan all
tsan:
	$(MAKE) BUILD=build-tsan SAN=tsan all

bench: bench-engine bench-rcu bench-e2e

# End to end: invsyncd against a bare consumer on the in-process mock, then on
# a real broker (started like the integration tests, or KAFKA_BOOTSTRAP).
# 1M events on the mock (it keeps ~5 MiB per partition: about the most it holds
# with lz4), 3M on the real broker (E2E_REAL_ARGS), where the whole-run and the
# middle-half rates then agree. Five interleaved rounds of the bare drain and
# invsyncd per row and their medians: on this 2-core machine the ceiling alone
# moves by a third from one drain to the next.
# E2E_ARGS=--events=N --rounds=N to change.
E2E_ARGS ?= --events=1000000 --rounds=5
E2E_REAL_ARGS ?= --events=3000000
bench-e2e: $(BUILD)/bench-e2e $(BUILD)/invsyncd
	$(BUILD)/bench-e2e --invsyncd=$(BUILD)/invsyncd $(E2E_ARGS)
	bash tests/integration/with-kafka.sh $(BUILD)/bench-e2e --invsyncd=$(BUILD)/invsyncd $(E2E_ARGS) $(E2E_REAL_ARGS) --brokers=@BOOTSTRAP@

bench-engine: $(BUILD)/bench-engine
	$(BUILD)/bench-engine $(BENCH_ARGS)

# The read-side pair as invsync calls it, and inlined for comparison (see perf/bench_rcu.c).
$(BUILD)/bench-rcu-call: perf/bench_rcu.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -D_GNU_SOURCE -o $@ $< $(LDLIBS_BASE)
$(BUILD)/bench-rcu-inline: perf/bench_rcu.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -D_GNU_SOURCE -D_LGPL_SOURCE -o $@ $< $(LDLIBS_BASE)

bench-rcu: $(BUILD)/bench-rcu-call $(BUILD)/bench-rcu-inline
	$(BUILD)/bench-rcu-call
	$(BUILD)/bench-rcu-inline

format:
	clang-format -i engine/*.[ch] io/*.[ch] tools/*.c tests/*.c tests/fuzz/*.c perf/*.c

clean:
	rm -rf build build-asan build-tsan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
