"""Content from files (synth.assets): meshes exported by trimesh to OBJ / GLB / PLY, RGBA
cut-outs, drawn by the real renderer; their ground truth, tracks and visibility."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synth import assets, meshes
from synth.scene import Background, Light, Material, Node, Scene
from synth.tracks import tracks

SIZE = 64


RENDERER = {"width": SIZE, "height": SIZE, "msaa": 1, "shadow_size": 64}  # the `renderer` fixture (conftest.py)


def _lit(objects: list[Node]) -> Scene:
    lights = [Light(kind="ambient", intensity=1.0, shadows=False)]
    return Scene(objects=objects, lights=lights, background=Background(kind="solid", color=(0.0, 0.0, 0.0)))


def _mesh_files(tmp: Path) -> dict[str, Path]:
    """A 2 x 1 x 0.5 box with a uniform green texture (GLB, OBJ) and a red icosphere (PLY, GLB)."""
    import trimesh

    box = trimesh.creation.box(extents=(2.0, 1.0, 0.5))
    green = Image.fromarray(np.full((4, 4, 4), [40, 200, 60, 255], np.uint8))
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=green, baseColorFactor=[255, 255, 255, 255])
    box.visual = trimesh.visual.TextureVisuals(uv=np.full((len(box.vertices), 2), 0.5), material=material)
    ball = trimesh.creation.icosphere(subdivisions=2, radius=3.0)
    ball.apply_translation((5.0, 0.0, 0.0))
    ball.visual.vertex_colors = np.tile([220, 30, 20, 255], (len(ball.vertices), 1))
    files = {"box.glb": box, "box.obj": box, "ball.ply": ball, "ball.glb": ball}
    out = {}
    for name, mesh in files.items():
        out[name] = tmp / name
        mesh.export(out[name])
    return out


def test_meshes_from_each_format_are_unit_sized_and_keep_their_colours(tmp_path, renderer):
    for name, path in _mesh_files(tmp_path).items():
        asset = assets.load_mesh(path)
        data = meshes.mesh(asset.shape)
        assert data.shape[1] == 12 and len(data) % 3 == 0, name
        lo, hi = data[:, :3].min(0), data[:, :3].max(0)
        np.testing.assert_allclose((lo + hi) / 2, 0.0, atol=1e-6)
        assert abs((hi - lo).max() - 1.0) < 1e-6, name
        if name.startswith("box"):  # proportions kept: 2 x 1 x 0.5 -> 1 x 0.5 x 0.25
            np.testing.assert_allclose(hi - lo, [1.0, 0.5, 0.25], atol=1e-6)
        np.testing.assert_allclose(np.linalg.norm(data[:, 3:6], axis=1), 1.0, atol=1e-4)
        material = Material(color=(1.0, 1.0, 1.0), image=asset.image, vertex_colors=asset.colored, specular=0.0)
        node = Node("object", shape=asset.shape, rotation_deg=(20.0, 30.0, 0.0), scale=(2.0,) * 3, material=material)
        scene = _lit([node])
        frame = renderer.render(scene, np.array([0.0]), 10.0)[0].astype(int)
        mask = renderer.ground_truth(scene, np.array([0.0]), 10.0)["instances"][0] == 1
        assert mask.sum() > 200, name
        mean = frame[mask].mean(0)
        expected = 1 if name.startswith("box") else 0  # green texture / red vertex colours
        assert np.argmax(mean) == expected and mean[expected] > 1.5 * np.delete(mean, expected).max(), (name, mean)
        # The track's box (projected 3D bounds) encloses the object's pixel centres.
        track = tracks(scene, np.array([0.0]), SIZE, SIZE, np.ones((1, 1)))[0]
        x0, y0, x1, y1 = track["bbox_px"][0]
        ys, xs = np.nonzero(mask)
        assert x0 <= xs.min() + 0.5 and xs.max() + 0.5 <= x1 and y0 <= ys.min() + 0.5 and ys.max() + 0.5 <= y1


def test_bad_mesh_files_fail_in_one_line(tmp_path):
    (tmp_path / "empty.obj").write_text("# no faces\nv 0 0 0\n")
    (tmp_path / "junk.glb").write_bytes(b"not a gltf at all")
    for name, words in (("empty.obj", "no triangles"), ("junk.glb", "could not load"), ("missing.ply", "no such file")):
        with pytest.raises(ValueError) as err:
            assets.load_mesh(tmp_path / name)
        message = str(err.value)
        assert message.startswith("object.mesh=") and words in message and "\n" not in message


def _disk_png(path: Path, size: int = 40) -> Path:
    """A red disk on a transparent square (alpha 0 outside the disk), with a transparent margin."""
    yy, xx = np.mgrid[:size, :size] + 0.5
    inside = (xx - size / 2) ** 2 + (yy - size / 2) ** 2 <= (size / 2 - 4) ** 2
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[inside] = [230, 20, 20, 255]
    Image.fromarray(rgba).save(path)
    return path


def test_cutout_masks_tracks_and_occlusion_follow_its_alpha(tmp_path, renderer):
    sprite = assets.load_sprite(_disk_png(tmp_path / "disk.png"))
    material = Material(color=(1.0, 1.0, 1.0), image=sprite.image, specular=0.0)
    card = Node("card", shape=sprite.shape, position=(0.0, 0.0, 1.0), scale=(2.0,) * 3, material=material)
    # A small cube behind the card's transparent corner: nothing of it is hidden.
    cube = Node("cube", shape="cube", position=(1.1, 1.1, 0.0), scale=(0.3,) * 3)
    scene = _lit([card, cube])
    times = np.array([0.0])
    mask = renderer.ground_truth(scene, times, 10.0)["instances"][0]
    disk = mask == 1
    ys, xs = np.nonzero(disk)
    area_ratio = disk.sum() / ((np.ptp(xs) + 1) * (np.ptp(ys) + 1))
    assert 0.7 < area_ratio < 0.85  # a disk fills pi/4 of its box, a card would fill all of it
    assert (mask == 2).sum() > 10
    visible = renderer.visibility(scene, times)
    assert visible[0, 1] == pytest.approx(1.0)
    # The track's box is the disk's (the card is cropped to the opaque texels).
    box = tracks(scene, times, SIZE, SIZE, visible)[0]["bbox_px"][0]
    assert abs(box[0] - xs.min()) <= 1.5 and abs(box[2] - (xs.max() + 1)) <= 1.5
    frame = renderer.render(scene, times, 10.0)[0].astype(int)
    assert frame[disk].mean(0)[0] > 150 and frame[mask == 0].max() < 10
    # Behind the disk itself, the cube is hidden.
    cube.position = (0.0, 0.0, 0.0)
    assert renderer.visibility(scene, times)[0, 1] == pytest.approx(0.0)


def test_bad_cutouts_fail_in_one_line(tmp_path):
    Image.fromarray(np.zeros((8, 8, 4), np.uint8)).save(tmp_path / "clear.png")
    (tmp_path / "text.png").write_text("not an image")
    for name, words in (("clear.png", "no texel"), ("text.png", "not a readable image")):
        with pytest.raises(ValueError) as err:
            assets.load_sprite(tmp_path / name)
        assert str(err.value).startswith("object.sprite=") and words in str(err.value)


def _photos(folder: Path, count: int = 3) -> Path:
    """Photo stand-ins: smooth colour patterns with noise, as JPEG and PNG."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:60, :100]
    for i in range(count):
        img = np.stack([128 + 90 * np.sin(x / (6 + 3 * i)), 128 + 90 * np.cos(y / (5 + i)), 90 + 50 * np.sin((x + y) / 9)], -1)
        img = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"photo{i}.{'jpg' if i % 2 else 'png'}")
    return folder


def test_direction_with_cutouts_photos_and_a_floor_pairs_sweeps_and_stays_solvable(tmp_path):
    from synth import scenes
    from synth.cli import main
    from synth.dataset import read_manifest
    from synth.video import read_clip

    sprites = tmp_path / "cutouts"
    sprites.mkdir()
    for name in ("leaf", "stone"):
        _disk_png(sprites / f"{name}.png")
    photos = _photos(tmp_path / "photos")
    out = tmp_path / "ds"
    args = ["task=direction", "n=4", "render.width=48", "render.height=48", "clip.fps=6", "clip.seconds=1",
            "progress=false", f"object.sprite_dir={sprites}", f"background.image_dir={photos}", "stage.floor=checker",
            "sweep.variable=object.rotation_deg", "sweep.values=[0,90]", f"out={out}"]  # fmt: skip
    assert main(["generate", *args]) == 0
    records = read_manifest(out)
    assert len(records) == 8
    by_group: dict[str, list[dict]] = {}
    for r in records:
        by_group.setdefault(r["group"], []).append(r)
        p = r["params"]
        assert p["background.kind"] == "image" and p["stage.floor"] == "checker"
        assert p["object.asset_sha256"] == assets.file_sha256(sprites / p["object.asset"])
        assert p["background.image_sha256"] == assets.file_sha256(photos / p["background.image"])
        assert r["question"] == f"Which direction did the {Path(p['object.asset']).stem} move?"
        frames, _ = read_clip(out / r["video"])
        assert scenes.oracle_for("direction")(frames, r["question"], r["options"]) == r["answer_index"], r["id"]
    # Siblings of a sweep group share photo, crop and cut-out; only the swept variable differs.
    for group in by_group.values():
        a, b = (dict(r["params"]) for r in group)
        assert {k for k in a if a[k] != b[k]} == {"object.rotation_deg"}
    crops = {(r["params"]["background.image"], r["params"]["background.crop_x"]) for r in records}
    assert len(crops) == 4  # a fresh photo crop per sample


def test_direction_with_a_mesh_folder_names_the_file(tmp_path):
    from synth.cli import main
    from synth.dataset import read_manifest

    folder = tmp_path / "meshes"
    folder.mkdir()
    files = _mesh_files(tmp_path)
    files["ball.ply"].rename(folder / "red_ball.ply")
    out = tmp_path / "ds"
    args = ["task=direction", "n=2", "render.width=32", "render.height=32", "clip.fps=4", "clip.seconds=1",
            "progress=false", f"object.asset_dir={folder}", f"out={out}"]  # fmt: skip
    assert main(["generate", *args]) == 0
    for r in read_manifest(out):
        assert r["params"]["object.asset"] == "red_ball.ply"
        assert r["question"] == "Which direction did the red ball move?"  # the file has its own colour
        assert r["tracks"][0]["visible"] == [1.0] * 4


def test_bad_content_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    from synth.cli import main

    (tmp_path / "junk.obj").write_text("this is no mesh\n")
    (tmp_path / "empty").mkdir()
    base = ["generate", "task=direction", "n=1", "render.width=16", "render.height=16", "progress=false"]
    cases = [
        (f"object.mesh={tmp_path / 'junk.obj'}", "object.mesh="),
        (f"background.image_dir={tmp_path / 'empty'}", "background.image_dir="),
        ("stage.floor=marble", "stage.floor=marble"),
        (f"object.sprite={tmp_path / 'junk.obj'}", "object.sprite="),
    ]
    for i, (arg, key) in enumerate(cases):
        out = tmp_path / f"out{i}"
        assert main([*base, arg, f"out={out}"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"synth: error: {key}"), err
        assert not out.exists()


def test_synbench_preset_makes_four_balanced_settings_in_one_command(tmp_path):
    import subprocess
    import sys

    from synth.dataset import read_manifest

    sprites = tmp_path / "cutouts"
    sprites.mkdir()
    _disk_png(sprites / "disk.png")
    photos = _photos(tmp_path / "photos", count=2)
    out = tmp_path / "suite"
    args = ["generate", "-m", "setting=p_syn,p_real,c_syn,c_real", f"content.photos={photos}",
            f"content.cutouts={sprites}", "n=4", "render.width=24", "render.height=24", "clip.fps=3",
            "clip.seconds=1", "progress=false", f"out={out}"]  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "synth.cli", *args], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for setting in ("p_syn", "p_real", "c_syn", "c_real"):
        records = read_manifest(out / f"setting={setting}")
        assert sorted(r["answer"] for r in records) == ["down", "left", "right", "up"]  # 4-way, balanced
        for r in records:
            p = r["params"]
            assert r["task"] == "direction" and r["options"] == ["left", "right", "up", "down"]
            assert (p["background.kind"] == "image") == setting.endswith("real")
            assert ("object.asset" in p) == setting.startswith("c")
    # A setting that needs a folder the user did not give fails in one line.
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "generate", "setting=p_real", f"out={tmp_path / 'x'}"],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.strip() == "synth: error: background.image_dir=<content.photos not set>: not a directory"


def test_photo_background_is_upright(renderer, tmp_path):
    """A photo's top rows show at the top of the view (sky above ground)."""
    halves = np.zeros((32, 48, 3), np.uint8)
    halves[:16] = (40, 90, 250)  # top: blue
    halves[16:] = (40, 200, 40)  # bottom: green
    Image.fromarray(halves).save(tmp_path / "sky.png")
    scene = _lit([])
    scene.background = Background(kind="image", image=str(tmp_path / "sky.png"))
    frame = renderer.render(scene, np.array([0.0]), 10.0)[0].astype(int)
    top, bottom = frame[: SIZE // 2 - 4], frame[SIZE // 2 + 4 :]
    assert (top[..., 2] > 200).all() and (bottom[..., 1] > 150).all() and (bottom[..., 2] < 100).all()


def test_direction_static_class_is_balanced_solvable_and_still(tmp_path):
    from synth import scenes
    from synth.cli import main
    from synth.dataset import read_manifest
    from synth.export.train import training_items
    from synth.video import read_clip

    out = tmp_path / "ds"
    args = ["task=direction", "n=10", "motion.include_static=true", "render.width=48", "render.height=48",
            "clip.fps=8", "clip.seconds=1", "progress=false", f"out={out}"]  # fmt: skip
    assert main(["generate", *args]) == 0
    records = read_manifest(out)
    assert sorted(r["answer"] for r in records) == sorted(["left", "right", "up", "down", "no movement"] * 2)
    solved = 0
    for r, item in zip(records, training_items(records)):
        assert r["options"] == ["left", "right", "up", "down", "no movement"]
        frames, _ = read_clip(out / r["video"])
        solved += scenes.oracle_for("direction")(frames, r["question"], r["options"]) == r["answer_index"]
        centres = np.array(r["tracks"][0]["center_px"])
        still = r["answer"] == "no movement"
        assert (np.ptp(centres, axis=0).max() < 1e-6) == still
        assert (np.abs(item["objects"][0]["motion"]).max() == 0.0) == still  # DeltaDirect target: no motion
    assert solved / len(records) >= 0.95
