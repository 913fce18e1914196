"""End to end on real mp4 datasets: built-in baselines, caching/resume, circular, CLI errors, report, export."""

import importlib.util
import json
from pathlib import Path
import sys
import textwrap

import pytest
from scipy import stats
from support.square_clips import make_dataset, oracle_for

from synth.cli import main
from synth.dataset import read_manifest
from synth.errors import UserError
from synth.eval.runner import EvalSettings, evaluate
from synth.models.configs import BlindModelConfig, OracleModelConfig, RandomModelConfig, SingleFrameModelConfig
from synth.models.registry import build_model

# A subprocess model: answers the option whose text is "right" on clean clips, the first option on
# noisy ones, and logs every request so tests can count what was asked.
SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    log = open(sys.argv[1], "a")
    crash_after = int(os.environ.get("CRASH_AFTER", "0"))
    for n, line in enumerate(sys.stdin, 1):
        request = json.loads(line)
        log.write(request["id"] + "\\n"); log.flush()
        options = request["options"]
        letters = "ABCDEFGH"
        if "_n" in request["id"]:
            reply = "A"
        else:
            truth = request["id"]  # the tests' datasets cycle left, right, up, down by sample index
            direction = ["left", "right", "up", "down"][int(truth[1:4]) % 4]
            reply = "The answer is " + letters[options.index(direction)] if direction in options else "None"
        print(json.dumps({"response": reply}), flush=True)
        if crash_after and n >= crash_after:
            sys.exit(1)
    """
)


@pytest.fixture(scope="module")
def clean_set(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("clean") / "ds", n=24)


@pytest.fixture(scope="module")
def noisy_set(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("noisy") / "ds", n=12, noise_levels=(40.0,))


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "answerer.py"
    path.write_text(SCRIPT)
    return path


def asked(log) -> list[str]:
    return log.read_text().split() if log.exists() else []


def run_cli(*args) -> int:
    return main(["eval", *args])


def test_builtin_baselines_make_validity_visible(clean_set):
    records = read_manifest(clean_set)
    results = {}
    for cfg in (OracleModelConfig(), SingleFrameModelConfig(), BlindModelConfig(), RandomModelConfig(seed=1)):
        results[cfg.kind] = evaluate(clean_set, records, build_model(cfg, oracle_for), EvalSettings(), log=lambda m: None)
    assert results["oracle"]["accuracy"] >= 0.95
    for kind in ("single_frame", "blind", "random"):
        lo, hi = results[kind]["ci95"]
        assert lo <= results[kind]["chance"] == 0.25 <= hi, (kind, results[kind])
    assert all(r["n"] == 24 and r["invalid_rate"] == 0 for r in results.values())


def test_eval_writes_predictions_metrics_and_report(clean_set):
    assert run_cli(f"data={clean_set}", "model=random", "model.seed=7", "model.label=rnd7") == 0
    out = clean_set / "evals" / "rnd7"
    lines = [json.loads(t) for t in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 24
    assert {"id", "prompt_hash", "response", "parsed", "correct"} <= set(lines[0])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"] == pytest.approx(sum(line["correct"] for line in lines) / 24)
    assert metrics["n"] == 24 and metrics["chance"] == 0.25
    assert set(metrics["by_sweep"]["motion.speed"]) == {"1", "2"}
    assert sum(v["n"] for v in metrics["by_param"]["motion.direction"].values()) == 24
    assert len(metrics["by_param"]["object.x"]) <= 5  # 24 distinct numeric values are binned
    assert (out / "report.md").read_text().startswith("# rnd7")
    assert (out / "accuracy_mcq.png").read_bytes()[:4] == b"\x89PNG"


def test_resume_asks_only_what_is_missing_and_invalidates_changed_prompts(tmp_path, script):
    root = make_dataset(tmp_path / "ds", n=8)
    log = tmp_path / "asked.log"
    model = [f"data={root}", "model=command", f"model.cmd={sys.executable} {script} {log}"]
    assert run_cli(*model, "eval.limit=3") == 0
    assert asked(log) == ["s000", "s001", "s002"]
    assert run_cli(*model) == 0
    assert asked(log)[3:] == ["s003", "s004", "s005", "s006", "s007"]
    assert run_cli(*model) == 0
    assert len(asked(log)) == 8  # all cached: nothing asked again
    manifest = root / "manifest.jsonl"
    records = [json.loads(t) for t in manifest.read_text().splitlines()]
    records[5]["question"] = "Which way does the square go?"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert run_cli(*model) == 0
    assert asked(log)[8:] == ["s005"]  # only the changed prompt is asked again
    metrics = json.loads((root / "evals" / "answerer" / "metrics.json").read_text())
    assert metrics["accuracy"] == 1.0 and metrics["n"] == 8


def test_interrupted_run_resumes_from_cache(tmp_path, script, monkeypatch):
    root = make_dataset(tmp_path / "ds", n=6)
    log = tmp_path / "asked.log"
    model = [f"data={root}", "model=command", f"model.cmd={sys.executable} {script} {log}"]
    monkeypatch.setenv("CRASH_AFTER", "2")
    assert run_cli(*model) == 2  # the process dies after two answers
    assert len((root / "evals" / "answerer" / "predictions.jsonl").read_text().splitlines()) == 2
    monkeypatch.delenv("CRASH_AFTER")
    assert run_cli(*model) == 0
    assert asked(log) == ["s000", "s001", "s002", "s003", "s004", "s005"]


def test_circular_needs_every_rotation_right(tmp_path, script):
    root = make_dataset(tmp_path / "ds", n=8)
    records = read_manifest(root)
    always_a = evaluate(root, records, build_model(BlindModelConfig(label="first")), EvalSettings(circular=True), log=print)
    assert always_a["accuracy"] == 0.0  # a position-biased answerer cannot pass every rotation
    assert always_a["chance"] == pytest.approx(0.25**4)
    log = tmp_path / "asked.log"
    assert run_cli(f"data={root}", "model=command", f"model.cmd={sys.executable} {script} {log}", "eval.circular=true") == 0
    assert len(asked(log)) == 8 * 4
    assert json.loads((root / "evals" / "answerer" / "metrics.json").read_text())["accuracy"] == 1.0


def test_variants_are_reported_separately(tmp_path, script):
    root = make_dataset(tmp_path / "ds", n=8)
    log = tmp_path / "asked.log"
    args = [f"data={root}", "model=command", f"model.cmd={sys.executable} {script} {log}"]
    assert run_cli(*args, "eval.variant=[mcq,none_answer,none_distractor]") == 0
    metrics = json.loads((root / "evals" / "answerer" / "metrics.json").read_text())
    by_variant = metrics["by_variant"]
    assert by_variant["mcq"]["accuracy"] == 1.0 and by_variant["none_distractor"]["accuracy"] == 1.0
    # The script never abstains: when the right option is removed it answers "None" text, which parses
    # as no option, so every none_answer ask is invalid and wrong.
    assert by_variant["none_answer"]["accuracy"] == 0.0 and by_variant["none_answer"]["invalid_rate"] == 1.0
    assert by_variant["none_answer"]["chance"] == 0.25
    assert "Accuracy by question variant" in (root / "evals" / "answerer" / "report.md").read_text()


@pytest.mark.parametrize(
    "args,message",
    [
        (["model=foo"], "model: unknown option 'foo'; allowed: blind, command, flow, hf, openai, oracle, random, single_frame"),
        (["model=random", "eval.frames=0"], "eval.frames=0: must be an integer >= 1"),
        (["model=random", "eval.variant=maybe"], "eval.variant=maybe: allowed mcq, none_distractor, none_answer, open"),
        (["model=openai"], "model.name: required for model=openai"),
        (["model=openai", "model.name=x", "model.base_url=ftp://h"], "model.base_url=ftp://h: must start with"),
        (["model=command"], "model.cmd: required for model=command"),
        (["model=random", "model.cmd=x"], "unknown key 'model.cmd'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    root = make_dataset(tmp_path / "ds", n=1)
    assert run_cli(f"data={root}", *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("synth: error: ") and message in err and err.count("\n") == 1
    assert not (root / "evals").exists()


# `echo hello` replies with no JSON, or has exited by the time it is asked: one line either way
@pytest.mark.parametrize("cmd, message", [("/nonexistent/model", "cannot start"), ("echo hello", "")])
def test_a_model_that_never_answers_leaves_no_results_folder(tmp_path, capsys, cmd, message):
    root = make_dataset(tmp_path / "ds", n=2)
    assert run_cli(f"data={root}", "model=command", f"model.cmd={cmd}") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"synth: error: model.cmd={cmd}: {message}") and "Traceback" not in "".join(err)
    assert not (root / "evals").exists()  # no empty predictions.jsonl, so no folder


def test_missing_dataset(tmp_path, capsys):
    assert run_cli(f"data={tmp_path}/nothing", "model=blind") == 2
    assert "not a synth dataset (no manifest.jsonl)" in capsys.readouterr().err


def test_report_pairs_clean_and_degraded_with_mcnemar(noisy_set, script, tmp_path, capsys):
    log = tmp_path / "asked.log"
    assert run_cli(f"data={noisy_set}", "model=command", f"model.cmd={sys.executable} {script} {log}") == 0
    assert run_cli(f"data={noisy_set}", "model=blind") == 0
    out = tmp_path / "report"
    assert main(["report", f"data={noisy_set}", f"out={out}"]) == 0
    text = (out / "report.md").read_text()
    # The script is right on all 12 clean clips and answers "A" on noisy ones: right only where A is the truth.
    records = read_manifest(noisy_set)
    noisy_right = sum(r["answer_index"] == 0 for r in records if r["degradations"])
    # robustness row: model | condition | accuracy | abstained | relative drop | pairs | b | lost to abstention | c | p exact ...
    row = next(line for line in text.splitlines() if line.startswith("| answerer | noise") and "| 12 |" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4] == f"{(12 - noisy_right) / 12:+.1%}"  # relative drop from clean
    assert cells[5:7] + cells[8:9] == ["12", str(12 - noisy_right), "0"]  # pairs, b, c
    assert float(cells[9]) == pytest.approx(stats.binomtest(12 - noisy_right, 12 - noisy_right).pvalue, rel=1e-2)
    for png in ("accuracy_mcq.png", "robustness_noise.png", "sweep_motion.speed.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    assert main(["report", f"data={noisy_set}", f"out={out}"]) == 2  # no silent overwrite
    assert "overwrite=true" in capsys.readouterr().err
    assert (out / "report.md").read_text() == text


def test_export_lmms_eval_task_directory(noisy_set, tmp_path):
    out = tmp_path / "task"
    assert main(["export", "lmms-eval", f"data={noisy_set}", f"out={out}", "task=synth_demo"]) == 0
    docs = [json.loads(t) for t in (out / "data" / "test.jsonl").read_text().splitlines()]
    assert len(docs) == 24 and all((out / "data" / d["video"]).is_file() for d in docs)
    assert "task: synth_demo" in (out / "synth_demo.yaml").read_text()
    # the exported hooks, standalone (no synth import), loaded from this export's file (a plain
    # `import utils` would reuse a module another test imported from another export)
    spec = importlib.util.spec_from_file_location("exported_utils", out / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    doc = docs[0]
    right = "ABCD"[doc["answer_index"]]
    assert utils.process_results(doc, [f"The answer is {right}"]) == {"accuracy": 1.0, "invalid": 0.0}
    assert utils.process_results(doc, ["no idea"]) == {"accuracy": 0.0, "invalid": 1.0}
    visual = Path(utils.doc_to_visual(doc)[0])  # the default visual=frames_clip: the frames synth eval shows
    assert visual.is_file() and visual.parent == out / "data" / "frames_clips"
    assert main(["export", "lmms-eval", f"data={noisy_set}", f"out={out}"]) == 2  # exists: refuse


def test_oracle_needs_an_injected_solver():
    with pytest.raises(UserError, match="model=oracle"):
        build_model(OracleModelConfig(), None)
