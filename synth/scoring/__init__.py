"""Scoring: ``answers`` (one reply -> chosen option, correct), ``metrics`` (accuracy by variant,
condition and swept parameter), ``stats`` (Wilson intervals, McNemar) and ``probe`` (the grouped
cross-validated linear probe of the shortcut audit and of ``synth probe``).
"""
