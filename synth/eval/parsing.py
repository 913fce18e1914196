"""Turn a model's free-text answer into an option index, or ``None`` when it names none.

Accepted: a letter in its usual forms ("B", "(B)", "B.", "B)", "Answer: B", "The answer is B",
"**B**"), or the option's text (case, punctuation and surrounding words tolerated when exactly one
option's text appears). Anything else is invalid: it is counted as such, never guessed.
"""

from __future__ import annotations

import re

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# "answer is B", "answer: (B)", "option B", "choice: B." -- the letter after a cue word.
_CUE = re.compile(r"\b(?:answer|option|choice)\s*(?:is|:|=)?\s*[\(\[]?([A-Z])[\)\]]?(?![A-Za-z])", re.I)
# A whole reply that is one letter with optional brackets / trailing punctuation: "B", "(B)", "B.", "B) left".
_BARE = re.compile(r"^[\s\*\"'`]*[\(\[]?([A-Z])[\)\]]?(?:[.:,)\s\*\"'`]|$)")


def normalize(text: str) -> str:
    """Lower case, punctuation to spaces, runs of spaces collapsed."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def parse_letter(response: str, n_options: int) -> int | None:
    """Index of the option letter ``response`` names (``None`` if no single valid letter)."""
    valid = LETTERS[:n_options]
    text = response.strip()
    cued = {m.group(1).upper() for m in _CUE.finditer(text)} & set(valid)
    if len(cued) == 1:
        return valid.index(cued.pop())
    if cued:
        return None
    bare = _BARE.match(text)
    if bare and bare.group(1) in valid:
        # A lower-case single word such as "a" is English, not a letter, unless it stands alone.
        if bare.group(1).isupper() or len(text.strip(" .()[]*\"'`")) == 1:
            return valid.index(bare.group(1).upper())
    return None


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
