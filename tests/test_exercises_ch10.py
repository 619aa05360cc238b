"""Chapter 10's exercise checks pass the solutions and fail starters and typical wrong answers."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises import ExerciseNotSolved, check_exercise


def clip_each(per_example_grads, clip):
    batch = per_example_grads[0].shape[0]
    norms = np.sqrt(sum(np.sum(g.reshape(batch, -1) ** 2, axis=1) for g in per_example_grads))
    scale = np.minimum(1.0, clip / np.maximum(norms, 1e-12))
    return [g * scale.reshape((batch,) + (1,) * (g.ndim - 1)) for g in per_example_grads]


def disparate_impact(y_pred, groups):
    rates = [np.mean(y_pred[groups == g]) for g in np.unique(groups)]
    return min(rates) / max(rates)


def test_solutions_pass(capsys):
    check_exercise("10", 5, clip_each)
    check_exercise(10, 6, disparate_impact)
    out = capsys.readouterr().out
    assert "Exercise 5 (chapter 10): correct." in out and "Exercise 6 (chapter 10): correct." in out


def test_solution_in_tensorflow_style_list_of_tensors_passes():
    def as_lists(per_example_grads, clip):
        return [g.tolist() for g in clip_each(per_example_grads, clip)]

    check_exercise("10", 5, as_lists)


@pytest.mark.parametrize("number", [5, 6])
def test_starters_are_not_done(number):
    def starter(*args):
        raise NotImplementedError(f"Exercise {number}: fill in the function")

    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("10", number, starter)
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("10", number, None)


def test_clipping_each_variable_on_its_own_is_caught():
    def per_variable(per_example_grads, clip):
        return [clip_each([g], clip)[0] for g in per_example_grads]

    with pytest.raises(ExerciseNotSolved, match="Each variable was clipped on its own"):
        check_exercise("10", 5, per_variable)


def test_clipping_values_is_caught():
    with pytest.raises(ExerciseNotSolved, match="Clipping each value"):
        check_exercise("10", 5, lambda grads, clip: [np.clip(g, -clip, clip) for g in grads])


def test_normalising_every_example_is_caught():
    def normalise(per_example_grads, clip):
        batch = per_example_grads[0].shape[0]
        norms = np.sqrt(sum(np.sum(g.reshape(batch, -1) ** 2, axis=1) for g in per_example_grads))
        scale = clip / np.maximum(norms, 1e-12)
        return [g * scale.reshape((batch,) + (1,) * (g.ndim - 1)) for g in per_example_grads]

    with pytest.raises(ExerciseNotSolved, match="already shorter must be left as they are"):
        check_exercise("10", 5, normalise)


def test_clipping_the_batch_sum_is_caught():
    with pytest.raises(ExerciseNotSolved, match="not a sum or mean over the batch"):
        check_exercise("10", 5, lambda grads, clip: [g.sum(axis=0) for g in grads])


def test_not_a_function_is_caught():
    with pytest.raises(ExerciseNotSolved, match="pass the function itself"):
        check_exercise("10", 5, [1, 2])
    with pytest.raises(ExerciseNotSolved, match="pass the function itself"):
        check_exercise("10", 6, 0.8)


def test_inverted_ratio_is_caught():
    with pytest.raises(ExerciseNotSolved, match="highest rate over the lowest"):
        check_exercise("10", 6, lambda y, g: 1 / disparate_impact(y, g))


def test_difference_instead_of_ratio_is_caught():
    def gap(y_pred, groups):
        rates = [np.mean(y_pred[groups == g]) for g in np.unique(groups)]
        return max(rates) - min(rates)

    with pytest.raises(ExerciseNotSolved, match="selection-rate gap"):
        check_exercise("10", 6, gap)


def test_non_number_is_caught():
    with pytest.raises(ExerciseNotSolved, match="one number"):
        check_exercise("10", 6, lambda y, g: {"a": 0.5})
