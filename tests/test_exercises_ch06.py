"""Chapter 06's exercise checks pass the solutions and fail starters and typical wrong answers."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises import ExerciseNotSolved, check_exercise


def causal_mask(length):
    return np.tril(np.ones((length, length), bool))


def mha_params(d_model, num_heads, key_dim):
    inner = num_heads * key_dim
    return 3 * (d_model * inner + inner) + inner * d_model + d_model


def measured_stds(seed=2):
    rng = np.random.default_rng(seed)
    stds = {}
    for d in (4, 64, 1024):
        q, k = rng.standard_normal((2000, d)), rng.standard_normal((2000, d))
        stds[d] = float(np.einsum("nd,nd->n", q, k).std())
    return stds


def test_solutions_pass(capsys):
    check_exercise("06", 1, causal_mask)
    check_exercise("06", 2, measured_stds())
    check_exercise("06", 3, mha_params)
    out = capsys.readouterr().out
    assert all(f"Exercise {n} (chapter 06): correct." in out for n in (1, 2, 3))


def test_keras_agrees_with_the_parameter_formula():
    import keras

    layer = keras.layers.MultiHeadAttention(num_heads=4, key_dim=8)
    x = np.zeros((1, 3, 16), "float32")
    layer(x, x)
    assert layer.count_params() == mha_params(16, 4, 8)


@pytest.mark.parametrize("number", [1, 2, 3])
def test_starters_are_not_done(number):
    def starter(*args):
        raise NotImplementedError(f"Exercise {number}: write it")

    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("06", number, None)
    if number != 2:
        with pytest.raises(ExerciseNotSolved, match="not done yet"):
            check_exercise("06", number, starter)


@pytest.mark.parametrize("wrong, message", [
    (lambda t: np.triu(np.ones((t, t), bool)), "later keys"),
    (lambda t: np.tril(np.ones((t, t), bool), -1), "attend to itself"),
    (lambda t: ~np.tril(np.ones((t, t), bool)), "MAY attend"),
    (lambda t: np.ones((t, t + 1), bool), "shape"),
])
def test_wrong_causal_masks_are_caught(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("06", 1, wrong)


def test_variance_instead_of_std_is_caught():
    with pytest.raises(ExerciseNotSolved, match="variance"):
        check_exercise("06", 2, {d: s ** 2 for d, s in measured_stds().items()})
    with pytest.raises(ExerciseNotSolved, match="after dividing"):
        check_exercise("06", 2, {4: 1.0, 64: 1.01, 1024: 0.99})
    with pytest.raises(ExerciseNotSolved, match="no entry for d_k"):
        check_exercise("06", 2, {4: 2.0})


@pytest.mark.parametrize("wrong, message", [
    (lambda d, h, k: 4 * d * h * k, "also has a bias"),
    (lambda d, h, k: 3 * (d * h * k + h * k), "output projection"),
    (lambda d, h, k: mha_params(d, h, k) - d, "bias of d_model"),
])
def test_wrong_parameter_counts_are_caught(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("06", 3, wrong)
