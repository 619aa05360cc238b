"""Checks for the code exercises of chapter 09 (deployment).

- Exercise 2: ``quantise(x, scale, zero_point)``, TFLite's affine int8 quantisation of an input.
- Exercise 5: ``sparsity_at(step, target, begin, end)``, Zhu & Gupta's gradual pruning schedule.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from course_lib.exercises import ExerciseNotSolved

__all__ = ["CHECKS", "check_2", "check_5"]

_PIXELS = np.array([0.0, 1.0, 2.5, 127.5, 254.6, 255.0, -3.0, 1000.0])
_QUANT_CASES = [(1.0, -128), (0.5, 3), (2.0, 0)]


def _reference_quantise(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return np.clip(np.round(x / scale + zero_point), -128, 127).astype(np.int64)


def _array(value: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ExerciseNotSolved(f"{what} should be an array of numbers, got {type(value).__name__}") from None
    if array.shape != _PIXELS.shape:
        raise ExerciseNotSolved(f"{what} should have one value per input value, shape {_PIXELS.shape}; "
                                f"got shape {array.shape}")
    return array


def check_2(answer: Callable[[np.ndarray, float, int], Any]) -> str:
    """``answer(x, scale, zero_point)`` must be ``clip(round(x / scale + zero_point), -128, 127)``."""
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function itself, quantise, not {type(answer).__name__}")
    for scale, zero_point in _QUANT_CASES:
        got = _array(answer(_PIXELS.copy(), scale, zero_point), f"quantise(x, {scale}, {zero_point})")
        expected = _reference_quantise(_PIXELS, scale, zero_point)
        if np.array_equal(got, expected):
            continue
        raw = _PIXELS / scale + zero_point
        hint = ""
        if np.array_equal(got, np.round(raw)) or np.allclose(got, raw):
            hint = " An int8 holds -128 to 127 only: clip the rounded values to that range."
        elif np.array_equal(got, np.clip(np.round(_PIXELS / scale), -128, 127)):
            hint = " The zero point is missing: q = round(x / s) + z."
        elif np.array_equal(got, np.clip(np.round(_PIXELS * scale + zero_point), -128, 127)):
            hint = " x = s (q - z), so q = x / s + z: divide by the scale, do not multiply."
        elif np.array_equal(got, np.clip(np.floor(raw), -128, 127)):
            hint = " Round to the nearest integer (np.round), do not truncate."
        shown = ", ".join(f"{v:g}" for v in expected)
        raise ExerciseNotSolved(f"quantise(x, {scale}, {zero_point}) for x = {_PIXELS.tolist()} should be "
                                f"[{shown}], got {got.tolist()}.{hint}")
    return "(with the int8 model's scale 1 and zero point -128, a pixel of 255 becomes 127)"


_SCHEDULE_CASES = [(0.8, 0, 100), (0.5, 20, 60), (0.95, 10, 11)]


def _reference_sparsity(step: int, target: float, begin: int, end: int) -> float:
    if step <= begin:
        return 0.0
    progress = min(1.0, (step - begin) / (end - begin))
    return target * (1.0 - (1.0 - progress) ** 3)


def check_5(answer: Callable[[int, float, int, int], Any]) -> str:
    """``answer(step, target, begin, end)`` must follow ``s_t = s_f (1 - (1 - (t - t0) / T)^3)``."""
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function itself, sparsity_at, not {type(answer).__name__}")
    for target, begin, end in _SCHEDULE_CASES:
        for step in sorted({0, begin, begin + 1, (begin + end) // 2, end - 1, end, end + 50}):
            value = answer(step, target, begin, end)
            try:
                got = float(value)
            except (TypeError, ValueError):
                raise ExerciseNotSolved(f"sparsity_at({step}, {target}, {begin}, {end}) should be a number, "
                                        f"got {value!r}") from None
            expected = _reference_sparsity(step, target, begin, end)
            if abs(got - expected) <= 1e-9:
                continue
            progress = min(1.0, max(0.0, (step - begin) / (end - begin)))
            hint = ""
            if abs(got - target * progress) <= 1e-9:
                hint = " That is a straight line; the schedule is cubic: s_f (1 - (1 - progress)^3)."
            elif abs(got - target * (1 - progress) ** 3) <= 1e-9:
                hint = " That falls from the target to 0; it should rise from 0 to the target."
            elif step > end and abs(got - _reference_sparsity(end, target, begin, end)) > 1e-9:
                hint = " After the end step the sparsity stays at the target: clamp the progress at 1."
            elif step < begin:
                hint = " Before the begin step nothing is pruned: the sparsity is 0."
            raise ExerciseNotSolved(f"sparsity_at({step}, {target}, {begin}, {end}) should be {expected:.6g}, "
                                    f"got {got:.6g}.{hint}")
    return "(half-way through the schedule it is already at 7/8 of the target)"


CHECKS: dict[int, Callable[[Any], str | None]] = {2: check_2, 5: check_5}
