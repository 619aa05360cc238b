"""Checks for the code exercises of chapter 01 (concepts).

- Exercise 1: the width of a one-hidden-layer MNIST MLP with (nearly) the parameter count of two hidden
  layers of width 64.
- Exercise 3: parameters and weight bytes of a 24-layer Transformer of width 2 048.
"""

from __future__ import annotations

import numbers
from typing import Any

from course_lib.exercises import ExerciseNotSolved

__all__ = ["CHECKS", "check_1", "check_3", "one_layer_params", "two_layer_params", "transformer_params"]


def one_layer_params(width: int) -> int:
    """Parameters of the MLP 784-width-10."""
    return (784 + 1) * width + (width + 1) * 10


def two_layer_params(width: int) -> int:
    """Parameters of the MLP 784-width-width-10."""
    return (784 + 1) * width + (width + 1) * width + (width + 1) * 10


def transformer_params(layers: int, d: int, vocab: int, positions: int, segments: int = 0) -> int:
    """The chapter's formula: 12 d^2 + 13 d per layer, plus embeddings and their layer norm."""
    return layers * (12 * d * d + 13 * d) + (vocab + positions + segments) * d + 2 * d


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value):
        raise ExerciseNotSolved(f"{what} should be a whole number, got {value!r}")
    return int(value)


def check_1(answer: Any) -> str:
    """The one-layer width whose parameter count is closest to ``two_layer_params(64)`` (69)."""
    target = two_layer_params(64)
    best = min(range(1, 1000), key=lambda w: abs(one_layer_params(w) - target))
    width = _integer(answer, "the matched width")
    if width == best:
        return (f"(one hidden layer of width {best}: {one_layer_params(best):,d} parameters; two layers of width "
                f"64: {target:,d})")
    raise ExerciseNotSolved(
        f"one hidden layer of width {width} has {one_layer_params(width):,d} parameters, but two hidden layers of "
        f"width 64 have {target:,d}. A 784-w-10 MLP has 785 w + 10 (w + 1) = 795 w + 10 parameters: solve "
        "795 w + 10 = 55 050 for w and round to the nearest whole width.")


def check_3(answer: Any) -> str:
    """``(parameters, float32 bytes, bfloat16 bytes)`` of 24 layers, d = 2 048, BERT's 30 522 tokens, 512 positions."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        raise ExerciseNotSolved("pass a tuple (parameters, bytes in float32, bytes in bfloat16), "
                                f"got {answer!r}")
    n, b32, b16 = (_integer(v, what) for v, what in zip(answer, ("the parameter count", "the float32 bytes",
                                                                  "the bfloat16 bytes")))
    expected = transformer_params(24, 2048, 30522, 512)
    layers_only = 24 * (12 * 2048**2 + 13 * 2048)
    if n != expected:
        if n == layers_only:
            raise ExerciseNotSolved("that is the 24 layers alone: add the token and position embeddings "
                                    "(30 522 + 512) x 2 048 and the embedding layer norm, as transformer_params does.")
        if n == 24 * 12 * 2048**2:
            raise ExerciseNotSolved("12 d^2 per layer leaves out the biases and layer norms (13 d per layer) "
                                    "and the embeddings: use transformer_params(24, 2048, 30522, 512).")
        raise ExerciseNotSolved(f"{n:,d} parameters is not right: transformer_params(24, 2048, 30522, 512) "
                                f"counts {expected:,d}.")
    if b32 != 4 * n:
        raise ExerciseNotSolved(f"a float32 number takes 4 bytes, so the weights take 4 x {n:,d} bytes, "
                                f"not {b32:,d}.")
    if b16 != 2 * n:
        raise ExerciseNotSolved(f"a bfloat16 number takes 2 bytes, so the weights take 2 x {n:,d} bytes, "
                                f"not {b16:,d}.")
    return f"({n / 1e6:,.0f} million parameters: {b32 / 2**30:.2f} GiB in float32, {b16 / 2**30:.2f} GiB in bfloat16)"


CHECKS = {1: check_1, 3: check_3}
