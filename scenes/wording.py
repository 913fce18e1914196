"""How questions and options name objects, and how oracles read colour names back from them."""

from __future__ import annotations

from synth.scenes.palette import COLORS


def question_color(question: str) -> str | None:
    """The first colour name in a question (oracles may read the question text)."""
    words = question.lower().replace("?", " ").split()
    return next((w for w in words if w in COLORS), None)


def describe(color: str, shape: str) -> str:
    """How questions and options name an object: ``the red cube``."""
    return f"the {color} {shape}"


# The answer set of a question whose options name two objects: which option is right.
OPTION_POSITIONS = ["first", "second"]


def name_options(looks: tuple[tuple[str, str], ...], answer_position: str) -> tuple[list[str], list[str], str]:
    """Names of objects given as ``(color, shape)``, the options (the same names in alphabetical
    order: a rule unrelated to the answer, so the order says nothing) and the name at
    ``answer_position`` (one of :data:`OPTION_POSITIONS`)."""
    names = [describe(*look) for look in looks]
    options = sorted(names)
    return names, options, options[OPTION_POSITIONS.index(answer_position)]


def option_colors(options: list[str]) -> list[str | None]:
    """The colour each option names (options name objects: ``the red cube``)."""
    return [question_color(o) for o in options]
