"""The renderer against the camera model, the ground truth against the motion, the shutter
against energy conservation. Every scene here is drawn by the real EGL renderer."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import binary_dilation

from synth.renderer import Renderer
from synth.scene import Background, Camera, Light, Material, Motion, Node, Scene
from synth.tracks import tracks

W, H = 96, 64
FPS = 10.0


RENDERER = {"width": W, "height": H, "msaa": 4, "shadow_size": 256}  # the `renderer` fixture (conftest.py)


def flat_scene(*nodes: Node, camera: Camera | None = None) -> Scene:
    """Unlit-looking scene: ambient light only, so pixel values are albedo (no shading terms)."""
    return Scene(
        objects=list(nodes),
        camera=camera or Camera(fov_deg=40.0, position=(0.0, 0.0, 6.0)),
        lights=[Light(kind="ambient", intensity=1.0)],
        background=Background(kind="solid", color=(0.0, 0.0, 0.0)),
    )


def square(name="sq", position=(0.0, 0.0, 0.0), size=1.0, color=(1.0, 1.0, 1.0), motion=None) -> Node:
    return Node(name, "square", position=position, scale=(size, size, size),
                material=Material(color=color, specular=0.0), motion=motion or Motion())  # fmt: skip


def test_gl_renderer_is_reported(renderer):
    assert renderer.gl_renderer and isinstance(renderer.gl_renderer, str)


@pytest.mark.parametrize("projection", ["perspective", "orthographic"])
def test_object_pixels_are_where_the_camera_projects_them(renderer, projection):
    cam = Camera(projection=projection, fov_deg=40.0, ortho_height=4.0, position=(0.3, -0.2, 6.0), target=(0.3, -0.2, 0.0))
    node = square(position=(1.1, 0.6, 0.0), size=0.8)
    scene = flat_scene(node, camera=cam)
    frame = renderer.render(scene, np.array([0.0]), FPS, linear=True)[0]
    coverage = frame[..., 0]  # white square on black: coverage per pixel (MSAA-resolved)
    ys, xs = np.mgrid[0:H, 0:W] + 0.5
    centroid = np.array([(coverage * xs).sum(), (coverage * ys).sum()]) / coverage.sum()
    corners = np.array([[x, y, 0.0] for x in (0.7, 1.5) for y in (0.2, 1.0)])
    px, _ = cam.project(corners, 0.0, W, H)
    expected_area = (px[:, 0].max() - px[:, 0].min()) * (px[:, 1].max() - px[:, 1].min())
    centre_px, _ = cam.project(np.array([[1.1, 0.6, 0.0]]), 0.0, W, H)
    assert np.abs(centroid - centre_px[0]).max() < 0.25  # 4x MSAA quantises coverage to quarters
    assert coverage.sum() == pytest.approx(expected_area, rel=0.02)


def test_depth_normals_instances_of_a_square_facing_the_camera(renderer):
    scene = flat_scene(square(position=(0.0, 0.0, -1.0), size=1.5), square("front", position=(0.5, 0.0, 1.0), size=0.5))
    gt = renderer.ground_truth(scene, np.array([0.0]), FPS)
    inst, depth, normals = gt["instances"][0], gt["depth"][0], gt["normals"][0]
    assert set(np.unique(inst)) == {0, 1, 2}
    # A plane facing the camera: depth along the optical axis is exactly the distance to it.
    assert np.allclose(depth[inst == 1], 7.0, atol=1e-3)
    assert np.allclose(depth[inst == 2], 5.0, atol=1e-3)
    assert np.isinf(depth[inst == 0]).all()
    assert np.allclose(normals[inst == 1], [0.0, 0.0, 1.0], atol=1e-4)
    assert np.allclose(normals[inst == 0], 0.0)


def test_flow_and_instances_agree_with_tracks(renderer):
    node = Node("cube", "cube", position=(-1.0, 0.2, 0.0), rotation_deg=(20, 30, 0), scale=(0.7,) * 3,
                motion=Motion(velocity=(1.5, 0.4, 0.0)))  # fmt: skip
    # Orthographic, so a translation moves every point of the cube by the same number of pixels.
    scene = flat_scene(node, camera=Camera(projection="orthographic", ortho_height=4.0))
    times = np.arange(4) / FPS
    gt = renderer.ground_truth(scene, times, FPS)
    tr = tracks(scene, times, W, H, renderer.visibility(scene, times))[0]
    centre = np.array(tr["center_px"])
    for k in range(3):
        mask = gt["instances"][k] == 1
        # Pure translation: every pixel of the object flows by the centre's displacement.
        expected = centre[k + 1] - centre[k]
        flow = gt["flow"][k][mask]
        assert np.abs(flow - expected).max() < 1e-3
        # Following the flow lands on the same instance in the next frame (within a pixel: rounding).
        ys, xs = np.nonzero(mask)
        nx = np.clip(np.rint(xs + flow[:, 0]).astype(int), 0, W - 1)
        ny = np.clip(np.rint(ys + flow[:, 1]).astype(int), 0, H - 1)
        landing = binary_dilation(gt["instances"][k + 1] == 1, structure=np.ones((3, 3)))
        assert landing[ny, nx].all()
        # The mask lies inside the projected 3D bounding box.
        x0, y0, x1, y1 = tr["bbox_px"][k]
        assert xs.min() >= np.floor(x0) and xs.max() <= np.ceil(x1)
        assert ys.min() >= np.floor(y0) and ys.max() <= np.ceil(y1)
    assert np.allclose(tr["velocity"], [[1.5, 0.4, 0.0]] * 4, atol=1e-6)


def test_background_flow_follows_a_camera_pan(renderer):
    cam = Camera(fov_deg=40.0, pan_deg_per_s=10.0)
    gt = renderer.ground_truth(flat_scene(camera=cam), np.array([0.0]), FPS)
    # Turning left by 1 degree per frame moves the view right: flow +x of about f*tan(1 deg).
    focal = cam.focal_px(H)
    centre_flow = gt["flow"][0][H // 2, W // 2]
    assert centre_flow[0] == pytest.approx(focal * np.tan(np.radians(1.0)), rel=0.02)
    assert abs(centre_flow[1]) < 0.05


def test_visible_fraction_of_a_half_covered_object(renderer):
    back = square("back", position=(0.0, 0.0, 0.0), size=1.0)
    # The front square covers the right half of the back one (as seen by an orthographic camera).
    front = square("front", position=(0.5, 0.0, 1.0), size=1.0)
    cam = Camera(projection="orthographic", ortho_height=3.0)
    vis = renderer.visibility(flat_scene(back, front, camera=cam), np.array([0.0]))
    assert vis[0, 0] == pytest.approx(0.5, abs=0.03)
    assert vis[0, 1] == pytest.approx(1.0)
    off = square("away", position=(50.0, 0.0, 0.0))
    assert renderer.visibility(flat_scene(off, camera=cam), np.array([0.0]))[0, 0] == 0.0


@pytest.mark.parametrize("samples", [8, 16])
def test_full_shutter_conserves_light_and_smears_by_the_displacement(renderer, samples):
    speed = 20.0  # m/s -> 2 m per frame at 10 fps
    cam = Camera(projection="orthographic", ortho_height=4.0, shutter_deg=360.0, shutter_samples=samples)
    moving = flat_scene(square(size=0.5, motion=Motion(velocity=(speed, 0.0, 0.0))), camera=cam)
    still = flat_scene(square(size=0.5), camera=Camera(projection="orthographic", ortho_height=4.0))
    blurred = renderer.render(moving, np.array([0.0]), FPS, linear=True)[0, ..., 0]
    sharp = renderer.render(still, np.array([0.0]), FPS, linear=True)[0, ..., 0]
    assert blurred.sum() == pytest.approx(sharp.sum(), rel=1e-3)
    px_per_m = H / 4.0
    width_px = 0.5 * px_per_m
    displacement_px = speed / FPS * px_per_m
    # Midpoint rule: sub-frame positions span (S-1)/S of the displacement.
    expected = width_px + displacement_px * (samples - 1) / samples
    extent = np.nonzero(blurred.sum(axis=0) > 1e-4)[0]
    assert extent.max() - extent.min() + 1 == pytest.approx(expected, abs=1.0)
    assert blurred.max() == pytest.approx(1.0 / samples * np.ceil(width_px / (displacement_px / samples)), abs=0.15)


def test_shutter_zero_is_one_instant(renderer):
    node = square(size=0.5, motion=Motion(velocity=(20.0, 0.0, 0.0)))
    cam0 = Camera(projection="orthographic", ortho_height=4.0, shutter_deg=0.0)
    frame = renderer.render(flat_scene(node, camera=cam0), np.array([0.0]), FPS, linear=True)[0, ..., 0]
    assert frame.max() == pytest.approx(1.0, abs=1e-3)


def test_rendering_is_deterministic(renderer):
    scene = flat_scene(Node("s", "sphere", material=Material(texture="noise"), motion=Motion(velocity=(0.3, 0, 0))))
    scene.lights.append(Light(kind="directional"))
    a = renderer.render(scene, np.arange(3) / FPS, FPS)
    b = renderer.render(scene, np.arange(3) / FPS, FPS)
    assert np.array_equal(a, b)


def test_colour_change_happens_at_its_time(renderer):
    node = square(color=(1.0, 0.0, 0.0))
    node.material.color_after, node.material.color_change_s = (0.0, 0.0, 1.0), 0.15
    frames = renderer.render(flat_scene(node), np.array([0.1, 0.2]), FPS, linear=True)
    centre = frames[:, H // 2, W // 2]
    assert np.allclose(centre[0], [1.0, 0.0, 0.0], atol=1e-3)
    assert np.allclose(centre[1], [0.0, 0.0, 1.0], atol=1e-3)


def test_srgb_output_is_the_encoded_linear_output(renderer):
    scene = flat_scene(square(color=(0.2, 0.5, 0.05)))
    lin = renderer.render(scene, np.array([0.0]), FPS, linear=True)[0]
    srgb = renderer.render(scene, np.array([0.0]), FPS)[0].astype(float) / 255
    encoded = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.clip(lin, 0, 1) ** (1 / 2.4) - 0.055)
    assert np.abs(srgb - encoded).max() <= 1 / 255 + 1e-6


def test_shadow_falls_on_the_floor_away_from_the_light(renderer):
    gray = Material(color=(0.5, 0.5, 0.5), specular=0.0)
    floor = Node("floor", "plane", position=(0, -1, 0), scale=(10, 1, 10), material=gray)
    blocker = Node("box", "cube", position=(0, 0.5, 0), material=gray)
    # Light from +x at 45 degrees: the box (1..2 m above the floor) shadows x in [-2.5, 0.5].
    lights = [Light(kind="ambient", intensity=0.1), Light(kind="directional", azimuth_deg=90, elevation_deg=45.0)]
    cam = Camera(position=(0, 8, 0.01), target=(0, 0, 0))
    a = renderer.render(Scene([floor], cam, lights, Background()), np.array([0.0]), FPS, linear=True)[0, ..., 0]
    b = renderer.render(Scene([floor, blocker], cam, lights, Background()), np.array([0.0]), FPS, linear=True)[0, ..., 0]
    inst = renderer.ground_truth(Scene([floor, blocker], cam, lights, Background()), np.array([0.0]), FPS)["instances"][0]
    dark = (inst == 1) & (b < 0.5 * a)
    assert dark.sum() > 20
    # In the shadow only ambient light is left: 0.1 * albedo.
    assert np.median(b[dark]) == pytest.approx(0.1 * 0.5, rel=0.05)
    box_x = np.nonzero(inst == 2)[1].mean()
    assert np.nonzero(dark)[1].mean() < box_x


def test_renderers_in_one_process_do_not_disturb_each_other(renderer):
    scene = flat_scene(square(size=0.5, motion=Motion(velocity=(1.0, 0.0, 0.0))))
    before = renderer.render(scene, np.arange(3) / FPS, FPS)
    other = Renderer(32, 32, msaa=1, shadow_size=64)
    other.render(scene, np.array([0.0]), FPS)
    assert np.array_equal(renderer.render(scene, np.arange(3) / FPS, FPS), before)
    other.release()
    assert np.array_equal(renderer.render(scene, np.arange(3) / FPS, FPS), before)


def test_a_render_does_not_depend_on_earlier_calls(renderer):
    scene = flat_scene(Node("s", "sphere", material=Material(texture="checker"), motion=Motion(velocity=(0.5, 0, 0))))
    scene.lights.append(Light(kind="directional"))
    times = np.arange(2) / FPS
    renderer.render(flat_scene(square()), times, FPS)
    first = renderer.render(scene, times, FPS)
    renderer.visibility(scene, times)
    renderer.ground_truth(scene, times, FPS)
    assert np.array_equal(renderer.render(scene, times, FPS), first)


def test_image_background_fills_the_base_view(renderer, tmp_path):
    from PIL import Image

    halves = np.zeros((32, 64, 3), np.uint8)
    halves[:, :32] = (255, 0, 0)
    halves[:, 32:] = (0, 0, 255)
    Image.fromarray(halves).save(tmp_path / "halves.png")
    scene = flat_scene()
    scene.background = Background(kind="image", image=str(tmp_path / "halves.png"))
    frame = renderer.render(scene, np.array([0.0]), FPS)[0].astype(int)
    left, right = frame[:, : W // 2 - 4], frame[:, W // 2 + 4 :]
    assert (left[..., 0] > 200).all() and (left[..., 2] < 60).all()
    assert (right[..., 2] > 200).all() and (right[..., 0] < 60).all()


def test_tracks_follow_acceleration_keyframes_and_parents(renderer):
    accel = Node("a", "cube", motion=Motion(velocity=(1.0, 0.0, 0.0), acceleration=(0.0, -2.0, 0.0)))
    keyed = Node("k", "sphere", motion=Motion(keyframes=[(0.0, (0.0, 0.0, 0.0)), (0.2, (1.0, 2.0, 0.0))]))
    parent = Node("p", None, position=(0.0, 1.0, 0.0), motion=Motion(velocity=(0.0, 0.0, -1.0)),
                  children=[Node("c", "cone", position=(0.5, 0.0, 0.0))])  # fmt: skip
    scene = flat_scene(accel, keyed, parent)
    times = np.array([0.0, 0.1, 0.3])
    tr = {t["name"]: t for t in tracks(scene, times, W, H, renderer.visibility(scene, times))}
    assert np.allclose(tr["a"]["position"], [[t, -t * t, 0.0] for t in times], atol=1e-5)
    assert np.allclose(tr["a"]["velocity"], [[1.0, -2.0 * t, 0.0] for t in times], atol=1e-3)
    assert np.allclose(tr["k"]["position"], [[0, 0, 0], [0.5, 1.0, 0], [1.0, 2.0, 0]], atol=1e-5)
    assert np.allclose(tr["c"]["position"], [[0.5, 1.0, -t] for t in times], atol=1e-5)
    assert [t["instance_id"] for t in tr.values()] == [1, 2, 3]


def test_visibility_shortcut_agrees_with_counting(renderer, monkeypatch):
    rng = np.random.default_rng(0)
    nodes = [Node(f"o{i}", shape, position=tuple(rng.uniform(-2.5, 2.5, 2)) + (rng.uniform(-1, 1),),
                  rotation_deg=tuple(rng.uniform(0, 90, 3)), scale=(0.6,) * 3,
                  motion=Motion(velocity=tuple(rng.uniform(-3, 3, 2)) + (0.0,)))
             for i, shape in enumerate(["cube", "sphere", "torus", "cone", "triangle"])]  # fmt: skip
    scene = flat_scene(*nodes)
    times = np.arange(8) / FPS
    fast = renderer.visibility(scene, times)
    isolated = np.array([renderer._isolated(scene, t, scene.instances(t)) for t in times])
    assert 0 < isolated.sum() < isolated.size  # both paths are exercised
    monkeypatch.setattr(Renderer, "_isolated", lambda self, scene, t, inst: [False] * len(inst))
    counted = renderer.visibility(scene, times)
    assert np.array_equal(fast, counted)


def test_a_point_light_casts_a_shadow_away_from_itself(renderer):
    gray = Material(color=(0.5, 0.5, 0.5), specular=0.0)
    floor = Node("floor", "plane", position=(0, -1, 0), scale=(10, 1, 10), material=gray)
    blocker = Node("box", "cube", position=(0, 0.5, 0), material=gray)
    # A bulb up and to the right: the shadow falls down and to the left of the box.
    lights = [Light(kind="ambient", intensity=0.1), Light(kind="point", position=(2.0, 3.0, 0.0), intensity=15.0)]
    cam = Camera(position=(0, 8, 0.01), target=(0, 0, 0))
    with_box = Scene([floor, blocker], cam, lights, Background())
    a = renderer.render(Scene([floor], cam, lights, Background()), np.array([0.0]), FPS, linear=True)[0, ..., 0]
    b = renderer.render(with_box, np.array([0.0]), FPS, linear=True)[0, ..., 0]
    inst = renderer.ground_truth(with_box, np.array([0.0]), FPS)["instances"][0]
    dark = (inst == 1) & (b < 0.5 * a)
    assert dark.sum() > 20
    assert np.median(b[dark]) == pytest.approx(0.1 * 0.5, rel=0.05)  # only ambient is left
    assert np.nonzero(dark)[1].mean() < np.nonzero(inst == 2)[1].mean()
    # Without its shadow map the same light leaves the floor lit.
    lights[1].shadows = False
    c = renderer.render(with_box, np.array([0.0]), FPS, linear=True)[0, ..., 0]
    assert not ((inst == 1) & (c < 0.5 * a)).any()


def test_camera_orbit_and_yaw_keyframes():
    orbit = Camera(position=(0.0, 0.0, 6.0), orbit_deg_per_s=90.0)
    eye, target = orbit.pose(1.0)
    assert np.allclose(eye, [6.0, 0.0, 0.0]) and np.allclose(target, 0.0)
    px, depth = orbit.project(np.zeros((1, 3)), 1.0, W, H)
    assert np.allclose(px, [[W / 2, H / 2]]) and depth[0] == pytest.approx(6.0)
    turn = Camera(yaw_keyframes=[(0.0, 0.0), (1.0, 90.0), (2.0, 0.0)])
    # Turned 45 degrees left at t = 0.5: the origin, straight ahead before, sits at the right
    # edge of a 90-degree-wide view; back in the centre when the turn is undone.
    wide = Camera(fov_deg=90.0, yaw_keyframes=turn.yaw_keyframes)
    assert wide.project(np.zeros((1, 3)), 0.5, H, H)[0][0, 0] == pytest.approx(H, abs=1e-6)
    assert np.allclose(wide.project(np.zeros((1, 3)), 2.0, H, H)[0], [[H / 2, H / 2]])
