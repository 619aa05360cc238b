"""Chapter 08's checked exercises: the solutions pass, starters and typical mistakes fail with a hint."""

from __future__ import annotations

import pytest

from course_lib.exercises import ExerciseNotSolved, check_exercise


def bayes_threshold(cost_fp, cost_fn):                    # the solution in the notebook
    return cost_fp / (cost_fp + cost_fn)


def screening(n, prevalence, sensitivity, specificity):   # the solution in the notebook
    sick, healthy = n * prevalence, n * (1 - prevalence)
    return sensitivity * sick + (1 - specificity) * healthy, sensitivity * sick


def starter(*args):
    raise NotImplementedError("Exercise 1: compare the two expected costs")


@pytest.mark.parametrize("number, answer", [(1, bayes_threshold), (2, screening)])
def test_solutions_pass(number, answer, capsys):
    check_exercise("08", number, answer)
    assert f"Exercise {number} (chapter 08): correct." in capsys.readouterr().out


@pytest.mark.parametrize("number", [1, 2])
def test_starters_are_not_done(number):
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("08", number, starter)
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("08", number, None)


@pytest.mark.parametrize("wrong, message", [
    (lambda fp, fn: fn / (fp + fn), "costs are swapped"),
    (lambda fp, fn: fp / fn, "not c_FP / c_FN"),
    (lambda fp, fn: 0.5, "solve for p"),
    (lambda fp, fn: "0.1x", "should be a number"),
    (0.091, "pass the function itself"),
])
def test_threshold_mistakes_get_hints(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("08", 1, wrong)


@pytest.mark.parametrize("wrong, message", [
    (lambda n, p, se, sp: (se * n * p, se * n * p), "healthy people the test wrongly flags"),
    (lambda n, p, se, sp: (se * n * p + sp * n * (1 - p), se * n * p), "1 - specificity"),
    (lambda n, p, se, sp: (se * n * p + (1 - sp) * n * (1 - p), se * n), "only the ill people"),
    (lambda n, p, se, sp: (n, n * p), "flagged = sensitivity"),
    (lambda n, p, se, sp: se * n * p, "should return a pair"),
])
def test_screening_mistakes_get_hints(wrong, message):
    with pytest.raises(ExerciseNotSolved, match=message):
        check_exercise("08", 2, wrong)
