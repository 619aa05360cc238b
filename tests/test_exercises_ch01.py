"""Chapter 01's checked exercises: the solution passes, the starter and typical wrong answers fail."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises import ExerciseNotSolved, check_exercise
from course_lib.exercises.ch01 import one_layer_params, transformer_params, two_layer_params


def test_parameter_formulas_match_the_chapter():
    assert one_layer_params(128) == 101_770
    assert two_layer_params(64) == 55_050
    assert transformer_params(6, 384, 30522, 512, 2) + 384 * 384 + 384 == 22_713_216   # all-MiniLM-L6-v2 + pooler


def test_exercise_1_solution_passes(capsys):
    width = round((two_layer_params(64) - 10) / 795)
    check_exercise("01", 1, width)
    check_exercise("01", 1, np.int64(width))
    assert "54,865 parameters" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (128, "width 128 has 101,770 parameters.*795 w \\+ 10"), (64, "width 64 has 50,890"),
    (69.5, "whole number"), ("69", "whole number"),
])
def test_exercise_1_wrong_answers_say_why(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("01", 1, wrong)


def test_exercise_1_starter_is_not_done():
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("01", 1, None)


def test_exercise_3_solution_passes(capsys):
    n = transformer_params(24, 2048, 30522, 512)
    check_exercise("01", 3, (n, 4 * n, 2 * n))
    assert "1,272 million parameters: 4.74 GiB in float32, 2.37 GiB in bfloat16" in capsys.readouterr().out


@pytest.mark.parametrize("make, message", [
    (lambda n, layers: (layers, 4 * layers, 2 * layers), "24 layers alone: add the token and position embeddings"),
    (lambda n, layers: (24 * 12 * 2048**2,) * 3, "leaves out the biases"),
    (lambda n, layers: (n, 2 * n, 2 * n), "float32 number takes 4 bytes"),
    (lambda n, layers: (n, 4 * n, 4 * n), "bfloat16 number takes 2 bytes"),
    (lambda n, layers: (n, 4 * n), "pass a tuple"),
    (lambda n, layers: n + 1, "pass a tuple"),
])
def test_exercise_3_wrong_answers_say_why(make, message):
    n = transformer_params(24, 2048, 30522, 512)
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("01", 3, make(n, 24 * (12 * 2048**2 + 13 * 2048)))


def test_exercise_3_starter_is_not_done():
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("01", 3, None)
