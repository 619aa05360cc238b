"""Checks for chapter 08's code exercises (evaluation).

1. ``bayes_threshold(cost_fp, cost_fn)`` returns the probability above which predicting
   "positive" is the cheaper decision for a calibrated score: ``cost_fp / (cost_fp + cost_fn)``.
2. ``screening(n, prevalence, sensitivity, specificity)`` returns ``(flagged, flagged_sick)``: how
   many of ``n`` screened people a test flags, and how many of those are truly ill (expected
   counts, floats).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from course_lib.exercises import ExerciseNotSolved, require_function

__all__ = ["CHECKS", "check_1", "check_2"]

_COSTS = [(1.0, 5.0), (1.0, 10.0), (1.0, 1.0), (3.0, 1.0), (2.0, 7.0)]
_SCREENS = [(10_000, 0.005, 1.0, 0.956), (10_000, 0.01, 0.9, 0.95), (500, 0.3, 0.8, 0.99), (1_000, 0.0, 0.9, 0.9)]



def _number(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ExerciseNotSolved(f"{what} should be a number, got {value!r}") from None


def check_1(answer: Callable[[float, float], Any]) -> str:
    """``answer`` is ``bayes_threshold(cost_fp, cost_fn) -> float``."""
    require_function(answer, "bayes_threshold")
    for cost_fp, cost_fn in _COSTS:
        expected = cost_fp / (cost_fp + cost_fn)
        got = _number(answer(cost_fp, cost_fn), f"bayes_threshold({cost_fp:g}, {cost_fn:g})")
        if np.isclose(got, expected, rtol=1e-9, atol=1e-12):
            continue
        if np.isclose(got, cost_fn / (cost_fp + cost_fn)):
            hint = ("the costs are swapped: the threshold is low when a miss (false negative) is expensive, "
                    "t* = c_FP / (c_FP + c_FN)")
        elif cost_fn and np.isclose(got, cost_fp / cost_fn):
            hint = ("compare the two expected costs (1 - p) c_FP and p c_FN: they are equal at "
                    "p = c_FP / (c_FP + c_FN), not c_FP / c_FN")
        else:
            hint = ("predict positive when (1 - p) c_FP < p c_FN and solve for p")
        raise ExerciseNotSolved(f"bayes_threshold({cost_fp:g}, {cost_fn:g}) gives {got:.4f}, expected "
                                f"{expected:.4f}: {hint}")
    return "with costs 1:10 it is 1/11 = 0.091."


def check_2(answer: Callable[[int, float, float, float], Any]) -> str:
    """``answer`` is ``screening(n, prevalence, sensitivity, specificity) -> (flagged, flagged_sick)``."""
    require_function(answer, "screening")
    for n, prevalence, sens, spec in _SCREENS:
        sick, healthy = n * prevalence, n * (1 - prevalence)
        true_pos, false_pos = sens * sick, (1 - spec) * healthy
        expected = (true_pos + false_pos, true_pos)
        args = f"screening({n}, {prevalence:g}, {sens:g}, {spec:g})"
        got = answer(n, prevalence, sens, spec)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise ExerciseNotSolved(f"{args} should return a pair (flagged, flagged_sick), got {got!r}")
        flagged, flagged_sick = (_number(v, f"each value returned by {args}") for v in got)
        if np.allclose([flagged, flagged_sick], expected, rtol=1e-6, atol=1e-6):
            continue
        if np.isclose(flagged, true_pos) and np.isclose(flagged_sick, true_pos):
            hint = ("the healthy people the test wrongly flags are missing: (1 - specificity) of the healthy "
                    "are flagged too")
        elif np.isclose(flagged, true_pos + spec * healthy):
            hint = "the false-positive rate is 1 - specificity, not the specificity"
        elif np.isclose(flagged_sick, sens * n) or np.isclose(flagged_sick, true_pos + false_pos):
            hint = "only the ill people (n x prevalence) can be true positives: sensitivity x n x prevalence"
        else:
            hint = ("flagged = sensitivity x ill + (1 - specificity) x healthy, with ill = n x prevalence; "
                    "flagged_sick = sensitivity x ill")
        raise ExerciseNotSolved(f"{args} gives ({flagged:.2f}, {flagged_sick:.2f}), expected "
                                f"({expected[0]:.2f}, {expected[1]:.2f}): {hint}")
    return "at 0.5 % prevalence most of the people flagged are healthy."


CHECKS = {1: check_1, 2: check_2}
