"""Chapter 05's exercise checks pass the solutions and fail starters and typical wrong answers."""

from __future__ import annotations

import math

import pytest

from course_lib.exercises import ExerciseNotSolved, check_exercise


def conv_layer(input_shape, filters, kernel, stride=1, padding="valid"):
    h, w, c = input_shape
    size = (lambda n: math.ceil(n / stride)) if padding == "same" else (lambda n: (n - kernel) // stride + 1)
    return (size(h), size(w), filters), kernel * kernel * c * filters + filters


def receptive_field(stack):
    r, jump = 1, 1
    for kernel, stride in stack:
        r, jump = r + (kernel - 1) * jump, jump * stride
    return r, jump


def test_solutions_pass(capsys):
    check_exercise("05", 1, conv_layer)
    check_exercise("05", 2, receptive_field)
    out = capsys.readouterr().out
    assert "Exercise 1 (chapter 05): correct." in out and "Exercise 2 (chapter 05): correct." in out
    assert "38x38" in out


@pytest.mark.parametrize("number", [1, 2])
def test_starters_are_not_done(number):
    def starter(*args):
        raise NotImplementedError(f"Exercise {number}: fill in the formula")

    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("05", number, starter)
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("05", number, None)


def test_conv_without_biases_is_caught():
    def no_bias(input_shape, filters, kernel, stride=1, padding="valid"):
        shape, params = conv_layer(input_shape, filters, kernel, stride, padding)
        return shape, params - filters

    with pytest.raises(ExerciseNotSolved, match="one bias"):
        check_exercise("05", 1, no_bias)


def test_conv_valid_formula_for_same_padding_is_caught():
    def always_valid(input_shape, filters, kernel, stride=1, padding="valid"):
        return conv_layer(input_shape, filters, kernel, stride, "valid")

    with pytest.raises(ExerciseNotSolved, match="ceil\\(n / stride\\)"):
        check_exercise("05", 1, always_valid)


def test_conv_kernel_ignoring_input_channels_is_caught():
    def one_channel(input_shape, filters, kernel, stride=1, padding="valid"):
        shape, _ = conv_layer(input_shape, filters, kernel, stride, padding)
        return shape, kernel * kernel * filters + filters

    with pytest.raises(ExerciseNotSolved, match="all 3 input channels"):
        check_exercise("05", 1, one_channel)


def test_receptive_field_ignoring_the_jump_is_caught():
    def no_jump(stack):
        return 1 + sum(k - 1 for k, _ in stack), 1

    with pytest.raises(ExerciseNotSolved, match="current jump"):
        check_exercise("05", 2, no_jump)


def test_a_value_instead_of_a_function_is_caught():
    with pytest.raises(ExerciseNotSolved, match="pass the function itself"):
        check_exercise("05", 2, (38, 8))
