"""Checks for the code exercises of chapter 03 (linear regression).

- Exercise 1: ``lr_limit(X)``, the largest stable learning rate 2 / lambda_max of gradient descent on the
  mean squared error of a linear model with an intercept.
- Exercise 3: ``with_square(X)``, a one-feature table with its square added as a second column.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from course_lib.exercises import ExerciseNotSolved

__all__ = ["CHECKS", "check_1", "check_3"]


def _tables() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    one = rng.standard_normal((40, 1))
    one = (one - one.mean()) / one.std()
    scaled = rng.standard_normal((50, 3)) * np.array([0.05, 1.0, 7.0]) + np.array([0.0, 2.0, -1.0])
    return [one, scaled]


def _limit(X: np.ndarray) -> float:
    A = np.column_stack([np.ones(len(X)), X])
    return 2.0 / np.linalg.eigvalsh(2.0 / len(X) * A.T @ A).max()


def check_1(answer: Callable[[np.ndarray], float]) -> str:
    """``answer(X)`` must be 2 / lambda_max of the Hessian (2/n) A^T A, A = [1, X]."""
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function lr_limit itself, not {type(answer).__name__}")
    for X in _tables():
        try:
            got = float(answer(X.copy()))
        except (TypeError, ValueError) as err:
            raise ExerciseNotSolved(f"lr_limit(X) should return one number, the learning-rate limit ({err})") from None
        want = _limit(X)
        if math.isclose(got, want, rel_tol=1e-6):
            continue
        n = len(X)
        no_ones = 2.0 / np.linalg.eigvalsh(2.0 / n * X.T @ X).max()
        if math.isclose(got, want / 2, rel_tol=1e-6):
            hint = ("that is 1 / lambda_max, the safe rate section 4 uses; the limit beyond which gradient "
                    "descent diverges is 2 / lambda_max.")
        elif math.isclose(got, want / n, rel_tol=1e-6):
            hint = ("that is the limit for the summed loss (Hessian 2 A^T A); the mean squared error's Hessian "
                    "is (2 / n) A^T A.")
        elif math.isclose(got, no_ones, rel_tol=1e-6):
            hint = "prepend the column of ones (the intercept) to X before forming the Hessian."
        else:
            hint = f"expected {want:.6g}, got {got:.6g}."
        raise ExerciseNotSolved(f"lr_limit is not right for a table of shape {X.shape}: {hint}")
    return "(the limit is 2 / lambda_max of (2/n) A^T A; for one standardised feature it is 1)"


def check_3(answer: Callable[[np.ndarray], np.ndarray]) -> str:
    """``answer(X)`` for X of shape (n, 1) must return the columns x and x^2, shape (n, 2)."""
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function with_square itself, not {type(answer).__name__}")
    X = np.array([[1.0], [2.0], [-3.0], [0.5]])
    got = np.asarray(answer(X.copy()), dtype=float)
    if got.shape == (4,) or got.shape == (4, 1):
        if np.allclose(got.ravel(), X.ravel() ** 2):
            raise ExerciseNotSolved("with_square returned x^2 alone: keep x as well, the model is "
                                    "w1 x + w2 x^2 + b (np.column_stack([X, X ** 2])).")
    if got.shape != (4, 2):
        raise ExerciseNotSolved(f"with_square(X) for X of shape (4, 1) should have shape (4, 2): the column x "
                                f"and the column x^2; got shape {got.shape}")
    columns = [got[:, 0], got[:, 1]]
    want = [X[:, 0], X[:, 0] ** 2]
    if not (np.allclose(columns, want) or np.allclose(columns[::-1], want)):
        raise ExerciseNotSolved(f"the two columns should be x and x^2; for x = {X[:, 0].tolist()} got "
                                f"{got.tolist()}")
    return "(two features: x and x^2)"


CHECKS = {1: check_1, 3: check_3}
