"""Group fairness (公平性) metrics for a binary decision, and two mitigations.

The decision is ``y_pred = 1`` (the favourable outcome: credit granted), the truth ``y_true = 1``
(the applicant is in fact a good risk), and ``groups`` names each person's group (e.g. age
25 or under / over 25). Per group:

- **selection rate** ``P(y_pred = 1 | group)``: equal rates are *demographic parity*;
- **true-positive rate** ``P(y_pred = 1 | y_true = 1, group)``: equal TPRs are *equal
  opportunity* (Hardt et al., 2016): qualified people are accepted at the same rate;
- the **gaps** are the largest minus the smallest rate over the groups.

Mitigations: :func:`reweighing_weights` (Kamiran and Calders, 2012: train with sample weights
that make group and label statistically independent), and :func:`thresholds_for_equal_tpr` /
:func:`apply_thresholds` (post-processing: one decision threshold per group, chosen to give
every group the same TPR).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from course_lib._validate import check_number

__all__ = ["group_metrics", "fairness_gaps", "reweighing_weights", "thresholds_for_equal_tpr",
           "apply_thresholds"]


def _binary(values: Sequence, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if arr.size and not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1 (threshold scores first), got values {np.unique(arr)[:5]}")
    return arr.astype(np.int64)


def _groups(groups: Sequence, n: int) -> np.ndarray:
    g = np.asarray(groups)
    if g.ndim != 1 or len(g) != n:
        raise ValueError(f"groups must be 1-D with one entry per example ({n}), got shape {g.shape}")
    if n == 0:
        raise ValueError("no examples")
    return g


def group_metrics(y_true: Sequence[int], y_pred: Sequence[int], groups: Sequence) -> pd.DataFrame:
    """One row per group: count, base rate P(y=1), selection rate, TPR, FPR, accuracy.

    TPR (FPR) is NaN for a group without positive (negative) examples.
    """
    t, p = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} entries but y_pred has {p.size}")
    g = _groups(groups, len(t))
    rows = {}
    for name in pd.unique(g):
        m = g == name
        tm, pm = t[m], p[m]
        rows[name] = {
            "count": int(m.sum()),
            "base_rate": float(tm.mean()),
            "selection_rate": float(pm.mean()),
            "tpr": float(pm[tm == 1].mean()) if (tm == 1).any() else np.nan,
            "fpr": float(pm[tm == 0].mean()) if (tm == 0).any() else np.nan,
            "accuracy": float((tm == pm).mean()),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "group"
    return frame.sort_index()


def fairness_gaps(y_true: Sequence[int], y_pred: Sequence[int], groups: Sequence) -> dict[str, float]:
    """``selection_rate_gap`` (demographic parity difference), ``tpr_gap`` (equal opportunity
    difference), ``fpr_gap`` and ``disparate_impact`` (lowest / highest selection rate; the
    US "four-fifths rule" flags values below 0.8)."""
    m = group_metrics(y_true, y_pred, groups)
    if len(m) < 2:
        raise ValueError("fairness gaps need at least two groups")
    sel = m["selection_rate"]
    return {
        "selection_rate_gap": float(sel.max() - sel.min()),
        "tpr_gap": float(m["tpr"].max() - m["tpr"].min()),
        "fpr_gap": float(m["fpr"].max() - m["fpr"].min()),
        "disparate_impact": float(sel.min() / sel.max()) if sel.max() > 0 else float("nan"),
    }


def reweighing_weights(y_true: Sequence[int], groups: Sequence) -> np.ndarray:
    """Kamiran-Calders sample weights ``w(g, y) = P(g) P(y) / P(g, y)``.

    Under these weights group and label are independent, so a model cannot profit from
    predicting the label through group membership. The weights average to 1.
    """
    t = _binary(y_true, "y_true")
    g = _groups(groups, len(t))
    frame = pd.DataFrame({"g": g, "y": t})
    p_g = frame["g"].map(frame["g"].value_counts(normalize=True))
    p_y = frame["y"].map(frame["y"].value_counts(normalize=True))
    p_gy = frame.groupby(["g", "y"])["y"].transform("size") / len(frame)
    return (p_g * p_y / p_gy).to_numpy(dtype=np.float64)


def thresholds_for_equal_tpr(scores: Sequence[float], y_true: Sequence[int], groups: Sequence,
                             target_tpr: float) -> dict:
    """One threshold per group such that ``score >= threshold`` accepts (at least)
    ``target_tpr`` of the group's positives: the post-processing of equal opportunity.

    Fit the thresholds on data the model was not trained on (a validation split or
    out-of-fold scores), then apply them to new data with :func:`apply_thresholds`.
    """
    s = np.asarray(scores, dtype=np.float64)
    t = _binary(y_true, "y_true")
    if s.shape != t.shape:
        raise ValueError(f"scores has {s.size} entries but y_true has {t.size}")
    g = _groups(groups, len(t))
    check_number("target_tpr", target_tpr, above=0, at_most=1)
    out = {}
    for name in pd.unique(g):
        pos = np.sort(s[(g == name) & (t == 1)])[::-1]
        if pos.size == 0:
            raise ValueError(f"group {name!r} has no positive examples: its TPR is undefined")
        k = int(np.ceil(target_tpr * pos.size))  # accept the k highest-scoring positives
        out[name] = float(pos[k - 1])
    return out


def apply_thresholds(scores: Sequence[float], groups: Sequence, thresholds: Mapping) -> np.ndarray:
    """Decisions ``score >= thresholds[group]`` (0/1) for each example."""
    s = np.asarray(scores, dtype=np.float64)
    g = _groups(groups, len(s))
    missing = set(pd.unique(g)) - set(thresholds)
    if missing:
        raise ValueError(f"no threshold for group(s) {sorted(map(str, missing))}")
    cut = np.array([thresholds[name] for name in g], dtype=np.float64)
    return (s >= cut).astype(np.int64)
