"""Question phrasings for instruction-tuning exports (``synth export llava|hf``), as data.

Per task family: ``pattern``, a regular expression that parses the family's canonical question
(the manifest's ``question``) into named parts, and ``open`` / ``mcq``, paraphrase templates
over those parts (``str.format`` fields). An open-ended item is answered with the option text; a
multiple-choice item lists the options and is answered with the letter. A question no pattern
parses (a family not listed, or one whose wording changed) uses the ``*`` entry, whose only
part is ``question``: the canonical text itself.
"""

from __future__ import annotations

PHRASINGS: dict[str, dict] = {
    "direction": {
        "pattern": r"^Which direction did (?P<subject>.+) move\?$",
        "open": [
            "Which direction did {subject} move?",
            "In which direction does {subject} travel in this video?",
            "Watch {subject}. Which way does it go?",
            "Where is {subject} heading over the clip?",
            "Describe the direction of motion of {subject} in one or two words.",
        ],
        "mcq": [
            "Which direction did {subject} move?",
            "In which direction does {subject} travel in this video?",
            "Which way does {subject} go over the clip?",
        ],
    },
    "rotation": {
        "pattern": r"^Did (?P<subject>.+) spin clockwise or counter-clockwise\?$",
        "open": [
            "Did {subject} spin clockwise or counter-clockwise?",
            "Which way does {subject} rotate, as seen by the camera: clockwise or counter-clockwise?",
            "Is {subject} turning clockwise or counter-clockwise?",
        ],
        "mcq": [
            "Did {subject} spin clockwise or counter-clockwise?",
            "In which sense does {subject} rotate?",
        ],
    },
    "speed_compare": {
        "pattern": r"^Which object moved faster: (?P<a>.+) or (?P<b>.+)\?$",
        "open": [
            "Which object moved faster: {a} or {b}?",
            "Of {a} and {b}, which one is quicker?",
            "Compare the speeds of {a} and {b}. Which is faster?",
        ],
        "mcq": ["Which object moved faster?", "Which of these objects covers ground more quickly?"],
    },
    "approach": {
        "pattern": r"^Did (?P<subject>.+) move toward or away from the camera\?$",
        "open": [
            "Did {subject} move toward or away from the camera?",
            "Is {subject} approaching the camera or receding from it?",
            "Does {subject} come closer to the viewer or move away?",
        ],
        "mcq": ["Did {subject} move toward or away from the camera?", "How does {subject} move relative to the camera?"],
    },
    "depth_order": {
        "pattern": r"^Which object is closer to the camera: (?P<a>.+) or (?P<b>.+)\?$",
        "open": [
            "Which object is closer to the camera: {a} or {b}?",
            "Of {a} and {b}, which one is nearer to the viewer?",
            "Which is in front: {a} or {b}?",
        ],
        "mcq": ["Which object is closer to the camera?", "Which of these objects is nearer to the viewer?"],
    },
    "count_moving": {
        "pattern": r"^How many of the objects moved\?$",
        "open": [
            "How many of the objects moved?",
            "Count the objects that move during the clip. How many are there?",
            "How many objects change position in this video?",
        ],
        "mcq": ["How many of the objects moved?", "How many objects are in motion at some point?"],
    },
    "order": {
        "pattern": r"^Which object started moving first\?$",
        "open": [
            "Which object started moving first?",
            "Which object is the first to start moving?",
            "Several objects start moving. Which one moves before the others?",
        ],
        "mcq": ["Which object started moving first?", "Which object sets off first?"],
    },
    "revisit": {
        "pattern": r"^Did the (?P<shape>.+) change colour while the camera was turned away\?$",
        "open": [
            "Did the {shape} change colour while the camera was turned away?",
            "When the camera looks back, is the {shape} the same colour as before?",
            "While the camera looked elsewhere, did the {shape} change its colour?",
        ],
        "mcq": ["Did the {shape} change colour while the camera was turned away?", "Has the {shape} changed colour?"],
    },
    "ego_motion": {
        "pattern": r"^Did the camera move, or did (?P<subject>.+) move\?$",
        "open": [
            "Did the camera move, or did {subject} move?",
            "Is it the camera or {subject} that moves in this clip?",
            "What moves here: the camera or {subject}?",
        ],
        "mcq": ["Did the camera move, or did {subject} move?", "Which one is moving?"],
    },
    "trajectory": {
        "pattern": r"^Did (?P<subject>.+) move along a straight, curved, or bouncing path\?$",
        "open": [
            "Did {subject} move along a straight, curved, or bouncing path?",
            "What kind of path does {subject} follow: straight, curved or bouncing?",
            "Describe the shape of the path of {subject}.",
        ],
        "mcq": ["Did {subject} move along a straight, curved, or bouncing path?", "What kind of path does {subject} follow?"],
    },
    "*": {
        "pattern": r"^(?P<question>.+)$",
        "open": ["{question}", "Watch the whole clip, then answer: {question}", "Question about the video: {question}"],
        "mcq": ["{question}", "Watch the whole clip, then answer: {question}"],
    },
}
