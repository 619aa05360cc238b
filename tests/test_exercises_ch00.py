"""Chapter 00's checked exercises: the solution passes, the starter and typical wrong answers fail."""

from __future__ import annotations

import pytest

from course_lib.exercises import ExerciseNotSolved, check_exercise


def matmul_gflops(n, seconds):
    return 2 * n**3 / seconds / 1e9


def starter_3(n, seconds):
    raise NotImplementedError("Exercise 3: count 2 n^3 floating-point operations")


def test_exercise_3_solution_passes(capsys):
    check_exercise("00", 3, matmul_gflops)
    assert "Exercise 3 (chapter 00): correct." in capsys.readouterr().out


def test_exercise_3_starter_is_not_done():
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("00", 3, starter_3)
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("00", 3, None)


@pytest.mark.parametrize("wrong, message", [
    (lambda n, s: n**3 / s / 1e9, "multiplication and an addition"),
    (lambda n, s: 2 * n**3 / s, "That is FLOP/s: divide by 1e9"),
    (lambda n, s: 2 * n**2 / s / 1e9, "grows as n\\^3"),
    (lambda n, s: "fast", "should be a number"),
])
def test_exercise_3_wrong_answers_say_why(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("00", 3, wrong)


def test_exercise_5_solution_passes(capsys):
    check_exercise("00", 5, 1)
    assert "epoch 3 of 3" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (2, "InterruptAfter\\(1\\)"), (3, "started from scratch: give both fit calls the same backup_dir"),
    (0, "nothing was left to train"), (7, "cannot have trained 7 epochs"), ("one", "should be a number"),
    (True, "not True"),
])
def test_exercise_5_wrong_answers_say_why(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("00", 5, wrong)


def test_exercise_5_starter_is_not_done():
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("00", 5, None)
