"""Linear probes (scikit-learn) with grouped cross-validation and a control task.

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

from synth.scoring.stats import wilson_interval

C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)
ALPHA_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)
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


def group_folds(x, y, groups, n_splits: int, numeric: bool):
    """(train, test) index pairs that keep each group on one side: ``GroupKFold`` for numeric
    targets, ``StratifiedGroupKFold`` for classes (folds also balance the classes, so a probe
    that knows nothing scores chance rather than below it; ``GroupKFold`` when every class has
    fewer members than folds); None when fewer than 2 groups."""
    import warnings

    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    k = min(n_splits, len(np.unique(groups)))
    if k < 2:
        return None
    if not numeric:
        with warnings.catch_warnings():  # "the least populated class has fewer members than n_splits"
            warnings.simplefilter("ignore", UserWarning)
            try:
                return list(StratifiedGroupKFold(n_splits=k).split(x, y, groups))
            except ValueError:  # every class has fewer members than folds: nothing to stratify
                pass
    return list(GroupKFold(n_splits=k).split(x, y, groups))


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, numeric: bool, folds: int, splits=None) -> np.ndarray:
    """Out-of-fold predictions of the probe for every sample.

    Args:
        x: (n, dims) float features; y: (n,) labels (class codes or floats); groups: (n,) ids.
        splits: outer (train, test) index pairs (default :func:`group_folds` with ``folds``).
    """
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV, Ridge, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if splits is None:
        splits = group_folds(x, y, groups, folds, numeric)
    predictions = np.zeros(y.shape, dtype=float if numeric else y.dtype)
    for train, test in splits:
        inner = group_folds(x[train], y[train], groups[train], 3, numeric)
        if numeric:
            probe = RidgeCV(alphas=ALPHA_GRID, cv=inner) if inner else Ridge(alpha=1.0)
        elif len(np.unique(y[train])) < 2:  # one class in training: the probe can only say it
            predictions[test] = y[train][0]
            continue
        elif inner is None:  # one group to train on: no inner folds, default regularisation
            probe = LogisticRegression(C=1.0, max_iter=2000)
        else:
            probe = LogisticRegressionCV(Cs=list(C_GRID), cv=inner, max_iter=2000, scoring="neg_log_loss",
                                         l1_ratios=(0.0,), use_legacy_attributes=False)  # fmt: skip
        model = make_pipeline(StandardScaler(), probe)
        model.fit(x[train], y[train])
        predictions[test] = model.predict(x[test])
    return predictions


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
