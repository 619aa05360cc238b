"""course_lib.privacy: per-example clipping, Gaussian noise, Poisson batches, the accountant."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from course_lib.privacy import clip_and_noise, dp_sgd_epsilon, per_example_norms, poisson_batch


def _grads():
    # 3 examples, two "variables": a (3, 2) matrix-shaped one and a (3,) bias-shaped one
    w = tf.constant([[[3.0, 0.0]], [[0.0, 0.3]], [[6.0, 8.0]]])  # (3, 1, 2)
    b = tf.constant([[4.0], [0.4], [0.0]])                       # (3, 1)
    return [w, b]


def test_per_example_norms_cover_all_variables():
    np.testing.assert_allclose(per_example_norms(_grads()).numpy(), [5.0, 0.5, 10.0], rtol=1e-6)


def test_clipping_without_noise_bounds_each_example():
    out = clip_and_noise(_grads(), l2_norm_clip=1.0, noise_multiplier=0.0, expected_batch_size=1.0)
    # example 0 (norm 5) scaled by 1/5, example 1 (norm 0.5) kept, example 2 (norm 10) scaled by 1/10
    np.testing.assert_allclose(out[0].numpy(), [[0.6 + 0.0 + 0.6, 0.0 + 0.3 + 0.8]], rtol=1e-6)
    np.testing.assert_allclose(out[1].numpy(), [0.8 + 0.4 + 0.0], rtol=1e-6)


def test_division_by_expected_batch_size():
    a = clip_and_noise(_grads(), 1.0, 0.0, expected_batch_size=1.0)
    b = clip_and_noise(_grads(), 1.0, 0.0, expected_batch_size=4.0)
    np.testing.assert_allclose(b[0].numpy() * 4, a[0].numpy(), rtol=1e-6)


def test_noise_has_the_promised_standard_deviation():
    zeros = [tf.zeros((2, 20_000))]
    out = clip_and_noise(zeros, l2_norm_clip=0.5, noise_multiplier=2.0, expected_batch_size=1.0,
                         generator=tf.random.Generator.from_seed(1))
    assert out[0].shape == (20_000,)
    assert abs(float(tf.math.reduce_std(out[0])) - 1.0) < 0.03  # sigma * C = 2.0 * 0.5
    again = clip_and_noise(zeros, 0.5, 2.0, 1.0, generator=tf.random.Generator.from_seed(1))
    np.testing.assert_array_equal(out[0].numpy(), again[0].numpy())


def test_clip_and_noise_works_inside_tf_function():
    gen = tf.random.Generator.from_seed(0)

    @tf.function
    def step(g):
        return clip_and_noise([g], 1.0, 1.0, 8.0, generator=gen)

    assert step(tf.ones((8, 3)))[0].shape == (3,)


@pytest.mark.parametrize("kwargs, error", [
    (dict(l2_norm_clip=0.0), ValueError),
    (dict(l2_norm_clip=-1.0), ValueError),
    (dict(noise_multiplier=-0.1), ValueError),
    (dict(expected_batch_size=0), ValueError),
    (dict(noise_multiplier="1"), TypeError),
])
def test_clip_and_noise_rejects_bad_input(kwargs, error):
    args = dict(l2_norm_clip=1.0, noise_multiplier=1.0, expected_batch_size=4.0)
    args.update(kwargs)
    with pytest.raises(error):
        clip_and_noise(_grads(), **args)


def test_per_example_norms_rejects_empty():
    with pytest.raises(ValueError, match="empty"):
        per_example_norms([])


def test_poisson_batch_rate():
    rng = np.random.default_rng(0)
    sizes = [len(poisson_batch(10_000, 0.01, rng)) for _ in range(200)]
    assert abs(np.mean(sizes) - 100) < 3
    assert np.std(sizes) > 5  # variable batch sizes, as Poisson sampling implies
    idx = poisson_batch(50, 1.0, rng)
    np.testing.assert_array_equal(idx, np.arange(50))


@pytest.mark.parametrize("args, error", [
    ((0, 0.1), ValueError),
    ((10, 0.0), ValueError),
    ((10, 1.5), ValueError),
])
def test_poisson_batch_rejects_bad_input(args, error):
    with pytest.raises(error):
        poisson_batch(*args, np.random.default_rng(0))


def test_poisson_batch_needs_a_generator():
    with pytest.raises(TypeError, match="Generator"):
        poisson_batch(10, 0.5, 0)


def test_epsilon_two_independent_accountants_agree():
    # the MNIST setting of Abadi et al. (2016): q = 256/60000, sigma = 1.1, 60 epochs, delta = 1e-5.
    # RDP and PLD accounting are different analyses of the same mechanism: RDP is an upper
    # bound, PLD nearly exact, and here they agree to within 20%, both in the low single digits.
    q = 256 / 60_000
    rdp = dp_sgd_epsilon(1.1, q, int(60 / q), 1e-5)
    pld = dp_sgd_epsilon(1.1, q, int(60 / q), 1e-5, accountant="pld")
    assert 1.0 < pld <= rdp < 1.2 * pld < 5.0


def test_epsilon_monotonicity_and_accountants():
    base = dp_sgd_epsilon(1.0, 0.01, 1000, 1e-5)
    assert dp_sgd_epsilon(2.0, 0.01, 1000, 1e-5) < base        # more noise, smaller epsilon
    assert dp_sgd_epsilon(1.0, 0.01, 4000, 1e-5) > base        # more steps, larger epsilon
    assert dp_sgd_epsilon(1.0, 0.01, 1000, 1e-3) < base        # larger delta, smaller epsilon
    pld = dp_sgd_epsilon(1.0, 0.01, 1000, 1e-5, accountant="pld")
    assert 0.5 * base < pld <= base * 1.01                     # PLD is tighter than RDP
    assert dp_sgd_epsilon(0.0, 0.01, 10, 1e-5) == math.inf


@pytest.mark.parametrize("args, kwargs", [
    ((1.0, 0.0, 10, 1e-5), {}),
    ((1.0, 1.2, 10, 1e-5), {}),
    ((1.0, 0.1, 0, 1e-5), {}),
    ((1.0, 0.1, 10, 1.0), {}),
    ((1.0, 0.1, 10, 0.0), {}),
    ((-1.0, 0.1, 10, 1e-5), {}),
    ((1.0, 0.1, 10, 1e-5), dict(accountant="moments")),
])
def test_epsilon_rejects_bad_input(args, kwargs):
    with pytest.raises(ValueError):
        dp_sgd_epsilon(*args, **kwargs)
