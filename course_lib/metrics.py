"""Small metric helpers shared by the notebooks (NumPy only).

The fuller evaluation toolkit (ROC/PR curves, calibration, cross-validation, cost-based
thresholds) lives in :mod:`course_lib.evaluation`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _labels(values: Sequence[int] | np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise ValueError(f"{name} holds non-integer values; pass class indices (use argmax or a threshold first)")
        arr = arr.astype(np.int64)
    return arr


def accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Share of exact matches between two label vectors of the same length."""
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}")
    if t.size == 0:
        raise ValueError("cannot compute accuracy of zero examples")
    return float(np.mean(t == p))


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int | None = None) -> np.ndarray:
    """Counts ``cm[i, j]`` of examples of true class i predicted as j."""
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}")
    if t.size and (t.min() < 0 or p.min() < 0):
        raise ValueError("class indices must be non-negative")
    k = num_classes or (int(max(t.max(initial=-1), p.max(initial=-1))) + 1)
    if t.size and max(t.max(), p.max()) >= k:
        raise ValueError(f"a class index is >= num_classes={k}")
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def per_class_accuracy(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int | None = None) -> np.ndarray:
    """Recall of each class (diagonal of the row-normalised confusion matrix); NaN for absent classes."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / totals, np.nan)


def relative_error(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> float:
    """max|a-b| / max(max|a|, max|b|, eps): the scale-free difference used by gradient checks."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0), eps)
    return float(np.max(np.abs(a - b), initial=0.0) / scale)
