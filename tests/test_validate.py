"""course_lib._validate: TypeError for a wrong type, ValueError for a wrong value, clear messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib._validate import check_int, check_number, check_shape, positive_int, positive_number


def test_check_int_accepts_python_and_numpy_integers():
    assert check_int("n", 3) == 3 and type(check_int("n", np.int64(3))) is int
    assert check_int("n", 2, minimum=2, maximum=2) == 2
    assert positive_int("n", 1) == 1


@pytest.mark.parametrize("value", [2.0, True, "3", None, [1]])
def test_check_int_refuses_other_types_with_a_type_error(value):
    with pytest.raises(TypeError, match="n must be a positive integer, got"):
        positive_int("n", value)


@pytest.mark.parametrize("kwargs, value, message", [
    (dict(minimum=1), 0, "n must be a positive integer, got 0"),
    (dict(minimum=0), -1, "n must be a non-negative integer, got -1"),
    (dict(minimum=2), 1, "n must be an integer >= 2, got 1"),
    (dict(maximum=5), 6, "n must be an integer <= 5, got 6"),
    (dict(minimum=2, maximum=512), 513, "n must be an integer between 2 and 512, got 513"),
    (dict(minimum=1, expected="a number of steps"), 0, "n must be a number of steps, got 0"),
])
def test_check_int_names_the_range_in_its_value_error(kwargs, value, message):
    with pytest.raises(ValueError) as info:
        check_int("n", value, **kwargs)
    assert str(info.value) == message


def test_check_number_accepts_reals_and_returns_a_float():
    assert check_number("x", 1) == 1.0 and type(check_number("x", np.float32(0.5))) is float
    assert positive_number("x", 0, allow_zero=True) == 0.0
    assert check_number("x", math.inf, finite=False) == math.inf
    assert check_number("p", 1, above=0, at_most=1) == 1.0


@pytest.mark.parametrize("value", ["1", True, None, np.array([1.0]), 1j])
def test_check_number_refuses_other_types_with_a_type_error(value):
    with pytest.raises(TypeError, match="x must be a positive number, got"):
        positive_number("x", value)


@pytest.mark.parametrize("kwargs, value, message", [
    (dict(above=0), 0, "x must be a positive number, got 0.0"),
    (dict(at_least=0), -0.5, "x must be a non-negative number, got -0.5"),
    (dict(above=0, at_most=1), 1.5, "x must be a number in (0, 1], got 1.5"),
    (dict(at_least=0, below=1), 1, "x must be a number in [0, 1), got 1.0"),
    (dict(below=3), 3, "x must be a number < 3, got 3.0"),
    (dict(), math.nan, "x must be a number and finite, got nan"),
    (dict(above=0), math.inf, "x must be a positive number and finite, got inf"),
    (dict(finite=False), math.nan, "x must be a number and finite, got nan"),
])
def test_check_number_names_the_range_in_its_value_error(kwargs, value, message):
    with pytest.raises(ValueError) as info:
        check_number("x", value, **kwargs)
    assert str(info.value) == message


def test_check_number_refuses_two_bounds_on_one_side():
    with pytest.raises(ValueError, match="at most one lower bound"):
        check_number("x", 1, above=0, at_least=0)


def test_check_shape():
    assert check_shape("size", [3, np.int64(4)]) == (3, 4)
    assert check_shape("shape", (None, 2), allow_none=True) == (None, 2)
    with pytest.raises(TypeError, match="size must be a tuple of 2 positive integers"):
        check_shape("size", 8, length=2)
    with pytest.raises(TypeError, match="holding float 2.0"):
        check_shape("size", (2.0, 3))
    with pytest.raises(TypeError):
        check_shape("size", (None, 3))
    with pytest.raises(ValueError, match=r"got \(8,\) \(1 entries\)"):
        check_shape("size", (8,), length=2)
    with pytest.raises(ValueError, match=r"size must be \(height, width\), got \(0, 8\)"):
        check_shape("size", (0, 8), length=2, expected="(height, width)")
