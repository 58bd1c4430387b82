# One task runner for rtsdk. `make test` is what CI runs (see .ci/run and README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.rtsdk-installed
RUNTIME_STAMP := $(VENV)/.rtsdk-runtime
BOOTSTRAP := pip "setuptools>=77" wheel "Cython>=3.1,<3.4" "numpy>=1.26"
BUILD_EXT := $(PY) setup.py -q build_ext --inplace -j 2

.PHONY: install build run test test-python bench bench-table lint format clean

# The venv with the package (editable, compiled in place) and its test/dev extras.
$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade $(BOOTSTRAP)
	$(PY) -m pip install --no-build-isolation -e '.[test,dev]'
	touch $(RUNTIME_STAMP) $(STAMP)

# The venv with the package and its runtime dependencies only (what the samples need).
$(RUNTIME_STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade $(BOOTSTRAP)
	$(PY) -m pip install --no-build-isolation -e .
	touch $(RUNTIME_STAMP)

install: $(STAMP)

# Recompile the kernels in place (only what changed).
build: $(STAMP)
	$(BUILD_EXT)

# The sample app (local Realtime server when no OPENAI_API_KEY; a WAV file when no microphone).
# Installs only the runtime dependencies; `make test` / `make lint` add the rest.
run: $(RUNTIME_STAMP)
	$(BUILD_EXT)
	$(PY) samples/main.py $(ARGS)

# The whole suite on the compiled kernels, then again on the pure-Python twins: what runs once
# (real-time, device, load, network: marked serial in tests/conftest.py) one test at a time,
# the rest two at a time.
test: build
	$(PY) -m pytest -m serial
	$(PY) -m pytest -m "not serial" -n 2
	RTSDK_NO_EXTENSIONS=1 $(PY) -m pytest -m "not serial" -n 2

test-python: build
	RTSDK_NO_EXTENSIONS=1 $(PY) -m pytest -m "not serial" -n 2

# Benchmarks: ours beside the alternatives, in one run; then the ratio table.
bench: build
	mkdir -p bench-results
	$(PY) -m pytest benchmarks --benchmark-only --benchmark-json=bench-results/latest.json -p no:randomly
	$(PY) benchmarks/ratios.py bench-results/latest.json

bench-table:
	$(PY) benchmarks/ratios.py bench-results/latest.json

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/cython-lint src_cython

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf build rtsdk/_kernels/*.so src_cython/*.c
