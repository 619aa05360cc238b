"""Checks for chapter 11's exercises (a GPT from scratch)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_lib.exercises import ExerciseNotSolved, require_function
from course_lib.gpt import parameter_count



def check_1(perplexity: Any) -> str:
    """Exercise 1: ``perplexity(loss_in_nats)`` is e to the power of the loss."""
    perplexity = require_function(perplexity, "perplexity(loss)")
    uniform = float(perplexity(math.log(65)))
    if math.isclose(uniform, 2 ** math.log(65), rel_tol=1e-6):
        raise ExerciseNotSolved("perplexity(log 65) gave 2 ** loss: the losses here are in nats (natural log), "
                                "so perplexity is math.exp(loss); 2 ** loss is for losses in bits")
    if not math.isclose(uniform, 65.0, rel_tol=1e-6):
        raise ExerciseNotSolved(f"a uniform guess over 65 characters has loss log(65) = {math.log(65):.3f} nats "
                                f"and perplexity 65, but perplexity(log 65) returned {uniform!r}")
    for loss in (0.0, 1.0, 2.269):
        if not math.isclose(float(perplexity(loss)), math.exp(loss), rel_tol=1e-6):
            raise ExerciseNotSolved(f"perplexity({loss}) should be e^{loss} = {math.exp(loss):.4f}, "
                                    f"got {perplexity(loss)!r}")
    return "A perplexity of k means as unsure as a uniform choice among k characters."


def check_2(softmax_with_temperature: Any) -> str:
    """Exercise 2: ``softmax_with_temperature(logits, t)`` is softmax(logits / t)."""
    fn = require_function(softmax_with_temperature, "softmax_with_temperature(logits, temperature)")
    logits = np.array([2.0, 1.0, 0.5, -1.0])
    p1 = np.asarray(fn(logits, 1.0), dtype="float64")
    if p1.shape != logits.shape:
        raise ExerciseNotSolved(f"return one probability per logit: shape {logits.shape}, got {p1.shape}")
    if not math.isclose(float(p1.sum()), 1.0, rel_tol=1e-6):
        raise ExerciseNotSolved(f"probabilities must sum to 1, got {float(p1.sum()):.6f}: did you normalise?")
    expected1 = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    if not np.allclose(p1, expected1, atol=1e-6):
        raise ExerciseNotSolved(f"at temperature 1 the answer must be the plain softmax {expected1.round(4)}, "
                                f"got {p1.round(4)}")
    p_half = np.asarray(fn(logits, 0.5), dtype="float64")
    z = logits / 0.5
    expected_half = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    if not np.allclose(p_half, expected_half, atol=1e-6):
        z_wrong = logits * 0.5
        wrong = np.exp(z_wrong - z_wrong.max()) / np.exp(z_wrong - z_wrong.max()).sum()
        if np.allclose(p_half, wrong, atol=1e-6):
            raise ExerciseNotSolved("the logits were multiplied by the temperature; divide them by it: a low "
                                    "temperature must sharpen the distribution, not flatten it")
        raise ExerciseNotSolved(f"at temperature 0.5 expected softmax(logits / 0.5) = {expected_half.round(4)}, "
                                f"got {p_half.round(4)}")
    cold = np.asarray(fn(logits * 40, 0.01), dtype="float64")   # huge logits / tiny temperature
    if not np.all(np.isfinite(cold)):
        raise ExerciseNotSolved("softmax overflowed at a small temperature (nan or inf): subtract the largest "
                                "scaled logit before exp")
    if cold.argmax() != 0 or cold[0] < 0.999:
        raise ExerciseNotSolved("at temperature 0.01 almost all mass must go to the largest logit, "
                                f"got {cold.round(4)}")
    return "As the temperature goes to 0 the distribution becomes one-hot: sampling becomes greedy decoding."


def check_3(embedding_share: Any) -> str:
    """Exercise 3: ``embedding_share(V, T, C, L)``: (V C + T C) / all parameters (tied output)."""
    fn = require_function(embedding_share, "embedding_share(V, T, C, L)")
    cases = {"GPT-3": (50257, 2048, 12288, 96), "this chapter": (65, 64, 128, 2)}
    for name, (v, t, c, depth) in cases.items():
        right = (v * c + t * c) / parameter_count(v, t, c, depth)
        got = float(fn(v, t, c, depth))
        if math.isclose(got, v * c / parameter_count(v, t, c, depth), rel_tol=1e-6):
            raise ExerciseNotSolved(f"{name}: the position embeddings (T x C) are embeddings too; add them")
        if math.isclose(got, right * 100, rel_tol=1e-6):
            raise ExerciseNotSolved(f"{name}: return a share between 0 and 1, not a percentage")
        if not math.isclose(got, right, rel_tol=1e-6):
            raise ExerciseNotSolved(f"{name}: expected (V*C + T*C) / gpt.parameter_count(V, T, C, L) = {right:.5f}, "
                                    f"got {got!r}")
    return "Embeddings grow with C, the blocks with 12 C^2 per layer: wide models are almost all blocks."


def check_4(lora_parameters: Any) -> str:
    """Exercise 4: ``lora_parameters(rank)``: rank (d_in + d_out) for each of 12 matrices of 384 x 384."""
    fn = require_function(lora_parameters, "lora_parameters(rank)")
    for rank in (1, 8, 64, 192):
        right = 12 * rank * (384 + 384)
        got = int(fn(rank))
        if got == 12 * rank * 384:
            raise ExerciseNotSolved(f"rank {rank}: LoRA has two factors, A (rank x 384) and B (384 x rank); "
                                    "count both")
        if got == rank * 768:
            raise ExerciseNotSolved(f"rank {rank}: that is one matrix; there are 12 (query and value of 6 layers)")
        if got != right:
            raise ExerciseNotSolved(f"rank {rank}: expected 12 x {rank} x (384 + 384) = {right:,}, got {got:,}")
    return "At rank 192, r (d_in + d_out) = d_in d_out: from there on LoRA saves nothing."


CHECKS = {1: check_1, 2: check_2, 3: check_3, 4: check_4}
