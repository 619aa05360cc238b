"""Checks for chapter 05's code exercises (convolutional networks).

1. ``conv_layer(input_shape, filters, kernel, stride=1, padding="valid")`` returns the output shape
   ``(h, w, filters)`` and the parameter count of a ``Conv2D`` layer.
2. ``receptive_field(stack)`` returns ``(r, jump)``: the receptive field (in input pixels per side)
   of one output value of a stack of ``(kernel, stride)`` layers, and the distance in input pixels
   between neighbouring output values.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from course_lib.exercises import ExerciseNotSolved

__all__ = ["CHECKS", "check_1", "check_2"]

# (input_shape, filters, kernel, stride, padding)
_CONV_CASES = [((64, 64, 3), 16, 5, 2, "valid"), ((15, 15, 16), 32, 3, 1, "same"),
               ((9, 11, 3), 4, 3, 2, "same"), ((28, 28, 1), 32, 3, 1, "valid"), ((7, 7, 8), 8, 1, 1, "valid")]
_CNN_STACK = [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (2, 2), (3, 1)]   # conv1 .. relu4 of the cats-vs-dogs CNN
_RF_CASES = [_CNN_STACK, [(3, 1)] * 3, [(5, 2), (2, 2), (3, 1)], [(7, 2), (3, 2)], []]


def _conv_reference(input_shape, filters, kernel, stride, padding):
    h, w, c = input_shape
    size = (lambda n: math.ceil(n / stride)) if padding == "same" else (lambda n: (n - kernel) // stride + 1)
    return (size(h), size(w), filters), kernel * kernel * c * filters + filters


def _rf_reference(stack):
    r, j = 1, 1
    for k, s in stack:
        r, j = r + (k - 1) * j, j * s
    return r, j


def _call(answer: Callable, *args) -> Any:
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function itself (e.g. `conv_layer`), not {type(answer).__name__}")
    return answer(*args)


def check_1(answer: Callable) -> str:
    """``answer`` is ``conv_layer(input_shape, filters, kernel, stride, padding) -> (shape, params)``."""
    for case in _CONV_CASES:
        (shape, params), args = _conv_reference(*case), ", ".join(map(repr, case))
        got = _call(answer, *case)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise ExerciseNotSolved(f"conv_layer({args}) should return a pair (output shape, parameters), "
                                    f"got {got!r}")
        got_shape, got_params = tuple(int(v) for v in got[0]), got[1]
        if got_shape != shape:
            hint = ("for padding='same' the output is ceil(n / stride), whatever the kernel"
                    if case[4] == "same" else "for padding='valid' the output is floor((n - kernel) / stride) + 1")
            if len(got_shape) == 3 and got_shape[2] != shape[2]:
                hint = "the output has one channel per filter"
            raise ExerciseNotSolved(f"conv_layer({args}) gives shape {got_shape}, expected {shape}: {hint}")
        if got_params != params:
            k, c, f = case[2], case[0][2], case[1]
            if got_params == params - f:
                hint = "each filter also has one bias"
            elif got_params == k * k * f + f:
                hint = f"each filter spans all {c} input channels: kernel x kernel x C_in weights"
            else:
                hint = "a filter has kernel x kernel x C_in weights and one bias"
            raise ExerciseNotSolved(f"conv_layer({args}) counts {got_params} parameters, expected {params}: {hint}")
    return f"{len(_CONV_CASES)} layers checked, 'valid' and 'same' padding, strides 1 and 2."


def check_2(answer: Callable) -> str:
    """``answer`` is ``receptive_field(stack) -> (r, jump)`` for a list of ``(kernel, stride)``."""
    for stack in _RF_CASES:
        expected = _rf_reference(stack)
        got = _call(answer, list(stack))
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise ExerciseNotSolved(f"receptive_field({stack}) should return a pair (r, jump), got {got!r}")
        got = tuple(int(v) for v in got)
        if got != expected:
            naive = 1 + sum(k - 1 for k, _ in stack)
            hint = ("r grows by (k - 1) times the current jump: after a stride-2 layer neighbouring positions are "
                    "2 input pixels apart" if got[0] == naive and naive != expected[0]
                    else "r <- r + (k - 1) * jump, then jump <- jump * stride, starting from r = jump = 1")
            raise ExerciseNotSolved(f"receptive_field({stack}) gives {got}, expected {expected}: {hint}")
    return "one relu4 value of the cats-vs-dogs CNN sees 38x38 input pixels."


CHECKS = {1: check_1, 2: check_2}
