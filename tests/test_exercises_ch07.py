"""Chapter 07's checked exercises: the solutions pass, starters and typical mistakes fail with a hint."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises import ExerciseNotSolved, check_exercise


def kl_to_prior(z_mean, z_log_var):                       # the solution in the notebook
    return -0.5 * np.sum(1 + z_log_var - np.square(z_mean) - np.exp(z_log_var), axis=1)


def generator_loss(logits):                               # the solution in the notebook
    return float(np.mean(np.logaddexp(0.0, -np.asarray(logits))))


def starter(*args):
    raise NotImplementedError("Exercise 1: the closed form of the KL term")


@pytest.mark.parametrize("number, answer", [(1, kl_to_prior), (2, {1: (206.1, 4.99), 4: (207.0, 1.81)}),
                                            (3, generator_loss)])
def test_solutions_pass(number, answer, capsys):
    check_exercise("07", number, answer)
    assert f"Exercise {number} (chapter 07): correct." in capsys.readouterr().out


@pytest.mark.parametrize("number", [1, 2, 3])
def test_starters_are_not_done(number):
    # exercises 1 and 3 start from a function that raises; exercise 2's starter leaves beta_terms = None
    if number != 2:
        with pytest.raises(ExerciseNotSolved, match="not done yet"):
            check_exercise("07", number, starter)
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("07", number, None)


@pytest.mark.parametrize("wrong, message", [
    (lambda m, lv: -0.5 * (1 + lv - m**2 - np.exp(lv)), "sum over the latent dimensions"),
    (lambda m, lv: float(np.mean(kl_to_prior(m, lv))), "single number"),
    (lambda m, lv: -np.sum(1 + lv - m**2 - np.exp(lv), axis=1), "twice the right value"),
    (lambda m, lv: 0.5 * np.sum(1 + lv - m**2 - np.exp(lv), axis=1), "sign is wrong"),
    (lambda m, lv: -0.5 * np.sum(1 + np.log(lv**2 + 1e-300) - m**2 - lv**2, axis=1), "exp\\(z_log_var\\)"),
    (lambda m, lv: np.sum(m**2, axis=1), "use KL = -1/2"),
    ("kl", "pass the function itself"),
])
def test_kl_mistakes_get_hints(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("07", 1, wrong)


@pytest.mark.parametrize("wrong, message", [
    ({1: (206.1, 4.99), 4: (190.0, 9.5)}, "multiply the KL term by beta, not the reconstruction"),
    ({1: (206.1, 4.99), 4: (206.1, 4.99)}, "same terms"),
    ({1: (206.1, 4.99), 4: (206.5, 4.6)}, "barely moved"),
    ({1: (206.1, 4.99)}, "no entry for beta = 4"),
    ({1: (206.1, 4.99), 4: 1.81}, "should be a pair"),
    ({1: (206.1, -4.99), 4: (207.0, 1.81)}, "non-negative"),
    ([206.1, 4.99], "should be a dict"),
])
def test_beta_vae_mistakes_get_hints(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("07", 2, wrong)


@pytest.mark.parametrize("wrong, message", [
    (lambda x: float(np.mean(-np.log(1 / (1 + np.exp(-x))))), "overflows"),
    (lambda x: float(np.mean(-np.logaddexp(0.0, x))), "saturating loss"),
    (lambda x: float(np.mean(np.logaddexp(0.0, x))), "discriminator's loss"),
    (lambda x: float(np.sum(np.logaddexp(0.0, -x))), "mean over the batch, not the sum"),
    (lambda x: np.logaddexp(0.0, -x), "return one number"),
    (lambda x: float(np.mean(x)), "softplus\\(-logit\\)"),
])
def test_generator_loss_mistakes_get_hints(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("07", 3, wrong)
