"""The grouped cross-validated linear probe, shared by the shortcut audit (:mod:`synth.eval.audit`)
and the probes inside a video-LLM (:mod:`synth.probe`).

A probe is a standardised linear model (scikit-learn ``StandardScaler`` +
``LogisticRegressionCV`` for classes, ``RidgeCV`` for numbers) whose regularisation is picked by an
inner cross-validation over the training rows, scored on held-out rows. Outer and inner folds are
grouped: rows of one group (a base scene and its sweep siblings) never sit on both sides of a split.
Each caller keeps its own :class:`LogisticSettings` (grid, criterion, folds), so its numbers stay its own.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

ALPHA_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)
INNER_FOLDS = 3


@dataclass(frozen=True)
class LogisticSettings:
    """How a class probe is fitted.

    ``c_grid``: the inverse L2 strengths the inner cross-validation picks from; ``scoring``: its
    criterion (``accuracy`` or ``neg_log_loss``); ``tol``: the solver's tolerance; ``stratified``:
    folds also balance the classes (``StratifiedGroupKFold``); ``one_group_c``: the C of a plain
    fit when the training rows hold one group (None: predict their most common class);
    ``quiet``: silence convergence and single-class inner-fold notices.
    """

    c_grid: tuple[float, ...]
    scoring: str = "accuracy"
    tol: float = 1e-4
    stratified: bool = False
    one_group_c: float | None = None
    quiet: bool = False


def group_folds(y: np.ndarray, groups: np.ndarray, n_splits: int, stratified: bool) -> list | None:
    """(train, test) index pairs that keep each group on one side; None when fewer than 2 groups.

    ``min(n_splits, groups)`` folds: ``StratifiedGroupKFold`` when ``stratified`` (folds also
    balance the classes, so a probe that knows nothing scores chance rather than below it;
    ``GroupKFold`` when every class has fewer members than folds), else ``GroupKFold``.
    """
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    k = min(n_splits, len(np.unique(groups)))
    if k < 2:
        return None
    rows = np.zeros(len(y))
    if stratified:
        with warnings.catch_warnings():  # "the least populated class has fewer members than n_splits"
            warnings.simplefilter("ignore", UserWarning)
            try:
                return list(StratifiedGroupKFold(n_splits=k).split(rows, y, groups))
            except ValueError:  # every class has fewer members than folds: nothing to stratify
                pass
    return list(GroupKFold(n_splits=k).split(rows, y, groups))


def cross_validated_predictions(x, y: np.ndarray, groups: np.ndarray, splits: list, settings: LogisticSettings | None,
                text: bool = False) -> np.ndarray:  # fmt: skip
    """Held-out predictions of ``y`` for every row, each by a probe fitted on the other folds.

    Args:
        x: (n, dims) float features, or n strings when ``text`` (a bag-of-words front end).
        y: (n,) class codes (int), or (n,) / (n, k) floats for a ridge probe (``settings`` None).
        groups: (n,) group ids; the inner folds are grouped on them too.
        splits: the outer (train, test) index pairs (:func:`group_folds`).
    """
    numeric = settings is None
    x = np.asarray(x, dtype=object) if text else x
    predictions = np.zeros(y.shape, dtype=float if numeric else y.dtype)
    for train, test in splits:
        if numeric:
            predictions[test] = _fit(_ridge(y[train], groups[train]), x, y, train, test, quiet=False)
            continue
        classes = np.unique(y[train])
        if len(classes) < 2:  # one class in training: the probe can only say it
            predictions[test] = classes[0]
            continue
        inner = group_folds(y[train], groups[train], INNER_FOLDS, settings.stratified)
        if inner is None and settings.one_group_c is None:  # one group to learn from: its most common answer
            predictions[test] = np.bincount(y[train]).argmax()
            continue
        model = _logistic(settings, inner, text)
        predictions[test] = _fit(model, x, y, train, test, settings.quiet)
    return predictions


def _fit(model, x, y, train, test, quiet: bool) -> np.ndarray:
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
        model.fit(x[train], y[train])
    return model.predict(x[test])


def _ridge(train_y: np.ndarray, train_groups: np.ndarray):
    from sklearn.linear_model import Ridge, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    inner = group_folds(train_y, train_groups, INNER_FOLDS, stratified=False)
    return make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHA_GRID, cv=inner) if inner else Ridge(alpha=1.0))


def _logistic(settings: LogisticSettings, inner: list | None, text: bool):
    """An unfitted standardised logistic regression, C picked on the ``inner`` folds (None: ``one_group_c``)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if inner is None:
        logistic = LogisticRegression(C=settings.one_group_c, tol=settings.tol, max_iter=2000)
    else:
        logistic = LogisticRegressionCV(Cs=list(settings.c_grid), cv=inner, tol=settings.tol, max_iter=2000,
                                        scoring=settings.scoring, l1_ratios=(0.0,), use_legacy_attributes=False)  # fmt: skip
    if text:
        return make_pipeline(CountVectorizer(), StandardScaler(with_mean=False), logistic)
    return make_pipeline(StandardScaler(), logistic)
