"""moderngl renderer on a headless EGL context: the GPU when there is one, Mesa llvmpipe otherwise.

The renderer holds GL state thinly; the GLSL lives in ``shaders/*.glsl``. It draws a
:class:`synth.scene.Scene` at given times:

* :meth:`Renderer.render` -> frames, shaded in linear light with MSAA, integrated over the
  shutter by sub-frame rendering accumulated on the GPU in float32, then sRGB-encoded 8-bit
  (or left linear for the camera model in ``degradations``);
* :meth:`Renderer.ground_truth` -> metric depth, camera-space normals, instance ids and forward
  optical flow derived from the scene's analytic motion (not estimated from pixels);
* :meth:`Renderer.visibility` -> the visible fraction of every instance (occlusion queries).
"""

from __future__ import annotations

import functools
import math
from functools import lru_cache
from importlib import resources

import moderngl
import numpy as np

from synth import assets, meshes
from synth.degradations.color import srgb_to_linear
from synth.scene import BACKGROUND_KINDS, TEXTURES, Scene, cross

_SHADOW_EXTENT_MARGIN = 1.2
MAX_POINT_LIGHTS = 4  # as in shaders/shade.frag
ALBEDO_UNIT = 6  # texture unit of a material's image (0: background, 1..5: shadow maps)
# Vertex attributes of a mesh, in buffer order: built-in shapes have the first two, meshes from
# files (synth.assets) all four.
_ATTRIBUTES = (("3f", "in_position"), ("3f", "in_normal"), ("2f", "in_uv"), ("4f", "in_color"))
# Cube-map faces (view axis, up), in the atlas order of shaders/shade.frag.
_CUBE_FACES = [(np.array(a, float), np.array(u, float)) for a, u in (
    ((1, 0, 0), (0, -1, 0)), ((-1, 0, 0), (0, -1, 0)), ((0, 1, 0), (0, 0, 1)),
    ((0, -1, 0), (0, 0, -1)), ((0, 0, 1), (0, -1, 0)), ((0, 0, -1), (0, -1, 0)))]  # fmt: skip


@lru_cache(maxsize=None)
def shader_source(name: str, defines: tuple[str, ...] = ()) -> str:
    """GLSL of ``shaders/<name>`` with ``#define``s inserted after its ``#version`` line."""
    text = resources.files("synth.shaders").joinpath(name).read_text()
    if not defines:
        return text
    version, rest = text.split("\n", 1)
    return "\n".join([version, *(f"#define {d}" for d in defines), rest])


def _mat(m: np.ndarray) -> bytes:
    # GLSL matrices are column-major; numpy's are row-major.
    return np.ascontiguousarray(m.T, dtype="f4").tobytes()


@lru_cache(maxsize=None)
def _members(prog: moderngl.Program) -> frozenset[str]:
    return frozenset(prog)


def _set(prog: moderngl.Program, name: str, value) -> None:
    """Set a uniform if the linker kept it (unused uniforms are optimised away)."""
    if name not in _members(prog):
        return
    if isinstance(value, np.ndarray) and value.ndim == 2:
        prog[name].write(_mat(value))
    elif isinstance(value, np.ndarray) and value.ndim == 3:  # an array of matrices
        prog[name].write(np.ascontiguousarray(value.transpose(0, 2, 1), dtype="f4").tobytes())
    elif isinstance(value, list):  # an array: the linker may have trimmed entries no code reads
        n = prog[name].array_length
        prog[name].value = value[:n] if n > 1 else value[0]
    else:
        prog[name].value = value


def _current(method):
    """Make this renderer's GL context current for the call: several renderers may share a process."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.ctx:
            return method(self, *args, **kwargs)

    return wrapper


def _look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    f = target - eye
    f = f / np.linalg.norm(f)
    if abs(np.dot(f, up)) > 0.999:
        up = (1.0, 0.0, 0.0)
    r = cross(f, up)
    r /= np.linalg.norm(r)
    u = cross(r, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = r, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def _perspective(fov_rad: float, near: float, far: float) -> np.ndarray:
    """Square-aspect OpenGL perspective projection."""
    m = np.zeros((4, 4))
    m[0, 0] = m[1, 1] = 1 / math.tan(fov_rad / 2)
    m[2, 2] = -(far + near) / (far - near)
    m[2, 3] = -2 * far * near / (far - near)
    m[3, 2] = -1
    return m


def _ortho(half: float, near: float, far: float) -> np.ndarray:
    m = np.eye(4)
    m[0, 0] = m[1, 1] = 1 / half
    m[2, 2] = -2 / (far - near)
    m[2, 3] = -(far + near) / (far - near)
    return m


class Renderer:
    """One EGL context with the framebuffers for ``width`` x ``height`` frames.

    ``msaa`` samples per pixel for colour (ground truth is single-sample so ids stay exact);
    ``shadow_size`` is the directional shadow map's side in texels.
    """

    def __init__(self, width: int, height: int, msaa: int = 4, shadow_size: int = 512):
        self.width, self.height = width, height
        self.ctx = moderngl.create_context(standalone=True, backend="egl")
        self.gl_renderer = self.ctx.info["GL_RENDERER"]
        ctx = self.ctx
        self.msaa = min(msaa, ctx.max_samples)
        self._programs: dict[tuple[str, str, tuple[str, ...]], moderngl.Program] = {}
        self._empty_vaos: dict[int, moderngl.VertexArray] = {}
        self.depth_only = self._program("mesh.vert", "depth_only.frag")
        self.truth = self._program("mesh.vert", "ground_truth.frag")
        self.background_truth = self._program("fullscreen.vert", "background_truth.frag")
        self._vbos: dict[str, moderngl.Buffer] = {}
        self._vaos: dict[tuple[int, str], moderngl.VertexArray] = {}
        self._images: dict[str, moderngl.Texture] = {}
        size = (width, height)
        # Shaded samples stay in a (multisample) texture that the resolve pass reads directly:
        # one pass averages, weights and encodes, with no framebuffer blit (slow on llvmpipe).
        samples = self.msaa if self.msaa > 1 else 0
        self.frame_tex = ctx.texture(size, 4, samples=samples, dtype="f4")
        self.frame_fbo = ctx.framebuffer(
            color_attachments=[self.frame_tex], depth_attachment=ctx.depth_renderbuffer(size, samples=samples)
        )
        self.accum_tex = ctx.texture(size, 4, dtype="f4")
        self.accum_fbo = ctx.framebuffer(color_attachments=[self.accum_tex])
        # A non-solid background is drawn once per distinct view into its own single-sample
        # texture and composited by the resolve pass where no object covers a sample (alpha 0):
        # a static camera draws it once per clip, and the multisample target is never filled by it.
        self.background_tex = ctx.texture(size, 4, dtype="f4")
        self.background_fbo = ctx.framebuffer(color_attachments=[self.background_tex])
        self._background_key: bytes | None = None
        self.out8_fbo = ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4)])
        self.outf_fbo = ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4, dtype="f4")])
        # Shadow maps: the directional light's, and per point light a cube map as a 3 x 2 atlas.
        self.shadow_size = shadow_size
        sizes = [(shadow_size, shadow_size)] + [(3 * shadow_size, 2 * shadow_size)] * MAX_POINT_LIGHTS
        self.shadow_tex = [ctx.depth_texture(size) for size in sizes]
        for tex in self.shadow_tex:
            tex.compare_func = "<="
            tex.repeat_x = tex.repeat_y = False
        self.shadow_fbo = [ctx.framebuffer(depth_attachment=tex) for tex in self.shadow_tex]
        self.gt_tex = [ctx.texture(size, 4, dtype="f4") for _ in range(2)]
        self.gt_fbo = ctx.framebuffer(color_attachments=self.gt_tex, depth_attachment=ctx.depth_renderbuffer(size))
        # Visibility counts samples by depth alone: no colour to clear or write on each pass.
        self.depth_fbo = ctx.framebuffer(depth_attachment=ctx.depth_renderbuffer(size))
        self._query = ctx.query(samples=True)

    def release(self) -> None:
        self.ctx.release()

    def _program(self, vert: str, frag: str, *defines: str) -> moderngl.Program:
        """The program of ``shaders/<vert>`` + ``shaders/<frag>`` compiled with ``defines``, built on
        first use. Shaders pick their variant at compile time: llvmpipe runs both sides of a branch
        under a mask, so a uniform-switched feature costs every pixel even when it is off."""
        key = (vert, frag, defines)
        if key not in self._programs:
            self._programs[key] = self.ctx.program(
                vertex_shader=shader_source(vert), fragment_shader=shader_source(frag, defines)
            )
        return self._programs[key]

    def _fullscreen(self, prog: moderngl.Program) -> None:
        """Draw one viewport-covering triangle with ``prog`` (no depth test)."""
        if prog.glo not in self._empty_vaos:
            self._empty_vaos[prog.glo] = self.ctx.vertex_array(prog, [])
        self.ctx.disable(moderngl.DEPTH_TEST)
        self._empty_vaos[prog.glo].render(moderngl.TRIANGLES, vertices=3)

    # -- geometry ---------------------------------------------------------------------------

    def _vao(self, prog: moderngl.Program, shape: str) -> moderngl.VertexArray:
        key = (prog.glo, shape)
        if key not in self._vaos:
            data = meshes.mesh(shape)
            if shape not in self._vbos:
                self._vbos[shape] = self.ctx.buffer(data.tobytes())
            # Attributes the program does not read are skipped (the linker drops unused ones).
            fields = _ATTRIBUTES[: 2 if data.shape[1] == 6 else 4]
            fmt = " ".join(f if name in prog else f"{f[0]}x4" for f, name in fields)
            names = [name for _, name in fields if name in prog]
            self._vaos[key] = self.ctx.vertex_array(prog, [(self._vbos[shape], fmt, *names)])
        return self._vaos[key]

    def _view_proj(self, scene: Scene, t: float) -> tuple[np.ndarray, np.ndarray]:
        cam = scene.camera
        view = cam.view_matrix(t)
        return view, cam.projection_matrix(self.width / self.height) @ view

    def _background_matrices(self, scene: Scene, t: float) -> np.ndarray:
        """clip -> world for the rotation-only view at ``t`` (the background is at infinity)."""
        view, _ = self._view_proj(scene, t)
        rot = view.copy()
        rot[:3, 3] = 0
        return np.linalg.inv(scene.camera.projection_matrix(self.width / self.height) @ rot)

    # -- colour -----------------------------------------------------------------------------

    def _shadow_view_projs(self, scene: Scene, t: float, lights: dict, instances: list) -> list[list[np.ndarray]]:
        """world -> shadow-map clip matrices per light: ``[sun] + [6 cube faces] * point lights``,
        an empty list for a light without a shadow map. The sun's orthographic frustum encloses
        the instances' bounding sphere; a point light's cube faces (+x -x +y -y +z -z, 90° each)
        reach from 5 cm to the farthest instance corner."""
        out: list[list[np.ndarray]] = [[] for _ in range(1 + MAX_POINT_LIGHTS)]
        # A shadow needs a caster and another receiver: one convex object only shadows its own
        # back, which N.L already darkens, so that case needs no shadow map.
        if not instances or (len(instances) == 1 and instances[0][0].shape in meshes.CONVEX_SHAPES):
            return out
        corners = [m[:3, :3] @ meshes.bounds(n.shape).T + m[:3, 3:4] for n, m in instances]
        pts = np.concatenate([c.T for c in corners])
        centre = (pts.max(0) + pts.min(0)) / 2
        radius = max(float(np.linalg.norm(pts - centre, axis=1).max()) * _SHADOW_EXTENT_MARGIN, 1e-3)
        sun = lights["sun"]
        if sun is not None and sun.shadows:
            out[0] = [_ortho(radius, radius, radius * 3) @ _look_at(centre + sun.direction_to_light() * radius * 2, centre)]
        for i, (position, _, casts) in enumerate(lights["points"]):
            if casts:
                far = float(np.linalg.norm(pts - position, axis=1).max()) * _SHADOW_EXTENT_MARGIN
                proj = _perspective(math.pi / 2, 0.05, max(far, 0.1))
                out[1 + i] = [proj @ _look_at(position, position + axis, up) for axis, up in _CUBE_FACES]
        return out

    def _lights(self, scene: Scene) -> dict:
        ambient = np.zeros(3)
        sun = None
        points = []
        for light in scene.lights:
            radiance = np.asarray(light.color) * light.intensity
            if light.kind == "ambient":
                ambient += radiance
            elif light.kind == "directional":
                if sun is not None:
                    raise ValueError("at most one directional light is supported")
                sun = light
            elif light.kind == "point":
                points.append((np.asarray(light.position, dtype=np.float64), radiance, light.shadows))
            else:
                raise ValueError(f"light kind {light.kind!r}: allowed ambient, directional, point")
        if len(points) > MAX_POINT_LIGHTS:
            raise ValueError(f"at most {MAX_POINT_LIGHTS} point lights are supported")
        return {"ambient": ambient, "sun": sun, "points": points}

    def _background(self, scene: Scene, t: float) -> moderngl.Texture | None:
        """``background_tex`` holding the (non-solid) background seen at ``t``, redrawn only when
        the view or the background changed since the last call; None for a solid background,
        which the shading pass clears to."""
        bg = scene.background
        if bg.kind == "solid":
            return None
        cam = scene.camera
        base_view = cam.view_matrix(0.0)
        tan_v = math.tan(math.radians(cam.fov_deg) / 2)
        uniforms = {
            "m_inv_view_proj": self._background_matrices(scene, t),
            "m_base_rotation": np.ascontiguousarray(base_view[:3, :3]),
            "u_base_tan": (tan_v * self.width / self.height, tan_v),
            "u_color": tuple(bg.color),
            "u_color2": tuple(bg.color2),
            "u_scale": float(bg.scale),
        }
        key = repr((bg.kind, bg.image, [np.asarray(v, np.float64).tobytes() for v in uniforms.values()])).encode()
        if key != self._background_key:
            prog = self._program("fullscreen.vert", "background.frag", f"KIND {BACKGROUND_KINDS.index(bg.kind)}")
            for name, value in uniforms.items():
                _set(prog, name, value)
            if bg.kind == "image":
                self._image(bg.image).use(0)
                _set(prog, "u_image", 0)
            self.background_fbo.use()
            self._fullscreen(prog)
            self._background_key = key
        return self.background_tex

    def _image(self, path: str) -> moderngl.Texture:
        """Linear-light RGBA texture of an image registered by :mod:`synth.assets` (tiled if it was
        registered so) or of an image file (clamped: a background fills the base view and its
        border must not bleed across), mipmapped."""
        if path not in self._images:
            if path in assets.IMAGES:
                rgba, repeat = assets.IMAGES[path]
            else:
                from PIL import Image

                rgba, repeat = np.asarray(Image.open(path).convert("RGBA")), False
            c = rgba[::-1].astype(np.float32) / 255.0
            c[..., :3] = srgb_to_linear(c[..., :3])
            tex = self.ctx.texture((c.shape[1], c.shape[0]), 4, np.ascontiguousarray(c).tobytes(), dtype="f4")
            tex.build_mipmaps()
            tex.repeat_x = tex.repeat_y = repeat
            self._images[path] = tex
        return self._images[path]

    def _surface(self, frag: str, node, pass_uniforms: dict, base: moderngl.Program) -> moderngl.Program:
        """The program of a depth or ground-truth pass for ``node``: ``base``, or for a material with
        an image its ALBEDO_MAP variant (alpha-tested) with the image bound and ``pass_uniforms`` set."""
        if not node.material.image:
            return base
        prog = self._program("mesh.vert", frag, "ALBEDO_MAP")
        for name, value in pass_uniforms.items():
            _set(prog, name, value)
        self._image(node.material.image).use(ALBEDO_UNIT)
        _set(prog, "u_albedo_map", ALBEDO_UNIT)
        return prog

    def _draw_scene(self, scene: Scene, t: float, lights: dict) -> moderngl.Texture | None:
        """Shade the scene's objects at time ``t`` into ``frame_tex`` (multisampled when MSAA is
        on; alpha 1 where an object covers a sample, 0 elsewhere). Returns the background to
        composite where alpha is 0 (see :meth:`_background`), None when it is a solid clear."""
        ctx = self.ctx
        instances = scene.instances(t)
        shadow_vps = self._shadow_view_projs(scene, t, lights, instances)
        ctx.enable(moderngl.DEPTH_TEST)
        size = self.shadow_size
        for fbo, faces in zip(self.shadow_fbo, shadow_vps):
            if not faces:
                continue
            fbo.use()
            fbo.clear(depth=1.0)
            for f, light_vp in enumerate(faces):
                ctx.viewport = ((f % 3) * size, (f // 3) * size, size, size)
                _set(self.depth_only, "m_view_proj", light_vp)
                for node, model in instances:
                    if node.cast_shadows:
                        prog = self._surface("depth_only.frag", node, {"m_view_proj": light_vp}, self.depth_only)
                        _set(prog, "m_model", model)
                        self._vao(prog, node.shape).render()
        background = self._background(scene, t)
        self.frame_fbo.use()
        if background is None:
            self.frame_fbo.clear(*scene.background.color, 1.0, depth=1.0)
        else:
            self.frame_fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        ctx.enable(moderngl.DEPTH_TEST)  # every pass sets the state it needs: calls may come in any order
        for unit, tex in enumerate(self.shadow_tex, start=1):
            tex.use(unit)
        points = lights["points"]
        # The variant: lights and shadow maps in use, then the material's texture per object.
        light_defines = (f"POINT_COUNT {len(points)}", *(["SUN_SHADOW"] if shadow_vps[0] else []),
                         *(f"POINT_SHADOW_{i}" for i, faces in enumerate(shadow_vps[1:]) if faces))  # fmt: skip
        ready: set[int] = set()
        for node, model in instances:
            mat = node.material
            surface = (*(["VERTEX_COLOR"] if mat.vertex_colors else []), *(["ALBEDO_MAP"] if mat.image else []))
            prog = self._program("mesh.vert", "shade.frag", *light_defines, f"TEXTURE {TEXTURES.index(mat.texture)}", *surface)
            if prog.glo not in ready:
                ready.add(prog.glo)
                self._shade_frame_uniforms(prog, scene, t, lights, shadow_vps)
            _set(prog, "m_model", model)
            _set(prog, "u_color", tuple(mat.color_at(t)))
            _set(prog, "u_texture_color", tuple(mat.texture_color))
            _set(prog, "u_texture_scale", float(mat.texture_scale))
            _set(prog, "u_specular", float(mat.specular))
            _set(prog, "u_shininess", 2.0 / max(mat.roughness, 1e-3) ** 2 - 2.0)
            _set(prog, "u_double_sided", meshes.double_sided(node.shape))
            if mat.image:
                self._image(mat.image).use(ALBEDO_UNIT)
                _set(prog, "u_albedo_map", ALBEDO_UNIT)
            self._vao(prog, node.shape).render()
        return background

    def _shade_frame_uniforms(self, prog: moderngl.Program, scene: Scene, t: float, lights: dict, shadow_vps: list) -> None:
        """The uniforms of a shading pass that are the same for every object of the frame at ``t``."""
        sun = lights["sun"]
        _, view_proj = self._view_proj(scene, t)
        eye, _ = scene.camera.pose(t)
        _set(prog, "m_view_proj", view_proj)
        _set(prog, "u_eye", tuple(eye))
        _set(prog, "u_ambient", tuple(lights["ambient"]))
        to_light = sun.direction_to_light() if sun is not None else np.array([0.0, 1.0, 0.0])
        _set(prog, "u_sun_dir", tuple(to_light))
        _set(prog, "u_sun_color", tuple(np.asarray(sun.color) * sun.intensity) if sun is not None else (0.0, 0.0, 0.0))
        _set(prog, "u_sun_map", 1)
        _set(prog, "m_sun_vp", shadow_vps[0][0] if shadow_vps[0] else np.eye(4))
        if not lights["points"]:  # the variant without point lights has none of their uniforms
            return
        _set(prog, "u_point_maps", list(range(2, 2 + MAX_POINT_LIGHTS)))
        faces = [vp for point in shadow_vps[1:] for vp in (point or [np.eye(4)] * 6)]
        _set(prog, "m_point_face_vp", np.stack(faces))
        # Array uniforms are written whole: unused entries are zero (POINT_COUNT bounds the loop).
        pos, color = np.zeros((2, MAX_POINT_LIGHTS, 3), dtype="f4")
        for i, (p, c, _) in enumerate(lights["points"]):
            pos[i], color[i] = p, c
        _set(prog, "u_point_pos", [tuple(map(float, v)) for v in pos])
        _set(prog, "u_point_color", [tuple(map(float, v)) for v in color])

    def _resolve(
        self, source: moderngl.Texture, target: moderngl.Framebuffer, srgb: bool, weight: float,
        background: moderngl.Texture | None = None,
    ) -> None:
        """Average ``source``'s samples into ``target``, taking ``background`` where a sample is
        uncovered (alpha 0), times ``weight``, sRGB-encoded if ``srgb``."""
        defines = (*([f"SAMPLES {self.msaa}"] if source is self.frame_tex and self.msaa > 1 else []),
                   *(["SRGB"] if srgb else []), *(["BACKGROUND"] if background is not None else []))  # fmt: skip
        prog = self._program("fullscreen.vert", "resolve.frag", *defines)
        target.use()
        source.use(0)
        _set(prog, "u_source", 0)
        if background is not None:
            background.use(1)
            _set(prog, "u_background", 1)
        _set(prog, "u_weight", weight)
        self._fullscreen(prog)

    @_current
    def render(self, scene: Scene, times: np.ndarray, fps: float, linear: bool = False) -> np.ndarray:
        """Frames at ``times`` (seconds), each integrated over ``scene.camera.shutter_deg``.

        The shutter is open for ``shutter_deg / 360 / fps`` seconds centred on each time and
        sampled at ``shutter_samples`` sub-frame times (midpoint rule), accumulated in float32.
        Returns ``uint8 (T, H, W, 3)`` sRGB (IEC 61966-2-1), or with ``linear=True``
        ``float32 (T, H, W, 3)`` linear light (1.0 = diffuse white under unit light).
        """
        cam = scene.camera
        if not 0.0 <= cam.shutter_deg <= 360.0:
            raise ValueError(f"camera.shutter_deg={cam.shutter_deg}: allowed 0..360")
        lights = self._lights(scene)
        open_s = cam.shutter_deg / 360.0 / fps
        samples = max(1, int(cam.shutter_samples)) if open_s > 0 else 1
        offsets = ((np.arange(samples) + 0.5) / samples - 0.5) * open_s
        target = self.outf_fbo if linear else self.out8_fbo
        out = np.empty((len(times), self.height, self.width, 3), dtype=np.float32 if linear else np.uint8)
        ctx = self.ctx
        for k, t in enumerate(times):
            if samples == 1:
                background = self._draw_scene(scene, float(t), lights)
                self._resolve(self.frame_tex, target, srgb=not linear, weight=1.0, background=background)
            else:
                self.accum_fbo.clear(0.0, 0.0, 0.0, 0.0)
                for dt in offsets:
                    background = self._draw_scene(scene, float(t + dt), lights)
                    ctx.enable(moderngl.BLEND)
                    ctx.blend_func = moderngl.ONE, moderngl.ONE
                    self._resolve(self.frame_tex, self.accum_fbo, srgb=False, weight=1.0 / samples, background=background)
                    ctx.disable(moderngl.BLEND)
                self._resolve(self.accum_tex, target, srgb=not linear, weight=1.0)
            raw = target.read(components=3, dtype="f4" if linear else "f1", alignment=1)
            out[k] = np.frombuffer(raw, dtype=out.dtype).reshape(self.height, self.width, 3)[::-1]
        return out

    # -- ground truth -----------------------------------------------------------------------

    @_current
    def ground_truth(self, scene: Scene, times: np.ndarray, fps: float) -> dict[str, np.ndarray]:
        """Dense ground truth at ``times`` from the scene's analytic motion.

        Returns ``depth`` float32 (T, H, W): metres along the optical axis, ``inf`` for the
        background; ``normals`` float32 (T, H, W, 3): unit, camera space (OpenGL: x right, y up,
        +z towards the camera), 0 for the background; ``instances`` int32 (T, H, W): 1.. in
        :meth:`Scene.instances` order, 0 = background; ``flow`` float32 (T, H, W, 2): forward
        optical flow frame t -> t + 1/fps in pixels (x right, y down).
        """
        ctx = self.ctx
        depth = np.empty((len(times), self.height, self.width), np.float32)
        normals = np.empty((len(times), self.height, self.width, 3), np.float32)
        instances = np.empty((len(times), self.height, self.width), np.int32)
        flow = np.empty((len(times), self.height, self.width, 2), np.float32)
        aspect = self.width / self.height
        for k, t in enumerate(map(float, times)):
            t_next = t + 1.0 / fps
            self.gt_fbo.use()
            self.gt_fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
            bt = self.background_truth
            rot_next = scene.camera.view_matrix(t_next).copy()
            rot_next[:3, 3] = 0
            _set(bt, "m_inv_view_proj", self._background_matrices(scene, t))
            _set(bt, "m_view_proj_next", scene.camera.projection_matrix(aspect) @ rot_next)
            _set(bt, "u_viewport", (float(self.width), float(self.height)))
            _set(bt, "u_infinity", math.inf)
            self._fullscreen(bt)
            ctx.enable(moderngl.DEPTH_TEST)
            view, view_proj = self._view_proj(scene, t)
            _, view_proj_next = self._view_proj(scene, t_next)
            truth_uniforms = {"m_view": view, "m_view_proj": view_proj, "m_view_proj_next": view_proj_next,
                              "u_viewport": (float(self.width), float(self.height))}  # fmt: skip
            for name, value in truth_uniforms.items():
                _set(self.truth, name, value)
            next_models = [m for _, m in scene.instances(t_next)]
            for i, ((node, model), model_next) in enumerate(zip(scene.instances(t), next_models)):
                prog = self._surface("ground_truth.frag", node, truth_uniforms, self.truth)
                _set(prog, "m_model", model)
                _set(prog, "m_model_next", model_next)
                _set(prog, "u_instance", float(i + 1))
                _set(prog, "u_double_sided", meshes.double_sided(node.shape))
                self._vao(prog, node.shape).render()
            geo = np.frombuffer(self.gt_tex[0].read(), np.float32).reshape(self.height, self.width, 4)[::-1]
            mot = np.frombuffer(self.gt_tex[1].read(), np.float32).reshape(self.height, self.width, 4)[::-1]
            depth[k], normals[k] = geo[..., 0], geo[..., 1:]
            flow[k], instances[k] = mot[..., :2], np.rint(mot[..., 2]).astype(np.int32)
        return {"depth": depth, "normals": normals, "instances": instances, "flow": flow}

    def _isolated(self, scene: Scene, t: float, inst: list) -> list[bool]:
        """Per instance: its projected 3D box lies inside the frame and overlaps no other
        instance's box (1 px margin), so nothing can hide any of its pixels: fully visible."""
        cam = scene.camera
        boxes = []
        for node, model in inst:
            corners = meshes.bounds(node.shape) @ model[:3, :3].T + model[:3, 3]
            px, depth = cam.project(corners, t, self.width, self.height)
            boxes.append(None if (depth <= cam.near).any() else (*(px.min(0) - 1), *(px.max(0) + 1)))

        def apart(a, b) -> bool:
            return a is not None and b is not None and (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])

        inside = [b is not None and b[0] >= 0 and b[1] >= 0 and b[2] <= self.width and b[3] <= self.height for b in boxes]
        return [inside[i] and all(apart(boxes[i], boxes[j]) for j in range(len(inst)) if j != i) for i in range(len(inst))]

    @_current
    def visibility(self, scene: Scene, times: np.ndarray) -> np.ndarray:
        """Visible fraction (T, N) of each tracked instance (``node.track``, in instance order):
        pixels not hidden by any other instance over pixels it would cover alone, counted with
        occlusion queries at output resolution; 1 without counting where the projected boxes
        prove it (inside the frame, apart from every other box). Outside the frame it is 0."""
        ctx = self.ctx
        prog = self.depth_only
        tracked = [i for i, (node, _) in enumerate(scene.instances(0.0)) if node.track]
        out = np.ones((len(times), len(tracked)))
        self.depth_fbo.use()
        ctx.enable(moderngl.DEPTH_TEST)
        for k, t in enumerate(map(float, times)):
            inst = scene.instances(t)
            isolated = self._isolated(scene, t, inst)
            todo = [(j, i) for j, i in enumerate(tracked) if not isolated[i]]
            if not todo:
                continue
            _, view_proj = self._view_proj(scene, t)
            _set(prog, "m_view_proj", view_proj)

            def draw(i: int) -> None:
                surface = self._surface("depth_only.frag", inst[i][0], {"m_view_proj": view_proj}, prog)
                _set(surface, "m_model", inst[i][1])
                self._vao(surface, inst[i][0].shape).render()

            def count(i: int) -> int:
                ctx.depth_func = "=="
                with self._query:
                    draw(i)
                ctx.depth_func = "<"
                return self._query.samples

            self.depth_fbo.clear(depth=1.0)
            for i in range(len(inst)):
                draw(i)
            visible = {j: count(i) for j, i in todo}
            for j, i in todo:
                self.depth_fbo.clear(depth=1.0)
                draw(i)
                alone = count(i)
                out[k, j] = visible[j] / alone if alone else 0.0
        ctx.depth_func = "<"
        return out
