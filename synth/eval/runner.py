"""Ask a model every sample of a dataset, cache each answer as it arrives, score, write results.

Output in ``<dataset>/evals/<model label>/``: ``predictions.jsonl`` (one line per ask: id,
variant, rotation, prompt_hash, fingerprint, clip_sha256, response, parsed option text or null, correct),
``metrics.json`` (``synth eval`` then writes ``report.md`` with PNG plots beside them: :mod:`synth.report`).

Resuming: a cached line is reused when its (id, variant, rotation), prompt hash, clip sha256
(the content it was asked about) and fingerprint (model config, frame count, scoring, and the
code versions of the model adapter and the scorer) all match; anything else is asked again, and
the run says how many were asked again because their clip's content changed. When the file is
rewritten at the end, stale lines are dropped (counted on stderr); valid lines outside this run
(``eval.limit``, other variants) are kept for later runs.

Time controls (``eval.controls``, :mod:`synth.eval.controls`): twins of the asks, the same frames
reordered, cached the same way in ``controls.jsonl`` (their lines add ``control`` and ``order``,
which is part of the key); their metrics go under ``controls`` in ``metrics.json``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from synth.errors import UserError
from synth.eval.controls import CONTROL_VARIANTS, CONTROLS, CONTROLS_FILE, control_asks, control_metrics, shown_order
from synth.io import drop_empty_on_failure, write_atomic
from synth.models.base import Model
from synth.models.frames import SampledClip
from synth.models.prompts import VARIANTS, Ask, build_asks
from synth.results import CLIP_CHANGED, RUN_CHANGED, read_predictions, split_cached, stale_lines, write_predictions
from synth.scoring.answers import SCORER_VERSION, score
from synth.scoring.metrics import compute_metrics

SCORINGS = ("generate", "likelihood")


@dataclass
class EvalSettings:
    """``frames``: frames sampled per clip; ``limit``: first N samples (0 = all); ``scoring``:
    ``generate`` (parse the model's reply) or ``likelihood`` (the option the model gives the
    highest log-probability, for models with ``option_logprobs``); ``controls``: time controls
    (``reversed``, ``shuffled``: :mod:`synth.eval.controls`) asked besides the plain asks."""

    frames: int = 8
    circular: bool = False
    limit: int = 0
    variants: list[str] = field(default_factory=lambda: ["mcq"])
    scoring: str = "generate"
    controls: list[str] = field(default_factory=list)

    def validate(self) -> None:
        if self.frames < 1:
            raise UserError(f"eval.frames={self.frames}: must be an integer >= 1")
        if self.limit < 0:
            raise UserError(f"eval.limit={self.limit}: must be >= 0 (0 = every sample)")
        if not self.variants:
            raise UserError(f"eval.variant: allowed {', '.join(VARIANTS)} (one or a list)")
        for v in self.variants:
            if v not in VARIANTS:
                raise UserError(f"eval.variant={v}: allowed {', '.join(VARIANTS)}")
        if self.scoring not in SCORINGS:
            raise UserError(f"eval.scoring={self.scoring}: allowed {', '.join(SCORINGS)}")
        for c in self.controls:
            if c not in CONTROLS:
                raise UserError(f"eval.controls={c}: allowed {', '.join(CONTROLS)} (a list: eval.controls=[reversed,shuffled])")
        if self.controls and self.variants[0] not in CONTROL_VARIANTS:
            raise UserError(f"eval.controls with eval.variant={self.variants[0]}: the twins are asked in the first "
                            f"variant, which must be one of {', '.join(CONTROL_VARIANTS)}")  # fmt: skip


def fingerprint(model: Model, settings: EvalSettings) -> str:
    """What made an answer, as 16 hex digits: model config, frame count, scoring and the code
    versions of the model adapter and the scorer (the clip's content is keyed on its own)."""
    run = {"model": model.fingerprint(), "frames": settings.frames, "versions": [model.version, SCORER_VERSION]}
    if settings.scoring != "generate":  # generation keeps the fingerprints it always had
        run["scoring"] = settings.scoring
    blob = json.dumps(run, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def evaluate(root: Path, records: list[dict], model: Model, settings: EvalSettings, log=print) -> dict:
    """Ask, cache, score; returns the metrics and writes predictions and metrics under evals/<label>/."""
    settings.validate()
    if settings.scoring == "likelihood" and not hasattr(model, "option_logprobs"):
        raise UserError(f"eval.scoring=likelihood: model={model.cfg.kind} gives no log-probabilities (allowed: model=hf)")
    records = run_records(records, settings)
    out_dir = root / "evals" / model.label
    out_dir.mkdir(parents=True, exist_ok=True)
    predictions_path = out_dir / "predictions.jsonl"
    controls_path = out_dir / CONTROLS_FILE
    run_fp = fingerprint(model, settings)

    asks_by_record = [
        (record, record_asks(record, settings) + control_asks(record, settings.variants[0], settings.controls, settings.frames))
        for record in records
    ]
    wanted = {a.key: (a, record["sha256"]) for record, asks in asks_by_record for a in asks}

    def why_stale(line: dict, want: tuple[Ask, str] | None) -> str | None:
        if line.get("fingerprint") != run_fp or (want is not None and line.get("prompt_hash") != want[0].prompt_hash):
            return RUN_CHANGED
        if want is not None and line.get("order") != shown_order(want[0]):  # a twin's reordering
            return RUN_CHANGED
        if want is not None and line.get("clip_sha256") != want[1]:
            return CLIP_CHANGED
        return None

    # kept_for_later: same model and frames, outside this run (eval.limit, other variants)
    lines = read_predictions(predictions_path) + read_predictions(controls_path)
    cached, kept_for_later, stale = split_cached(lines, prediction_key, wanted, why_stale)
    for message in stale_lines(stale, "predictions"):
        log(message)
    pending = [(r, [a for a in asks if a.key not in cached]) for r, asks in asks_by_record]
    pending = [(r, asks) for r, asks in pending if asks]
    log(f"{model.label}: {len(wanted)} asks, {len(cached)} cached, {sum(len(a) for _, a in pending)} to ask")

    lock = threading.Lock()
    failed = threading.Event()  # after the first error (bad key, dead process) nothing more is asked

    def ask_record(item: tuple[dict, list[Ask]]) -> None:
        record, asks = item
        sampled = SampledClip(root / record["video"], settings.frames)
        for ask in asks:
            if failed.is_set():
                return
            clip = sampled if ask.frame_order is None else sampled.reordered(ask.frame_order)
            extra = {}
            try:
                if settings.scoring == "likelihood":
                    logprobs = model.option_logprobs(ask, clip, record)
                    response = model.continuations(ask)[max(range(len(logprobs)), key=logprobs.__getitem__)]
                    extra = {"logprobs": logprobs}
                else:
                    response = model.answer(ask, clip, record)
            except BaseException:
                failed.set()
                raise
            line = {
                "id": ask.sample_id,
                "variant": ask.variant,
                "rotation": ask.rotation,
                **({} if ask.control is None else {"control": ask.control, "order": shown_order(ask)}),
                "prompt_hash": ask.prompt_hash,
                "fingerprint": run_fp,
                "clip_sha256": record["sha256"],
                "response": response,
                **score(ask, response),
                **extra,
            }
            with lock:
                cached[ask.key] = line
                append[ask.control is not None].write(json.dumps(line) + "\n")
                append[ask.control is not None].flush()

    try:
        with ExitStack() as files:
            files.enter_context(drop_empty_on_failure(predictions_path, controls_path))  # no answer: no file
            append = {False: files.enter_context(open(predictions_path, "a"))}  # twins (True) in controls.jsonl
            if settings.controls:
                append[True] = files.enter_context(open(controls_path, "a"))
            with ThreadPoolExecutor(max_workers=model.concurrency) as pool:
                for future in as_completed([pool.submit(ask_record, item) for item in pending]):
                    future.result()  # re-raises the first error; answers so far stay cached
    finally:
        model.close()

    everything = [cached[key] for key in wanted if key in cached]
    ordered = [line for line in everything if "control" not in line]
    twins = [line for line in everything if "control" in line]
    write_predictions(predictions_path, ordered + [line for line in kept_for_later if "control" not in line])
    if settings.controls or controls_path.exists():
        write_predictions(controls_path, twins + [line for line in kept_for_later if "control" in line])
    metrics = compute_metrics(records, ordered, settings.variants, settings.circular)
    metrics["model"] = model.label
    metrics["frames"] = settings.frames
    if settings.controls:
        metrics["controls"] = control_metrics(records, ordered, twins, settings.variants[0], settings.controls,
                                              settings.frames)  # fmt: skip
    write_atomic(out_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics


def prediction_key(line: dict) -> tuple:
    """A prediction line's ask: (sample id, variant, rotation), plus a twin's control, as :attr:`Ask.key`."""
    key = (line.get("id"), line.get("variant"), line.get("rotation"))
    return key if line.get("control") is None else (*key, line["control"])


def run_records(records: list[dict], settings: EvalSettings) -> list[dict]:
    """The records a run asks about: the first ``settings.limit`` (0: all)."""
    return records[: settings.limit] if settings.limit else records


def record_asks(record: dict, settings: EvalSettings) -> list[Ask]:
    """Every ask of one record: each variant, each rotation when circular."""
    return [a for v in settings.variants for a in build_asks(record, v, settings.circular)]
