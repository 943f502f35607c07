# wudf build. `make` builds the library and tools; `make test` runs every test;
# `make help` lists the targets.

CC        ?= cc
BUILD     ?= build
WERROR    ?= 0
SAN       ?= 0
OPT       ?= -O2 -g

WARNINGS  := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes
CPPFLAGS  += -Iinclude -Isrc -I$(BUILD)/gen -D_GNU_SOURCE
CFLAGS    := -std=c11 $(OPT) -fPIC -fvisibility=hidden $(WARNINGS) $(CFLAGS)
LDLIBS    += -lm -lpthread -ldl -lrt
ifeq ($(WERROR),1)
  CFLAGS  += -Werror
endif
ifeq ($(SAN),1)
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC   := $(sort $(wildcard src/*/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/shim_abi_text.o
TEST_SRC  := $(sort $(wildcard tests/*.c))
TEST_OBJ  := $(TEST_SRC:%.c=$(BUILD)/%.o)
CLI_SRC   := $(sort $(wildcard cli/*.c))
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
SPEC_SRC  := $(sort $(wildcard tests/spectest/*.c))
SPEC_OBJ  := $(SPEC_SRC:%.c=$(BUILD)/%.o)
TESTSUITE ?= ../shared/wasm-testsuite

.PHONY: all lib test check unit spectest asan fuzz format format-check clean help deps demo bench-load \
        bench-batch examples-udfs bench

all: lib $(BUILD)/wudf

help:
	@echo "make            build libwudf and the wudf command into $(BUILD)/"
	@echo "make deps       install the Debian packages wudf needs (root)"
	@echo "make demo       install, build and run the library demo"
	@echo "make test       install, build, unit tests, then the spec tests"
	@echo "make check      unit tests and spec tests (no install step)"
	@echo "make unit       unit tests only"
	@echo "make spectest   WebAssembly spec tests from $(TESTSUITE)"
	@echo "make asan       the test suite built with ASan+UBSan"
	@echo "make fuzz       each fuzz target for FUZZ_SECONDS (default 60)"
	@echo "make bench-load cold and warm module load times"
	@echo "make bench-batch MAP/FILTER over Arrow columns, sandboxed vs native"
	@echo "make bench      wudf vs native C, V8, DuckDB and pandas (~11 min);"
	@echo "                writes docs/performance.md (COMPARE_ARGS: options)"
	@echo "make postgres-test  PostgreSQL extension tests (private server)"
	@echo "make bench-postgres wasm_c vs SQL, PL/pgSQL and C in PostgreSQL"
	@echo "make format     clang-format every C file"

deps:
	./scripts/install-deps.sh

lib: $(BUILD)/libwudf.a $(BUILD)/libwudf.so

$(BUILD)/libwudf.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# nodelete: the library installs signal handlers and a thread-exit
# destructor, which must never point into unmapped code.
$(BUILD)/libwudf.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-z,nodelete $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/wudf: $(CLI_OBJ) $(BUILD)/libwudf.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libwudf.a $(LDLIBS)

# The shim ABI header is compiled into the library and also pasted into every
# generated shim; this turns it into a C string.
$(BUILD)/gen/shim_abi_text.c: src/translate/shim_abi.h scripts/embed-text.sh
	@mkdir -p $(@D)
	./scripts/embed-text.sh wudf_shim_abi_text < $< > $@

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-overlength-strings -c -o $@ $<

$(BUILD)/run_tests: $(TEST_OBJ) $(BUILD)/libwudf.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libwudf.a $(LDLIBS)

$(BUILD)/spectest: $(SPEC_OBJ) $(BUILD)/libwudf.a
	$(CC) $(LDFLAGS) -o $@ $(SPEC_OBJ) $(BUILD)/libwudf.a -ljansson $(LDLIBS)

$(BUILD)/load_time: $(BUILD)/bench/load_time.o $(BUILD)/libwudf.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libwudf.a $(LDLIBS)

UDF_EXAMPLES := calculate_adj_bal email_domain is_rich upper
UDF_WASM     := $(UDF_EXAMPLES:%=$(BUILD)/examples/udfs/%.wasm)

# Guest examples: C compiled to WebAssembly, signatures in each module's
# wudf.udfs section (include/wudf_guest.h, docs/abi.md).
$(BUILD)/examples/udfs/%.wasm: examples/udfs/%.c include/wudf_guest.h
	@mkdir -p $(@D)
	clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
	  -Iinclude -o $@ $<

# batch_bench.c includes the example sources: the native baseline.
$(BUILD)/bench/batch_bench.o: examples/udfs/calculate_adj_bal.c \
  examples/udfs/email_domain.c examples/udfs/is_rich.c include/wudf_guest.h

$(BUILD)/batch_bench: $(BUILD)/bench/batch_bench.o $(BUILD)/libwudf.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libwudf.a $(LDLIBS)

examples-udfs: $(UDF_WASM)

bench-batch: deps
	$(MAKE) $(BUILD)/batch_bench $(UDF_WASM)
	$(BUILD)/batch_bench $(BENCH_ARGS)

# wudf side by side with native C, V8, DuckDB and pandas, in memory and CSV
# to CSV; prints the tables and writes docs/performance.md. bench/run.sh
# installs pandas (Debian) and DuckDB (npm ci in bench/) and builds the rest.
bench: deps
	$(MAKE) all $(UDF_WASM)
	./bench/run.sh $(BUILD) $(COMPARE_ARGS)

bench-load: deps
	$(MAKE) $(BUILD)/load_time $(BUILD)/examples/udfs/calculate_adj_bal.wasm
	$(BUILD)/load_time $(BUILD)/examples/udfs/calculate_adj_bal.wasm

demo: deps
	$(MAKE) all
	./examples/demo.sh $(BUILD)

unit: $(BUILD)/run_tests $(BUILD)/wudf
	$(BUILD)/run_tests $(TEST_FILTER)
	./tests/run/test_cli.sh $(BUILD)

spectest: $(BUILD)/spectest
	./tests/spectest/run.sh $(BUILD) $(TESTSUITE)

test: deps
	$(MAKE) check

check: unit spectest postgres-check

asan: deps
	$(MAKE) BUILD=build/asan SAN=1 OPT="-O1 -g" check

FUZZ_SECONDS ?= 60
fuzz:
	./fuzz/run.sh $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SPEC_OBJ:.o=.d)

# ---- PostgreSQL: LANGUAGE wasm_c and wasm (ext/postgres, docs/postgres.md) ----
# The extension links build/libwudf.a; its tests start a private server.

.PHONY: postgres postgres-test postgres-check bench-postgres

postgres: lib
	$(MAKE) -C ext/postgres

postgres-test: deps
	$(MAKE) lib
	./ext/postgres/test.sh

# In `make check`: run when PostgreSQL is there and the extension can be
# installed (root, or a PostgreSQL whose directories are writable), else
# say why not.
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config

postgres-check: lib
	@if ! [ -x "$(PG_CONFIG)" ]; then \
	  echo "postgres-check: skipped ($(PG_CONFIG) not found: make deps)"; \
	elif [ "$$(id -u)" -eq 0 ] || [ -w "$$($(PG_CONFIG) --pkglibdir)" ]; then \
	  PG_CONFIG=$(PG_CONFIG) ./ext/postgres/test.sh; \
	else echo "postgres-check: skipped (installing the extension needs root)"; fi

bench-postgres: deps
	$(MAKE) lib
	./ext/postgres/bench/run.sh
