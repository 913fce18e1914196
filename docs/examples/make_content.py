"""Make the tiny example content under docs/examples/content (CC0: drawn by this script).

    .venv/bin/python docs/examples/make_content.py

``photos/``: four 192x144 JPEG stand-ins for background photos (sky, hills, fields, texture
noise); ``cutouts/``: three 64x64 RGBA PNG cut-outs (a leaf, a star, a kite) with transparent
surroundings; ``meshes/``: a beach ball (GLB, a striped base-colour texture on spherical UVs)
and a capsule (PLY, vertex colours). Seeded: a rerun writes the same pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent / "content"


def photo(rng: np.random.Generator, w: int = 192, h: int = 144) -> np.ndarray:
    y, x = np.mgrid[:h, :w] / np.array([h, w])[:, None, None]
    sky = np.array([0.45, 0.65, 0.95]) + rng.uniform(-0.1, 0.1, 3)
    ground = np.array([0.35, 0.55, 0.2]) + rng.uniform(-0.15, 0.15, 3)
    ridge = 0.5 + 0.08 * np.sin(x * rng.uniform(5, 12) + rng.uniform(0, 6)) + 0.04 * np.sin(x * 23)
    img = np.where((y > ridge)[..., None], ground * (0.7 + 0.5 * y[..., None]), sky * (1.1 - 0.5 * y[..., None]))
    stripes = 0.08 * np.sin((x * rng.uniform(20, 40) + y * rng.uniform(10, 30)) * np.pi)
    img = img + (y > ridge)[..., None] * stripes[..., None] + rng.normal(0, 0.03, img.shape)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def cutout(kind: str, color: tuple[int, int, int], size: int = 64) -> np.ndarray:
    y, x = (np.mgrid[:size, :size] + 0.5) / size * 2 - 1
    r, a = np.hypot(x, y), np.arctan2(y, x)
    if kind == "leaf":
        inside = (x / 0.9) ** 2 + (y / 0.45) ** 2 <= 1 - 0.3 * np.abs(x)
    elif kind == "star":
        inside = r <= 0.45 + 0.45 * (np.cos(5 * a) > 0) * np.cos(5 * a)
    else:  # kite
        inside = np.abs(x) / 0.6 + np.abs(y + 0.2 * np.sign(y)) / 0.95 <= 1
    rgba = np.zeros((size, size, 4), np.uint8)
    shade = (1 - 0.35 * r)[..., None] * np.array(color)
    rgba[..., :3] = np.clip(shade, 0, 255).astype(np.uint8)
    rgba[..., 3] = np.where(inside, 255, 0)
    return rgba


def meshes(out: Path) -> None:
    import trimesh

    ball = trimesh.creation.uv_sphere(radius=1.0, count=[16, 24])
    v = ball.vertices
    uv = np.c_[np.arctan2(v[:, 0], v[:, 2]) / (2 * np.pi) + 0.5, v[:, 1] / 2 + 0.5]
    stripes = np.array([[230, 40, 40], [250, 250, 250], [40, 90, 230], [250, 210, 30], [250, 250, 250], [40, 170, 70]], np.uint8)
    texture = Image.fromarray(np.repeat(stripes[None], 4, axis=0))
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=texture, baseColorFactor=[255, 255, 255, 255])
    ball.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    ball.export(out / "beach_ball.glb")
    capsule = trimesh.creation.capsule(height=1.2, radius=0.4, count=[16, 16])
    t = (capsule.vertices[:, 2] - capsule.vertices[:, 2].min()) / np.ptp(capsule.vertices[:, 2])
    capsule.visual.vertex_colors = np.c_[(250 - 110 * t), (140 - 100 * t), (30 + 170 * t), np.full_like(t, 255)].astype(np.uint8)
    capsule.export(out / "capsule.ply")


def main() -> None:
    rng = np.random.default_rng(2605)
    (OUT / "photos").mkdir(parents=True, exist_ok=True)
    (OUT / "cutouts").mkdir(parents=True, exist_ok=True)
    for i in range(4):
        Image.fromarray(photo(rng)).save(OUT / "photos" / f"landscape{i}.jpg", quality=85)
    for kind, color in (("leaf", (60, 170, 40)), ("star", (240, 200, 30)), ("kite", (220, 40, 60))):
        Image.fromarray(cutout(kind, color)).save(OUT / "cutouts" / f"{kind}.png")
    (OUT / "meshes").mkdir(exist_ok=True)
    meshes(OUT / "meshes")


if __name__ == "__main__":
    main()
