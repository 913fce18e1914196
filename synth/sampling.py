"""Seeded, paired sampling.

Sample ``i`` of a run with base ``seed`` draws from ``SeedSequence(seed, spawn_key=(i,))``, so it
is the same whether it is made alone, in a shard or in a bigger run. Every parameter is drawn
through :class:`ParamDraw`, which ALWAYS consumes the random stream, then replaces the value if
the user fixed it (``object.rotation_deg=5``) or sweeps it: changing one variable leaves every
other draw where it was, which is what makes sweeps paired.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np


def sample_seed(seed: int, index: int) -> int:
    """The 63-bit seed of sample ``index`` under base ``seed`` (stored in the manifest)."""
    state = np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def balanced_choice(seed: int, index: int, choices: Sequence[Any]) -> Any:
    """Choice for sample ``index`` such that every block of ``len(choices)`` consecutive
    indices holds each choice exactly once, in a seeded order per block (no index pattern)."""
    k = len(choices)
    block, pos = divmod(index, k)
    order = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block, 0xB1A5))).permutation(k)
    return choices[int(order[pos])]


class ParamDraw:
    """Draws named parameters from one sample's generator and records them in ``values``.

    ``fixed`` maps dotted keys (``object.color``) to user-set values; they win over the draw
    but the draw still happens, keeping the stream aligned across paired samples.
    """

    def __init__(self, rng: np.random.Generator, fixed: dict[str, Any] | None = None):
        self.rng = rng
        self.fixed = dict(fixed or {})
        self.values: dict[str, Any] = {}

    def __call__(self, key: str, sampler: Callable[[np.random.Generator], Any]) -> Any:
        value = _plain(sampler(self.rng))
        if key in self.fixed:
            value = _coerce(self.fixed[key], value, key)
        self.values[key] = value
        return value

    def uniform(self, key: str, low: float, high: float) -> float:
        return self(key, lambda r: r.uniform(low, high))

    def choice(self, key: str, options: Sequence[Any]) -> Any:
        value = self(key, lambda r: options[int(r.integers(len(options)))])
        if value not in options and key in self.fixed:
            allowed = ", ".join(map(str, options))
            raise ValueError(f"{key}={value}: allowed {allowed}")
        return value

    def given(self, key: str, value: Any) -> Any:
        """A parameter the task decides without randomness (e.g. the balanced answer);
        a fixed or swept value still wins."""
        return self(key, lambda r: value)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _coerce(value: Any, drawn: Any, key: str) -> Any:
    """Give a user-fixed value the type of the drawn one (``5`` -> ``5.0`` for a float key)."""
    if isinstance(drawn, bool) or drawn is None:
        return value
    try:
        if isinstance(drawn, float):
            return float(value)
        if isinstance(drawn, int):
            return int(value)
        if isinstance(drawn, str):
            return str(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key}={value}: expected {type(drawn).__name__}") from None
    return value
