"""Chapter 11's exercise checks: the solutions pass, the starters and typical mistakes fail with a hint."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib import gpt
from course_lib.exercises import ExerciseNotSolved, check_exercise


def starter(*args):
    raise NotImplementedError("Exercise N: ...")


def softmax_t(logits, temperature):
    z = np.asarray(logits, dtype="float64") / temperature
    p = np.exp(z - z.max())
    return p / p.sum()


SOLUTIONS = {
    1: lambda loss: math.exp(loss),
    2: softmax_t,
    3: lambda V, T, C, L: (V * C + T * C) / gpt.parameter_count(V, T, C, L),
    4: lambda rank: 12 * rank * (384 + 384),
}

WRONG = {
    1: (lambda loss: 2 ** loss, "in nats"),
    2: (lambda logits, t: softmax_t(np.asarray(logits) * t * t, t), "divide them by it"),
    3: (lambda V, T, C, L: V * C / gpt.parameter_count(V, T, C, L), "position embeddings"),
    4: (lambda rank: 12 * rank * 384, "two factors"),
}


@pytest.mark.parametrize("number", sorted(SOLUTIONS))
def test_solution_passes(number, capsys):
    check_exercise("11", number, SOLUTIONS[number])
    assert f"Exercise {number} (chapter 11): correct." in capsys.readouterr().out


@pytest.mark.parametrize("number", sorted(SOLUTIONS))
def test_starter_is_not_done(number):
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("11", number, starter)


@pytest.mark.parametrize("number", sorted(WRONG))
def test_typical_mistake_gets_a_hint(number):
    wrong, hint = WRONG[number]
    with pytest.raises(ExerciseNotSolved, match=hint):
        check_exercise("11", number, wrong)


def test_other_wrong_answers():
    with pytest.raises(ExerciseNotSolved, match="pass the function itself"):
        check_exercise("11", 1, 9.7)
    with pytest.raises(ExerciseNotSolved, match="sum to 1"):
        check_exercise("11", 2, lambda logits, t: np.exp(np.asarray(logits) / t))
    with pytest.raises(ExerciseNotSolved, match="overflowed"):
        def unstable(logits, t):
            with np.errstate(over="ignore", invalid="ignore"):   # the overflow is the point
                e = np.exp(np.asarray(logits, dtype="float64") / t)
                return e / e.sum()
        check_exercise("11", 2, unstable)
    with pytest.raises(ExerciseNotSolved, match="not a percentage"):
        check_exercise("11", 3, lambda V, T, C, L: 100 * SOLUTIONS[3](V, T, C, L))
    with pytest.raises(ExerciseNotSolved, match="there are 12"):
        check_exercise("11", 4, lambda rank: rank * 768)
