"""The eval bench: ask a model every sample of a dataset, cache and score the answers.

Modules: ``runner`` (cached, resumable asking; writes ``predictions.jsonl`` and ``metrics.json``)
and ``audit`` (learned shortcut probes over frames, text and clip summaries). The models live in
:mod:`synth.models`, scoring in :mod:`synth.scoring`, the report in :mod:`synth.report`, exports
in :mod:`synth.export`.
"""
