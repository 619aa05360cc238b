"""course_lib.fairness: group metrics, gaps, re-weighting and per-group thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_lib.fairness import (apply_thresholds, fairness_gaps, group_metrics, reweighing_weights,
                                 thresholds_for_equal_tpr)

# group a: 4 people, truth 1 1 0 0, predictions 1 0 0 0 -> selection 0.25, TPR 0.5, FPR 0
# group b: 4 people, truth 1 1 0 0, predictions 1 1 1 0 -> selection 0.75, TPR 1.0, FPR 0.5
Y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
P = np.array([1, 0, 0, 0, 1, 1, 1, 0])
G = np.array(["a"] * 4 + ["b"] * 4)


def test_group_metrics_by_hand():
    m = group_metrics(Y, P, G)
    assert list(m.index) == ["a", "b"]
    assert m.loc["a", "selection_rate"] == 0.25 and m.loc["b", "selection_rate"] == 0.75
    assert m.loc["a", "tpr"] == 0.5 and m.loc["b", "tpr"] == 1.0
    assert m.loc["a", "fpr"] == 0.0 and m.loc["b", "fpr"] == 0.5
    assert m.loc["a", "accuracy"] == 0.75 and m.loc["b", "count"] == 4


def test_fairness_gaps_by_hand():
    gaps = fairness_gaps(Y, P, G)
    assert gaps == pytest.approx({"selection_rate_gap": 0.5, "tpr_gap": 0.5, "fpr_gap": 0.5,
                                  "disparate_impact": 1 / 3})


def test_tpr_is_nan_without_positives():
    m = group_metrics([0, 0, 1], [1, 0, 1], ["a", "a", "b"])
    assert np.isnan(m.loc["a", "tpr"]) and m.loc["b", "tpr"] == 1.0


def test_reweighing_makes_group_and_label_independent():
    rng = np.random.default_rng(0)
    g = rng.choice(["young", "old"], size=2000, p=[0.2, 0.8])
    y = (rng.random(2000) < np.where(g == "young", 0.55, 0.75)).astype(int)
    w = reweighing_weights(y, g)
    assert w.mean() == pytest.approx(1.0)
    frame = pd.DataFrame({"g": g, "y": y, "w": w})
    weighted_rate = frame.groupby("g").apply(lambda d: np.average(d["y"], weights=d["w"]), include_groups=False)
    assert weighted_rate["young"] == pytest.approx(weighted_rate["old"], abs=1e-9)
    assert weighted_rate["young"] == pytest.approx(y.mean())


def test_group_thresholds_equalise_tpr():
    rng = np.random.default_rng(1)
    g = np.array(["a"] * 500 + ["b"] * 500)
    y = rng.integers(0, 2, 1000)
    # group a's scores are shifted down: one threshold would give it a lower TPR
    scores = rng.random(1000) * 0.5 + 0.4 * y - np.where(g == "a", 0.2, 0.0)
    thresholds = thresholds_for_equal_tpr(scores, y, g, target_tpr=0.8)
    assert thresholds["a"] < thresholds["b"]
    pred = apply_thresholds(scores, g, thresholds)
    m = group_metrics(y, pred, g)
    assert m["tpr"].min() >= 0.8 and m["tpr"].max() - m["tpr"].min() < 0.01
    single = (scores >= 0.5).astype(int)
    assert fairness_gaps(y, single, g)["tpr_gap"] > 0.2


@pytest.mark.parametrize("call, message", [
    (lambda: group_metrics([0, 1, 2], [0, 1, 1], ["a"] * 3), "only 0 and 1"),
    (lambda: group_metrics([0, 1], [0, 1, 1], ["a"] * 2), "entries"),
    (lambda: group_metrics([0, 1], [0, 1], ["a"]), "one entry per example"),
    (lambda: group_metrics([], [], []), "no examples"),
    (lambda: group_metrics([[0, 1]], [[0, 1]], ["a"]), "1-D"),
    (lambda: fairness_gaps([0, 1], [0, 1], ["a", "a"]), "two groups"),
    (lambda: thresholds_for_equal_tpr([0.1, 0.9], [0, 1], ["a", "b"], 0.5), "no positive"),
    (lambda: thresholds_for_equal_tpr([0.1, 0.9], [1, 1], ["a", "b"], 1.5), "target_tpr"),
    (lambda: thresholds_for_equal_tpr([0.1], [1, 1], ["a", "b"], 0.5), "scores has"),
    (lambda: apply_thresholds([0.1, 0.9], ["a", "c"], {"a": 0.5}), "no threshold"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
