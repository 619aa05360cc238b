"""Checks for chapter 07's code exercises (generative models).

1. ``kl_to_prior(z_mean, z_log_var)`` returns, for each row, the KL divergence
   ``KL(N(mu, diag sigma^2) || N(0, I))`` in nats, summed over the latent dimensions, from the
   encoder's two heads (the mean and the log-variance), as NumPy arrays of shape ``(batch, latent)``.
2. ``beta_terms`` is a dict ``{1: (reconstruction, kl), 4: (reconstruction, kl)}``: the test-set
   loss terms of a plain VAE and of a beta-VAE with beta = 4, trained the same short way. The check
   reads what the training produced (no training here): the KL term must be clearly smaller at
   beta = 4.
3. ``generator_loss(logits)`` returns the non-saturating generator loss ``mean(-log D(G(z)))``
   from the discriminator's logits on generated images, ``D = sigmoid(logit)``, without overflow
   or ``inf`` for very negative logits (a discriminator that is sure the images are fake).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from course_lib.exercises import ExerciseNotSolved, require_function

__all__ = ["CHECKS", "check_1", "check_2", "check_3"]


def _kl_reference(z_mean: np.ndarray, z_log_var: np.ndarray) -> np.ndarray:
    return -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)


def _kl_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    return [(np.zeros((3, 2)), np.zeros((3, 2))),                      # q = p: KL 0
            (np.array([[2.5, 0.5]]), np.log(np.array([[0.5, 0.1]]) ** 2)),  # the chapter's worked example
            (rng.normal(size=(5, 2)), rng.normal(scale=0.7, size=(5, 2))),
            (rng.normal(size=(4, 6)), rng.normal(scale=0.5, size=(4, 6)))]


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _as_array(value: Any, what: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ExerciseNotSolved(f"{what} should be numbers (a NumPy array), got {type(value).__name__}") from None



def check_1(answer: Callable[[np.ndarray, np.ndarray], Any]) -> str:
    """``answer`` is ``kl_to_prior(z_mean, z_log_var) -> array of shape (batch,)``."""
    require_function(answer, "kl_to_prior")
    for z_mean, z_log_var in _kl_cases():
        expected = _kl_reference(z_mean, z_log_var)
        got = _as_array(answer(z_mean.copy(), z_log_var.copy()), "kl_to_prior's result")
        if got.shape == z_mean.shape:
            raise ExerciseNotSolved(f"kl_to_prior returned shape {got.shape}, one value per latent dimension: "
                                    "sum over the latent dimensions (axis=1) to get one KL per image, shape "
                                    f"{expected.shape}")
        if got.shape == ():
            raise ExerciseNotSolved("kl_to_prior returned a single number: return one KL per row (sum over "
                                    f"axis=1 only), shape {expected.shape}; the model averages over the batch later")
        if got.shape != expected.shape:
            raise ExerciseNotSolved(f"kl_to_prior returned shape {got.shape}, expected {expected.shape} "
                                    "(one value per row of z_mean)")
        if np.allclose(got, expected, rtol=1e-5, atol=1e-6):
            continue
        sigma = np.exp(0.5 * z_log_var)
        as_if_sigma = -0.5 * np.sum(1 + np.log(z_log_var**2 + 1e-300) - z_mean**2 - z_log_var**2, axis=1)
        if np.allclose(got, 2 * expected, rtol=1e-5, atol=1e-6):
            hint = "it is twice the right value: the closed form has a factor -1/2 in front of the sum"
        elif np.allclose(got, -expected, rtol=1e-5, atol=1e-6):
            hint = "the sign is wrong: a KL divergence is never negative (-1/2 * sum(1 + log s^2 - mu^2 - s^2))"
        elif np.allclose(got, as_if_sigma, rtol=1e-5, atol=1e-6) or np.allclose(
                got, -0.5 * np.sum(1 + z_log_var - z_mean**2 - sigma, axis=1), rtol=1e-5, atol=1e-6):
            hint = ("z_log_var is log(sigma^2): the variance is exp(z_log_var), and log sigma^2 is z_log_var "
                    "itself")
        else:
            hint = "use KL = -1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2), with sigma^2 = exp(z_log_var)"
        rows = ", ".join(f"{v:.4f}" for v in got[:3])
        want = ", ".join(f"{v:.4f}" for v in expected[:3])
        raise ExerciseNotSolved(f"kl_to_prior gives [{rows}, ...] where [{want}, ...] is expected: {hint}")
    return "it is 0 when q(z|x) equals the prior and 5.3757 for the article's example."


_LOGITS = np.array([-1000.0, -30.0, -6.0, -3.0, 0.0, 3.0, 30.0])


def check_2(answer: Any) -> str:
    """``answer`` is ``{1: (reconstruction, kl), 4: (reconstruction, kl)}`` measured on test digits."""
    if not isinstance(answer, dict):
        raise ExerciseNotSolved("beta_terms should be a dict {1: (reconstruction, kl), 4: (reconstruction, kl)}, "
                                f"got {type(answer).__name__}")
    terms = {}
    for beta in (1, 4):
        if beta not in answer:
            raise ExerciseNotSolved(f"beta_terms has no entry for beta = {beta}: it needs the keys 1 and 4")
        pair = answer[beta]
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ExerciseNotSolved(f"beta_terms[{beta}] should be a pair (reconstruction, kl), got {pair!r}")
        rec, kl = (float(_as_array(v, f"beta_terms[{beta}]")) for v in pair)
        if not (np.isfinite(rec) and np.isfinite(kl)) or rec <= 0 or kl < 0:
            raise ExerciseNotSolved(f"beta_terms[{beta}] = ({rec:.4g}, {kl:.4g}): both terms are non-negative "
                                    "numbers of nats per image (the reconstruction is positive); pass the "
                                    "'reconstruction_loss' and 'kl_loss' that evaluate() returns")
        terms[beta] = (rec, kl)
    (rec1, kl1), (rec4, kl4) = terms[1], terms[4]
    if np.isclose(kl1, kl4) and np.isclose(rec1, rec4):
        raise ExerciseNotSolved("both models give the same terms: the beta = 4 model must use its own train_step, "
                                "with loss = rec + beta * kl, and start from the same initial weights")
    if kl4 > kl1:
        raise ExerciseNotSolved(f"the KL term is larger at beta = 4 ({kl4:.2f}) than at beta = 1 ({kl1:.2f}): "
                                "multiply the KL term by beta, not the reconstruction term")
    if kl4 > 0.8 * kl1:
        raise ExerciseNotSolved(f"the KL term barely moved ({kl1:.2f} -> {kl4:.2f}): is beta = 4 applied in the "
                                "loss that the gradient is taken of (train_step), not only in the reported "
                                "metrics?")
    trade = ("with a worse reconstruction" if rec4 >= rec1 else
             "(the reconstruction did not get worse here: two short epochs are far from convergence)")
    return (f"KL {kl1:.2f} -> {kl4:.2f} nats, reconstruction {rec1:.1f} -> {rec4:.1f}: a larger beta buys a "
            f"code closer to the prior {trade}.")


def check_3(answer: Callable[[np.ndarray], Any]) -> str:
    """``answer`` is ``generator_loss(logits) -> float``, the non-saturating loss."""
    require_function(answer, "generator_loss")
    for logits in (_LOGITS[2:6], _LOGITS, np.array([0.0]), np.linspace(-5, 5, 11)):
        expected = float(np.mean(_softplus(-logits)))
        with np.errstate(all="ignore"):
            raw = answer(logits.copy())
        got = _as_array(raw, "generator_loss's result")
        if got.shape not in ((), (1,)):
            raise ExerciseNotSolved(f"generator_loss returned shape {got.shape}: return one number, the mean "
                                    "over the batch")
        got = float(got.reshape(()))
        if np.isclose(got, expected, rtol=1e-5, atol=1e-6):
            continue
        saturating = float(np.mean(-_softplus(logits)))
        if not np.isfinite(got):
            hint = ("it overflows for very negative logits (D = sigmoid(-1000) rounds to 0 and log 0 = -inf): "
                    "write -log(sigmoid(l)) as softplus(-l) = log(1 + exp(-l)), e.g. np.logaddexp(0, -l)")
        elif np.isclose(got, saturating, rtol=1e-5, atol=1e-6):
            hint = ("that is the saturating loss log(1 - D(G(z))), flat where D rejects the fakes; the "
                    "non-saturating one is -log D(G(z)) = softplus(-logit)")
        elif np.isclose(got, float(np.mean(_softplus(logits))), rtol=1e-5, atol=1e-6):
            hint = ("that is -log(1 - D), the discriminator's loss on fakes; the generator wants D(G(z)) high: "
                    "-log D = softplus(-logit)")
        elif np.isclose(got, float(np.sum(_softplus(-logits))), rtol=1e-5, atol=1e-6) and len(logits) > 1:
            hint = "take the mean over the batch, not the sum"
        else:
            hint = "the loss is mean(-log sigmoid(logit)) = mean(softplus(-logit))"
        raise ExerciseNotSolved(f"generator_loss({np.round(logits, 1).tolist()}) gives {got:.6g}, "
                                f"expected {expected:.6g}: {hint}")
    return "it stays finite for a logit of -1000 (that image contributes a loss of 1000)."


CHECKS = {1: check_1, 2: check_2, 3: check_3}
