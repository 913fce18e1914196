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

.PHONY: setup demo test bench profile bench-gpu clean

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
# the built-in models, the optical-flow baseline among them, on the clean set also with the time
# controls (each clip reversed and shuffled); one report. Its finding: flow and the pixel oracle
# lose the motion in dense fog and in the dark, and flip their answers on reversed clips where
# single_frame and blind do not (docs/evaluation.md, "The demo", "Time controls").
DEMO ?= data/demo
DEMO_SETS := clean fog3 fog5 low_light5 low_light5_ev-9
DEMO_MODELS := oracle flow single_frame blind random
demo: setup
	$(BIN)/synth generate task=direction n=24 seed=7 out=$(DEMO)/clean
	$(BIN)/synth degrade src=$(DEMO)/clean out=$(DEMO)/fog3 degradation=[fog] degradation.fog.severity=3 overwrite=true
	$(BIN)/synth degrade src=$(DEMO)/clean out=$(DEMO)/fog5 degradation=[fog] degradation.fog.severity=5 overwrite=true
	$(BIN)/synth degrade src=$(DEMO)/clean out=$(DEMO)/low_light5 degradation=[low_light] degradation.low_light.severity=5 overwrite=true
	$(BIN)/synth degrade src=$(DEMO)/clean out=$(DEMO)/low_light5_ev-9 degradation=[low_light] degradation.low_light.severity=5 degradation.low_light.ev=-9 overwrite=true
	for m in $(DEMO_MODELS); do $(BIN)/synth eval data=$(DEMO)/clean model=$$m "eval.controls=[reversed,shuffled]" || exit 1; done
	for d in $(filter-out clean,$(DEMO_SETS)); do for m in $(DEMO_MODELS); do $(BIN)/synth eval data=$(DEMO)/$$d model=$$m || exit 1; done; done
	$(BIN)/synth audit data=$(DEMO)/clean
	$(BIN)/synth report $(foreach d,$(DEMO_SETS),data=$(DEMO)/$(d)) out=$(DEMO)/evals overwrite=true
	@echo "report: $(DEMO)/evals/report.md and $(DEMO)/evals/report.html (one page, plots inline, a gallery of the clips that broke a model)"

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/synth bench

# Where each clip of `synth generate` spends its time: wall and CPU of every stage, the busy time
# of each thread and of the encoders, cProfile's top functions (docs/performance.md, "Profile").
profile: setup
	$(BIN)/synth bench sections=[profile]

# The run for a machine with an NVIDIA GPU (EGL through the NVIDIA driver): render at 256² and
# 1080p (MSAA 1x/4x), the camera model on CUDA, generate with x264 on every core, probe features
# of a tiny model; about 10 minutes there. The same command with device=cpu quick=true is a CPU
# smoke test (tests/bench/test_gpu_script.py).
BENCH_GPU_OUT ?= bench-gpu.md
bench-gpu: setup
	$(BIN)/synth bench sections=[gpu] device=cuda out=$(BENCH_GPU_OUT)

clean:
	rm -rf $(VENV) data
