"""``subset``: a small, reproducible, stratified sample for FAST mode."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import check_int, positive_int

__all__ = ["subset"]


def _length(data: Any, what: str) -> int:
    if isinstance(data, dict):
        lengths = {key: _length(value, f"{what}[{key!r}]") for key, value in data.items()}
        if not lengths:
            raise ValueError(f"{what} is an empty dict")
        if len(set(lengths.values())) != 1:
            raise ValueError(f"{what}: the arrays have different lengths {lengths}")
        return next(iter(lengths.values()))
    if not hasattr(data, "__len__"):
        raise TypeError(f"{what} must be an array, DataFrame, list or dict of arrays, got {type(data).__name__}")
    return len(data)


def _take(data: Any, idx: np.ndarray) -> Any:
    if data is None:
        return None
    if isinstance(data, dict):
        return {key: _take(value, idx) for key, value in data.items()}
    if hasattr(data, "iloc"):  # pandas DataFrame / Series
        return data.iloc[idx]
    if isinstance(data, np.ndarray):
        return data[idx]
    if isinstance(data, (list, tuple)):
        return type(data)(data[i] for i in idx)
    return np.asarray(data)[idx]


def _class_labels(y: Any) -> np.ndarray | None:
    """1-D class labels for stratification, or None when ``y`` looks continuous."""
    if y is None or isinstance(y, dict):
        return None
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim == 2:  # one-hot / multi-label: stratify on the arg-max
        labels = labels.argmax(axis=1)
    if labels.ndim != 1:
        return None
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels) & (labels == np.round(labels))):
        return None  # regression target
    if labels.dtype.kind not in "biufUSOb":
        return None
    return labels


def _quotas(counts: np.ndarray, n: int) -> np.ndarray:
    """Per-class sample sizes summing to ``n``, proportional to ``counts`` (largest remainder),
    with at least one per class when ``n`` allows it."""
    exact = n * counts / counts.sum()
    quota = np.floor(exact).astype(np.int64)
    for k in np.argsort(-(exact - quota), kind="stable")[: n - quota.sum()]:
        quota[k] += 1
    if n >= len(counts):
        while (quota == 0).any():
            quota[np.argmax(quota)] -= 1
            quota[np.flatnonzero(quota == 0)[0]] += 1
    return np.minimum(quota, counts)


def subset(x: Any, y: Any = None, n: int = 1000, seed: int = 0, stratify: bool = True) -> tuple[Any, Any]:
    """Draw ``n`` examples of ``(x, y)`` reproducibly; stratified by class where possible.

    Stratification applies when ``y`` holds class labels (integers, strings, bools, ``(N, 1)``
    columns or one-hot rows) and ``n`` is at least the number of classes: each class keeps its
    share (largest-remainder rounding, at least one example each). Otherwise (continuous ``y``,
    ``y=None``) a plain random sample is drawn. The sample is returned in a random order.

    Args:
        x: NumPy array, list, pandas DataFrame/Series or dict of arrays (multi-input models).
        y: labels of the same length, or None.
        n: sample size; when ``n >= len(x)`` the inputs are returned unchanged.
        seed: seed of the NumPy generator: the same seed gives the same sample.
        stratify: set False for a plain random sample.

    Returns:
        ``(x_subset, y_subset)`` of the same types (``y_subset`` is None when ``y`` is None).

    Raises:
        TypeError: ``n`` or ``seed`` is not an integer.
        ValueError: ``n`` is below 1, ``seed`` below 0, or ``x`` and ``y`` lengths differ.
    """
    positive_int("n", n)
    check_int("seed", seed, minimum=0)
    total = _length(x, "x")
    if y is not None and _length(y, "y") != total:
        raise ValueError(f"x has {total} examples but y has {_length(y, 'y')}")
    if n >= total:
        return x, y
    rng = np.random.default_rng(int(seed))
    labels = _class_labels(y) if stratify else None
    idx: np.ndarray | None = None
    if labels is not None:
        classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        if len(classes) <= n:
            quota = _quotas(counts, int(n))
            idx = np.concatenate([rng.choice(np.flatnonzero(inverse == k), q, replace=False)
                                  for k, q in enumerate(quota)])
    if idx is None:
        idx = rng.choice(total, int(n), replace=False)
    idx = rng.permutation(idx)
    return _take(x, idx), _take(y, idx)
