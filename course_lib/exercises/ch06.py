"""Checks for chapter 06's code exercises (attention and Transformers).

1. ``causal_mask(T)`` returns the ``(T, T)`` boolean mask of a decoder: True where query ``i`` may
   attend to key ``j``, i.e. ``j <= i``.
2. ``stds`` maps ``d_k`` (4, 64 and 1024) to the measured standard deviation of ``q . k`` for random
   unit-variance queries and keys (it grows like ``sqrt(d_k)``).
3. ``mha_params(d_model, num_heads, key_dim)`` returns the parameter count of
   ``keras.layers.MultiHeadAttention(num_heads, key_dim)`` on inputs of width ``d_model``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from course_lib.exercises import ExerciseNotSolved, require_function

__all__ = ["CHECKS", "check_1", "check_2", "check_3"]

_MHA_CASES = [(16, 4, 8), (64, 2, 32), (384, 12, 32), (10, 1, 3)]



def check_1(answer: Callable) -> str:
    """``answer`` is ``causal_mask(T) -> (T, T)`` booleans, True on and below the diagonal."""
    causal_mask = require_function(answer, "causal_mask")
    for t in (5, 7, 1):
        got = np.asarray(causal_mask(t))
        if got.shape != (t, t):
            raise ExerciseNotSolved(f"causal_mask({t}) has shape {got.shape}, expected ({t}, {t}): "
                                    "one row per query, one column per key")
        got = got.astype(bool)
        expected = np.tril(np.ones((t, t), bool))
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, expected.T):
            hint = "this lets each query see the later keys: row i must be True for the keys j <= i"
        elif np.array_equal(got, np.tril(expected, -1)):
            hint = "each query may also attend to itself: keep the diagonal"
        elif np.array_equal(got, ~expected):
            hint = "True marks the keys a query MAY attend to (Keras' attention_mask convention)"
        else:
            hint = "row i must be True for columns 0..i and False after them (np.tril)"
        raise ExerciseNotSolved(f"causal_mask({t}) is wrong: {hint}")
    return "query i attends to keys 0..i."


def check_2(answer: Any) -> str:
    """``answer`` maps 4, 64 and 1024 to the measured std of ``q . k``."""
    if not isinstance(answer, dict):
        raise ExerciseNotSolved(f"stds should be a dict {{d_k: standard deviation}}, got {type(answer).__name__}")
    missing = [d for d in (4, 64, 1024) if d not in answer]
    if missing:
        raise ExerciseNotSolved(f"stds has no entry for d_k = {missing}: measure d_k = 4, 64 and 1024")
    for d in (4, 64, 1024):
        value = float(answer[d])
        if abs(value - np.sqrt(d)) <= 0.1 * np.sqrt(d):
            continue
        if abs(value - d) <= 0.1 * d:
            hint = "that is the variance (d_k); take the standard deviation"
        elif abs(value - 1) <= 0.1:
            hint = "that is the std after dividing by sqrt(d_k); measure the raw dot products"
        else:
            hint = "use standard normal q and k with d_k components each, and a few thousand pairs"
        raise ExerciseNotSolved(f"std(q . k) for d_k = {d} is {value:.3g}, expected about {np.sqrt(d):.3g}: {hint}")
    return "the spread grows like sqrt(d_k), which the scaling removes."


def check_3(answer: Callable) -> str:
    """``answer`` is ``mha_params(d_model, num_heads, key_dim) -> int``."""
    mha_params = require_function(answer, "mha_params")
    for d_model, heads, key_dim in _MHA_CASES:
        inner = heads * key_dim
        expected = 3 * (d_model * inner + inner) + inner * d_model + d_model
        got = mha_params(d_model, heads, key_dim)
        if got == expected:
            continue
        if got == 4 * d_model * inner:
            hint = "every projection also has a bias: H * key_dim for Q, K, V and d_model for the output"
        elif got == 3 * (d_model * inner + inner):
            hint = "the output projection (H * key_dim -> d_model, with bias) is missing"
        elif got == expected - d_model:
            hint = "the output projection has a bias of d_model values too"
        else:
            hint = ("Q, K and V: d_model * H * key_dim weights + H * key_dim biases each; "
                    "output: H * key_dim * d_model + d_model")
        raise ExerciseNotSolved(f"mha_params({d_model}, {heads}, {key_dim}) = {got!r}, expected {expected}: {hint}")
    return f"{len(_MHA_CASES)} layer shapes checked."


CHECKS = {1: check_1, 2: check_2, 3: check_3}
