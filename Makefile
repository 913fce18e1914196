# The two quickstart commands, `make demo` and `make test`, set up everything themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CPU build of torch that lies on disk; a bare `torch` can pull a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: setup demo test bench docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml .ci/system-deps
	bash .ci/system-deps
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

demo: setup
	$(BIN)/python -m synth.demo

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/synth bench

clean:
	rm -rf $(VENV) data
