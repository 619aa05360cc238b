"""Checks for the code exercises of chapter 00 (setup).

- Exercise 3: ``matmul_gflops(n, seconds)``, the GFLOP/s of one ``n x n`` matrix product.
- Exercise 5: the number of epochs the resumed run trains after ``InterruptAfter(2)`` of 3 epochs.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from course_lib.exercises import ExerciseNotSolved

__all__ = ["CHECKS", "check_3", "check_5"]

_CASES = [(1024, 0.0255), (512, 0.004), (2000, 1.5)]


def _number(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ExerciseNotSolved(f"{what} should be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ExerciseNotSolved(f"{what} should be a finite number, got {value!r}")
    return number


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6)


def check_3(answer: Callable[[int, float], float]) -> str:
    """``answer(n, seconds)`` must be 2 n^3 / seconds / 1e9 (GFLOP/s of one n x n matmul)."""
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function itself, matmul_gflops, not {type(answer).__name__}")
    for n, seconds in _CASES:
        got = _number(answer(n, seconds), f"matmul_gflops({n}, {seconds})")
        expected = 2 * n**3 / seconds / 1e9
        if _close(got, expected):
            continue
        hint = ""
        if _close(got, expected / 2):
            hint = (" That counts one operation per term: each of the n^3 terms of the product is a "
                    "multiplication and an addition, 2 n^3 floating-point operations in all.")
        elif _close(got, expected * 1e9):
            hint = " That is FLOP/s: divide by 1e9 for GFLOP/s."
        elif _close(got, 2 * n**2 / seconds / 1e9):
            hint = (" Each of the n^2 entries of the result is a sum of n products: the work grows as n^3, "
                    "not n^2.")
        raise ExerciseNotSolved(f"matmul_gflops({n}, {seconds}) should be {expected:.4g} GFLOP/s, "
                                f"got {got:.4g}.{hint}")
    return "(2 n^3 floating-point operations per product: 2.1e9 for n = 1024)"


def check_5(answer: Any) -> str:
    """After ``InterruptAfter(2)`` of ``epochs=3``, the resumed run trains exactly 1 epoch (epoch 3)."""
    if isinstance(answer, bool):
        raise ExerciseNotSolved(f"pass the number of epochs the resumed run trained "
                                f"(result.epochs_run), not {answer!r}")
    epochs = _number(answer, "the number of epochs the resumed run trained")
    if epochs == 1:
        return "(the resumed run trained epoch 3 of 3 only: the backup held the first two)"
    if epochs == 2:
        raise ExerciseNotSolved("2 epochs is what the resumed run trains after InterruptAfter(1), as in "
                                "section 5. Interrupt the first run with InterruptAfter(2) and pass the resumed "
                                "run's result.epochs_run.")
    if epochs == 3:
        raise ExerciseNotSolved("3 epochs means the second run started from scratch: give both fit calls the "
                                "same backup_dir, so the second one resumes from the backup.")
    if epochs == 0:
        raise ExerciseNotSolved("0 epochs means nothing was left to train: did the first run finish all 3 epochs? "
                                "Interrupt it with callbacks=[InterruptAfter(2)].")
    raise ExerciseNotSolved(f"the resumed run cannot have trained {answer!r} epochs of a 3-epoch run "
                            "interrupted after epoch 2: pass result.epochs_run of the resumed fit.")


CHECKS = {3: check_3, 5: check_5}
