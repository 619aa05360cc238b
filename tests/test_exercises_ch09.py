"""Chapter 09's checked exercises: the right answers pass, the starters and typical mistakes fail with a hint."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import compression
from course_lib.exercises import ExerciseNotSolved, check_exercise


def quantise(x, scale, zero_point):
    return np.clip(np.round(np.asarray(x) / scale + zero_point), -128, 127).astype(np.int8)


def sparsity_at(step, target, begin, end):
    if step <= begin:
        return 0.0
    progress = min(1.0, (step - begin) / (end - begin))
    return target * (1 - (1 - progress) ** 3)


def starter(*args):
    raise NotImplementedError("Exercise N: the hint")


def test_right_answers_pass(capsys):
    check_exercise("09", 2, quantise) and check_exercise("09", 5, sparsity_at)
    assert "Exercise 2 (chapter 09): correct." in capsys.readouterr().out


def test_the_schedule_answer_agrees_with_the_library():
    for step in (0, 5, 50, 99, 100, 150):
        assert sparsity_at(step, 0.8, 0, 100) == pytest.approx(compression.polynomial_sparsity(step, 0.8, 0, 100))


@pytest.mark.parametrize("number", [2, 5])
def test_starters_are_not_done_yet(number):
    for answer in (starter, None):
        with pytest.raises(ExerciseNotSolved, match="not done yet"):
            check_exercise("09", number, answer)


@pytest.mark.parametrize("wrong, words", [
    (lambda x, s, z: np.round(np.asarray(x) / s + z), "clip"),
    (lambda x, s, z: np.clip(np.round(np.asarray(x) / s), -128, 127), "zero point is missing"),
    (lambda x, s, z: np.clip(np.round(np.asarray(x) * s + z), -128, 127), "divide by the scale"),
    (lambda x, s, z: np.clip(np.floor(np.asarray(x) / s + z), -128, 127), "Round to the nearest"),
    (lambda x, s, z: [1, 2], "shape"),
    ("quantise", "function itself"),
])
def test_typical_quantisation_mistakes(wrong, words):
    with pytest.raises(ExerciseNotSolved, match=words):
        check_exercise("09", 2, wrong)


def linear(step, target, begin, end):
    return target * min(1.0, max(0.0, (step - begin) / (end - begin)))


def falling(step, target, begin, end):
    return target * (1 - min(1.0, max(0.0, (step - begin) / (end - begin)))) ** 3


def unclamped(step, target, begin, end):
    return 0.0 if step <= begin else target * (1 - (1 - (step - begin) / (end - begin)) ** 3)


@pytest.mark.parametrize("wrong, words", [(linear, "straight line"), (falling, "rise from 0"),
                                          (unclamped, "clamp the progress"), (lambda *a: "x", "a number"),
                                          (0.8, "function itself")])
def test_typical_schedule_mistakes(wrong, words):
    with pytest.raises(ExerciseNotSolved, match=words):
        check_exercise("09", 5, wrong)
