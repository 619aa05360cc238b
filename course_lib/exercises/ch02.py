"""Checks for the code exercises of chapter 02 (backpropagation).

- Exercise 1: ``loss_and_grads_l2(params, X, y, act, lam)``, the loss and gradients with an L2 penalty
  (lam / 2) * sum_l ||W_l||^2 on the weights.
- Exercise 3: the relative error of a gradient check run in float32.
- Exercise 4: training losses after 5 epochs with sigmoid and with ReLU hidden units.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from course_lib import backprop
from course_lib.exercises import ExerciseNotSolved

__all__ = ["CHECKS", "check_1", "check_3", "check_4"]


def _problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    params = [(W, rng.normal(0.0, 0.1, b.shape)) for W, b in backprop.init_params([5, 4, 3], seed=seed)]
    return params, rng.standard_normal((6, 5)), rng.integers(0, 3, 6)


def _copy(params):
    return [(W.copy(), b.copy()) for W, b in params]


def _close(a, b) -> bool:
    return bool(np.allclose(a, b, rtol=1e-7, atol=1e-12))


def _call_l2(answer: Callable[..., Any], params, X, y, lam: float):
    try:
        result = answer(_copy(params), X, y, "tanh", lam=lam)
    except TypeError as err:
        if "lam" not in str(err) and "argument" not in str(err):
            raise
        raise ExerciseNotSolved("call it as loss_and_grads_l2(params, X, y, act, lam=...): the function must take "
                                f"the penalty strength as a keyword argument lam ({err})") from None
    try:
        loss, grads = result
        return float(loss), [(np.asarray(dW), np.asarray(db)) for dW, db in grads]
    except (TypeError, ValueError):
        raise ExerciseNotSolved("return (loss, grads) with grads = [(dL/dW1, dL/db1), ...], as loss_and_grads "
                                "does") from None


def _loss_problem(loss: float, base_loss: float, params, lam: float) -> str | None:
    squares_w = sum(float(np.sum(W**2)) for W, _ in params)
    squares_b = sum(float(np.sum(b**2)) for _, b in params)
    want = base_loss + 0.5 * lam * squares_w
    if math.isclose(loss, want, rel_tol=1e-9):
        return None
    if math.isclose(loss, base_loss, rel_tol=1e-9):
        return "the loss has no penalty yet: add (lam / 2) * sum of W**2 over the layers."
    if math.isclose(loss, base_loss + lam * squares_w, rel_tol=1e-9):
        return "the penalty is (lam / 2) * sum ||W_l||^2: you added lam * sum ||W_l||^2."
    if math.isclose(loss, want + 0.5 * lam * squares_b, rel_tol=1e-9):
        return "only the weights are penalised, not the biases."
    return f"expected {want:.6f}, got {loss:.6f}."


def _weight_problem(gW, dW, W, lam: float) -> str | None:
    if _close(gW, dW + lam * W):
        return None
    if _close(gW, dW):
        return "dL/dW_l must gain lam * W_l, the derivative of the penalty."
    if _close(gW, dW + 2 * lam * W):
        return "the derivative of (lam / 2) ||W||^2 is lam * W, not 2 lam W."
    return "expected the gradient without the penalty plus lam * W_l."


def check_1(answer: Callable[..., Any]) -> str:
    """``answer(params, X, y, "tanh", lam=0.1)`` must add (lam/2) sum ||W||^2 to the loss and lam W to dL/dW."""
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function loss_and_grads_l2 itself, not {type(answer).__name__}")
    lam = 0.1
    params, X, y = _problem()
    loss, grads = _call_l2(answer, params, X, y, lam)
    base_loss, base = backprop.loss_and_grads(params, X, y, "tanh")
    if len(grads) != len(params):
        raise ExerciseNotSolved(f"expected {len(params)} (dW, db) pairs, one per layer, got {len(grads)}")
    problem = _loss_problem(loss, base_loss, params, lam)
    if problem:
        raise ExerciseNotSolved(f"the loss is not right: {problem}")
    for layer, ((W, b), (dW, db), (gW, gb)) in enumerate(zip(params, base, grads), start=1):
        if gW.shape != W.shape or gb.shape != b.shape:
            raise ExerciseNotSolved(f"layer {layer}: the gradients must have the shapes of W {W.shape} and "
                                    f"b {b.shape}, got {gW.shape} and {gb.shape}")
        problem = _weight_problem(gW, dW, W, lam)
        if problem:
            raise ExerciseNotSolved(f"layer {layer}: dL/dW is not right: {problem}")
        if not _close(gb, db):
            hint = (" The biases are not penalised, so dL/db is unchanged." if _close(gb, db + lam * b) else "")
            raise ExerciseNotSolved(f"layer {layer}: dL/db should be the unpenalised gradient.{hint}")
    return "(loss and gradients match the penalised loss on a test network)"


def check_3(answer: Any) -> str:
    """The float32 gradient check's relative error: clearly worse than float64's ~1e-9, but not garbage."""
    try:
        error = float(answer)
    except (TypeError, ValueError):
        raise ExerciseNotSolved(f"pass the relative error of the float32 gradient check (a number), got "
                                f"{answer!r}") from None
    if not math.isfinite(error) or error < 0:
        raise ExerciseNotSolved(f"a relative error is a finite number >= 0, got {answer!r}")
    if error < 1e-6:
        raise ExerciseNotSolved(f"{error:.1e} is float64-level agreement: cast the parameters and the data with "
                                ".astype(np.float32) so that the whole check runs in float32.")
    if error > 0.1:
        raise ExerciseNotSolved(f"{error:.1e} is too large for a correct backward pass even in float32: with "
                                "eps = 1e-5 the rounding error of float32 (about 6e-8 times the loss, divided by eps) "
                                "swamps the difference. Use a larger step such as eps = 1e-3.")
    return f"(a relative error of {error:.1e}: float32 rounding, not a bug; check gradients in float64)"


def check_4(answer: Any) -> str:
    """``{"sigmoid": loss, "relu": loss}`` after the same few epochs: ReLU clearly lower."""
    if not isinstance(answer, dict) or set(answer) != {"sigmoid", "relu"}:
        raise ExerciseNotSolved('pass a dict {"sigmoid": training loss, "relu": training loss}, got '
                                f"{answer!r}")
    losses = {}
    for key, value in answer.items():
        try:
            losses[key] = float(value)
        except (TypeError, ValueError):
            raise ExerciseNotSolved(f"the {key} loss should be a number, got {value!r}") from None
        if not math.isfinite(losses[key]) or losses[key] <= 0:
            raise ExerciseNotSolved(f"a cross-entropy is a finite positive number; the {key} loss is {value!r}")
    if math.isclose(losses["sigmoid"], losses["relu"], rel_tol=1e-9):
        raise ExerciseNotSolved("the two losses are equal: both runs used the same activation. Pass act to "
                                "loss_and_grads and to forward.")
    if losses["relu"] >= losses["sigmoid"]:
        raise ExerciseNotSolved(f"ReLU ({losses['relu']:.3f}) should be well ahead of sigmoid "
                                f"({losses['sigmoid']:.3f}) after the same few epochs at the same learning rate: "
                                "are the two keys swapped, or were the sigmoid network's weights He-initialised?")
    ratio = losses["sigmoid"] / losses["relu"]
    return f"(the sigmoid network's training loss is {ratio:.1f} times the ReLU network's)"


CHECKS = {1: check_1, 3: check_3, 4: check_4}
