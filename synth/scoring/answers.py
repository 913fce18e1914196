"""Scoring one reply: which offered option it names and whether that is the answer."""

from __future__ import annotations

from synth.models.parsing import match_text, parse_answer
from synth.models.prompts import Ask


# The scorer's code version, part of every cached answer's key (synth.results): bump it when a
# change to score() or synth.models.parsing changes what a reply parses to, so cached predictions
# and probe answers are scored again (docs/evaluation.md, "Caches").
SCORER_VERSION = 1


def score(ask: Ask, response: str) -> dict:
    """Parse ``response`` for ``ask``: the chosen option text (or None), correctness (None for an
    ask with no right answer: a shuffled twin), choices offered."""
    if ask.options:
        index = parse_answer(response, list(ask.options))
        parsed = None if index is None else ask.options[index]
        correct = index is not None and index == ask.correct_index
        choices = len(ask.options)
    else:
        index = match_text(response, list(ask.answer_set))
        parsed = None if index is None else ask.answer_set[index]
        correct = index is not None and index == ask.answer_index
        choices = len(ask.answer_set)
    return {"parsed": parsed, "correct": None if ask.answer_index is None else bool(correct), "choices": choices}
