"""Unit meshes as triangle lists: each fits a 1 m box centred on its origin.

Every builder returns ``float32 (N, 6)``: position xyz then outward unit normal xyz per vertex,
three vertices per triangle, counter-clockwise seen from outside. Flat shapes (``square``,
``circle``, ``triangle``) lie in the z = 0 plane facing +z (towards the default camera);
``plane`` lies in y = 0 facing +y (a floor). Flat shapes are drawn double-sided.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

_SEGMENTS = 48


def _grid(pos: np.ndarray, nrm: np.ndarray) -> np.ndarray:
    """Triangulate a parametric surface sampled as (U+1, V+1, 3) positions and normals."""
    nu, nv = pos.shape[0] - 1, pos.shape[1] - 1
    i, j = (a.ravel() for a in np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij"))
    corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
    order = [corners[k] for k in (0, 1, 2, 0, 2, 3)]
    p = np.stack([pos[ci, cj] for ci, cj in order], axis=1).reshape(-1, 3)
    n = np.stack([nrm[ci, cj] for ci, cj in order], axis=1).reshape(-1, 3)
    return np.concatenate([p, n], axis=1).astype(np.float32)


def _revolve(profile_r: np.ndarray, profile_y: np.ndarray, normal_r: np.ndarray, normal_y: np.ndarray) -> np.ndarray:
    """Surface of revolution about +y from a profile (r(s), y(s)) and its normal (nr(s), ny(s))."""
    phi = np.linspace(2 * math.pi, 0, _SEGMENTS + 1)  # descending: counter-clockwise from outside
    c, s = np.cos(phi), np.sin(phi)
    shape = (len(profile_r), phi.size)
    pos = np.stack([profile_r[:, None] * s, np.broadcast_to(profile_y[:, None], shape), profile_r[:, None] * c], -1)
    nrm = np.stack([normal_r[:, None] * s, np.broadcast_to(normal_y[:, None], shape), normal_r[:, None] * c], -1)
    return _grid(pos, nrm)


def _disk(y: float, radius: float, facing: float) -> np.ndarray:
    """Flat disk at height ``y`` facing +y (facing=1) or -y (facing=-1), as a fan."""
    phi = np.linspace(0, 2 * math.pi, _SEGMENTS + 1)
    rim = np.stack([radius * np.sin(phi), np.full_like(phi, y), radius * np.cos(phi)], -1)
    a, b = (rim[:-1], rim[1:]) if facing > 0 else (rim[1:], rim[:-1])
    centre = np.broadcast_to([0.0, y, 0.0], a.shape)
    p = np.stack([centre, a, b], axis=1).reshape(-1, 3)
    n = np.broadcast_to([0.0, facing, 0.0], p.shape)
    return np.concatenate([p, n], axis=1).astype(np.float32)


def cube() -> np.ndarray:
    faces = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u = np.roll(n, 1) * 0.5  # u x v = n keeps the winding counter-clockwise from outside
            v = np.cross(n, u)
            c = n * 0.5
            quad = [c - u - v, c + u - v, c + u + v, c - u + v]
            p = np.array([quad[k] for k in (0, 1, 2, 0, 2, 3)])
            faces.append(np.c_[p, np.broadcast_to(n, p.shape)])
    return np.concatenate(faces).astype(np.float32)


def sphere() -> np.ndarray:
    theta = np.linspace(0, math.pi, _SEGMENTS // 2 + 1)
    r, y = 0.5 * np.sin(theta), 0.5 * np.cos(theta)
    return _revolve(r[::-1], y[::-1], np.sin(theta)[::-1], np.cos(theta)[::-1])


def cylinder() -> np.ndarray:
    r = np.array([0.5, 0.5])
    side = _revolve(r, np.array([-0.5, 0.5]), np.ones(2), np.zeros(2))
    return np.concatenate([side, _disk(0.5, 0.5, 1.0), _disk(-0.5, 0.5, -1.0)])


def cone() -> np.ndarray:
    slope = math.hypot(1.0, 0.5)
    side = _revolve(np.array([0.5, 0.0]), np.array([-0.5, 0.5]), np.full(2, 1 / slope), np.full(2, 0.5 / slope))
    return np.concatenate([side, _disk(-0.5, 0.5, -1.0)])


def torus(major: float = 0.35, minor: float = 0.15) -> np.ndarray:
    """Ring lying in the x-y plane (axis +z, facing the default camera), outer diameter 1 m."""
    a = np.linspace(0, 2 * math.pi, _SEGMENTS + 1)[:, None]  # around the ring
    b = np.linspace(0, 2 * math.pi, _SEGMENTS // 2 + 1)[None, :]  # around the tube
    nrm = np.stack([np.cos(b) * np.cos(a), np.cos(b) * np.sin(a), np.broadcast_to(np.sin(b), (a.size, b.size))], -1)
    centre = np.stack([major * np.cos(a), major * np.sin(a), np.zeros_like(a)], -1)
    return _grid(centre + minor * nrm, nrm)


def _flat(xy: np.ndarray) -> np.ndarray:
    """Fan-triangulate a convex polygon in z = 0 given counter-clockwise (K, 2) vertices."""
    k = len(xy)
    p3 = np.c_[xy, np.zeros(k)]
    idx = np.array([(0, i, i + 1) for i in range(1, k - 1)]).ravel()
    p = p3[idx]
    return np.c_[p, np.broadcast_to([0.0, 0.0, 1.0], p.shape)].astype(np.float32)


def square() -> np.ndarray:
    return _flat(np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]]))


def circle() -> np.ndarray:
    phi = np.linspace(0, 2 * math.pi, _SEGMENTS, endpoint=False)
    return _flat(0.5 * np.c_[np.cos(phi), np.sin(phi)])


def triangle() -> np.ndarray:
    """Equilateral, pointing up, filling the 1 m box's width; its bbox is centred on the origin."""
    h = math.sqrt(3) / 2
    return _flat(np.array([[-0.5, -h / 2], [0.5, -h / 2], [0.0, h / 2]]))


def plane() -> np.ndarray:
    quad = square()
    out = quad.copy()
    out[:, 1], out[:, 2] = -quad[:, 2], quad[:, 1]  # rotate z=0 facing +z into y=0 facing +y
    out[:, 4], out[:, 5] = -quad[:, 5], quad[:, 4]
    return out


SHAPES = {
    "cube": cube,
    "sphere": sphere,
    "cylinder": cylinder,
    "cone": cone,
    "torus": torus,
    "plane": plane,
    "square": square,
    "circle": circle,
    "triangle": triangle,
}
FLAT_SHAPES = ("square", "circle", "triangle", "plane")
CONVEX_SHAPES = ("cube", "sphere", "cylinder", "cone", *FLAT_SHAPES)


@lru_cache(maxsize=None)
def mesh(shape: str) -> np.ndarray:
    """Cached float32 triangle list for ``shape`` (read-only): ``(N, 6)`` for a built-in shape,
    ``(N, 12)`` (position, normal, uv, linear RGBA) for content loaded from a file and registered
    by :mod:`synth.assets` (``mesh:<hash>``, ``sprite:<hash>``, ...)."""
    if shape not in SHAPES:
        from synth.assets import registered_mesh

        return registered_mesh(shape)
    data = SHAPES[shape]()
    data.setflags(write=False)
    return data


def double_sided(shape: str) -> bool:
    """Whether ``shape`` is drawn double-sided (normals flipped towards the viewer): the flat
    built-in shapes and every mesh from a file (cards, open or inconsistently wound meshes)."""
    return shape in FLAT_SHAPES or shape not in SHAPES


@lru_cache(maxsize=None)
def bounds(shape: str) -> np.ndarray:
    """The 8 corners (8, 3) of the mesh's object-space bounding box."""
    p = mesh(shape)[:, :3]
    lo, hi = p.min(0), p.max(0)
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
