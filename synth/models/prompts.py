"""What a model is asked: question variants, option rotations and the exact prompt text.

Variants (``eval.variant``) expose biases a plain multiple-choice score hides:

* ``mcq``: the record's options; the prompt ends "Answer with the option letter only.";
* ``none_distractor``: adds "None of the above" as a wrong option (false abstention shows);
* ``none_answer``: removes the right option, "None of the above" becomes the right one
  (a model that never abstains scores 0);
* ``open``: no options; the free answer is matched to the record's answer set.

Circular evaluation asks every rotation of the option list (option *i* moves to position
*i - r*); a sample counts as right only if every rotation is right.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from synth.models.parsing import LETTERS

VARIANTS = ("mcq", "none_distractor", "none_answer", "open")
NONE_OF_THE_ABOVE = "None of the above"
MCQ_INSTRUCTION = "Answer with the option letter only."
OPEN_INSTRUCTION = "Answer with a short phrase."


@dataclass(frozen=True)
class Ask:
    """One question put to a model about one sample.

    ``options`` are the presented options in order (empty for ``open``); ``correct_index`` is the
    right one's index among them (``None`` for ``open``); ``answer_set`` is the record's options in
    their original order, the vocabulary an ``open`` answer is matched against.

    A time control's twin (:mod:`synth.eval.controls`) asks the same about the sampled frames
    shown in another order: ``control`` names it, ``frame_order`` lists which sampled frame is
    shown at each position; ``answer_index`` (and ``correct_index``) are None where the twin has
    no right answer (a shuffled clip).
    """

    sample_id: str
    variant: str
    rotation: int
    question: str
    options: tuple[str, ...]
    correct_index: int | None
    answer_set: tuple[str, ...]
    answer_index: int | None
    prompt: str
    control: str | None = None
    frame_order: tuple[int, ...] | None = None

    @property
    def key(self) -> tuple:
        """(sample id, variant, rotation), plus the control's name for a twin."""
        plain = (self.sample_id, self.variant, self.rotation)
        return plain if self.control is None else (*plain, self.control)

    @property
    def prompt_hash(self) -> str:
        return hashlib.sha256(self.prompt.encode()).hexdigest()[:16]

    @property
    def letters(self) -> str:
        return LETTERS[: len(self.options)]


def render_prompt(question: str, options: list[str] | tuple[str, ...]) -> str:
    """The exact text sent: question, lettered options, the answer-format instruction."""
    if not options:
        return f"{question.strip()}\n{OPEN_INSTRUCTION}"
    lines = [question.strip()]
    lines += [f"{LETTERS[i]}. {option}" for i, option in enumerate(options)]
    lines.append(MCQ_INSTRUCTION)
    return "\n".join(lines)


def _variant_options(record: dict, variant: str) -> tuple[list[str], int | None]:
    options = list(record["options"])
    answer = record["answer_index"]
    if variant == "mcq":
        return options, answer
    if variant == "none_distractor":
        return options + [NONE_OF_THE_ABOVE], answer
    if variant == "none_answer":
        kept = [o for i, o in enumerate(options) if i != answer]
        return kept + [NONE_OF_THE_ABOVE], len(kept)
    if variant == "open":
        return [], None
    raise ValueError(f"unknown variant {variant!r}")


def build_asks(record: dict, variant: str, circular: bool) -> list[Ask]:
    """Every ask for ``record`` under ``variant``: one, or one per rotation when ``circular``."""
    base, correct = _variant_options(record, variant)
    rotations = range(len(base)) if circular and base else range(1)
    asks = []
    for r in rotations:
        options = base[r:] + base[:r]
        asks.append(
            Ask(
                sample_id=str(record["id"]),
                variant=variant,
                rotation=r,
                question=record["question"],
                options=tuple(options),
                correct_index=None if correct is None else (correct - r) % len(base),
                answer_set=tuple(record["options"]),
                answer_index=int(record["answer_index"]),
                prompt=render_prompt(record["question"], options),
            )
        )
    return asks
