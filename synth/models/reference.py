"""Reference models that make the benchmark's validity visible (no weights, deterministic).

* ``oracle``: the task family's pixel-only solver (injected as ``oracle_for``; ``synth.models``
  never imports ``scenes``) on the same sampled frames a model sees;
* ``single_frame``: the same solver given only the clip's middle frame;
* ``blind``: question and options only; picks the option sharing most words with the question,
  the first such on ties (so it also exposes answer-position bias);
* ``random``: a seeded uniform pick, stable per (sample, variant, rotation).
"""

from __future__ import annotations

import hashlib

import numpy as np

from synth.errors import UserError
from synth.models.base import Model, OracleFor, reply_for_option
from synth.models.frames import SampledClip
from synth.models.parsing import normalize
from synth.models.prompts import Ask


class OracleModel(Model):
    """The task's pixel solver; it picks from the task's answer set and the reply maps to the offer."""

    version = 1  # bump when this adapter or any task family's oracle (scenes) changes its answers

    def __init__(self, cfg, oracle_for: OracleFor | None):
        super().__init__(cfg)
        if oracle_for is None:
            raise UserError(f"model={cfg.kind}: needs the task families' solvers (scenes.oracle_for)")
        self._oracle_for = oracle_for

    def _frames(self, clip: SampledClip) -> np.ndarray:
        return clip.frames

    def answer(self, ask: Ask, clip: SampledClip, record: dict) -> str:
        solver = self._oracle_for(record["task"])
        index = int(solver(self._frames(clip), ask.question, list(ask.answer_set)))
        if not 0 <= index < len(ask.answer_set):
            return f"solver returned option {index}"
        return reply_for_option(ask, ask.answer_set[index])


class SingleFrameModel(OracleModel):
    """The oracle shown only the middle frame: what a static-image shortcut could reach."""

    def _frames(self, clip: SampledClip) -> np.ndarray:
        return clip.middle_frame


# Function words carry no hint about the answer; "the" would otherwise tie "None of the above" to most questions.
_STOPWORDS = frozenset("a an the of in on at to is are was does do did which what where how and or it its this that".split())


class BlindModel(Model):
    """Text only: the option sharing most content words with the question, the first on ties."""

    uses_frames = False
    version = 1  # bump when the word-overlap rule changes

    def answer(self, ask: Ask, clip: SampledClip, record: dict) -> str:
        candidates = ask.options or ask.answer_set
        question_words = set(normalize(ask.question).split()) - _STOPWORDS
        overlap = [len(question_words & set(normalize(o).split())) for o in candidates]
        best = int(np.argmax(overlap))  # argmax returns the first maximum
        return ask.letters[best] if ask.options else candidates[best]


class RandomModel(Model):
    """A uniform pick from a generator seeded by (model.seed, sample id, variant, rotation)."""

    uses_frames = False
    version = 1  # bump when the draw changes

    def answer(self, ask: Ask, clip: SampledClip, record: dict) -> str:
        key = hashlib.sha256("|".join(map(str, ask.key)).encode()).digest()
        rng = np.random.default_rng([self.cfg.seed, int.from_bytes(key[:8], "little")])
        candidates = ask.options or ask.answer_set
        pick = int(rng.integers(len(candidates)))
        return ask.letters[pick] if ask.options else candidates[pick]

