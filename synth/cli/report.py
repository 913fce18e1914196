"""synth report data=DIR [data=DIR2 ...] [out=DIR] [overwrite=false]

report.md (findings first, then tables and PNG plots) and report.html (the same on one
self-contained page, with a gallery of clips a model got right clean and wrong degraded) over
every model evaluated on the given datasets (their evals/*/), each run mode (variant, circular,
frames) on its own: accuracy and abstentions per model x condition with Wilson 95 % intervals
and chance, accuracy against each swept variable, robustness curves per degradation, relative
drop from clean and McNemar tests; world models, probes and shortcut audits where present.
Default out: <first DIR>/evals/report.
"""

from __future__ import annotations

from pathlib import Path

from synth.cli import merge
from synth.errors import UserError
from synth.io import output_folder, refuse_alias
from synth.report.document import write_report
from synth.report.runs import load_evaluations


Config = merge.Config  # data=DIR [data=DIR2 ...] out=DIR overwrite=false


def run(cfg: Config) -> None:
    if not cfg.data:
        raise UserError("data: required, one or more evaluated dataset directories (data=DIR [data=DIR2 ...])")
    out = Path(cfg.out) if cfg.out else Path(cfg.data[0]) / "evals" / "report"
    refuse_alias(out, [("data", d) for d in cfg.data], results_area=True)
    evaluations, world_roots = [], []
    for data in cfg.data:
        found = load_evaluations(Path(data))
        has_world = any((Path(data) / "evals").glob("*/world.json"))
        if not found and not has_world:
            raise UserError(f"data={data}: no evaluations (run `synth eval data={data} model=...` first)")
        evaluations += found
        world_roots += [Path(data)] if has_world else []
    with output_folder(out, "report", cfg.overwrite) as tmp:
        name = write_report(evaluations, tmp, "synth report", world_roots=world_roots).name
    print(out / name)
