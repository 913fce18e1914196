"""Training exports of a synth dataset: LLaVA conversation JSON and a Hugging Face ``datasets``
folder, split by scene group into train / validation / test, with an integer label and
per-frame motion targets (and their visibility mask) for auxiliary losses.

One item per sample (:func:`training_items`)::

    id, video, split ("train" | "validation" | "test"), label (index into the label names),
    task, group, style ("open" | "mcq"),
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
                                  ends); [0, 0] where it moves < 1e-3 px per frame or is unseen
        visible                   visible fraction of the object's pixels; a loss on motion,
                                  centre or box is masked with visible > 0

Labels (:func:`label_names`): the family's answer set (``Task.answers`` of the record's params),
e.g. direction's ``left, right, up, down``; where options name objects (``order``,
``speed_compare``...) the set names positions in the canonical option order (``first``,
``second``; ``0``, ``1``, ``2``). Several families in one dataset: their sets joined in order.

Splits (:func:`split_of_group`): a whole ``group`` (a base scene and its sweep siblings) goes to
one split, chosen from ``sha256(seed, group)`` against the cumulative fractions; a group's split
depends only on its id, the seed and the fractions, so it is the same in every run and adding
samples never moves a group.

Phrasings come from :data:`synth.models.phrasings.PHRASINGS`; the style (with ``style=mixed``),
the paraphrase and the option order of a multiple-choice item are drawn per sample from
``SeedSequence(seed, sample id)``, so an item does not depend on the order of the manifest.

Layouts (written to a temporary sibling, then renamed into place: no partial output)::

    llava:  <out>/<split>.json  list of items per split    <out>/clips/*.mp4
            (video: "clips/<id>.mp4", relative to the export)
    hf:     <out>/README.md  dataset card; its YAML ``configs`` names one Parquet file per split,
                             so ``datasets.load_dataset(out)`` gives a DatasetDict
            <out>/data/<split>-00000-of-00001.parquet  the clips are embedded (``video`` is a
            ``datasets.Video()`` column holding the bytes), so the folder loads and decodes from
            any working directory and can be moved or uploaded as is
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np

from synth import scenes
from synth.errors import UserError
from synth.io import output_folder
from synth.models.parsing import LETTERS
from synth.models.phrasings import PHRASINGS
from synth.models.prompts import MCQ_INSTRUCTION, OPEN_INSTRUCTION, render_prompt

STYLES = ("mixed", "open", "mcq")
SPLITS = ("train", "validation", "test")
DEFAULT_FRACTIONS = MappingProxyType({"train": 0.8, "validation": 0.1, "test": 0.1})
STILL_PX_PER_FRAME = 1e-3
# params keys of content drawn from files (docs/dataset.md, "Content from files"): its licence is its owner's
FILE_CONTENT_KEYS = ("object.mesh", "object.sprite", "object.asset_dir", "object.sprite_dir", "background.image_dir",
                     "stage.floor_sha256", "stage.walls_sha256")  # fmt: skip


def motion_targets(tracks: list[dict], width: int, height: int) -> list[dict]:
    """Per-frame auxiliary targets of each tracked object of a manifest record (see the module
    docstring): normalised ``center`` (T, 2) and ``box`` (T, 4), unit ``motion`` (T, 2) in image
    axes (x right, y down; [0, 0] where the object is unseen), ``visible`` (T,). Values are float
    lists, rounded to 1e-5."""
    scale = np.array([width, height], dtype=np.float64)
    out = []
    for track in tracks:
        centre = np.asarray(track["center_px"], dtype=np.float64).reshape(-1, 2)
        box = np.asarray(track["bbox_px"], dtype=np.float64).reshape(-1, 4)
        visible = np.asarray(track["visible"], dtype=np.float64)
        step = np.gradient(centre, axis=0) if len(centre) > 1 else np.zeros_like(centre)
        norm = np.linalg.norm(step, axis=1, keepdims=True)
        seen_moving = (norm >= STILL_PX_PER_FRAME) & (visible[:, None] > 0)
        unit = np.where(seen_moving, step / np.maximum(norm, 1e-12), 0.0)
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


def _record_answers(record: dict) -> list[str]:
    """The answer set of ``record``'s family for its params."""
    if record["task"] not in scenes.TASKS:
        raise UserError(f"task={record['task']} (sample {record['id']}): not a task family of this synth")
    return [str(a) for a in scenes.get(record["task"]).answers(record.get("params", {}))]


def label_names(records: list[dict]) -> list[str]:
    """The label names of ``records``: their families' answer sets, joined in order of appearance."""
    names: list[str] = []
    for record in records:
        names += [a for a in _record_answers(record) if a not in names]
    return names


def label_of(record: dict, names: list[str]) -> int:
    """``record``'s label: its answer in ``names`` (:func:`label_names`), or, where the answer set
    names positions (options name objects), the position of the answer among the options."""
    answers = _record_answers(record)
    answer = str(record["answer"])
    return names.index(answer if answer in answers else answers[int(record["answer_index"])])


def check_fractions(fractions: Mapping[str, float]) -> None:
    """``fractions`` (split name -> fraction of the groups) names :data:`SPLITS` only, each in
    [0, 1], summing to 1; else a :class:`UserError`."""
    unknown = sorted(set(fractions) - set(SPLITS))
    if unknown:
        raise UserError(f"split.{unknown[0]}: allowed split names {', '.join(SPLITS)}")
    for name, value in fractions.items():
        if not 0.0 <= float(value) <= 1.0:
            raise UserError(f"split.{name}={value}: must be a fraction in [0, 1]")
    total = sum(float(v) for v in fractions.values())
    if abs(total - 1.0) > 1e-6:
        shown = " + ".join(f"split.{k}={v:g}" for k, v in fractions.items())
        raise UserError(f"{shown} = {total:g}: the split fractions must sum to 1")


def split_names(fractions: Mapping[str, float]) -> list[str]:
    """The splits an export writes: those of :data:`SPLITS` with a non-zero fraction, in order."""
    return [name for name in SPLITS if fractions.get(name, 0.0) > 0]


def split_of_group(group: str, fractions: Mapping[str, float], seed: int = 0) -> str:
    """The split of scene ``group``: ``sha256(seed, group)`` as a number in [0, 1) against the
    cumulative ``fractions`` (in :data:`SPLITS` order). Depends on nothing else, so it is stable
    across runs and datasets."""
    digest = hashlib.sha256(f"{int(seed)}\0{group}".encode()).digest()
    u = int.from_bytes(digest[:8], "little") / 2.0**64
    edge = 0.0
    named = split_names(fractions)
    for name in named:
        edge += float(fractions[name])
        if u < edge:
            return name
    return named[-1]  # rounding: the fractions sum to 1 within 1e-6


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


def training_items(records: list[dict], style: str = "mixed", seed: int = 0, video_token: str = "image",
                   fractions: Mapping[str, float] = DEFAULT_FRACTIONS, split_seed: int = 0) -> list[dict]:  # fmt: skip
    """The export's items for manifest ``records`` (see the module docstring); the human turn
    starts with ``<video_token>`` and a newline (``image``: LLaVA-NeXT / LLaVA-Video's
    placeholder; ``video``: LLaMA-Factory's). ``fractions`` (split -> fraction of the groups) and
    ``split_seed`` assign each group a split (:func:`split_of_group`)."""
    if style not in STYLES:
        raise UserError(f"style={style}: allowed {', '.join(STYLES)}")
    if not re.fullmatch(r"[A-Za-z_]+", video_token):
        raise UserError(f"video_token={video_token}: a word such as image or video (written as <image>)")
    check_fractions(fractions)
    names = label_names(records)
    items = []
    for record in records:
        asked = phrase(record, style, seed)
        group = str(record.get("group", record["id"]))
        items.append(
            {
                "id": str(record["id"]),
                "video": f"clips/{record['id']}{Path(record['video']).suffix}",
                "split": split_of_group(group, fractions, split_seed),
                "label": label_of(record, names),
                "task": record["task"],
                "group": group,
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
    """``fill(folder)`` builds the export that becomes ``out``, under the output policy of
    :func:`synth.io.output_folder` (all or nothing; overwrite=true replaces only a synth export)."""
    with output_folder(out, "export", overwrite) as tmp:
        fill(tmp)


def _clip_source(root: Path, record: dict) -> Path:
    source = root / record["video"]
    if not source.is_file():
        raise UserError(f"data={root}: clip {record['video']} is missing (synth verify data={root})")
    return source


def export_llava(root: Path, records: list[dict], out: Path, style: str = "mixed", seed: int = 0,
                 video_token: str = "image", fractions: Mapping[str, float] = DEFAULT_FRACTIONS, split_seed: int = 0,
                 overwrite: bool = False) -> list[Path]:  # fmt: skip
    """Write ``out/<split>.json`` (a list of items per split with a non-zero fraction) and
    ``out/clips``; returns the JSON paths."""
    items = training_items(records, style, seed, video_token, fractions, split_seed)
    splits = split_names(fractions)

    def fill(tmp: Path) -> None:
        (tmp / "clips").mkdir()
        for record, item in zip(records, items):
            shutil.copyfile(_clip_source(root, record), tmp / item["video"])
        for split in splits:
            chosen = [i for i in items if i["split"] == split]
            (tmp / f"{split}.json").write_text(json.dumps(chosen, indent=1) + "\n")

    _write_atomically(out, overwrite, fill)
    return [out / f"{split}.json" for split in splits]


def hf_features(names: list[str]):
    """The ``datasets.Features`` of the hf export: ``label`` a ``ClassLabel`` over ``names``,
    ``video`` a ``Video()`` (embedded bytes), the other columns as in the module docstring."""
    from datasets import ClassLabel, Features, List, Value, Video

    text, real, whole = Value("string"), Value("float32"), Value("int32")
    per_frame = lambda width: List(List(real, length=width))  # noqa: E731
    return Features(
        {
            "id": text, "video": Video(), "split": text, "label": ClassLabel(names=names), "task": text,
            "group": text, "style": text, "prompt": text, "answer": text, "options": List(text),
            "answer_index": whole, "answer_text": text, "question": text, "fps": real, "num_frames": whole,
            "width": whole, "height": whole, "params": text,
            "conversations": List({"from": text, "value": text}),
            "objects": List({"name": text, "instance_id": whole, "center": per_frame(2), "box": per_frame(4),
                             "motion": per_frame(2), "visible": List(real)}),
        }
    )  # fmt: skip


def _licence(records: list[dict]) -> tuple[str, str]:
    """(card metadata licence, the card's sentence) for ``records``' content."""
    files = sorted({k for r in records for k in r.get("params", {}) if k in FILE_CONTENT_KEYS})
    if not files:
        return "cc0-1.0", ("The clips are rendered from synth's built-in primitives and procedural "
                           "textures only: released under CC0 1.0 (public domain dedication).")  # fmt: skip
    return "other", (
        f"The clips show content drawn from files (`{'`, `'.join(files)}` in `params`). The example content "
        "shipped in synth's `docs/examples/content` is CC0 1.0; content from your own files keeps its own "
        "licence, which you must check before sharing this export. Everything else synth renders is CC0 1.0."
    )


def _card(items: list[dict], splits: list[str], names: list[str], records: list[dict], source: Path,
          fractions: Mapping[str, float], split_seed: int) -> str:  # fmt: skip
    licence, licence_text = _licence(records)
    configs = "\n".join(f"  - split: {s}\n    path: data/{s}-00000-of-00001.parquet" for s in splits)
    # The config is named for the export's content: `datasets` caches a local folder under its
    # folder name and config, so a re-export into a folder of the same name would otherwise be
    # served from the cache of the old one.
    content = hashlib.sha256(json.dumps([items, names, [r["sha256"] for r in records]], sort_keys=True, default=str).encode())
    counts = {s: sum(1 for i in items if i["split"] == s) for s in splits}
    groups = {s: len({i["group"] for i in items if i["split"] == s}) for s in splits}
    split_rows = "\n".join(f"| {s} | {fractions.get(s, 0.0):g} | {groups[s]} | {counts[s]} |" for s in splits)
    label_rows = "\n".join(f"| {k} | {n} |" for k, n in enumerate(names))
    styles = sorted({i["style"] for i in items})
    tasks = sorted({i["task"] for i in items})
    return f"""---
license: {licence}
task_categories:
- video-classification
- visual-question-answering
tags:
- synthetic
- synth
configs:
- config_name: synth-{content.hexdigest()[:16]}
  default: true
  data_files:
{configs}
---
# synth training export: {", ".join(tasks)}

Exported by `synth export hf` from the synth dataset `{source.resolve().name}`: {len(items)} items,
question styles {", ".join(styles)}. The format is described in synth's `docs/dataset.md`
("Training exports"); a worked training example is `docs/training.md`.

## Splits

Split by scene `group`: a base scene and every sweep sibling of it land in the same split, so no
scene is on both sides. A group's split is drawn from `sha256(seed, group)` against the fractions
(seed {split_seed}); it is the same in every run and does not change when samples are added.

| split | fraction of groups | groups | items |
|---|---|---|---|
{split_rows}

## Labels

`label` is a `ClassLabel`: the task family's answer set (where the options name objects, the
position of the answer among the options in their canonical order).

| label | name |
|---|---|
{label_rows}

## Features

| column | type | meaning |
|---|---|---|
| `id` | string | sample id in the source dataset |
| `video` | `Video()` | the clip (H.264 MP4 bytes embedded in the Parquet file) |
| `split` | string | the split of the row |
| `label` | `ClassLabel` | the answer (table above) |
| `task`, `group` | string | task family; scene group (sweep siblings share it) |
| `style`, `prompt`, `answer` | string | `open` or `mcq`; the question as asked; the reply (the option text, or the letter) |
| `question`, `options`, `answer_index`, `answer_text` | | canonical question; options as presented (`[]` for open); index in them (-1 for open); the answer's text |
| `fps`, `num_frames`, `width`, `height` | | clip format |
| `params` | string | JSON of every sampled parameter |
| `conversations` | list | `[{{"from": "human", "value": "<image>\\n" + prompt}}, {{"from": "gpt", "value": answer}}]` |
| `objects` | list | per tracked object: `name`, `instance_id` and per frame `center` [x, y], `box` [x0, y0, x1, y1] (divided by width and height), `motion` [dx, dy] (unit image motion, x right, y down), `visible` (fraction of the object's pixels seen) |

Per-frame targets are defined where the object is seen: **mask any loss on `motion`, `center` or
`box` with `visible > 0`** (`motion` is [0, 0] where the object is unseen or still).
Open-ended prompts end with "{OPEN_INSTRUCTION}", multiple-choice prompts with "{MCQ_INSTRUCTION}".

## Loading and decoding

```python
import io

import av  # PyAV (pip install av); datasets.Video() decodes with torchcodec instead
import datasets
import numpy as np

splits = datasets.load_dataset("<this folder>")  # DatasetDict: {", ".join(splits)}
rows = splits["{splits[0]}"].cast_column("video", datasets.Video(decode=False))
row = rows[0]
with av.open(io.BytesIO(row["video"]["bytes"])) as clip:
    frames = np.stack([f.to_ndarray(format="rgb24") for f in clip.decode(video=0)])  # (T, H, W, 3) uint8
print(frames.shape, rows.features["label"].int2str(row["label"]))
```

With `torchcodec` installed, `splits["{splits[0]}"][0]["video"]` is a `torchcodec` `VideoDecoder`
(`datasets.Video()`); the clips are embedded, so this works from any working directory.

## Licence

{licence_text}

## Citation

```bibtex
@software{{synth,
  title  = {{synth: procedural video synthesis for controlled tests of video models}},
  note   = {{Dataset exported with `synth export hf`; format: docs/dataset.md}}
}}
```
"""


def export_hf(root: Path, records: list[dict], out: Path, style: str = "mixed", seed: int = 0,
              video_token: str = "image", fractions: Mapping[str, float] = DEFAULT_FRACTIONS, split_seed: int = 0,
              overwrite: bool = False) -> Path:  # fmt: skip
    """Write a folder ``datasets.load_dataset(out)`` loads as a ``DatasetDict`` (one split per
    non-zero fraction that holds clips: ``datasets`` cannot read an empty Parquet split, so a tiny
    dataset's empty split is left out and the card lists the splits written); returns ``out/README.md``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    items = training_items(records, style, seed, video_token, fractions, split_seed)
    names = label_names(records)
    splits = [s for s in split_names(fractions) if any(item["split"] == s for item in items)]
    features = hf_features(names)

    def fill(tmp: Path) -> None:
        (tmp / "data").mkdir()
        for split in splits:
            rows = []
            for record, item in zip(records, items):
                if item["split"] == split:
                    clip = _clip_source(root, record).read_bytes()
                    rows.append({**item, "video": {"bytes": clip, "path": Path(item["video"]).name}})
            table = pa.Table.from_pylist(rows, schema=features.arrow_schema)
            pq.write_table(table, tmp / "data" / f"{split}-00000-of-00001.parquet")
        (tmp / "README.md").write_text(_card(items, splits, names, records, root, fractions, split_seed))

    _write_atomically(out, overwrite, fill)
    return out / "README.md"
