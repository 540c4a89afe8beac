# The two commands: `make demo` and `make test`. Each sets everything up (idempotently) first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench setup torch clean

setup: $(STAMP)
	@sh scripts/ensure_dot.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: setup
	$(PY) -m demo

# One BLAS thread: the tests multiply small matrices, where threads only add contention.
test: setup
	$(PY) -m ruff check .
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -q

# PyTorch is the test oracle; always pinned (an unpinned torch pulls gigabytes of CUDA packages).
torch: setup
	$(PY) -m pip install -q torch==2.13.0

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# The benchmarks compare against PyTorch too; BENCH_ARGS passes flags (e.g. BENCH_ARGS=--quick).
bench: torch
	$(PY) bench/bench_micrograd.py $(BENCH_ARGS)
	$(PY) bench/bench_tensorgrad.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
