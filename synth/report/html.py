"""``report.html``: the report on one self-contained page, plus a gallery of the clips that broke a model.

The page is ``report.md`` rendered (markdown-it, tables on) with every plot embedded as a
``data:`` URI, so it opens anywhere with nothing beside it and loads nothing from outside. The
gallery shows paired clips where a model was right on the clean clip and wrong on the degraded
one: :data:`STRIP_FRAMES` frames of each, side by side, the question, the options, the truth and
both answers (an answer that named no option is marked as an abstention).
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.errors import MediaError, UserError
from synth.io import write_atomic
from synth.video import read_frames

STRIP_FRAMES = 4
STRIP_HEIGHT_PX = 96
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; max-width: 1200px; margin: 1.5em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 12px; margin: 0.6em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; white-space: nowrap; }
th { background: #f3f3f3; }
img { max-width: 100%; }
code { background: #f3f3f3; padding: 0 3px; }
.pair { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 0.9em; margin: 0.8em 0; }
.pair .clip { margin: 0.3em 0; }
.pair .clip img { display: block; image-rendering: pixelated; }
.right { color: #1a7f37; } .wrong { color: #b42318; } .abstained { color: #9a6700; }
"""


@dataclass
class Answered:
    """One clip as a model saw it: the clip's path, the model's reply and its parsed option (None: no option named)."""

    video: Path
    num_frames: int
    response: str
    parsed: str | None
    correct: bool


@dataclass
class GalleryItem:
    """A paired clip the model got right clean and wrong degraded."""

    model: str
    mode: str
    condition: str
    question: str
    options: list[str]
    answer: str
    clean: Answered
    degraded: Answered


def strip_png(video: Path, num_frames: int, frames: int = STRIP_FRAMES, height: int = STRIP_HEIGHT_PX) -> bytes:
    """``frames`` frames evenly spread over the clip, side by side, scaled to ``height`` pixels, as PNG bytes."""
    from PIL import Image

    indices = sorted({round(i * (num_frames - 1) / max(1, frames - 1)) for i in range(frames)})
    picked = read_frames(video, indices)  # (k, H, W, 3) uint8
    gap = np.full((picked.shape[1], 4, 3), 255, np.uint8)
    row = np.concatenate([part for frame in picked for part in (frame, gap)][:-1], axis=1)
    image = Image.fromarray(row)
    image = image.resize((max(1, round(image.width * height / image.height)), height), Image.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _embed_images(body: str, folder: Path) -> str:
    """Every ``<img src="name.png">`` of the report's own folder inlined as a data URI."""

    def inline(match: re.Match) -> str:
        src = html.unescape(match.group(1))
        path = folder / src
        if "/" in src or not path.is_file():
            return match.group(0)
        return f'src="{data_uri(path.read_bytes())}"'

    return re.sub(r'src="([^"]+)"', inline, body)


def _answer_html(label: str, a: Answered) -> str:
    if a.parsed is None:
        verdict, cls = "abstained (named no option)", "abstained"
    else:
        verdict, cls = ("right" if a.correct else "wrong"), ("right" if a.correct else "wrong")
    said = f" → {html.escape(a.parsed)}" if a.parsed is not None and a.parsed != a.response.strip() else ""
    try:
        picture = f'<img alt="{html.escape(label)} frames" src="{data_uri(strip_png(a.video, a.num_frames))}">'
    except (MediaError, UserError, OSError) as exc:
        picture = f"<em>clip not readable: {html.escape(str(exc))}</em>"
    return (f'<div class="clip"><strong>{html.escape(label)}</strong> — answered '
            f'<code>{html.escape(a.response.strip()[:200])}</code>{said} <span class="{cls}">{verdict}</span>{picture}</div>')  # fmt: skip


def gallery_html(items: list[GalleryItem], left_out: int, pairs: int) -> str:
    """The gallery section: one box per pair, clean above degraded; ``pairs``: clean and degraded
    pairs looked at (0: the report holds none, and the gallery says so)."""
    if not items:
        why = ("No model was right on a clean clip and wrong on its degraded twin." if pairs else
               "This report holds no clean clip with a degraded twin (evaluate a dataset and its `synth degrade` copy).")  # fmt: skip
        return f"<h2>Gallery: clean right, degraded wrong</h2><p>{html.escape(why)}</p>"
    parts = ["<h2>Gallery: clean right, degraded wrong</h2>",
             f"<p>Paired clips where a model was right on the clean clip and wrong on the degraded one "
             f"({STRIP_FRAMES} frames of each, evenly spread over the clip).</p>"]  # fmt: skip
    for item in items:
        parts.append(
            f'<div class="pair"><h3>{html.escape(item.model)} · {html.escape(item.condition)} · {html.escape(item.mode.replace("`", ""))}</h3>'
            f"<p>{html.escape(item.question)}<br>options: {html.escape(', '.join(item.options))}; "
            f"truth: <strong>{html.escape(item.answer)}</strong></p>"
            + _answer_html("clean", item.clean) + _answer_html(item.condition, item.degraded) + "</div>"
        )
    if left_out:
        parts.append(f"<p>{left_out} more such pairs are left out of this page (see the tables above).</p>")
    return "\n".join(parts)


def write_html(markdown_path: Path, out: Path, title: str, items: list[GalleryItem], left_out: int, pairs: int) -> None:
    """``out``: ``markdown_path`` rendered with its plots embedded, and the gallery of ``items``."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(markdown_path.read_text())
    body = _embed_images(body, markdown_path.parent)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f"<style>{STYLE}</style></head><body>\n{body}\n{gallery_html(items, left_out, pairs)}\n</body></html>\n")  # fmt: skip
    write_atomic(out, page)
