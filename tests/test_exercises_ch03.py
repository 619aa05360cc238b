"""Chapter 03's checked exercises: the solution passes, the starter and typical wrong answers fail."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises import ExerciseNotSolved, check_exercise


def with_ones(X):
    return np.column_stack([np.ones(len(X)), X])


def lr_limit(X):
    A = with_ones(X)
    return 2 / np.linalg.eigvalsh(2 / len(X) * A.T @ A).max()


def lr_limit_starter(X):
    raise NotImplementedError("Exercise 1: 2 divided by the largest eigenvalue")


def test_exercise_1_solution_passes(capsys):
    check_exercise("03", 1, lr_limit)
    assert "correct" in capsys.readouterr().out


def test_exercise_1_one_standardised_feature_gives_one():
    x = np.linspace(-1, 1, 11)[:, None]
    assert lr_limit((x - x.mean()) / x.std()) == pytest.approx(1.0)


@pytest.mark.parametrize("wrong, message", [
    (lambda X: lr_limit(X) / 2, "that is 1 / lambda_max"),
    (lambda X: lr_limit(X) / len(X), "summed loss"),
    (lambda X: 2 / np.linalg.eigvalsh(2 / len(X) * X.T @ X).max(), "prepend the column of ones"),
    (lambda X: 0.01, "expected"),
    (lambda X: "one", "one number"),
])
def test_exercise_1_wrong_answers_say_why(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("03", 1, wrong)


def test_exercise_1_starter_is_not_done():
    with pytest.raises(ExerciseNotSolved, match="not done yet.*Exercise 1:"):
        check_exercise("03", 1, lr_limit_starter)


def test_exercise_3_solution_passes(capsys):
    check_exercise("03", 3, lambda X: np.column_stack([X, X ** 2]))
    check_exercise("03", 3, lambda X: np.column_stack([X ** 2, X]))
    assert "x and x^2" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda X: X ** 2, "returned x\\^2 alone"), (lambda X: (X ** 2).ravel(), "returned x\\^2 alone"),
    (lambda X: X, "should have shape \\(4, 2\\)"), (lambda X: np.column_stack([X, X ** 3]), "should be x and x\\^2"),
    (3, "pass the function"),
])
def test_exercise_3_wrong_answers_say_why(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("03", 3, wrong)


def test_exercise_3_starter_is_not_done():
    def starter(X):
        raise NotImplementedError("Exercise 3: stack x and x ** 2")
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("03", 3, starter)
