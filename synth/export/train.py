"""Instruction-tuning exports of a synth dataset: LLaVA conversation JSON and a Hugging Face
``datasets`` folder, both with per-frame motion targets for auxiliary losses.

One item per sample (:func:`training_items`)::

    id, video ("clips/<id>.mp4", relative to the export), task, group, style ("open" | "mcq"),
    prompt (the text after the video token), answer (the reply: option text, or the letter),
    question, options (as presented; [] for open), answer_index (in options; -1 for open),
    answer_text (the option's text), fps, num_frames, width, height, params (JSON string),
    conversations [{"from": "human", "value": "<image>\\n" + prompt}, {"from": "gpt", "value": answer}],
    objects: per tracked object, per frame (lists of length num_frames):
        name, instance_id,
        center  [x, y]            projected centre / (width, height), so [0, 1] inside the frame
        box     [x0, y0, x1, y1]  projected 3D bounding box, same normalisation, unclipped
        motion  [dx, dy]          unit vector of the centre's image motion (x right, y DOWN),
                                  central difference over neighbouring frames (one-sided at the
                                  ends); [0, 0] where it moves < 1e-3 px per frame
        visible                   visible fraction of the object's pixels

Phrasings come from :data:`synth.models.phrasings.PHRASINGS`; the style (with ``style=mixed``),
the paraphrase and the option order of a multiple-choice item are drawn per sample from
``SeedSequence(seed, sample id)``, so an item does not depend on the order of the manifest.

Layouts (written to a temporary sibling, then renamed into place: no partial output)::

    llava:  <out>/conversations.json  list of items   <out>/clips/*.mp4
    hf:     <out>/README.md  card whose YAML ``configs`` names the data file, so
                             ``datasets.load_dataset(out)`` needs no other argument
            <out>/data/<split>-00000-of-00001.parquet     <out>/clips/*.mp4
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np

from synth.errors import UserError
from synth.io import write_dir_atomic
from synth.models.parsing import LETTERS
from synth.models.phrasings import PHRASINGS
from synth.models.prompts import MCQ_INSTRUCTION, OPEN_INSTRUCTION, render_prompt

STYLES = ("mixed", "open", "mcq")
STILL_PX_PER_FRAME = 1e-3


def motion_targets(tracks: list[dict], width: int, height: int) -> list[dict]:
    """Per-frame auxiliary targets of each tracked object of a manifest record (see the module
    docstring): normalised ``center`` (T, 2) and ``box`` (T, 4), unit ``motion`` (T, 2) in image
    axes (x right, y down), ``visible`` (T,). Values are float lists, rounded to 1e-5."""
    scale = np.array([width, height], dtype=np.float64)
    out = []
    for track in tracks:
        centre = np.asarray(track["center_px"], dtype=np.float64).reshape(-1, 2)
        box = np.asarray(track["bbox_px"], dtype=np.float64).reshape(-1, 4)
        step = np.gradient(centre, axis=0) if len(centre) > 1 else np.zeros_like(centre)
        norm = np.linalg.norm(step, axis=1, keepdims=True)
        unit = np.where(norm >= STILL_PX_PER_FRAME, step / np.maximum(norm, 1e-12), 0.0)
        out.append(
            {
                "name": str(track["name"]),
                "instance_id": int(track["instance_id"]),
                "center": np.round(centre / scale, 5).tolist(),
                "box": np.round(box / np.tile(scale, 2), 5).tolist(),
                "motion": np.round(unit, 5).tolist(),
                "visible": [float(v) for v in track["visible"]],
            }
        )
    return out


def _rng(seed: int, sample_id: str) -> np.random.Generator:
    key = int.from_bytes(hashlib.sha256(str(sample_id).encode()).digest()[:8], "little")
    return np.random.default_rng(np.random.SeedSequence([seed, key]))


def _parts(task: str, question: str) -> tuple[dict, dict[str, str]]:
    """The phrasing entry that parses ``question`` and the named parts it found."""
    for entry in (PHRASINGS.get(task), PHRASINGS["*"]):
        match = re.match(entry["pattern"], question.strip()) if entry else None
        if match:
            return entry, match.groupdict()
    raise AssertionError("the '*' phrasing matches every question")


def phrase(record: dict, style: str, seed: int) -> dict:
    """One sample's question as asked: ``style`` (``open`` | ``mcq`` | ``mixed``: one of the two
    by seed), a paraphrase by seed and, for ``mcq``, a seeded option order. Returns ``style``,
    ``prompt``, ``answer`` (the reply), ``options``, ``answer_index`` and ``answer_text``."""
    rng = _rng(seed, record["id"])
    chosen = ("open", "mcq")[int(rng.integers(2))] if style == "mixed" else style
    entry, parts = _parts(record["task"], record["question"])
    templates = entry[chosen]
    question = templates[int(rng.integers(len(templates)))].format(**parts)
    answer_text = record["options"][int(record["answer_index"])]
    if chosen == "open":
        return {"style": "open", "prompt": render_prompt(question, []), "answer": answer_text,
                "options": [], "answer_index": -1, "answer_text": answer_text}  # fmt: skip
    order = rng.permutation(len(record["options"]))
    options = [record["options"][int(i)] for i in order]
    index = int(np.flatnonzero(order == int(record["answer_index"]))[0])
    return {"style": "mcq", "prompt": render_prompt(question, options), "answer": LETTERS[index],
            "options": options, "answer_index": index, "answer_text": answer_text}  # fmt: skip


def training_items(records: list[dict], style: str = "mixed", seed: int = 0, video_token: str = "image") -> list[dict]:
    """The export's items for manifest ``records`` (see the module docstring); the human turn
    starts with ``<video_token>`` and a newline (``image``: LLaVA-NeXT / LLaVA-Video's
    placeholder; ``video``: LLaMA-Factory's)."""
    if style not in STYLES:
        raise UserError(f"style={style}: allowed {', '.join(STYLES)}")
    if not re.fullmatch(r"[A-Za-z_]+", video_token):
        raise UserError(f"video_token={video_token}: a word such as image or video (written as <image>)")
    items = []
    for record in records:
        asked = phrase(record, style, seed)
        items.append(
            {
                "id": str(record["id"]),
                "video": f"clips/{record['id']}{Path(record['video']).suffix}",
                "task": record["task"],
                "group": str(record.get("group", record["id"])),
                **asked,
                "question": record["question"],
                "fps": float(record["fps"]),
                "num_frames": int(record["num_frames"]),
                "width": int(record["width"]),
                "height": int(record["height"]),
                # A JSON string: its keys vary by task, which a columnar table cannot type.
                "params": json.dumps(record.get("params", {}), sort_keys=True),
                "conversations": [
                    {"from": "human", "value": f"<{video_token}>\n{asked['prompt']}"},
                    {"from": "gpt", "value": asked["answer"]},
                ],
                "objects": motion_targets(record.get("tracks", []), int(record["width"]), int(record["height"])),
            }
        )
    return items


def _write_atomically(out: Path, overwrite: bool, fill) -> None:
    """:func:`synth.io.write_dir_atomic`, refusing a non-empty ``out`` unless ``overwrite``."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise UserError(f"out={out}: exists and is not empty; pass overwrite=true to replace it")
    write_dir_atomic(out, fill)


def _copy_clips(root: Path, records: list[dict], items: list[dict], out: Path) -> None:
    (out / "clips").mkdir()
    for record, item in zip(records, items):
        source = root / record["video"]
        if not source.is_file():
            raise UserError(f"data={root}: clip {record['video']} is missing (synth verify data={root})")
        shutil.copyfile(source, out / item["video"])


def export_llava(root: Path, records: list[dict], out: Path, style: str = "mixed", seed: int = 0,
                 video_token: str = "image", overwrite: bool = False) -> Path:  # fmt: skip
    """Write ``out/conversations.json`` (a list of items) and ``out/clips``; returns the JSON path."""
    items = training_items(records, style, seed, video_token)

    def fill(tmp: Path) -> None:
        _copy_clips(root, records, items, tmp)
        (tmp / "conversations.json").write_text(json.dumps(items, indent=1) + "\n")

    _write_atomically(out, overwrite, fill)
    return out / "conversations.json"


def _card(split: str, data_file: str, items: list[dict], source: Path) -> str:
    styles = sorted({i["style"] for i in items})
    return f"""---
configs:
- config_name: default
  data_files:
  - split: {split}
    path: {data_file}
---
# synth instruction-tuning export

Exported by `synth export hf` from `{source.resolve().name}`: {len(items)} items, styles {", ".join(styles)}.
Load it with `datasets.load_dataset("<this folder>")`; the `video` column is a path relative to this
folder. Columns and the per-frame `objects` targets (centre, box, unit motion vector, visibility)
are described in synth's docs/dataset.md ("Instruction-tuning exports").
Open-ended prompts end with "{OPEN_INSTRUCTION}", multiple-choice prompts with "{MCQ_INSTRUCTION}".
"""


def export_hf(root: Path, records: list[dict], out: Path, style: str = "mixed", seed: int = 0,
              video_token: str = "image", split: str = "train", overwrite: bool = False) -> Path:  # fmt: skip
    """Write a folder ``datasets.load_dataset(out)`` loads (split ``split``); returns the Parquet path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", split):
        raise UserError(f"split={split}: a name of letters, digits and _ (e.g. train, test)")
    items = training_items(records, style, seed, video_token)
    data_file = f"data/{split}-00000-of-00001.parquet"

    def fill(tmp: Path) -> None:
        _copy_clips(root, records, items, tmp)
        (tmp / "data").mkdir()
        pq.write_table(pa.Table.from_pylist(items), tmp / data_file)
        (tmp / "README.md").write_text(_card(split, data_file, items, root))

    _write_atomically(out, overwrite, fill)
    return out / data_file
