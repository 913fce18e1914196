"""Linear probes (scikit-learn) with grouped cross-validation and a control task; the probe
itself is :mod:`synth.scoring.probe`, shared with the shortcut audit.

* categorical targets: standardised ``LogisticRegressionCV``, C chosen by inner-CV log-loss
  (accuracy ties on small folds and would pick the strongest penalty), accuracy with a Wilson
  95 % interval; chance = the majority class's share;
* numeric targets: standardised ``RidgeCV`` (alpha chosen by inner CV), R² of the pooled
  out-of-fold predictions with a 95 % bootstrap interval over groups; chance = 0.

Outer folds are grouped on the record's ``group`` (paired siblings of a sweep never sit on both
sides of a split): ``StratifiedGroupKFold`` for classes, ``GroupKFold`` for numbers; the inner
folds are grouped too. The control task (Hewitt & Liang 2019)
fits the same probe to the labels permuted across the dataset (seeded): a probe that reads the
stage scores well above its control; one that memorises scores the same on both.
"""

from __future__ import annotations

import numpy as np

from synth.scoring.probe import LogisticSettings, cross_validated_predictions, group_folds
from synth.scoring.stats import wilson_interval

C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)
BOOTSTRAP = 500


def is_numeric(labels) -> bool:
    if isinstance(labels, np.ndarray):
        return labels.dtype.kind == "f"
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in labels)


def chance_level(labels: list) -> float:
    """Majority-class share (categorical) or 0 (R², numeric)."""
    if is_numeric(labels):
        return 0.0
    _, counts = np.unique(np.asarray(labels, dtype=str), return_counts=True)
    return float(counts.max() / counts.sum())


# synth probe's class probe: C by inner-CV log-loss (accuracy ties on small folds and would pick the
# strongest penalty), class-balanced folds, a plain C = 1 fit when training holds one group.
LOGISTIC = LogisticSettings(c_grid=C_GRID, scoring="neg_log_loss", stratified=True, one_group_c=1.0)


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, numeric: bool, folds: int, splits=None) -> np.ndarray:
    """Out-of-fold predictions of the probe for every sample.

    Args:
        x: (n, dims) float features; y: (n,) labels (class codes or floats); groups: (n,) ids.
        splits: outer (train, test) index pairs (default: ``folds`` grouped folds, class-balanced
            for categorical ``y``).
    """
    if splits is None:
        splits = group_folds(y, groups, folds, stratified=not numeric)
    return cross_validated_predictions(x, y, groups, splits, None if numeric else LOGISTIC)


def _r2(y, p) -> float:
    """R² (the mean over columns for (n, k) targets)."""
    y, p = y.reshape(len(y), -1), p.reshape(len(p), -1)
    total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    resid = ((y - p) ** 2).sum(axis=0)
    return float(np.mean(np.where(total > 0, 1 - resid / np.where(total > 0, total, 1), 0.0)))


def _metric(y, p, groups, numeric: bool, seed: int) -> tuple[float, list[float]]:
    if not numeric:
        right = int((y == p).sum())
        return right / len(y), list(wilson_interval(right, len(y)))
    score = _r2(y, p)
    rng = np.random.default_rng(seed)
    unique = np.unique(groups)
    members = [np.flatnonzero(groups == g) for g in unique]
    draws = []
    for _ in range(BOOTSTRAP):
        pick = np.concatenate([members[i] for i in rng.integers(len(unique), size=len(unique))])
        draws.append(_r2(y[pick], p[pick]))
    return score, [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))]


def probe_stage(x: np.ndarray, labels, groups: list, folds: int = 5, seed: int = 0) -> dict:
    """Score one stage's features: ``{score, ci95, control, n, dims}``.

    ``x`` (n, dims); ``labels``: n categories or numbers, or an (n, k) float array (several
    numeric targets scored by their mean R², e.g. a token's mean normal); ``groups``: n group ids.

    BLAS runs on one thread here: these problems are small, and several BLAS threads per fit
    made them up to 100x slower on a shared 2-core machine.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _probe_stage(x, labels, groups, folds, seed)


def _probe_stage(x, labels, groups, folds, seed) -> dict:
    numeric = is_numeric(labels)
    y = np.asarray(labels, dtype=float) if numeric else np.unique(np.asarray(labels, dtype=str), return_inverse=True)[1]
    if y.ndim == 2 and y.shape[1] == 1:  # one numeric target per row
        y = y[:, 0]
    g = np.asarray([str(v) for v in groups])
    score, ci = _metric(y, out_of_fold(x, y, g, numeric, folds), g, numeric, seed)
    permuted = np.random.default_rng(seed).permutation(y)
    control, _ = _metric(permuted, out_of_fold(x, permuted, g, numeric, folds), g, numeric, seed)
    return {"score": score, "ci95": ci, "control": control, "n": int(len(y)), "dims": int(x.shape[1])}
