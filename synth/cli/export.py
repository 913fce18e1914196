"""synth export FORMAT data=DIR out=DIR [overwrite=false] ...

  synth export lmms-eval data=DIR out=TASK_DIR [task=NAME] [frames=8] [visual=video|frames]
      an lmms-eval task directory (YAML + utils.py + data) so any lmms-eval model can run a
      synth dataset: `lmms-eval --include_path TASK_DIR --tasks NAME ...` (docs/evaluation.md)
  synth export llava data=DIR out=DIR [style=mixed|open|mcq] [seed=0] [video_token=image]
      LLaVA / ShareGPT conversations (out/conversations.json) plus the clips
  synth export hf data=DIR out=DIR [split=train] [style=...] [seed=0] [video_token=image]
      a folder `datasets.load_dataset(OUT)` loads as is (Parquet + README.md card + clips)

The llava and hf exports carry per-frame motion targets (centre, box, unit motion vector,
visibility) per tracked object, and phrase each question from several paraphrases, open-ended
or multiple-choice, chosen by seed (docs/dataset.md, "Instruction-tuning exports").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from synth.dataset import open_dataset
from synth.errors import UserError
from synth.export.lmms import export_lmms_eval
from synth.export.train import export_hf, export_llava

POSITIONAL = "format"
FORMATS = ("lmms-eval", "llava", "hf")


@dataclass
class Config:
    format: str = ""
    data: str = ""
    out: str = ""
    task: str = ""  # lmms-eval: the task name; default synth_<dataset directory name>
    frames: int = 8  # lmms-eval: frames per clip stored as synth eval samples them (eval.frames)
    visual: str = "video"  # lmms-eval: what the task hands a model, video (the clip) or frames (synth's)
    style: str = "mixed"  # llava / hf: open | mcq | mixed (one of the two per sample, by seed)
    seed: int = 0  # llava / hf: picks style, paraphrase and option order per sample
    video_token: str = "image"  # llava / hf: the placeholder <image> (LLaVA) or <video> (LLaMA-Factory)
    split: str = "train"  # hf: the split name
    overwrite: bool = False


def run(cfg: Config) -> None:
    if cfg.format not in FORMATS:
        raise UserError(f"format={cfg.format or '(none)'}: allowed {', '.join(FORMATS)} (synth export lmms-eval ...)")
    if not cfg.data:
        raise UserError("data: required, the dataset directory (data=DIR)")
    if not cfg.out:
        raise UserError("out: required, the directory to write (out=DIR)")
    root, out = Path(cfg.data), Path(cfg.out)
    records, _ = open_dataset(root)  # finished, schema-valid, every clip present
    if cfg.format == "llava":
        print(export_llava(root, records, out, cfg.style, cfg.seed, cfg.video_token, cfg.overwrite))
        return
    if cfg.format == "hf":
        print(export_hf(root, records, out, cfg.style, cfg.seed, cfg.video_token, cfg.split, cfg.overwrite))
        return
    print(export_lmms_eval(root, records, out, cfg.task, cfg.frames, cfg.visual, cfg.overwrite))
