"""synth export FORMAT data=DIR out=DIR [overwrite=false] ...

  synth export lmms-eval data=DIR out=TASK_DIR [task=NAME] [frames=8] [visual=frames_clip|frames|video]
      an lmms-eval task directory (YAML + utils.py + data) so any lmms-eval model can run a
      synth dataset: `lmms-eval --include_path TASK_DIR --tasks NAME ...` (docs/evaluation.md)
  synth export vlmevalkit data=DIR out=DIR [frames=8]
      a VLMEvalKit video dataset: the TSV, synth's sampled frames and the dataset class
      (synth_dataset.py) to register (docs/evaluation.md)
  synth export llava data=DIR out=DIR [style=mixed|open|mcq] [seed=0] [video_token=image] [split.*]
      LLaVA / ShareGPT conversations, one JSON per split (out/train.json, ...), plus the clips
  synth export hf data=DIR out=DIR [style=...] [seed=0] [video_token=image] [split.*]
      a DatasetDict folder `datasets.load_dataset(OUT)` loads as is (Parquet with the clips
      embedded, README.md dataset card)

The llava and hf exports split by scene group (split.train=0.8 split.validation=0.1
split.test=0.1 split.seed=0: fractions of the groups; a group's split is stable across runs),
give each item an integer label (the family's answer set), carry per-frame motion targets
(centre, box, unit motion vector, visibility) per tracked object, and phrase each question from
several paraphrases, open-ended or multiple-choice, chosen by seed (docs/dataset.md,
"Training exports"). A key the chosen format does not read (style= for lmms-eval, visual= for
llava, ...) is refused, not ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from synth.dataset import open_dataset
from synth.errors import UserError
from synth.io import refuse_alias
from synth.export.lmms import export_lmms_eval
from synth.export.train import DEFAULT_FRACTIONS, export_hf, export_llava
from synth.export.vlmevalkit import export_vlmevalkit
from synth.scenes.params import FRACTION, NON_NEGATIVE, Range, ranged

POSITIONAL = "format"
FORMATS = ("lmms-eval", "vlmevalkit", "llava", "hf")
# the keys each format reads besides data, out and overwrite; another one given is refused, not ignored
TRAINING_KEYS = ("style", "seed", "video_token", "split")
FORMAT_KEYS = {"lmms-eval": ("task", "frames", "visual"), "vlmevalkit": ("frames",), "llava": TRAINING_KEYS,
               "hf": TRAINING_KEYS}  # fmt: skip


@dataclass
class SplitKeys:
    """llava / hf: fractions of the scene groups per split (summing to 1) and the seed that deals them."""

    train: float = ranged(FRACTION, DEFAULT_FRACTIONS["train"])
    validation: float = ranged(FRACTION, DEFAULT_FRACTIONS["validation"])
    test: float = ranged(FRACTION, DEFAULT_FRACTIONS["test"])
    seed: int = ranged(NON_NEGATIVE, 0)


@dataclass
class Config:
    format: str = ""
    data: str = ""
    out: str = ""
    task: str = ""  # lmms-eval: the task name; default synth_<dataset directory name>
    frames: int = ranged(Range(1), 8)  # lmms-eval / vlmevalkit: frames per clip stored as synth eval samples them (eval.frames)
    visual: str = "frames_clip"  # lmms-eval: synth's frames as a lossless clip (frames_clip) or images (frames), or the clip (video)
    style: str = "mixed"  # llava / hf: open | mcq | mixed (one of the two per sample, by seed)
    seed: int = ranged(NON_NEGATIVE, 0)  # llava / hf: picks style, paraphrase and option order per sample
    video_token: str = "image"  # llava / hf: the placeholder <image> (LLaVA) or <video> (LLaMA-Factory)
    split: SplitKeys = field(default_factory=SplitKeys)  # llava / hf: split.train, .validation, .test, .seed
    overwrite: bool = False


def run(cfg: Config) -> None:
    if cfg.format not in FORMATS:
        raise UserError(f"format={cfg.format or '(none)'}: allowed {', '.join(FORMATS)} (synth export lmms-eval ...)")
    if not cfg.data:
        raise UserError("data: required, the dataset directory (data=DIR)")
    if not cfg.out:
        raise UserError("out: required, the directory to write (out=DIR)")
    defaults = Config()
    for key in (k for keys in FORMAT_KEYS.values() for k in keys if k not in FORMAT_KEYS[cfg.format]):
        if getattr(cfg, key) != getattr(defaults, key):
            given = key if key == "split" else f"{key}={getattr(cfg, key)}"
            raise UserError(f"{given}: not read by the {cfg.format} export; it reads {', '.join(FORMAT_KEYS[cfg.format])}")
    root, out = Path(cfg.data), Path(cfg.out)
    refuse_alias(out, [("data", root)])
    records, _ = open_dataset(root)  # finished, schema-valid, every clip present
    fractions = {"train": cfg.split.train, "validation": cfg.split.validation, "test": cfg.split.test}
    if cfg.format == "llava":
        for path in export_llava(root, records, out, cfg.style, cfg.seed, cfg.video_token, fractions, cfg.split.seed,
                                 cfg.overwrite):  # fmt: skip
            print(path)
        return
    if cfg.format == "hf":
        print(export_hf(root, records, out, cfg.style, cfg.seed, cfg.video_token, fractions, cfg.split.seed,
                        cfg.overwrite))  # fmt: skip
        return
    if cfg.format == "vlmevalkit":
        print(export_vlmevalkit(root, records, out, cfg.frames, cfg.overwrite))
        return
    print(export_lmms_eval(root, records, out, cfg.task, cfg.frames, cfg.visual, cfg.overwrite))
