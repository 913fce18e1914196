"""Documented ``synth`` command lines at test size (the docs test runs every README/docs example
through a shim that rewrites only sizes)."""

from __future__ import annotations

SMALL_N, SMALL_SIZE = 2, 32


def _set(args: list[str], key: str, value, smaller=None) -> list[str]:
    """``key=value`` in ``args``: replaced (kept if ``smaller`` says the given one is smaller) or appended."""
    for i, a in enumerate(args):
        if a.startswith(key + "="):
            given = a.split("=", 1)[1]
            if smaller is None or not smaller(given):
                args[i] = f"{key}={value}"
            return args
    return args + [f"{key}={value}"]


def _at_most(limit: int):
    return lambda given: given.isdigit() and int(given) <= limit


def shrink(argv: list[str]) -> list[str]:
    """A documented ``synth`` command line at test size: only sizes change."""
    if not argv:
        return argv
    args = list(argv)
    if args[0] == "generate":
        args = _set(args, "n", SMALL_N, _at_most(SMALL_N))
        args = _set(args, "render.width", SMALL_SIZE, _at_most(SMALL_SIZE))
        args = _set(args, "render.height", SMALL_SIZE, _at_most(SMALL_SIZE))
    elif args[0] == "calibrate":
        args = _set(args, "clips", 1, _at_most(1))
        args = _set(args, "frames", 4, _at_most(4))
    return args
