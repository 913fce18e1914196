"""Turn a model's free-text answer into an option index, or ``None`` when it names none.

Accepted: a letter in its usual forms ("B", "(B)", "B.", "B)", "Answer: B", "The answer is B",
"**B**"), or the option's text (case, punctuation and surrounding words tolerated when exactly one
option's text appears). Anything else is invalid: it is counted as such, never guessed.
"""

from __future__ import annotations

import re

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# "answer is B", "answer: (B)", "option B", "choice: B." -- the letter after a cue word.
# The letter must be a capital: "the answer is a square" names no option.
_CUE = re.compile(r"\b(?i:answer|option|choice)\s*(?i:is|:|=)?\s*[\(\[]?([A-Z])[\)\]]?(?![A-Za-z])")
# The whole reply is one letter, bracketed or punctuated: "B", "(B)", "B.", "**b**".
_ALONE = re.compile(r"^[\s\*\"'`]*[\(\[]?([A-Z])[\)\]]?[\s.:\*\"'`]*$", re.I)
# A capital letter closed by a bracket or punctuation, then the option text: "B. right", "(B) right".
_LEADING = re.compile(r"^[\s\*\"'`]*(?:\(([A-Z])\)|\[([A-Z])\]|([A-Z])[.:)])\s")


def normalize(text: str) -> str:
    """Lower case, punctuation to spaces, runs of spaces collapsed."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def parse_letter(response: str, n_options: int) -> int | None:
    """Index of the option letter ``response`` names (``None`` if no single valid letter)."""
    valid = LETTERS[:n_options]
    text = response.strip()
    cued = {m.group(1) for m in _CUE.finditer(text)} & set(valid)
    if len(cued) == 1:
        return valid.index(cued.pop())
    if cued:
        return None
    alone = _ALONE.match(text)
    leading = _LEADING.match(text)
    if alone:
        letter = alone.group(1).upper()
    elif leading:
        letter = next(g for g in leading.groups() if g)
    else:
        return None
    return valid.index(letter) if letter in valid else None


def match_text(response: str, options: list[str]) -> int | None:
    """Index of the one option whose normalized text equals or occurs (as whole words) in ``response``."""
    said = normalize(response)
    if not said:
        return None
    normalized = [normalize(o) for o in options]
    exact = [i for i, o in enumerate(normalized) if o and o == said]
    if len(exact) == 1:
        return exact[0]
    padded = f" {said} "
    found = [i for i, o in enumerate(normalized) if o and f" {o} " in padded]
    # "up left" contains "left": prefer the longest match when one option's text contains another's.
    found = [i for i in found if not any(j != i and normalized[i] in normalized[j] for j in found)]
    return found[0] if len(found) == 1 else None


def parse_answer(response: str, options: list[str]) -> int | None:
    """Option index named by ``response`` (letter first, then option text); ``None`` = invalid."""
    if response is None:
        return None
    letter = parse_letter(response, len(options))
    if letter is not None:
        return letter
    return match_text(response, options)
