"""The checks the notebook tests apply: threshold logic and the nbval-style output comparison."""

from __future__ import annotations

import contextlib
import math

import nbformat
import pytest
from nbcompare import checked_cells, compare_outputs
from thresholds import DISTILLATION_CLAIM, THRESHOLDS, threshold_failures


def test_constant_bounds():
    expected = {"a": (">=", 0.5), "b": ("<=", 1.0), "c": ("==", 2)}
    assert threshold_failures({"a": 0.5, "b": 1.0, "c": 2.0}, expected) == []
    failures = threshold_failures({"a": 0.49, "b": 1.01, "c": 3.0}, expected)
    assert failures == ["a = 0.49, expected >= 0.5", "b = 1.01, expected <= 1.0", "c = 3, expected == 2"]


def test_bounds_relative_to_another_metric_of_the_same_run():
    expected = {"model_loss": ("<=", "bigram_loss", -0.1), "model_score": (">=", "untrained_score", 0.2)}
    assert threshold_failures({"model_loss": 2.0, "bigram_loss": 2.1, "model_score": 0.35, "untrained_score": 0.1},
                              expected) == []
    failures = threshold_failures({"model_loss": 2.05, "bigram_loss": 2.1, "model_score": 0.29,
                                   "untrained_score": 0.1}, expected)
    assert failures == ["model_loss = 2.05, expected <= bigram_loss - 0.1 = 2",
                        "model_score = 0.29, expected >= untrained_score + 0.2 = 0.3"]


def test_missing_metrics_nan_and_unknown_operators_fail():
    assert threshold_failures({}, {"a": (">=", 0)}) == ["a was not recorded"]
    assert threshold_failures({"a": 1.0}, {"a": (">=", "b", 0)}) == ["b was not recorded (needed to check a)"]
    assert threshold_failures({"a": math.nan}, {"a": ("<=", 1.0)}) == ["a = nan, expected <= 1.0"]
    assert threshold_failures({"a": 1.0}, {"a": (">", 0)}) == ["a: unknown operator '>'"]


def test_every_threshold_is_well_formed():
    for notebook, modes in THRESHOLDS.items():
        assert set(modes) == {"fast", "full"}, notebook
        for mode, expected in modes.items():
            for name, bound in expected.items():
                assert bound[0] in (">=", "<=", "=="), (notebook, mode, name)
                assert len(bound) == 2 and isinstance(bound[1], (int, float)) or \
                    len(bound) == 3 and isinstance(bound[1], str) and isinstance(bound[2], (int, float)), \
                    (notebook, mode, name, bound)


def _notebook(*cells: tuple[str, list[dict]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for index, (source, outputs) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source, execution_count=index + 1)
        cell.id = f"cell-{index}"
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        nb.cells.append(cell)
    return nb


def _stdout(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_only_marked_cells_are_checked():
    nb = _notebook(("# NBVAL_CHECK_OUTPUT\nprint(1)", []), ("print(2)", []), ("x = 1  # NBVAL_CHECK_OUTPUT", []))
    nb.cells[1].metadata["tags"] = ["nbval-check-output"]
    assert checked_cells(nb) == [0, 1]


def test_equal_outputs_pass_and_streams_are_coalesced():
    stored = _notebook(("# NBVAL_CHECK_OUTPUT\nprint('a'); print('b')", [_stdout("a\nb\n")]),
                       ("print(time.time())", [_stdout("12.5\n")]))
    ran = _notebook(("# NBVAL_CHECK_OUTPUT\nprint('a'); print('b')", [_stdout("a\n"), _stdout("b\n")]),
                    ("print(time.time())", [_stdout("99.1\n")]))       # unmarked: not compared
    assert compare_outputs(ran, stored) == []


def test_a_changed_output_of_a_marked_cell_fails():
    stored = _notebook(("# NBVAL_CHECK_OUTPUT\nprint(shape)", [_stdout("(60000, 28, 28)\n")]))
    ran = _notebook(("# NBVAL_CHECK_OUTPUT\nprint(shape)", [_stdout("(59999, 28, 28)\n")]))
    problems = compare_outputs(ran, stored)
    assert len(problems) == 1 and problems[0].startswith("cell 0 outputs differ")
    assert "59999" in problems[0] and "60000" in problems[0]


def test_a_missing_output_or_a_missing_cell_fails_but_images_are_not_compared():
    figure = {"output_type": "display_data", "metadata": {},
              "data": {"text/plain": "<Figure>", "image/png": "iVBORw0KGgo="}}
    other_figure = dict(figure, data={"text/plain": "<Figure>", "image/png": "AAAA"})
    stored = _notebook(("# NBVAL_CHECK_OUTPUT\nshow()", [figure]))
    assert compare_outputs(_notebook(("# NBVAL_CHECK_OUTPUT\nshow()", [other_figure])), stored) == []
    assert "Missing output fields" in compare_outputs(_notebook(("# NBVAL_CHECK_OUTPUT\nshow()", [])), stored)[0]
    assert "no cell with the same id" in compare_outputs(_notebook(("# NBVAL_CHECK_OUTPUT\nhide()", [])), stored)[0]


def test_a_marked_cell_stored_without_running_it_fails():
    stored = _notebook(("# NBVAL_CHECK_OUTPUT\nprint(1)", []))
    stored.cells[0].execution_count = None
    assert "never run" in compare_outputs(stored, stored)[0]


@pytest.mark.parametrize("bad", ["tags", "list"])
def test_tags_that_are_not_a_list_are_ignored(bad):
    nb = _notebook(("print(1)", []))
    nb.cells[0].metadata["tags"] = "nbval-check-output" if bad == "tags" else []
    with pytest.warns(UserWarning) if bad == "tags" else contextlib.nullcontext():
        assert checked_cells(nb) == []


# --- the chapters' own checks, fed a real FAST run's metrics and deliberately broken ones ---------------

def _only(notebook: str, names: list[str], mode: str = "fast") -> dict:
    return {name: THRESHOLDS[notebook][mode][name] for name in names}


def test_setup_needs_every_dataset():
    expected = _only("00_setup", ["datasets_missing"])
    assert threshold_failures({"datasets_missing": 0}, expected) == []
    assert threshold_failures({"datasets_missing": 1}, expected)   # 10 of 11 found is a broken mirror


# chapter 07, seed 42 FAST: the trained DCGAN and the untrained generator, scored by the same judge
GAN_TRAINED = {"gan_class_entropy": 0.921, "gan_largest_class_share": 0.194, "gan_mean_confidence": 0.576,
               "gan_mean_image_distance_ratio": 0.33}
GAN_UNTRAINED = {"gan_untrained_class_entropy": 0.0, "gan_untrained_largest_class_share": 1.0,
                 "gan_untrained_mean_confidence": 0.462}
GAN_CHECKS = ["gan_class_entropy", "gan_largest_class_share", "gan_mean_confidence",
              "gan_mean_image_distance_ratio"]


def test_gan_check_passes_a_trained_generator():
    assert threshold_failures({**GAN_TRAINED, **GAN_UNTRAINED}, _only("07_generative", GAN_CHECKS)) == []


@pytest.mark.parametrize("broken", [
    # always the average digit: its mean image is the real mean (distance 0), one class, unsure
    {"gan_class_entropy": 0.0, "gan_largest_class_share": 1.0, "gan_mean_confidence": 0.45,
     "gan_mean_image_distance_ratio": 0.0},
    # the collapse seen with the earlier FAST settings: 83 % of samples in one class
    {"gan_class_entropy": 0.26, "gan_largest_class_share": 0.83, "gan_mean_confidence": 0.40,
     "gan_mean_image_distance_ratio": 0.4},
    # spread over classes but no more digit-like to the judge than the untrained noise
    {**GAN_TRAINED, "gan_mean_confidence": 0.47},
], ids=["average-digit", "collapsed", "unconvincing"])
def test_gan_check_fails_a_generator_that_has_not_learned_digits(broken):
    assert threshold_failures({**broken, **GAN_UNTRAINED}, _only("07_generative", GAN_CHECKS))


APPLICATIONS = {"credit_test_cost_saving": 0.495, "credit_test_cost_chosen_threshold": 0.56,
                "credit_test_cost_best_trivial": 0.70, "rec_mf_gain_over_global": 0.201,
                "rec_mf_gain_over_bias": 0.019, "rec_mf_hit_rate_at_10": 0.460,
                "rec_random_hit_rate_at_10": 0.078, "rec_popularity_hit_rate_at_10": 0.653}


def test_applications_checks_pass_the_real_run():
    checked = [name for name in APPLICATIONS if name in THRESHOLDS["08_applications"]["fast"]]
    assert len(checked) == 6 and threshold_failures(APPLICATIONS, _only("08_applications", checked)) == []


@pytest.mark.parametrize("change, check", [
    ({"credit_test_cost_chosen_threshold": 0.69}, "credit_test_cost_chosen_threshold"),  # no better than refusing all
    ({"credit_test_cost_saving": 0.0}, "credit_test_cost_saving"),                       # threshold choice useless
    ({"rec_mf_gain_over_bias": 0.0}, "rec_mf_gain_over_bias"),                           # vectors add nothing
    ({"rec_mf_hit_rate_at_10": 0.09}, "rec_mf_hit_rate_at_10"),                          # ranks like random
    ({"rec_popularity_hit_rate_at_10": 0.45}, "rec_popularity_hit_rate_at_10"),          # the text's claim fails
])
def test_applications_checks_fail_when_a_baseline_wins(change, check):
    failures = threshold_failures({**APPLICATIONS, **change}, _only("08_applications", [check]))
    assert failures and failures[0].startswith(check)


DISTILLATION = {"distillation_teacher_kl_ratio": 0.40, "student_distilled_accuracy": 0.893,
                "student_alone_accuracy": 0.9125, "distillation_gain": -0.0195}


@pytest.mark.parametrize("mode", ["fast", "full"])
def test_distillation_claim_holds_on_the_real_run(mode):
    assert threshold_failures(DISTILLATION, _only("09_deployment", list(DISTILLATION_CLAIM), mode)) == []


@pytest.mark.parametrize("change", [
    {"distillation_teacher_kl_ratio": 0.98},                                    # the teacher is ignored
    {"student_distilled_accuracy": 0.85, "distillation_gain": -0.0625},         # distillation harms
    {"student_distilled_accuracy": 0.95, "distillation_gain": 0.0375},          # a gain the text denies
], ids=["teacher-ignored", "harmful", "unexplained-gain"])
def test_distillation_claim_fails_when_the_chapter_would_be_wrong(change):
    assert threshold_failures({**DISTILLATION, **change}, DISTILLATION_CLAIM)


def test_clean_metadata_removes_what_one_run_leaves_and_keeps_tags():
    from course_lib.runner import clean_metadata, metadata_problems

    nb = {"metadata": {"kernelspec": {"name": "python3"}, "papermill": {"input_path": "/home/me/nb.ipynb"}},
          "cells": [{"metadata": {"tags": ["parameters"], "papermill": {"duration": 1.2},
                                  "execution": {"iopub.execute_input": "2026-11-23T01:30:36"}}},
                    {"metadata": {}}]}
    assert metadata_problems(nb) == ["notebook metadata has 'papermill'",
                                     "cell 0 metadata has 'papermill', 'execution'"]
    clean_metadata(nb)
    assert metadata_problems(nb) == []
    assert nb["metadata"] == {"kernelspec": {"name": "python3"}} and nb["cells"][0]["metadata"] == {
        "tags": ["parameters"]}
