"""Tests for course_lib.evaluation: exact values on small hand-checked cases, agreement with
brute force, and every bad-input error path."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from course_lib import evaluation as ev

Y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
S = np.array([0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.4, 0.55, 0.8, 0.9])


# ------------------------------------------------------------------ counts and rates
def test_binary_confusion_and_metrics_by_hand():
    assert ev.binary_confusion(Y, (S >= 0.5).astype(int)) == {"tn": 5, "fp": 1, "fn": 1, "tp": 3}
    m = ev.binary_metrics(Y, S, threshold=0.5)
    assert m["accuracy"] == pytest.approx(0.8)
    assert m["precision"] == pytest.approx(0.75)
    assert m["recall"] == pytest.approx(0.75)
    assert m["specificity"] == pytest.approx(5 / 6)
    assert m["f1"] == pytest.approx(0.75)


def test_binary_metrics_threshold_moves_the_trade_off():
    low, high = ev.binary_metrics(Y, S, 0.1), ev.binary_metrics(Y, S, 0.85)
    assert low["recall"] == 1.0 and low["specificity"] < high["specificity"]
    assert high["recall"] == 0.25 and high["precision"] == 1.0


def test_binary_metrics_no_positive_prediction_gives_zero_not_nan():
    m = ev.binary_metrics(Y, S, threshold=2.0)
    assert m["precision"] == 0.0 and m["recall"] == 0.0 and m["f1"] == 0.0 and m["specificity"] == 1.0


def test_boolean_and_column_inputs_are_accepted():
    m1 = ev.binary_metrics(Y.astype(bool), S[:, None])
    assert m1 == ev.binary_metrics(Y, S)


@pytest.mark.parametrize("y_true, error", [
    (np.array([0, 1, 2]), ValueError),
    (np.array(["a", "b", "a"]), TypeError),
    (np.zeros((3, 2)), ValueError),
    (np.array([]), ValueError),
])
def test_bad_labels(y_true, error):
    with pytest.raises(error):
        ev.binary_metrics(y_true, np.zeros(len(y_true)) if len(y_true) else np.array([]))


def test_bad_scores():
    with pytest.raises(ValueError, match="entries"):
        ev.binary_metrics(Y, S[:-1])
    with pytest.raises(ValueError, match="positive-class column"):
        ev.binary_metrics(Y, np.stack([1 - S, S], axis=1))
    with pytest.raises(ValueError, match="NaN"):
        ev.binary_metrics(Y, np.where(Y == 1, np.nan, S))
    with pytest.raises(TypeError):
        ev.binary_metrics(Y, np.array(["x"] * 10))
    with pytest.raises(TypeError, match="threshold"):
        ev.binary_metrics(Y, S, threshold="0.5")
    with pytest.raises(ValueError, match="finite"):
        ev.binary_metrics(Y, S, threshold=float("nan"))
    with pytest.raises(ValueError, match="y_pred"):
        ev.binary_confusion(Y, np.ones(3, dtype=int))


# ------------------------------------------------------------------ curves
def test_roc_auc_equals_share_of_correctly_ordered_pairs():
    pairs = [p > n for p in S[Y == 1] for n in S[Y == 0]]
    curve = ev.roc(Y, S)
    assert curve.auc == pytest.approx(np.mean(pairs))
    assert curve.x[0] == 0 and curve.y[-1] == 1 and curve.kind == "roc"


def test_perfect_and_reversed_scores():
    assert ev.roc(Y, Y.astype(float)).auc == 1.0
    assert ev.roc(Y, -Y.astype(float)).auc == 0.0
    assert ev.pr(Y, Y.astype(float)).auc == 1.0


def test_pr_average_precision_by_hand():
    # ranked: 0.9(+) 0.8(+) 0.6(-) 0.55(+) 0.45(-) 0.4(+) ...: AP = (1 + 1 + 3/4 + 4/6) / 4
    assert ev.pr(Y, S).auc == pytest.approx((1 + 1 + 0.75 + 4 / 6) / 4)
    assert ev.pr(Y, S).prevalence == pytest.approx(0.4)


def test_roc_is_invariant_to_prevalence_but_average_precision_is_not():
    y_rare = np.concatenate([Y[Y == 1]] + [Y[Y == 0]] * 25)
    s_rare = np.concatenate([S[Y == 1]] + [S[Y == 0]] * 25)
    assert ev.roc(y_rare, s_rare).auc == pytest.approx(ev.roc(Y, S).auc)
    assert ev.pr(y_rare, s_rare).auc < ev.pr(Y, S).auc - 0.2


def test_curves_need_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        ev.roc(np.ones(4, dtype=int), np.arange(4.0))
    with pytest.raises(ValueError, match="both classes"):
        ev.pr(np.zeros(4, dtype=int), np.arange(4.0))


def test_recall_at_specificity():
    recall, threshold = ev.recall_at_specificity(Y, S, specificity=5 / 6)
    assert recall == 0.75 and threshold == pytest.approx(0.55)  # one false positive (0.6) allowed
    m = ev.binary_metrics(Y, S, threshold)
    assert m["specificity"] >= 5 / 6 and m["recall"] == recall
    recall_strict, _ = ev.recall_at_specificity(Y, S, specificity=1.0)
    assert recall_strict == 0.5  # 0.9 and 0.8 are above every negative
    with pytest.raises(ValueError):
        ev.recall_at_specificity(Y, S, specificity=0)
    with pytest.raises(TypeError):
        ev.recall_at_specificity(Y, S, specificity="high")


# ------------------------------------------------------------------ calibration
def test_calibration_of_calibrated_and_overconfident_scores():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=20_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    good = ev.calibration(y, p, n_bins=10)
    assert np.max(np.abs(good.observed - good.predicted)) < 0.03
    assert good.counts.sum() == p.size and len(good.counts) == len(good.predicted)
    overconfident = np.clip((p - 0.5) * 3 + 0.5, 0, 1)
    bad = ev.calibration(y, overconfident, n_bins=10)
    assert bad.brier > good.brier
    assert good.brier == pytest.approx(np.mean((p - y) ** 2))


def test_calibration_bad_input():
    with pytest.raises(ValueError, match="probabilities"):
        ev.calibration(Y, S * 2)
    with pytest.raises(ValueError, match="n_bins"):
        ev.calibration(Y, S, n_bins=1)
    with pytest.raises(ValueError, match="strategy"):
        ev.calibration(Y, S, strategy="kmeans")


def test_calibration_quantile_bins_hold_equal_counts():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=1000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    c = ev.calibration(y, p, n_bins=4, strategy="quantile")
    assert list(c.counts) == [250, 250, 250, 250]


# ------------------------------------------------------------------ costs
def test_bayes_threshold_and_expected_cost_by_hand():
    assert ev.bayes_threshold(1, 5) == pytest.approx(1 / 6)
    # threshold 0.5: FP = 1 (0.6), FN = 1 (0.4) -> (1*1 + 5*1) / 10
    assert ev.expected_cost(Y, S, 0.5, cost_fp=1, cost_fn=5) == pytest.approx(0.6)
    # threshold 0.35 catches 0.4 as well: FP = 2, FN = 0
    assert ev.expected_cost(Y, S, 0.35, cost_fp=1, cost_fn=5) == pytest.approx(0.2)


def _brute_force_best_cost(y, s, cfp, cfn):
    candidates = np.append(np.unique(s), np.inf)
    return min(ev.expected_cost(y, s, t, cfp, cfn) if np.isfinite(t) else
               cfn * y.sum() / y.size for t in candidates)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20)), min_size=2, max_size=40),
       st.floats(0.1, 10), st.floats(0.1, 10))
def test_choose_threshold_matches_brute_force(rows, cfp, cfn):
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] / 20 for r in rows])
    choice = ev.choose_threshold(y, s, cfp, cfn)
    best = _brute_force_best_cost(y, s, cfp, cfn)
    assert choice.cost == pytest.approx(best)
    # the returned threshold really achieves that cost
    assert ev.expected_cost(y, s, choice.threshold, cfp, cfn) == pytest.approx(best)


def test_choose_threshold_reacts_to_costs():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    s = np.clip(0.5 * y + rng.normal(0.25, 0.2, 400), 0, 1)
    t_cheap_fn = ev.choose_threshold(y, s, cost_fp=1, cost_fn=1).threshold
    t_dear_fn = ev.choose_threshold(y, s, cost_fp=1, cost_fn=10).threshold
    assert t_dear_fn < t_cheap_fn


def test_cost_curve_matches_expected_cost():
    grid = np.linspace(0, 1, 11)
    thr, costs = ev.cost_curve(Y, S, 1, 5, thresholds=grid)
    assert np.allclose(costs, [ev.expected_cost(Y, S, t, 1, 5) for t in grid])
    thr_all, _ = ev.cost_curve(Y, S, 1, 5)
    assert np.isinf(thr_all[-1]) and len(thr_all) == len(np.unique(S)) + 1


@pytest.mark.parametrize("cfp, cfn, error", [(-1, 5, ValueError), (0, 0, ValueError), ("1", 5, TypeError),
                                             (1, float("inf"), ValueError), (True, 5, TypeError)])
def test_bad_costs(cfp, cfn, error):
    with pytest.raises(error):
        ev.bayes_threshold(cfp, cfn)


def test_cost_curve_bad_thresholds():
    with pytest.raises(ValueError, match="thresholds"):
        ev.cost_curve(Y, S, 1, 5, thresholds=[])


# ------------------------------------------------------------------ cross-validation
def _mean_fit_predict(x_train, y_train, x_valid):
    # scores = the first feature: no training, so the CV result is known exactly
    return np.asarray(x_valid)[:, 0]


def test_cross_validate_out_of_fold_scores_cover_every_row_once():
    rng = np.random.default_rng(0)
    y = np.array([0] * 30 + [1] * 20)
    X = np.stack([y + rng.normal(0, 0.8, 50), rng.normal(size=50)], axis=1)
    res = ev.cross_validate(_mean_fit_predict, X, y, n_splits=5, seed=1, verbose=False)
    assert np.allclose(res.oof, X[:, 0])
    # the scorer is the first feature itself, so each fold's AUC is known without any model
    expected = [roc_auc_score(y[va], X[va, 0]) for _, va in res.folds]
    assert res.fold_scores == pytest.approx(expected)
    assert res.mean == pytest.approx(np.mean(expected)) and res.mean > 0.5
    assert res.std == pytest.approx(np.std(expected, ddof=1))  # the sample standard deviation
    valid = np.concatenate([va for _, va in res.folds])
    assert sorted(valid.tolist()) == list(range(50))
    for tr, va in res.folds:  # stratified: every fold keeps the class ratio
        assert set(tr).isdisjoint(va) and y[va].sum() == 4
    same = ev.cross_validate(_mean_fit_predict, X, y, n_splits=5, seed=1, verbose=False)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(res.folds, same.folds))
    assert "over 5 folds" in str(res)


def test_cv_result_mean_and_sample_standard_deviation_by_hand():
    res = ev.CVResult(oof=np.zeros(3), fold_scores=[0.5, 0.7, 0.9], folds=[], metric_name="auc")
    assert res.mean == pytest.approx(0.7)
    assert res.std == pytest.approx(0.2)  # sqrt((0.2^2 + 0 + 0.2^2) / (3 - 1)); ddof=0 would give 0.163
    assert str(res) == "auc 0.700 +/- 0.200 over 3 folds"
    assert ev.CVResult(oof=np.zeros(1), fold_scores=[0.8], folds=[]).std == 0.0  # one fold: no spread


def test_cross_validate_passes_dataframe_rows_and_only_training_labels():
    import pandas as pd

    y = np.array([0, 1] * 10)
    X = pd.DataFrame({"a": np.arange(20.0)})
    seen = []

    def fit_predict(x_train, y_train, x_valid):
        assert isinstance(x_train, pd.DataFrame) and len(x_train) == len(y_train) == 16
        seen.append(set(x_valid.index))
        return np.zeros(len(x_valid)) + y_train.mean()

    ev.cross_validate(fit_predict, X, y, n_splits=5, seed=0, metric=lambda t, p: 0.0, verbose=False)
    assert set().union(*seen) == set(range(20))


def test_cross_validate_bad_input():
    y = np.array([0, 1] * 5)
    X = np.zeros((10, 1))
    with pytest.raises(TypeError):
        ev.cross_validate("model", X, y)
    with pytest.raises(ValueError, match="n_splits"):
        ev.cross_validate(_mean_fit_predict, X, y, n_splits=1)
    with pytest.raises(ValueError, match="rows"):
        ev.cross_validate(_mean_fit_predict, X[:5], y)
    with pytest.raises(ValueError, match="rarer class"):
        ev.cross_validate(_mean_fit_predict, X, np.array([0] * 8 + [1] * 2), n_splits=3)
    with pytest.raises(ValueError, match="returned"):
        ev.cross_validate(lambda a, b, c: np.zeros(1), X, y, n_splits=2, verbose=False)


def test_keras_fit_predict_standardises_with_a_preprocessor_fitted_per_training_fold():
    import keras
    import pandas as pd

    from course_lib.tabular import TabularPreprocessor

    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 60)
    # the signal separates the classes but sits far from 0 (it needs standardising); the colour is noise
    X = pd.DataFrame({"signal": y * 6.0 + rng.normal(0, 1, 120) + 100.0,
                      "colour": rng.choice(["red", "blue"], 120)})

    def build(n_features):
        model = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", jit_compile=False)
        return model

    def accuracy(y_true, y_prob):
        return float(np.mean((y_prob >= 0.5) == y_true))

    fitted_on = []

    class Recording(TabularPreprocessor):
        def fit(self, frame):
            fitted_on.append(frame.index.to_numpy())
            return super().fit(frame)

    fp = ev.keras_fit_predict(build, epochs=20, batch_size=32,
                              preprocessor=Recording.factory(["colour"], ["signal"]), seed=0)
    res = ev.cross_validate(fp, X, y, n_splits=2, seed=0, metric=accuracy, verbose=False)
    assert res.mean > 0.95
    # the folds are equally large, so the mean fold accuracy is the accuracy of the out-of-fold scores
    assert np.mean((res.oof >= 0.5) == y) == pytest.approx(res.mean)
    # one fresh preprocessor per fold, fitted on that fold's training rows and nothing else
    assert len(fitted_on) == 2
    for (train_idx, _), rows in zip(res.folds, fitted_on):
        np.testing.assert_array_equal(rows, train_idx)

    # the same model, budget and seed on the raw signal does not learn: the standardising did the work
    raw = ev.keras_fit_predict(build, epochs=20, batch_size=32, seed=0)
    res_raw = ev.cross_validate(raw, X[["signal"]], y, n_splits=2, seed=0, metric=accuracy, verbose=False)
    assert res_raw.mean < 0.7


def test_keras_fit_predict_bad_input():
    with pytest.raises(TypeError):
        ev.keras_fit_predict("model", epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        ev.keras_fit_predict(lambda n: None, epochs=0)
    with pytest.raises(TypeError, match="factory"):
        ev.keras_fit_predict(lambda n: None, epochs=1, preprocessor="standardise")


# ------------------------------------------------------------------ regression and ranking
def test_rmse():
    assert ev.rmse([1, 2, 3], [1, 2, 3]) == 0.0
    assert ev.rmse([1, 3], [2, 2]) == pytest.approx(1.0)
    assert ev.rmse(np.array([[4.0], [2.0]]), [2.0, 2.0]) == pytest.approx(math.sqrt(2))
    with pytest.raises(ValueError, match="entries"):
        ev.rmse([1, 2], [1])
    with pytest.raises(ValueError, match="empty"):
        ev.rmse([], [])
    with pytest.raises(ValueError, match="NaN"):
        ev.rmse([1.0], [float("nan")])


def test_hit_rate_at_k():
    top = {"ann": [3, 7, 9], "bob": [1, 2, 4], "cat": [5, 6, 8]}
    relevant = {"ann": {9}, "bob": {10}, "cat": set()}  # cat has nothing relevant: skipped
    assert ev.hit_rate_at_k(top, relevant, k=3) == 0.5
    assert ev.hit_rate_at_k(top, relevant, k=2) == 0.0  # item 9 is third
    with pytest.raises(ValueError, match="k must"):
        ev.hit_rate_at_k(top, relevant, k=0)
    with pytest.raises(ValueError, match="no recommendations"):
        ev.hit_rate_at_k({"ann": [1]}, {"ann": {1}, "dan": {2}})
    with pytest.raises(ValueError, match="no user"):
        ev.hit_rate_at_k(top, {"cat": set()})


# ------------------------------------------------------------------ plots
def test_plots_have_titles_and_labels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for fig in (ev.plot_roc({"m": (Y, S)}), ev.plot_pr((Y, S)), ev.plot_calibration({"m": (Y, S)}, n_bins=3),
                ev.plot_cost_curve(Y, S, 1, 5, marks={"default": 0.5})):
        ax = fig.axes[0]
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        plt.close(fig)
    with pytest.raises(TypeError):
        ev.plot_roc({})
