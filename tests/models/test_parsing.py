"""Answer parsing and prompt variants."""

import pytest

from synth.models.parsing import parse_answer
from synth.models.prompts import MCQ_INSTRUCTION, NONE_OF_THE_ABOVE, build_asks
from synth.scoring.answers import score

OPTIONS = ["left", "right", "up", "down"]


@pytest.mark.parametrize(
    "reply", ["B", "(B)", "B.", "B)", "b", "Answer: B", "The answer is B", "The answer is (B).", "**B**", " B\n", "B. right"]
)
def test_letter_forms(reply):
    assert parse_answer(reply, OPTIONS) == 1


@pytest.mark.parametrize("reply", ["right", "Right.", "It moves RIGHT!", "the square moves to the right"])
def test_option_text_forms(reply):
    assert parse_answer(reply, OPTIONS) == 1


@pytest.mark.parametrize(
    "reply",
    ["", "I am not sure", "E", "left or right", "A or B", "Answer: A, no wait, answer: C", "diagonal", "rightwards"],
)
def test_anything_else_is_invalid(reply):
    assert parse_answer(reply, OPTIONS) is None


def test_longer_option_text_wins_over_a_contained_one():
    options = ["up", "up left", "down"]
    assert parse_answer("it goes up left", options) == 1
    assert parse_answer("up", options) == 0


def test_mcq_prompt_and_rotations_keep_the_right_answer():
    record = {"id": "x", "question": "Where?", "options": OPTIONS, "answer_index": 2}
    asks = build_asks(record, "mcq", circular=True)
    assert len(asks) == 4
    assert len({a.prompt_hash for a in asks}) == 4
    for ask in asks:
        assert ask.prompt.endswith(MCQ_INSTRUCTION)
        assert ask.options[ask.correct_index] == "up"
        assert sorted(ask.options) == sorted(OPTIONS)
    assert {a.correct_index for a in asks} == {0, 1, 2, 3}  # the right letter visits every position
    assert len(build_asks(record, "mcq", circular=False)) == 1


def test_none_variants():
    record = {"id": "x", "question": "Where?", "options": OPTIONS, "answer_index": 2}
    (distractor,) = build_asks(record, "none_distractor", circular=False)
    assert distractor.options[-1] == NONE_OF_THE_ABOVE and distractor.options[distractor.correct_index] == "up"
    (answer,) = build_asks(record, "none_answer", circular=False)
    assert "up" not in answer.options
    assert answer.options[answer.correct_index] == NONE_OF_THE_ABOVE
    assert score(answer, "D")["correct"] and not score(answer, "A")["correct"]


def test_open_variant_matches_the_answer_set():
    record = {"id": "x", "question": "Where?", "options": OPTIONS, "answer_index": 2}
    (ask,) = build_asks(record, "open", circular=True)  # no options: nothing to rotate
    assert "A." not in ask.prompt
    assert score(ask, "It goes up.") == {"parsed": "up", "correct": True, "choices": 4}
    assert score(ask, "C")["parsed"] is None
