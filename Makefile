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
	@echo "make test       install, build, unit, CLI, spec, SQLite, PostgreSQL and Python tests"
	@echo "make check      unit, CLI, spec and SQLite tests (no install step)"
	@echo "make unit       unit tests only"
	@echo "make spectest   WebAssembly spec tests from $(TESTSUITE)"
	@echo "make asan       the test suite built with ASan+UBSan"
	@echo "make fuzz       each fuzz target for FUZZ_SECONDS (default 60)"
	@echo "make bench-load cold and warm module load times"
	@echo "make bench-batch MAP/FILTER over Arrow columns, sandboxed vs native"
	@echo "make bench      wudf vs native C, V8, DuckDB and pandas (~11 min);"
	@echo "                writes docs/performance.md (COMPARE_ARGS: options)"
	@echo "make sqlite-ext the SQLite extension, $(BUILD)/ext/sqlite/wudf.so"
	@echo "make sqlite-test its tests (docs/sqlite.md; part of make check)"
	@echo "make bench-sqlite SQLite: wudf UDF vs SQL vs native C over 1M rows"

	@echo "make postgres-test  PostgreSQL extension tests (private server)"
	@echo "make bench-postgres wasm_c vs SQL, PL/pgSQL and C in PostgreSQL"
	@echo "make format     clang-format every C file"
	@echo "make python-test  the Python package's tests (venv in $(VENV))"
	@echo "make bench-python the Python package beside numpy, pandas, DuckDB, Wasmtime"

deps:
	./scripts/install-deps.sh

lib: $(BUILD)/libwudf.a $(BUILD)/libwudf.so

$(BUILD)/libwudf.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
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

# The README's test command (and CI's): the C suites, then the fronts
# that need a server or a virtual environment of their own. `make asan`
# runs `check` built with sanitizers.
test: deps
	$(MAKE) check
	$(MAKE) postgres-check
	$(MAKE) python-test

check: unit spectest

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

# ---- Python package (python/, docs/python.md) ------------------------------
# python-venv: a virtual environment in $(VENV) with the pinned
# requirements (python/requirements.txt) and the package built against
# this tree's libwudf; python-test runs its pytest suite there;
# bench-python compares it with numpy, pandas, DuckDB, pyarrow, Wasmtime
# and Extism (python/bench/, pins in python/requirements-bench.txt).
PYTHON      ?= python3.11
VENV        ?= $(BUILD)/venv
PYTEST_ARGS ?=

.PHONY: python-venv python-test bench-python

$(VENV)/.requirements: python/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r python/requirements.txt
	touch $@

python-venv: $(VENV)/.requirements lib
	$(VENV)/bin/pip install -q --no-build-isolation --no-deps --force-reinstall ./python

python-test: python-venv
	WUDF_PYTEST_CACHE=$(abspath $(BUILD))/pytest-cache \
	  $(VENV)/bin/pytest -q python/tests $(PYTEST_ARGS)

$(VENV)/.requirements-bench: python/requirements-bench.txt $(VENV)/.requirements
	$(VENV)/bin/pip install -q -r python/requirements-bench.txt
	touch $@

bench-python: python-venv $(VENV)/.requirements-bench
	$(VENV)/bin/python python/bench/bench.py $(BENCH_PYTHON_ARGS)

# ---- SQLite extension (ext/sqlite, docs/sqlite.md) ------------------------
# build/ext/sqlite/wudf.so: a loadable extension (sqlite3_wudf_init) with
# libwudf linked in statically and every symbol hidden but the entry point
# and sqlite3_wudf_interrupt (ext/sqlite/sqlite3_wudf.h).
# nodelete: sqlite3_close() dlcloses extensions, and libwudf's signal
# handlers must never point into unmapped code.
SQLITE_EXT_SRC := $(sort $(wildcard ext/sqlite/*.c))
SQLITE_EXT_OBJ := $(SQLITE_EXT_SRC:%.c=$(BUILD)/%.o)
SQLITE_EXT_LD  := -shared -Wl,-z,nodelete -Wl,--exclude-libs,ALL -Wl,-z,defs

$(SQLITE_EXT_OBJ): CPPFLAGS += -DWSQ_INCLUDE_DIR='"$(abspath include)"'

$(BUILD)/ext/sqlite/wudf.so: $(SQLITE_EXT_OBJ) $(BUILD)/libwudf.a
	$(CC) $(SQLITE_EXT_LD) $(LDFLAGS) -o $@ $(SQLITE_EXT_OBJ) $(BUILD)/libwudf.a $(LDLIBS)

# The benchmark's build adds a native C function (bench only).
$(BUILD)/ext/sqlite/bench/%.o: ext/sqlite/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DWSQ_INCLUDE_DIR='"$(abspath include)"' -DWSQ_BENCH \
	  $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/ext/sqlite/wudf_bench.so: $(SQLITE_EXT_SRC:ext/sqlite/%.c=$(BUILD)/ext/sqlite/bench/%.o) \
  $(BUILD)/tests/sqlite/bench_native.o $(BUILD)/libwudf.a
	$(CC) $(SQLITE_EXT_LD) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libwudf.a $(LDLIBS)

$(BUILD)/tests/sqlite/bench_native.o: CPPFLAGS += -Iext/sqlite

$(BUILD)/tests/sqlite/test_sqlite: $(BUILD)/tests/sqlite/test_sqlite.o $(BUILD)/ext/sqlite/wudf.so
	$(CC) $(LDFLAGS) -o $@ $< -lsqlite3 $(LDLIBS)

$(BUILD)/tests/sqlite/bench_sqlite: $(BUILD)/tests/sqlite/bench_sqlite.o
	$(CC) $(LDFLAGS) -o $@ $< -lsqlite3 $(LDLIBS)

.PHONY: sqlite-ext sqlite-test bench-sqlite
sqlite-ext: $(BUILD)/ext/sqlite/wudf.so

sqlite-test: $(BUILD)/ext/sqlite/wudf.so $(BUILD)/tests/sqlite/test_sqlite
	./tests/sqlite/run.sh $(BUILD)

bench-sqlite: deps
	$(MAKE) $(BUILD)/ext/sqlite/wudf_bench.so $(BUILD)/tests/sqlite/bench_sqlite
	$(BUILD)/tests/sqlite/bench_sqlite $(BUILD)/ext/sqlite/wudf_bench.so $(BENCH_ARGS)

check: sqlite-test

-include $(SQLITE_EXT_OBJ:.o=.d)

# ---- PostgreSQL: LANGUAGE wasm_c and wasm (ext/postgres, docs/postgres.md) ----
# The extension links build/libwudf.a; its tests start a private server.

.PHONY: postgres postgres-test postgres-check bench-postgres

postgres: lib
	$(MAKE) -C ext/postgres

postgres-test: deps
	$(MAKE) lib
	./ext/postgres/test.sh

# In `make test`: run when PostgreSQL is there and the extension can be
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
