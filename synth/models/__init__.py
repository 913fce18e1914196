"""Talking to a model: adapters and what they need.

``base`` (the :class:`~synth.models.base.Model` base and the JSON-lines command protocol),
``registry`` (model names -> adapters, imported on use), one module per adapter (``reference``,
``openai``, ``flow``, ``hf``; ``command`` is the protocol in ``base``), ``configs`` (their Hydra
configs), ``prompts`` (question variants, option rotations), ``phrasings`` (training-set
wordings), ``parsing`` (free text -> option) and ``frames`` (which frames a model sees).
"""
