"""Evaluator hooks: ask a model every sample of a dataset, score the answers, report findings.

Modules: ``prompts`` (question variants, option rotations), ``parsing`` (free text -> option),
``models`` (adapters: built-ins, OpenAI-compatible HTTP, local transformers, subprocess),
``runner`` (cached, resumable asking), ``metrics`` and ``stats`` (accuracy, Wilson intervals,
McNemar), ``report`` (markdown + PNG plots) and ``export_lmms`` (lmms-eval task directories).
"""
