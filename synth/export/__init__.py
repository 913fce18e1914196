"""Exports of a synth dataset for other tools: ``lmms`` (an lmms-eval task directory) and
``train`` (LLaVA conversations and a Hugging Face ``datasets`` folder for instruction tuning).
"""
