"""Evaluating classifiers, scorers and recommenders the way practitioners do.

Built on scikit-learn wherever it already does the job; this module adds input checks with
clear messages, the few pieces scikit-learn lacks (threshold choice under a cost matrix,
recall at a fixed specificity, cross-validation of a Keras model with per-fold
preprocessing, hit rate) and figures with titles and axis labels.

Conventions: binary labels are 0/1 with 1 the *positive* class (the event to detect: a bad
credit risk, a malignant tumour); ``y_score`` is any score that grows with the chance of the
positive class (a probability for calibration and Brier score).

==========================  ===================================================================
:func:`binary_metrics`      accuracy, precision, recall, specificity, F1 at a threshold
:func:`binary_confusion`    TN, FP, FN, TP counts
:func:`roc`, :func:`pr`     ROC / precision-recall curves with their areas
:func:`calibration`         reliability curve and Brier score
:func:`recall_at_specificity`  best recall (sensitivity) whose specificity is still >= a target
:func:`expected_cost`, :func:`cost_curve`, :func:`choose_threshold`, :func:`bayes_threshold`
                            decisions under a cost matrix
:func:`cross_validate`, :func:`keras_fit_predict`   stratified k-fold out-of-fold scores
:func:`rmse`, :func:`hit_rate_at_k`                 rating prediction and top-k ranking
plots                       :func:`plot_roc`, :func:`plot_pr`, :func:`plot_calibration`,
                            :func:`plot_cost_curve`
==========================  ===================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.model_selection import StratifiedKFold

from course_lib._validate import check_int, check_number, positive_int

__all__ = [
    "binary_metrics", "binary_confusion", "roc", "pr", "Curve", "calibration", "Calibration",
    "recall_at_specificity", "expected_cost", "cost_curve", "choose_threshold", "bayes_threshold",
    "ThresholdChoice", "cross_validate", "keras_fit_predict", "CVResult", "rmse", "hit_rate_at_k",
    "plot_roc", "plot_pr", "plot_calibration", "plot_cost_curve",
]


# --------------------------------------------------------------------------- input checks
def _binary_labels(y_true: Any, name: str = "y_true") -> np.ndarray:
    arr = np.asarray(y_true)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of 0/1 labels, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must hold numbers 0/1, got dtype {arr.dtype}; map class names to 0/1 first")
    values = np.unique(arr)
    if not np.all(np.isin(values, (0, 1))):
        raise ValueError(f"{name} must hold only 0 and 1, found {values[:10].tolist()}; "
                         "binarise it first (1 = the positive class)")
    return arr.astype(np.int64)


def _scores(y_score: Any, n: int, name: str = "y_score", probability: bool = False) -> np.ndarray:
    arr = np.asarray(y_score)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2 and arr.shape[1] == 2:
        raise ValueError(f"{name} has two columns; pass the positive-class column, e.g. proba[:, 1]")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of scores, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries but y_true has {n}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values")
    if probability and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(f"{name} must be probabilities in [0, 1] (found {arr.min():.3g}..{arr.max():.3g}); "
                         "apply a sigmoid to logits first")
    return arr


def _both_classes(y: np.ndarray, what: str) -> None:
    if y.min() == y.max():
        raise ValueError(f"{what} needs both classes in y_true, but it holds only {int(y[0])}s")


def _threshold(value: Any) -> float:
    return check_number("threshold", value)


# --------------------------------------------------------------------------- counts and rates
def binary_confusion(y_true: Any, y_pred: Any) -> dict[str, int]:
    """Counts ``{"tn", "fp", "fn", "tp"}`` of 0/1 predictions ``y_pred`` against ``y_true``."""
    t = _binary_labels(y_true)
    p = _binary_labels(y_pred, "y_pred")
    if p.shape != t.shape:
        raise ValueError(f"y_pred has {p.size} entries but y_true has {t.size}")
    tn, fp, fn, tp = skm.confusion_matrix(t, p, labels=[0, 1]).ravel()
    return {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)}


def binary_metrics(y_true: Any, y_score: Any, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, precision, recall, specificity and F1 of ``y_score >= threshold``.

    precision = TP / (TP + FP), recall (sensitivity) = TP / (TP + FN),
    specificity = TN / (TN + FP), F1 = 2 PR / (P + R). An undefined ratio (0/0) is reported
    as 0, as scikit-learn does with ``zero_division=0``.
    """
    t = _binary_labels(y_true)
    s = _scores(y_score, t.size)
    p = (s >= _threshold(threshold)).astype(np.int64)
    c = binary_confusion(t, p)
    negatives = c["tn"] + c["fp"]
    return {
        "accuracy": float(skm.accuracy_score(t, p)),
        "precision": float(skm.precision_score(t, p, zero_division=0)),
        "recall": float(skm.recall_score(t, p, zero_division=0)),
        "specificity": c["tn"] / negatives if negatives else 0.0,
        "f1": float(skm.f1_score(t, p, zero_division=0)),
    }


# --------------------------------------------------------------------------- curves
@dataclass(frozen=True)
class Curve:
    """A ROC or precision-recall curve: ``x``, ``y``, the thresholds and the area under it."""

    kind: str  # "roc" or "pr"
    x: np.ndarray = field(repr=False)  # FPR (roc) or recall (pr)
    y: np.ndarray = field(repr=False)  # TPR (roc) or precision (pr)
    thresholds: np.ndarray = field(repr=False)
    auc: float  # ROC AUC, or average precision for "pr"
    prevalence: float  # share of positives: the PR curve of a random scorer


def roc(y_true: Any, y_score: Any) -> Curve:
    """ROC curve (false-positive rate against true-positive rate) and its area, the ROC AUC.

    The AUC is the probability that a random positive scores higher than a random negative.
    """
    t = _binary_labels(y_true)
    s = _scores(y_score, t.size)
    _both_classes(t, "a ROC curve")
    fpr, tpr, thr = skm.roc_curve(t, s)
    return Curve("roc", fpr, tpr, thr, float(skm.roc_auc_score(t, s)), float(t.mean()))


def pr(y_true: Any, y_score: Any) -> Curve:
    """Precision-recall curve and its summary, the average precision (AP).

    AP = sum_n (R_n - R_{n-1}) P_n, a step-wise area that does not interpolate optimistically.
    """
    t = _binary_labels(y_true)
    s = _scores(y_score, t.size)
    _both_classes(t, "a precision-recall curve")
    precision, recall, thr = skm.precision_recall_curve(t, s)
    return Curve("pr", recall, precision, thr, float(skm.average_precision_score(t, s)), float(t.mean()))


def recall_at_specificity(y_true: Any, y_score: Any, specificity: float = 0.95) -> tuple[float, float]:
    """The highest recall whose specificity is still at least ``specificity``.

    Returns ``(recall, threshold)``: predict positive when ``y_score >= threshold``.
    Screening tests are quoted this way ("sensitivity at 95 % specificity").
    """
    check_number("specificity", specificity, above=0, at_most=1)
    curve = roc(y_true, y_score)
    ok = curve.x <= 1 - specificity + 1e-12
    best = int(np.argmax(np.where(ok, curve.y, -1)))  # the first point is (0, 0) so ok is never empty
    threshold = float(curve.thresholds[best])
    return float(curve.y[best]), (threshold if np.isfinite(threshold) else float("inf"))


# --------------------------------------------------------------------------- calibration
@dataclass(frozen=True)
class Calibration:
    """A reliability curve: mean predicted probability and observed frequency per bin."""

    predicted: np.ndarray
    observed: np.ndarray
    counts: np.ndarray
    brier: float


def calibration(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: str = "uniform") -> Calibration:
    """Reliability curve and Brier score of predicted probabilities.

    Brier score = mean((p_i - y_i)^2): 0 is perfect, 0.25 is what always predicting 0.5 gets.
    A calibrated model's points lie on the diagonal: of the cases given 0.8, 80 % are positive.
    ``strategy`` is ``"uniform"`` (equal-width bins) or ``"quantile"`` (equal-count bins).
    """
    t = _binary_labels(y_true)
    p = _scores(y_prob, t.size, "y_prob", probability=True)
    n_bins = check_int("n_bins", n_bins, minimum=2)
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    _both_classes(t, "a calibration curve")
    observed, predicted = calibration_curve(t, p, n_bins=n_bins, strategy=strategy)
    edges = (np.linspace(0, 1, n_bins + 1) if strategy == "uniform"
             else np.percentile(p, np.linspace(0, 100, n_bins + 1)))
    bins = np.searchsorted(edges[1:-1], p)  # the same binning as scikit-learn's calibration_curve
    counts = np.bincount(bins, minlength=n_bins)
    counts = counts[counts > 0]
    return Calibration(predicted, observed, counts, float(skm.brier_score_loss(t, p)))


# --------------------------------------------------------------------------- costs and thresholds
def _costs(cost_fp: float, cost_fn: float) -> tuple[float, float]:
    out = []
    for name, value in (("cost_fp", cost_fp), ("cost_fn", cost_fn)):
        out.append(check_number(name, value, at_least=0, expected="a cost >= 0"))
    if out[0] == 0 and out[1] == 0:
        raise ValueError("cost_fp and cost_fn are both 0: every decision is free, nothing to choose")
    return out[0], out[1]


def bayes_threshold(cost_fp: float, cost_fn: float) -> float:
    """The threshold that minimises expected cost *if the probabilities are calibrated*.

    Predict positive when p * cost_fn > (1 - p) * cost_fp, i.e. p > cost_fp / (cost_fp + cost_fn).
    """
    fp, fn = _costs(cost_fp, cost_fn)
    return fp / (fp + fn)


def expected_cost(y_true: Any, y_score: Any, threshold: float, cost_fp: float, cost_fn: float) -> float:
    """Average cost per case of predicting positive when ``y_score >= threshold``.

    (cost_fp * FP + cost_fn * FN) / N; correct decisions cost 0.
    """
    fp, fn = _costs(cost_fp, cost_fn)
    t = _binary_labels(y_true)
    s = _scores(y_score, t.size)
    pred = s >= _threshold(threshold)
    return float((fp * np.sum(pred & (t == 0)) + fn * np.sum(~pred & (t == 1))) / t.size)


def cost_curve(y_true: Any, y_score: Any, cost_fp: float, cost_fn: float,
               thresholds: Sequence[float] | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Expected cost per case at each threshold; returns ``(thresholds, costs)``.

    Without ``thresholds`` every distinct score is tried, plus one above the maximum
    ("predict nothing positive"), so the minimum over the curve is exact.
    """
    fp, fn = _costs(cost_fp, cost_fn)
    t = _binary_labels(y_true)
    s = _scores(y_score, t.size)
    if thresholds is None:
        thr = np.append(np.unique(s), np.inf)
    else:
        thr = np.asarray(thresholds, dtype=np.float64)
        if thr.ndim != 1 or thr.size == 0:
            raise ValueError("thresholds must be a non-empty 1-D sequence of numbers")
    order = np.argsort(s)
    sorted_s, sorted_t = s[order], t[order]
    # cases below a threshold are predicted negative: count positives (FN) and negatives below it
    pos_below = np.concatenate([[0], np.cumsum(sorted_t)])
    neg_below = np.concatenate([[0], np.cumsum(1 - sorted_t)])
    k = np.searchsorted(sorted_s, thr, side="left")
    false_neg = pos_below[k]
    false_pos = (t.size - t.sum()) - neg_below[k]
    return thr, (fp * false_pos + fn * false_neg) / t.size


@dataclass(frozen=True)
class ThresholdChoice:
    """The cost-minimising threshold found on some data, and its cost there."""

    threshold: float
    cost: float
    cost_fp: float
    cost_fn: float


def choose_threshold(y_true: Any, y_score: Any, cost_fp: float, cost_fn: float) -> ThresholdChoice:
    """The threshold with the lowest expected cost on ``(y_true, y_score)``.

    Choose it on validation (e.g. out-of-fold) scores and judge it on held-out data: on the
    data it was chosen on its cost is optimistic. Ties go to the middle of the cheapest run
    of thresholds, so the choice does not sit on the edge of a single case.
    """
    thr, costs = cost_curve(y_true, y_score, cost_fp, cost_fn)
    cheapest = np.isclose(costs, costs.min())
    first = last = int(np.argmax(cheapest))
    while last + 1 < costs.size and cheapest[last + 1]:
        last += 1
    # every threshold in (thr[first - 1], thr[last]] makes the same decisions: take the middle
    lo = thr[first - 1] if first > 0 else -np.inf
    hi = thr[last]
    if np.isfinite(lo) and np.isfinite(hi):
        threshold = float((lo + hi) / 2)
    elif np.isfinite(hi):
        threshold = float(hi)  # predicting every case positive is cheapest
    else:
        threshold = float(np.nextafter(lo, np.inf))  # predicting no case positive is cheapest
    fp, fn = _costs(cost_fp, cost_fn)
    return ThresholdChoice(threshold, float(costs.min()), fp, fn)


# --------------------------------------------------------------------------- cross-validation
@dataclass
class CVResult:
    """Out-of-fold scores of a stratified k-fold cross-validation."""

    oof: np.ndarray = field(repr=False)  # the score of each case from the model that did not see it
    fold_scores: list[float]  # the metric on each validation fold
    folds: list[tuple[np.ndarray, np.ndarray]] = field(repr=False)  # (train_idx, valid_idx) per fold
    metric_name: str = "roc_auc"

    @property
    def mean(self) -> float:
        return float(np.mean(self.fold_scores))

    @property
    def std(self) -> float:
        return float(np.std(self.fold_scores, ddof=1)) if len(self.fold_scores) > 1 else 0.0

    def __str__(self) -> str:
        return f"{self.metric_name} {self.mean:.3f} +/- {self.std:.3f} over {len(self.fold_scores)} folds"


def _take(x: Any, idx: np.ndarray) -> Any:
    if hasattr(x, "iloc"):
        return x.iloc[idx]
    return np.asarray(x)[idx]


def cross_validate(fit_predict: Callable[[Any, np.ndarray, Any], np.ndarray], X: Any, y: Any, *,
                   n_splits: int = 5, seed: int = 0,
                   metric: Callable[[np.ndarray, np.ndarray], float] = skm.roc_auc_score,
                   metric_name: str = "roc_auc", verbose: bool = True) -> CVResult:
    """Stratified k-fold cross-validation of any model.

    ``fit_predict(X_train, y_train, X_valid)`` must train a *fresh* model (and any
    preprocessing) on the training part only and return scores for ``X_valid``. ``X`` may be a
    DataFrame (rows taken with ``.iloc``) or an array. The same ``seed`` gives the same folds,
    so two models cross-validated with it are compared on identical splits.
    """
    if not callable(fit_predict):
        raise TypeError("fit_predict must be a function (X_train, y_train, X_valid) -> scores")
    t = _binary_labels(y, "y")
    n_splits = check_int("n_splits", n_splits, minimum=2)
    if len(X) != t.size:
        raise ValueError(f"X has {len(X)} rows but y has {t.size}")
    minority = int(min(t.sum(), t.size - t.sum()))
    if minority < n_splits:
        raise ValueError(f"the rarer class has {minority} cases, fewer than n_splits={n_splits}")
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    oof = np.full(t.size, np.nan)
    scores, folds = [], []
    for k, (tr, va) in enumerate(splitter.split(np.zeros(t.size), t), start=1):
        pred = np.asarray(fit_predict(_take(X, tr), t[tr], _take(X, va)), dtype=np.float64).reshape(-1)
        if pred.shape[0] != va.size:
            raise ValueError(f"fit_predict returned {pred.shape[0]} scores for {va.size} validation rows")
        oof[va] = pred
        scores.append(float(metric(t[va], pred)))
        folds.append((tr, va))
        if verbose:
            print(f"fold {k}/{n_splits}: {metric_name} {scores[-1]:.4f}")
    return CVResult(oof=oof, fold_scores=scores, folds=folds, metric_name=metric_name)


def keras_fit_predict(build_model: Callable[[int], Any], *, epochs: int, batch_size: int = 32,
                      preprocessor: Callable[[], Any] | None = None, seed: int | None = 0,
                      fit_kwargs: Mapping[str, Any] | None = None) -> Callable[[Any, np.ndarray, Any], np.ndarray]:
    """A ``fit_predict`` for :func:`cross_validate` that trains a fresh Keras model per fold.

    Args:
        build_model: ``build_model(n_features)`` returns a *compiled* Keras model whose output
            is the positive-class probability (one sigmoid unit).
        epochs, batch_size: passed to ``model.fit``.
        preprocessor: a zero-argument factory of an object with ``fit_transform``/``transform``
            (e.g. :meth:`course_lib.tabular.TabularPreprocessor.factory`); a fresh one is fitted
            on each training fold only. Without it ``X`` must already be numeric.
        seed: seeds Keras before each fold's model is built (same seed, same initial weights).
        fit_kwargs: further ``model.fit`` arguments (``class_weight``, ``validation_split``...).
    """
    if not callable(build_model):
        raise TypeError("build_model must be a function n_features -> compiled keras.Model")
    positive_int("epochs", epochs)
    if preprocessor is not None and not callable(preprocessor):
        raise TypeError("preprocessor must be a zero-argument factory, e.g. TabularPreprocessor.factory(...)")

    def fit_predict(x_train: Any, y_train: np.ndarray, x_valid: Any) -> np.ndarray:
        import keras

        if preprocessor is not None:
            prep = preprocessor()
            x_train, x_valid = prep.fit_transform(x_train), prep.transform(x_valid)
        x_train = np.asarray(x_train, dtype=np.float32)
        x_valid = np.asarray(x_valid, dtype=np.float32)
        if seed is not None:
            keras.utils.set_random_seed(seed)
        model = build_model(x_train.shape[1])
        model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0, **dict(fit_kwargs or {}))
        return model.predict(x_valid, verbose=0).reshape(-1)

    return fit_predict


# --------------------------------------------------------------------------- regression and ranking
def rmse(y_true: Any, y_pred: Any) -> float:
    """Root-mean-square error sqrt(mean((y - y_hat)^2)), in the units of y (rating stars)."""
    t = np.asarray(y_true, dtype=np.float64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if t.size == 0:
        raise ValueError("y_true is empty")
    if t.shape != p.shape:
        raise ValueError(f"y_pred has {p.size} entries but y_true has {t.size}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
        raise ValueError("y_true or y_pred holds NaN or infinite values")
    return float(np.sqrt(np.mean((t - p) ** 2)))


def hit_rate_at_k(top_k: Mapping[Any, Sequence[Any]], relevant: Mapping[Any, Sequence[Any] | set],
                  k: int = 10) -> float:
    """Share of users with at least one relevant item among their first ``k`` recommendations.

    ``top_k[user]`` is the ranked recommendation list (best first; only the first ``k`` count)
    and ``relevant[user]`` the held-out items the user liked. Users without relevant items
    are skipped; every user in ``relevant`` must have a recommendation list.
    """
    k = positive_int("k", k)
    users = [u for u, items in relevant.items() if len(items) > 0]
    if not users:
        raise ValueError("no user has a relevant item: nothing to evaluate")
    missing = [u for u in users if u not in top_k]
    if missing:
        raise ValueError(f"{len(missing)} users have relevant items but no recommendations, e.g. {missing[:3]}")
    hits = sum(bool(set(list(top_k[u])[:k]) & set(relevant[u])) for u in users)
    return hits / len(users)


# --------------------------------------------------------------------------- plots
def _curves(curves: Mapping[str, tuple[Any, Any]] | tuple[Any, Any]) -> dict[str, tuple[Any, Any]]:
    if isinstance(curves, tuple):
        return {"model": curves}
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError("pass {'name': (y_true, y_score), ...} or a single (y_true, y_score) tuple")
    return dict(curves)


def _axes(ax: Any, figsize: tuple[float, float] = (4.6, 4.2)) -> tuple[Any, Any]:
    """``(figure, axes)``: the given axes and their figure, or a new figure of ``figsize``."""
    import matplotlib.pyplot as plt

    return (ax.figure, ax) if ax is not None else plt.subplots(figsize=figsize)


def _label(ax: Any, xlabel: str, ylabel: str, title: str, **legend: Any) -> None:
    """Axis labels, title and a small legend (``legend`` goes to ``ax.legend``)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, **legend)


def plot_roc(curves: Mapping[str, tuple[Any, Any]] | tuple[Any, Any], title: str = "ROC curve", ax: Any = None):
    """ROC curves of one or more scorers, AUC in the legend, the chance diagonal dashed."""
    fig, ax = _axes(ax)
    for name, (t, s) in _curves(curves).items():
        c = roc(t, s)
        ax.plot(c.x, c.y, label=f"{name} (AUC {c.auc:.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="chance (AUC 0.5)")
    _label(ax, "false-positive rate (1 - specificity)", "true-positive rate (recall)", title, loc="lower right")
    return fig


def plot_pr(curves: Mapping[str, tuple[Any, Any]] | tuple[Any, Any], title: str = "Precision-recall curve",
            ax: Any = None):
    """Precision-recall curves with average precision in the legend; the prevalence (what a
    random scorer gets) dotted."""
    fig, ax = _axes(ax)
    prevalence = None
    for name, (t, s) in _curves(curves).items():
        c = pr(t, s)
        prevalence = c.prevalence
        ax.step(c.x, c.y, where="post", label=f"{name} (AP {c.auc:.3f})")
    ax.axhline(prevalence, color="k", ls=":", lw=1, label=f"random (precision {prevalence:.2f})")
    ax.set_ylim(0, 1.02)
    _label(ax, "recall", "precision", title, loc="lower left")
    return fig


def plot_calibration(curves: Mapping[str, tuple[Any, Any]] | tuple[Any, Any], n_bins: int = 10,
                     strategy: str = "uniform", title: str = "Calibration (reliability) curve", ax: Any = None):
    """Observed frequency against mean predicted probability per bin, Brier score in the legend."""
    fig, ax = _axes(ax)
    for name, (t, p) in _curves(curves).items():
        c = calibration(t, p, n_bins=n_bins, strategy=strategy)
        ax.plot(c.predicted, c.observed, "-o", ms=4, label=f"{name} (Brier {c.brier:.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfectly calibrated")
    _label(ax, "mean predicted probability (per bin)", "observed share of positives", title, loc="upper left")
    return fig


def plot_cost_curve(y_true: Any, y_score: Any, cost_fp: float, cost_fn: float,
                    marks: Mapping[str, float] | None = None, title: str = "Expected cost against threshold",
                    ax: Any = None):
    """Expected cost per case for thresholds in [0, 1], with chosen thresholds marked."""
    fig, ax = _axes(ax, figsize=(5.2, 3.6))
    grid = np.linspace(0, 1, 201)
    thr, costs = cost_curve(y_true, y_score, cost_fp, cost_fn, thresholds=grid)
    ax.plot(thr, costs, label="expected cost")
    for (name, value), style in zip((marks or {}).items(), ("--", ":", "-.", "--")):
        cost = expected_cost(y_true, y_score, value, cost_fp, cost_fn)
        ax.axvline(value, ls=style, color="gray")
        ax.plot([value], [cost], "o", label=f"{name}: t={value:.2f}, cost {cost:.3f}")
    _label(ax, "decision threshold on the score", f"expected cost per case (FP={cost_fp:g}, FN={cost_fn:g})",
           title, loc="best", framealpha=0.9)
    return fig
