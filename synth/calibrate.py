"""Calibration: PSNR and SSIM of every degradation x severity on a reference set, written as
``degradations.md`` (the table and a reference of every degradation) and a gallery image per
degradation.
"""

from __future__ import annotations

import inspect
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from synth import degradations
from synth.degradations.quality import psnr, ssim
from synth.delivery import progress_bar
from synth.errors import UserError
from synth.io import write_atomic

HARD_TO_SEE_SSIM = 0.95
LEVELS = (1, 2, 3, 4, 5)
# The table's PSNR of a clip is pooled over all its frames, so a clip that differs a little passes
# the per-frame cap of 60 dB; 99 dB is what an unchanged clip scores (frame_drop at low levels
# leaves some clips as they were).
CLIP_PSNR_CAP_DB = 99.0


@dataclass
class Reference:
    name: str
    frames: np.ndarray  # (T, H, W, 3) uint8 sRGB
    fps: float
    depth: torch.Tensor | None  # (T, H, W) metres


def load_reference(root: Path, clips: int, frames: int, device: torch.device) -> list[Reference]:
    from synth.dataset import read_gt, read_manifest
    from synth.video import read_frames

    refs = []
    for record in read_manifest(root)[:clips]:
        # Only the frames used are decoded: a reference may be a long clip.
        video, fps = read_frames(root / record["video"], list(range(min(frames, record["num_frames"])))), record["fps"]
        depth = None
        gt = read_gt(root, record["id"])
        if gt is not None and "depth" in gt:
            depth = torch.from_numpy(np.array(gt["depth"][:frames], dtype=np.float32)).to(device)
        refs.append(Reference(record["id"], video, fps, depth))
    if not refs:
        raise UserError(f"data={root}: holds no clips")
    return refs


def render_reference(tmp: Path, clips: int, frames: int, seed: int) -> Path:
    """Render the default reference set into ``tmp/reference``: ``clips`` clips of the
    ``direction`` task, ``frames`` frames of 128x128 at 15 fps each, lossless, with depth (a
    progress bar on stderr when it is a terminal)."""
    from synth.generate import ClipConfig, Config, VideoConfig, generate

    root = tmp / "reference"
    cfg = Config(task="direction", n=clips, seed=seed, out=str(root), gt=True, progress=sys.stderr.isatty(),
                 video=VideoConfig(lossless=True), clip=ClipConfig(fps=15.0, seconds=max(frames, 2) / 15))  # fmt: skip
    return generate(cfg)


def quality(degraded: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    """(PSNR dB, mean SSIM) of a uint8 clip (T, H, W, 3) against its clean one, over the frames
    both have: the PSNR of the squared error pooled over the clip, capped at
    :data:`CLIP_PSNR_CAP_DB`."""
    n = min(len(degraded), len(clean))
    a, b = degraded[:n], clean[:n]
    return psnr(a, b, cap_db=CLIP_PSNR_CAP_DB, per_frame=False), float(ssim(a, b).mean())


def measure(refs: list[Reference], seed: int, device: torch.device) -> dict[str, list[dict]]:
    """For every degradation, per severity: mean PSNR/SSIM over the clips and the middle frame of
    the first clip (for the gallery). A tqdm bar on stderr when it is a terminal, quiet otherwise."""
    results: dict[str, list[dict]] = {}
    bar = progress_bar(len(degradations.REGISTRY) * len(LEVELS), "calibrate", "level")
    for name in degradations.REGISTRY:
        rows = []
        for level in LEVELS:
            bar.set_postfix_str(f"{name} {level}", refresh=False)
            pipe = degradations.Pipeline([(name, {"severity": level})])
            scores, sample = [], None
            for i, ref in enumerate(refs):
                video = degradations.unprocess(ref.frames, device)
                out = pipe.apply(video, fps=ref.fps, seed=seed + i, depth=ref.depth)
                scores.append(quality(out, ref.frames))
                if i == 0:
                    sample = out[len(out) // 2]
            psnr, ssim = np.mean(scores, axis=0)
            params = pipe.applied()[0]["params"]
            rows.append({"level": level, "params": params, "psnr": psnr, "ssim": ssim, "frame": sample})
            bar.update()
        results[name] = rows
    bar.close()
    return results


def gallery(name: str, clean: np.ndarray, rows: list[dict]) -> bytes:
    """The PNG of ``name``'s gallery: the clean frame, then each level with its PSNR / SSIM."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rows) + 1, figsize=(2.0 * (len(rows) + 1), 2.35), dpi=100)
    axes[0].imshow(clean)
    axes[0].set_title("clean", fontsize=9)
    for ax, row in zip(axes[1:], rows):
        ax.imshow(row["frame"])
        mark = " *" if row["ssim"] >= HARD_TO_SEE_SSIM else ""
        ax.set_title(f"{row['level']}: {row['psnr']:.1f} dB / {row['ssim']:.3f}{mark}", fontsize=8)
    for ax in axes:
        ax.axis("off")
    fig.suptitle(name, fontsize=10)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png")
    plt.close(fig)
    return png.getvalue()


def _value(v: object) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _describe(fn: object) -> str:
    """The function's docstring as Markdown paragraphs (it states units, ranges and sources)."""
    doc = (inspect.getdoc(fn) or "").replace("``", "`")
    doc = re.sub(r":func:`([^`]+)`", r"`\1`", doc)
    return "\n\n".join(" ".join(par.split()) for par in doc.split("\n\n"))


def markdown(results: dict[str, list[dict]], refs: list[Reference], source: str) -> str:
    h, w = refs[0].frames.shape[1:3]
    lines = [
        "# Degradations",
        "",
        "<!-- written by `synth calibrate`; edit synth/calibrate.py, not this file -->",
        "",
        "`degradations/` turns clean video into what real cameras deliver. It works on any video:",
        "rendered clips enter as linear light (with depth), external 8-bit footage is first",
        "*unprocessed* (inverse sRGB curve, Brooks et al. 2019) so optics and sensor noise act in",
        "linear light where they physically do. Stages run in physical order whatever order they",
        f"are listed in: {' → '.join(degradations.STAGES)} (atmosphere first: light crosses the",
        "medium before the lens; the ISP encodes to display values; the codec works on 8-bit frames).",
        "",
        "```",
        "synth generate task=direction n=4 seed=0 out=data/dir",
        "synth degrade src=data/dir/clips/direction-0-000000.mp4 out=data/low.mkv degradation=[lens,low_light,compression] \\",
        "    degradation.lens.k1=-0.2 degradation.low_light.ev=-4 \\",
        "    degradation.compression.codec=hevc degradation.compression.crf=38 video.lossless=true",
        "synth degrade src=data/dir out=data/dir_fog degradation=[fog] degradation.fog.severity=3",
        "synth generate task=direction n=4 out=data/dir_defocus degradation=[defocus,low_light] degradation.defocus.severity=3 \\",
        "    degradation.low_light.severity=2 degradation.low_light.read_noise_e=10",
        "```",
        "",
        "```python",
        "import degradations as D",
        "video = D.unprocess(frames_uint8)                 # (T,3,H,W) linear",
        "noisy = D.low_light(video, ev=-4, read_noise_e=3)  # functional",
        "out = D.Pipeline([('lens', {'k1': -0.2}), ('compression', {'severity': 3})]).apply(video, fps=30, seed=0)",
        "```",
        "",
        "`severity=1..5` takes the parameters listed in each level's row of the table below;",
        "a parameter you set explicitly wins over its level's value (above: low-light level 2 with",
        "10 e⁻ read noise), and every other parameter keeps its default. The record of each clip",
        "lists the level and the values actually used. A listed degradation that would leave the",
        "video unchanged (`defocus` at its default `f_number=0`, `rain` at `density=0`, `lens` with",
        "all coefficients 0, ...) is refused with one line: give it a severity or a parameter.",
        "",
        "**Rendered clips vs external video.** Motion blur and rolling shutter of rendered clips",
        "are exact from the renderer (`camera.shutter_deg`; it integrates the scene over the",
        "shutter), and `synth generate ... degradation=[rain]` (or `snow`) puts the particles in",
        "the scene itself (`synth/weather.py`), where the shutter streaks them. The `motion_blur`, `camera_shake`,",
        "`rolling_shutter` (global camera motion only), `rain` and `snow` stages here are for",
        "external footage, where the scene is not available.",
        "",
        "**Streaming, delivery, a user's footage.** `synth degrade` decodes its input as a stream of",
        "chunks (about 2 Mpx each: one 1080p frame) and runs the camera model over it: stages that look",
        "at neighbouring frames get overlapping windows, frame drops remap indices as frames arrive, and",
        "random draws are keyed by (seed, stage, frame index), so the result equals a whole-clip run",
        "(`Pipeline.stream` vs `Pipeline.apply`) and memory does not grow with the clip's length. With",
        "`compression` listed, the file is that encoder's own stream, one encode (`.mp4` for",
        "h264/hevc/av1, `.webm` for vp9, `.mkv` for jpeg; an `out=` suffix that cannot hold it is",
        "refused, `video.*` does not apply). On a dataset, tracks and ground truth follow the pixels:",
        "lens and fisheye warp them by the image's own map, frame drops re-index them, other stages",
        "leave them as they are; fog and defocus use the clean depth of the frames they act on. A",
        "user's video: rotation metadata is applied, a variable frame rate is resampled by its",
        "timestamps to a constant rate (frames repeated in the longer gaps), 10-bit input is decoded to",
        "8 bits, audio is dropped, an odd size is cropped to even (last row/column) unless",
        "`video.lossless=true`; each such change is printed as one `note:` line.",
        "",
        "## Calibration",
        "",
        f"Reference set: {len(refs)} clips ({source}), {len(refs[0].frames)} frames of {w}×{h} each. PSNR (dB)",
        "and SSIM (window 11) of the degraded against the clean sRGB clip, averaged over clips",
        "(kornia.metrics). **hard to see** marks levels with SSIM ≥ 0.95: changes most viewers",
        "would not notice, which is where model robustness matters most.",
        "Stages that need motion (`rolling_shutter` needs camera motion, `frame_drop` needs",
        "anything moving) change little on mostly static reference clips. `fog` is strong from",
        "level 1 on these clips: their dark backdrop has infinite depth, which counts as `far_m`",
        "(20 m), and a little airlight over a near-black background is very visible.",
        "",
        "| degradation | stage | level | parameters | PSNR | SSIM | |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rows in results.items():
        spec = degradations.REGISTRY[name]
        for row in rows:
            params = ", ".join(f"{k}={_value(row['params'][k])}" for k in spec.severity[row["level"] - 1])
            mark = "hard to see" if row["ssim"] >= HARD_TO_SEE_SSIM else ""
            scores = f"{row['psnr']:.2f} | {row['ssim']:.4f}"
            lines.append(f"| {name} | {spec.stage} | {row['level']} | {params} | {scores} | {mark} |")
    lines += ["", "## Reference", ""]
    for name, spec in degradations.REGISTRY.items():
        params = ", ".join(f"`{k}={_value(v)}`" for k, v in spec.defaults().items())
        lines += [
            f"### {name}",
            "",
            f"Stage **{spec.stage}**; function `{spec.fn.__module__}.{spec.fn.__name__}`.",
            "",
            _describe(spec.fn),
            "",
            f"Parameters (defaults): {params}, `severity=0`.",
            "",
            f"![{name} at severities 1..5](img/degradations/{name}.png)",
            "",
        ]
    return "\n".join(lines)


def write_calibration(results: dict[str, list[dict]], refs: list[Reference], out: Path, source: str) -> Path:
    """Write ``out/degradations.md`` and the galleries ``out/img/degradations/<name>.png`` of
    :func:`measure`'s ``results``; returns the Markdown file. Everything is drawn first, then each
    file written whole (:func:`synth.io.write_atomic`): a failure while drawing changes nothing."""
    clean = refs[0].frames[len(refs[0].frames) // 2]
    files = {out / "img" / "degradations" / f"{name}.png": gallery(name, clean, rows) for name, rows in results.items()}
    path = out / "degradations.md"
    files[path] = markdown(results, refs, source) + "\n"
    (out / "img" / "degradations").mkdir(parents=True, exist_ok=True)
    for file, data in files.items():
        write_atomic(file, data)
    return path
