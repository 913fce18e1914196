# The two quickstart commands, `make demo` and `make test`, set up everything themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch and torchvision releases that lie on this kind of machine's disk (a bare `torch` can
# pull a multi-GB build from the index). torchvision is needed by transformers' video
# processors, which the `hf` model adapter and its test use.
TORCH ?= torch==2.14.1 torchvision==0.29.1
LMMS := $(VENV)/lmms-eval

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml .ci/system-deps tests/lmms-eval-requirements.txt
	bash .ci/system-deps
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	# setuptools prints an information-only notice for every editable install of a package_dir layout
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install -q -e ".[test]"
	rm -rf $(LMMS)
	$(BIN)/pip install -q --no-deps --target $(LMMS) -r tests/lmms-eval-requirements.txt
	touch $(STAMP)

# The main job on built-in defaults: a clean `direction` suite; fog at two severities and low
# light at severity 5, alone and pushed to ev=-9 (each paired with the clean clips by id/group);
# the built-in models, the optical-flow baseline among them; one report. Its finding: flow and
# the pixel oracle lose the motion in dense fog and in the dark (docs/evaluation.md, "The demo").
DEMO ?= data/demo
DEMO_SETS := clean fog3 fog5 low_light5 low_light5_ev-9
DEMO_MODELS := oracle flow single_frame blind random
demo: setup
	$(BIN)/synth generate task=direction n=24 seed=7 out=$(DEMO)/clean
	$(BIN)/synth degrade src=$(DEMO)/clean out=$(DEMO)/fog3 degradation=[fog] degradation.fog.severity=3 overwrite=true
	$(BIN)/synth degrade src=$(DEMO)/clean out=$(DEMO)/fog5 degradation=[fog] degradation.fog.severity=5 overwrite=true
	$(BIN)/synth degrade src=$(DEMO)/clean out=$(DEMO)/low_light5 degradation=[low_light] degradation.low_light.severity=5 overwrite=true
	$(BIN)/synth degrade src=$(DEMO)/clean out=$(DEMO)/low_light5_ev-9 degradation=[low_light] degradation.low_light.severity=5 degradation.low_light.ev=-9 overwrite=true
	for d in $(DEMO_SETS); do for m in $(DEMO_MODELS); do $(BIN)/synth eval data=$(DEMO)/$$d model=$$m || exit 1; done; done
	$(BIN)/synth audit data=$(DEMO)/clean
	$(BIN)/synth report $(foreach d,$(DEMO_SETS),data=$(DEMO)/$(d)) out=$(DEMO)/evals overwrite=true
	@echo "report: $(DEMO)/evals/report.md"

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/synth bench

clean:
	rm -rf $(VENV) data
