"""Checks for the code exercises of chapter 10 (scaling out, privacy, fairness).

- Exercise 5: ``clip_each(per_example_grads, clip)``, DP-SGD's per-example clipping, in NumPy: every
  example's gradient, over **all** variables together, scaled to L2 norm at most ``clip``.
- Exercise 6: ``disparate_impact(y_pred, groups)``, the lowest group selection rate divided by the highest
  (the "four-fifths rule" asks for at least 0.8).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from course_lib.exercises import ExerciseNotSolved

__all__ = ["CHECKS", "check_5", "check_6", "clip_each_reference", "disparate_impact_reference"]


def clip_each_reference(per_example_grads: Sequence[np.ndarray], clip: float) -> list[np.ndarray]:
    """The right answer to exercise 5 (what the check compares with)."""
    grads = [np.asarray(g, dtype=np.float64) for g in per_example_grads]
    batch = grads[0].shape[0]
    norms = np.sqrt(sum(np.sum(g.reshape(batch, -1) ** 2, axis=1) for g in grads))
    scale = np.minimum(1.0, clip / np.maximum(norms, 1e-12))
    return [g * scale.reshape((batch,) + (1,) * (g.ndim - 1)) for g in grads]


def _clip_cases() -> list[tuple[list[np.ndarray], float]]:
    rng = np.random.default_rng(10)
    # example 0 is long (clipped), example 1 short (kept as is), example 2 zero, example 3 long in the bias only
    kernel = rng.normal(size=(4, 3, 2))
    kernel[1] *= 0.05
    kernel[2] = 0.0
    kernel[3] *= 0.01
    bias = rng.normal(size=(4, 2))
    bias[1] *= 0.05
    bias[2] = 0.0
    bias[3] = [3.0, -4.0]
    return [([kernel, bias], 1.0), ([kernel * 3.0, bias * 3.0], 2.5)]


def _as_arrays(result: Any, like: Sequence[np.ndarray], what: str) -> list[np.ndarray]:
    if isinstance(result, np.ndarray) and len(like) == 1:
        result = [result]
    if not isinstance(result, (list, tuple)) or len(result) != len(like):
        raise ExerciseNotSolved(f"{what} should return a list with one array per variable ({len(like)} here, "
                                f"each shaped like the input), got {type(result).__name__}")
    arrays = []
    for k, (got, ref) in enumerate(zip(result, like)):
        try:
            arr = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            raise ExerciseNotSolved(f"{what}[{k}] should be an array of numbers, got {type(got).__name__}") from None
        if arr.shape != np.shape(ref):
            raise ExerciseNotSolved(f"{what}[{k}] has shape {arr.shape}; keep every example's gradient: "
                                    f"shape {np.shape(ref)} (batch first), not a sum or mean over the batch")
        arrays.append(arr)
    return arrays


def check_5(answer: Callable[[list[np.ndarray], float], Any]) -> str:
    """``answer(per_example_grads, clip)`` must clip each example's gradient by its global L2 norm."""
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function itself, clip_each, not {type(answer).__name__}")
    for grads, clip in _clip_cases():
        inputs = [g.copy() for g in grads]
        got = _as_arrays(answer(inputs, clip), grads, f"clip_each(grads, {clip})")
        expected = clip_each_reference(grads, clip)
        if all(np.allclose(g, e, rtol=1e-5, atol=1e-7) for g, e in zip(got, expected)):
            continue
        batch = grads[0].shape[0]
        norms = np.sqrt(sum(np.sum(g.reshape(batch, -1) ** 2, axis=1) for g in got))
        per_variable = [np.sqrt(np.sum(g.reshape(batch, -1) ** 2, axis=1)) for g in got]
        hint = ""
        if np.any(norms > clip * (1 + 1e-5)):
            if all(np.all(v <= clip * (1 + 1e-5)) for v in per_variable):
                hint = (" Each variable was clipped on its own, so an example's whole gradient can still be longer "
                        "than clip: take one example's norm over all its variables together.")
            elif all(np.all(np.abs(g) <= clip + 1e-9) for g in got):
                hint = (" Clipping each value to [-clip, clip] does not bound the norm: scale the example's whole "
                        "gradient by clip / norm.")
            else:
                hint = (f" Some examples still have a gradient norm above {clip} (largest {norms.max():.3g}): scale "
                        "each example by min(1, clip / norm), its norm taken over all its variables.")
        elif np.allclose(norms[norms > 0], clip):
            hint = (" Every example now has norm exactly clip: examples whose gradient is already shorter must be "
                    "left as they are (scale by min(1, clip / norm)).")
        else:
            hint = (" Each example is scaled by min(1, clip / norm) with its own norm over all its variables; "
                    "the other examples and the batch total do not enter.")
        raise ExerciseNotSolved(f"clip_each(grads, {clip}) does not match per-example clipping.{hint}")
    return "(each example now moves the model by at most `clip`, whatever its data)"


def disparate_impact_reference(y_pred: Sequence[int], groups: Sequence[Any]) -> float:
    """The right answer to exercise 6 (what the check compares with)."""
    y_pred, groups = np.asarray(y_pred), np.asarray(groups)
    rates = [float(np.mean(y_pred[groups == g])) for g in np.unique(groups)]
    return min(rates) / max(rates)


_DI_CASES = [
    (np.array([1, 1, 0, 1, 1, 0, 0, 1, 0, 0]), np.array(["a"] * 5 + ["b"] * 5)),            # 0.8 and 0.4
    (np.array([1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0]), np.array(list("xyzxyzxyzxyz"))),      # three groups
]


def check_6(answer: Callable[[np.ndarray, np.ndarray], Any]) -> str:
    """``answer(y_pred, groups)`` must be min over groups of the selection rate / max over groups."""
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function itself, disparate_impact, not {type(answer).__name__}")
    for y_pred, groups in _DI_CASES:
        value = answer(y_pred.copy(), groups.copy())
        try:
            got = float(value)
        except (TypeError, ValueError):
            raise ExerciseNotSolved(f"disparate_impact should return one number, got {value!r}") from None
        expected = disparate_impact_reference(y_pred, groups)
        if np.isclose(got, expected, rtol=1e-6):
            continue
        rates = [float(np.mean(y_pred[groups == g])) for g in np.unique(groups)]
        hint = ""
        if np.isclose(got, max(rates) / min(rates)):
            hint = " That is the highest rate over the lowest: divide the lowest by the highest, so 1 means equal."
        elif np.isclose(got, max(rates) - min(rates)) or np.isclose(got, min(rates) - max(rates)):
            hint = " That is the selection-rate gap (a difference); disparate impact is the ratio of the rates."
        elif got > 1:
            hint = " Disparate impact is at most 1: the lowest group selection rate divided by the highest."
        elif np.isclose(got, float(np.mean(y_pred))):
            hint = " That is the overall selection rate; compute it per group first."
        raise ExerciseNotSolved(f"disparate_impact gave {got:.4g} where the selection rates per group are "
                                f"{[round(r, 3) for r in rates]}, which give {expected:.4g}.{hint}")
    return "(the four-fifths rule asks for at least 0.8)"


CHECKS = {5: check_5, 6: check_6}
