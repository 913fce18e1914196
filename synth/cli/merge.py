"""synth merge: merge dataset shards (generate ... shard.index=i shard.count=k) into one dataset.

  synth merge data=[shard0,shard1,...] out=DIR      (or data=shard0 data=shard1 ...)

The shards must come from one config differing only in the shard keys; records are ordered
as a single serial run would order them, clips are copied and re-hashed, and the result verifies.
Every shard is read contained (docs/dataset.md, "Paths"): a record naming a path outside its
shard is refused before anything is copied or written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

from synth.dataset import DatasetWriter, StagedSample, gt_files, read_card, read_manifest
from synth.errors import UserError
from synth.io import refuse_alias


@dataclass
class Config:
    """Datasets in, one folder out: the keys of synth merge, and of synth report."""

    data: List[str] = field(default_factory=list)
    out: str = ""
    overwrite: bool = False


def run(cfg: Config) -> None:
    if len(cfg.data) < 1 or not cfg.out:
        raise UserError("data, out: give the shard directories and an output, e.g. data=[s0,s1] out=DIR")
    refuse_alias(cfg.out, [("data", d) for d in cfg.data])
    cards = [read_card(d) for d in cfg.data]
    configs = {repr(c["config"]) for c in cards}
    if len(configs) != 1:
        raise UserError("data: the shards were made with different configs; only shard.* may differ")
    shards = [c.get("shard") or {"index": 0, "count": 1} for c in cards]
    counts = {s["count"] for s in shards}
    indices = sorted(s["index"] for s in shards)
    if len(counts) != 1 or indices != list(range(counts.pop())):
        raise UserError(f"data: shards {indices} do not cover shard.index 0..count-1 exactly once")
    records = [(r, Path(d)) for d in cfg.data for r in read_manifest(d)]
    sweep_values = cards[0]["config"]["sweep"]["values"] or [None]
    position = {repr(v): k for k, v in enumerate(sweep_values)}
    records.sort(key=lambda rd: (rd[0]["index"], position.get(repr((rd[0]["sweep"] or {}).get("value")), 0)))
    with DatasetWriter(cfg.out, cards[0]["config"], overwrite=cfg.overwrite) as writer:
        for record, src in records:
            if writer.done(record["id"]):
                continue
            clip_tmp = writer.root / "clips" / f".tmp-{Path(record['video']).name}"
            shutil.copyfile(src / record["video"], clip_tmp)
            gt_dir, gt_sources = gt_files(src, record["id"])  # contained in the shard, symlinks followed
            gt_tmp = None
            if gt_dir is not None:  # format 2: gt/<id>/<array>.npy
                gt_tmp = writer.root / "gt" / f".tmp-{record['id']}"
                shutil.rmtree(gt_tmp, ignore_errors=True)
                gt_tmp.mkdir()
                for source in gt_sources:
                    shutil.copyfile(source, gt_tmp / source.name)
            elif gt_sources:  # format 1
                gt_tmp = writer.root / "gt" / f".tmp-{record['id']}.npz"
                shutil.copyfile(gt_sources[0], gt_tmp)
            writer.commit(record, StagedSample(clip_tmp, record["video"], gt_tmp))
        writer.finish({"renderer": cards[0].get("renderer"), "shard": None, "merged_from": len(cfg.data)})
    print(f"wrote {cfg.out}: {len(writer.records)} samples from {len(cfg.data)} shards")
