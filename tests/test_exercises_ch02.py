"""Chapter 02's checked exercises: the solution passes, the starter and typical wrong answers fail."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import backprop
from course_lib.exercises import ExerciseNotSolved, check_exercise


def l2_solution(params, X, y, act="relu", lam=1e-2):
    loss, grads = backprop.loss_and_grads(params, X, y, act)
    loss += 0.5 * lam * sum(np.sum(W ** 2) for W, _ in params)
    return loss, [(dW + lam * W, db) for (W, _), (dW, db) in zip(params, grads)]


def l2_variant(loss_factor=0.5, grad_factor=1.0, biases=False):
    def answer(params, X, y, act="relu", lam=1e-2):
        loss, grads = backprop.loss_and_grads(params, X, y, act)
        loss += loss_factor * lam * sum(np.sum(W ** 2) + (np.sum(b ** 2) if biases else 0) for W, b in params)
        return loss, [(dW + grad_factor * lam * W, db + (lam * b if biases else 0)) for (W, b), (dW, db)
                      in zip(params, grads)]
    return answer


def l2_starter(params, X, y, act="relu", lam=1e-2):
    raise NotImplementedError("Exercise 1: add lam * W to each dL/dW")


def test_exercise_1_solution_passes(capsys):
    check_exercise("02", 1, l2_solution)
    assert "correct" in capsys.readouterr().out


def test_exercise_1_starter_is_not_done():
    with pytest.raises(ExerciseNotSolved, match="not done yet.*Exercise 1: add lam"):
        check_exercise("02", 1, l2_starter)


@pytest.mark.parametrize("wrong, message", [
    (l2_variant(loss_factor=0.0, grad_factor=0.0), "no penalty yet"),
    (l2_variant(loss_factor=1.0), "you added lam \\* sum"),
    (l2_variant(biases=True), "only the weights are penalised"),
    (l2_variant(grad_factor=0.0), "must gain lam \\* W_l"),
    (l2_variant(grad_factor=2.0), "not 2 lam W"),
    (lambda params, X, y, act="relu": backprop.loss_and_grads(params, X, y, act), "keyword argument lam"),
    (lambda params, X, y, act="relu", lam=0.0: 1.0, "return \\(loss, grads\\)"),
])
def test_exercise_1_wrong_answers_say_why(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("02", 1, wrong)


def test_exercise_1_biases_penalised_in_the_gradient_only():
    def answer(params, X, y, act="relu", lam=1e-2):
        loss, grads = l2_solution(params, X, y, act, lam)
        return loss, [(dW, db + lam * b) for (dW, db), (_, b) in zip(grads, params)]
    with pytest.raises(ExerciseNotSolved, match="biases are not penalised"):
        check_exercise("02", 1, answer)


def test_exercise_3_solution_passes(capsys):
    check_exercise("02", 3, 3.5e-3)
    assert "float32 rounding" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (5e-10, "float64-level agreement"), (0.8, "Use a larger step"), (float("nan"), "finite"),
    ("small", "a number"),
])
def test_exercise_3_wrong_answers_say_why(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("02", 3, wrong)


def test_exercise_3_starter_is_not_done():
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("02", 3, None)


def test_exercise_4_solution_passes(capsys):
    check_exercise("02", 4, {"sigmoid": 2.287, "relu": 0.418})
    assert "5.5 times" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    ({"sigmoid": 0.418, "relu": 2.287}, "keys swapped"), ({"sigmoid": 1.0, "relu": 1.0}, "same activation"),
    ({"relu": 0.4}, "pass a dict"), ((2.3, 0.4), "pass a dict"), ({"sigmoid": float("inf"), "relu": 0.4}, "finite"),
])
def test_exercise_4_wrong_answers_say_why(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("02", 4, wrong)


def test_exercise_4_starter_is_not_done():
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("02", 4, None)
