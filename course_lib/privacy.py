"""Differentially private SGD (DP-SGD, 差分隐私随机梯度下降): the pieces and the accountant.

DP-SGD (Abadi et al., 2016) changes one thing in a training step: instead of averaging the
batch's gradient, it

1. computes the gradient of **each example** separately,
2. clips each one to L2 norm at most ``C`` (``l2_norm_clip``), so no single example can move
   the model by more than ``C``,
3. sums them and adds Gaussian noise with standard deviation ``sigma * C``
   (``noise_multiplier`` ``sigma``), and divides by the expected batch size.

Batches are drawn by **Poisson sampling**: every example joins a step's batch independently
with probability ``q``. That is the sampling the privacy analysis assumes; shuffled fixed-size
batches are what most code uses, but the accountant below is then not exact for them.

The privacy budget (隐私预算) epsilon for ``steps`` such steps at a chosen ``delta`` comes from
the maintained ``dp_accounting`` package (Google's differential-privacy library): a Rényi-DP
(RDP) accountant or a privacy-loss-distribution (PLD) accountant for the Poisson-subsampled
Gaussian mechanism, composed ``steps`` times.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

from course_lib._validate import check_number, positive_int, positive_number

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["per_example_norms", "clip_and_noise", "poisson_batch", "dp_sgd_epsilon",
           "DEFAULT_RDP_ORDERS"]

#: Rényi orders searched by the RDP accountant (the usual grid, as in TensorFlow Privacy).
DEFAULT_RDP_ORDERS: tuple[float, ...] = tuple([1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
                                               + [128, 256, 512])


def _sampling_probability(value: float) -> float:
    return check_number("sampling_probability", value, above=0, at_most=1)


def per_example_norms(per_example_grads: Sequence["tf.Tensor"]) -> "tf.Tensor":
    """Global L2 norm of each example's gradient over all variables: shape (batch,).

    ``per_example_grads[k]`` has shape ``(batch, *variable_k.shape)``.
    """
    import tensorflow as tf

    if not per_example_grads:
        raise ValueError("per_example_grads is empty: pass one (batch, ...) tensor per variable")
    squares = [tf.reduce_sum(tf.reshape(tf.square(g), [tf.shape(g)[0], -1]), axis=1) for g in per_example_grads]
    return tf.sqrt(tf.add_n(squares))


def clip_and_noise(per_example_grads: Sequence["tf.Tensor"], l2_norm_clip: float, noise_multiplier: float,
                   expected_batch_size: float, generator: "tf.random.Generator | None" = None) -> list["tf.Tensor"]:
    """The DP-SGD gradient: clip each example's gradient to norm ``l2_norm_clip``, sum, add
    ``N(0, (noise_multiplier * l2_norm_clip)^2)`` noise to every coordinate, divide by
    ``expected_batch_size`` (``q * N`` under Poisson sampling; dividing by the actual batch
    size would leak it).

    ``generator`` (a ``tf.random.Generator``) makes the noise reproducible; the global
    generator is used when it is None. Works eagerly and inside ``tf.function``; an empty
    batch (possible with Poisson sampling) gives pure noise.
    """
    import tensorflow as tf

    l2_norm_clip = positive_number("l2_norm_clip", l2_norm_clip)
    noise_multiplier = positive_number("noise_multiplier", noise_multiplier, allow_zero=True)
    expected_batch_size = positive_number("expected_batch_size", expected_batch_size)
    norms = per_example_norms(per_example_grads)
    scale = tf.minimum(1.0, l2_norm_clip / tf.maximum(norms, 1e-12))  # (batch,)
    gen = generator if generator is not None else tf.random.get_global_generator()
    out = []
    for g in per_example_grads:
        # scale (batch,) reshaped to (batch, 1, ..., 1) so it broadcasts over each example's gradient
        factor = tf.reshape(tf.cast(scale, g.dtype),
                            tf.concat([tf.shape(scale), tf.ones([tf.rank(g) - 1], tf.int32)], 0))
        summed = tf.reduce_sum(g * factor, axis=0)
        noise = gen.normal(tf.shape(summed), stddev=noise_multiplier * l2_norm_clip, dtype=g.dtype)
        out.append((summed + noise) / expected_batch_size)
    return out


def poisson_batch(n: int, sampling_probability: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of one Poisson-sampled batch: each of ``n`` examples joins with probability ``q``."""
    n = positive_int("n", n)
    q = _sampling_probability(sampling_probability)
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    return np.flatnonzero(rng.random(int(n)) < q)


def dp_sgd_epsilon(noise_multiplier: float, sampling_probability: float, steps: int, delta: float,
                   accountant: str = "rdp", orders: Sequence[float] | None = None) -> float:
    """Epsilon of ``steps`` DP-SGD steps with Poisson sampling rate ``q`` at ``delta``.

    ``accountant="rdp"`` (Rényi DP, Mironov 2017) or ``"pld"`` (privacy loss distributions,
    tighter). ``noise_multiplier=0`` (no noise) gives ``math.inf``: no privacy guarantee.
    Choose ``delta`` well below ``1 / N`` (e.g. 1e-5 for N = 60 000).
    """
    import dp_accounting

    sigma = positive_number("noise_multiplier", noise_multiplier, allow_zero=True)
    q = _sampling_probability(sampling_probability)
    steps = positive_int("steps", steps)
    delta = check_number("delta", delta, above=0, below=1)
    if sigma == 0:
        return math.inf
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), int(steps))
    if accountant == "rdp":
        acc = dp_accounting.rdp.RdpAccountant(list(orders or DEFAULT_RDP_ORDERS))
    elif accountant == "pld":
        acc = dp_accounting.pld.PLDAccountant()
    else:
        raise ValueError(f"accountant must be 'rdp' or 'pld', got {accountant!r}")
    acc.compose(event)
    return float(acc.get_epsilon(delta))
