"""Rain and snow in the scene: calibrated to the image-space parameters, streaked by the shutter."""

from __future__ import annotations

import numpy as np
import pytest

from synth.renderer import Renderer
from synth.scene import Background, Camera, Light, Scene
from synth.weather import LAYERS, add_precipitation

W = H = 96
FPS = 10.0
RAIN = {"density": 2.0, "size_px": 2.0, "speed_px": 12.0, "wind": 0.25, "radiance": 1.0, "opacity": 0.4}


@pytest.fixture(scope="module")
def renderer():
    r = Renderer(W, H, msaa=4, shadow_size=64)
    yield r
    r.release()


def rainy(shutter_deg: float, kind: str = "rain") -> Scene:
    scene = Scene(camera=Camera(fov_deg=40.0, shutter_deg=shutter_deg, shutter_samples=16),
                  lights=[Light(kind="ambient", intensity=1.0)], background=Background(color=(0.0, 0.0, 0.0)))  # fmt: skip
    add_precipitation(scene, kind, W, H, FPS, np.random.default_rng(3), RAIN)
    return scene


def test_particle_counts_and_image_space_speed_match_the_parameters(renderer):
    scene = rainy(0.0)
    names = [n.name for n in scene.objects]
    for layer, (_, share) in enumerate(LAYERS):
        assert sum(n.startswith(f"rain{layer}_") for n in names) == max(1, round(RAIN["density"] * share * W * H / 1e4))
    assert not any(n.track for n in scene.objects)
    gt = renderer.ground_truth(scene, np.arange(3) / FPS, FPS)
    first_near = names.index("rain0_0") + 1
    # The far layer's drops are sub-pixel (0.7 px) and miss the single-sample ground truth.
    for layer, (apparent, _) in enumerate(LAYERS[:2]):
        ids = [i + 1 for i, n in enumerate(names) if n.startswith(f"rain{layer}_")]
        flow = np.concatenate([gt["flow"][k][np.isin(gt["instances"][k], ids)] for k in range(3)])
        expected = RAIN["speed_px"] * apparent * np.array([RAIN["wind"], 1.0])  # x right, y down
        assert np.median(flow, axis=0) == pytest.approx(expected, rel=0.1, abs=0.3)
    assert first_near == 1


def test_the_shutter_streaks_the_drops(renderer):
    sharp = renderer.render(rainy(0.0), np.array([0.35]), FPS, linear=True)[0, ..., 0]
    streaked = renderer.render(rainy(360.0), np.array([0.35]), FPS, linear=True)[0, ..., 0]
    # Same light, spread over the path: total energy is kept (up to drops crossing the border).
    assert streaked.sum() == pytest.approx(sharp.sum(), rel=0.15)
    assert (streaked > 0.02).sum() > 3 * (sharp > 0.02).sum()
    assert streaked.max() < 0.6 * sharp.max()


def test_snow_falls_too(renderer):
    frames = renderer.render(rainy(0.0, "snow"), np.arange(2) / FPS, FPS, linear=True)
    assert frames[0].max() > 0.5 and not np.array_equal(frames[0], frames[1])


def test_generate_puts_rain_in_the_scene_and_records_it(tmp_path):
    from synth.dataset import read_manifest
    from support.cli import SMALL, synth

    out = tmp_path / "rain"
    synth("generate", *SMALL, "n=1", f"out={out}", "degradation=[rain]", "degradation.rain.severity=3")
    record = read_manifest(out)[0]
    assert [d["name"] for d in record["degradations"]] == ["rain"]
    assert record["degradations"][0]["applied_as"] == "scene particles"
    assert [t["name"] for t in record["tracks"]] == ["object"]
