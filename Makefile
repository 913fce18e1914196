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

# The main job on built-in defaults: a clean `direction` suite, two camera degradations at two
# severities each (paired with the clean clips by id/group), the built-in models, one report.
DEMO ?= data/demo
DEMO_SETS := clean compression2 compression4 low_light2 low_light4
demo: setup
	$(BIN)/synth generate task=direction n=24 seed=7 out=$(DEMO)/clean
	for d in compression low_light; do for s in 2 4; do \
	  $(BIN)/synth degrade src=$(DEMO)/clean out=$(DEMO)/$$d$$s degradation=[$$d] degradation.$$d.severity=$$s overwrite=true || exit 1; \
	done; done
	for d in $(DEMO_SETS); do for m in oracle single_frame blind random; do \
	  $(BIN)/synth eval data=$(DEMO)/$$d model=$$m || exit 1; \
	done; done
	$(BIN)/synth report $(foreach d,$(DEMO_SETS),data=$(DEMO)/$(d)) out=$(DEMO)/evals overwrite=true
	@echo "report: $(DEMO)/evals/report.md"

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/synth bench

clean:
	rm -rf $(VENV) data
