# Two commands do everything on a fresh machine: `make report` and `make test`.
# Every target creates .venv when missing and installs the locked dependencies into it.
# The first interpreter found among python3.11-3.13 (or PY=... given): the supported versions.
PY      ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
             command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null \
             && { echo $$p; break; }; done)
VENV    ?= .venv
ARGS    ?=
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
LOCK    := requirements.lock
OUT     ?= report
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: setup test test-fast test-slow report notebooks lab bench bench-quick lock clean

# One BLAS thread per process where several processes share the cores (pytest -n 2, the report's
# parallel notebook kernels): threaded OpenBLAS on 2 busy cores made one small solve cost 65-1000 ms
# instead of ~1 ms. Benchmarks keep the library default, as their peers do.
test test-fast test-slow report notebooks: export OPENBLAS_NUM_THREADS = 1

$(STAMP): $(LOCK) pyproject.toml
	@test -n "$(PY)" && $(PY) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null \
		|| { echo "make: needs Python 3.11, 3.12 or 3.13 (found: $(or $(PY),none)); install one (e.g. apt-get install python3) or pass PY=/path/to/python3.X" >&2; exit 2; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

setup: $(STAMP)

## Every test: unit, R parity, property-based, CLI end-to-end, and nbval over the notebooks.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow" tests notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

## Unit tests only (no notebooks), for quick iteration.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -x -q tests

## Monte Carlo coverage studies (minutes); results are recorded under benchmarks/.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow tests

## Build the publishable report from the embedded demo survey into $(OUT)/.
report: $(STAMP)
	$(BIN)/surveydata report --out $(OUT)

## Re-execute the notebooks in place (after a package change) so nbval compares fresh findings.
notebooks: $(STAMP)
	for nb in notebooks/[0-9]*.ipynb notebooks/studies/*/[0-9]*.ipynb; do \
		$(BIN)/python -c "import sys; from surveydata.report import execute_in_place; execute_in_place(sys.argv[1])" $$nb || exit 1; \
	done

## JupyterLab on the notebooks; extra arguments with ARGS="...". Root (containers, JupyterHub
## images) gets --allow-root, which Jupyter otherwise demands.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(ARGS)

## svy (the Rust-backed peer) lives in its own venv: it brings polars and a Rust core the project
## does not need. R survey is used when Rscript with the survey package is installed.
$(BENCH_STAMP): benchmarks/requirements-svy.lock
	test -x $(BENCH_VENV)/bin/python || $(PY) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r benchmarks/requirements-svy.lock
	$(BENCH_VENV)/bin/python -m pip check
	touch $(BENCH_STAMP)

bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run --rows 200000 1000000

bench-quick: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run --rows 200000

## Refresh the lock file (exact versions and hashes) from pyproject.toml: one universal lock,
## valid on every supported Python (3.11-3.13; markers pick per-version pins).
lock:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes \
		--no-header --output-file $(LOCK) -q

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(OUT)
