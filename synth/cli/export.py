"""synth export lmms-eval data=DIR out=TASK_DIR [task=NAME] [overwrite=false]

Writes an lmms-eval task directory (YAML + utils.py + data) so any lmms-eval model can run a
synth dataset: `lmms-eval --include_path TASK_DIR --tasks NAME ...`. See docs/evaluation.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from synth.dataset import read_manifest
from synth.errors import UserError
from synth.eval.export_lmms import export_lmms_eval

POSITIONAL = "format"
FORMATS = ("lmms-eval",)


@dataclass
class Config:
    format: str = ""
    data: str = ""
    out: str = ""
    task: str = ""  # the lmms-eval task name; default synth_<dataset directory name>
    overwrite: bool = False


def run(cfg: Config) -> None:
    if cfg.format not in FORMATS:
        raise UserError(f"format={cfg.format or '(none)'}: allowed {', '.join(FORMATS)} (synth export lmms-eval ...)")
    if not cfg.data:
        raise UserError("data: required, the dataset directory (data=DIR)")
    if not cfg.out:
        raise UserError("out: required, the task directory to write (out=TASK_DIR)")
    root, out = Path(cfg.data), Path(cfg.out)
    records = read_manifest(root)
    if out.exists() and any(out.iterdir()) and not cfg.overwrite:
        raise UserError(f"out={out}: exists and is not empty; pass overwrite=true to replace it")
    yaml_path = export_lmms_eval(root, records, out, cfg.task)
    print(yaml_path)
