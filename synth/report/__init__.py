"""``synth report``: the one report (``report.md`` + PNG plots) assembled above the benches.

``document`` (accuracy tables, sweeps, robustness curves and McNemar tests over evaluations; it
assembles the whole report), and one module per bench section: ``world``, ``probe``, ``audit``.
The benches never import this package; the CLI calls it after they ran.
"""
