"""Stored outputs a learner reads show the lesson only: no warning or INFO lines, no ANSI escape codes,
no attempted downloads, no run records in the metadata (absolute machine paths in outputs:
tests/test_notebooks.py, with the same pattern). Each detector is first shown to catch a sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hygiene import (DETECTORS, ansi_escapes, downloads, log_lines, machine_paths, metadata_findings,
                     output_findings, output_texts)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
HINT = {
    "absolute machine paths": "print paths through course_lib.config.shorten_paths",
    "warning or INFO lines": "fix the cause, or silence that one warning in the cell that raises it; "
                             "TensorFlow's start-up lines are stripped by `course run --store`",
    "ANSI escape codes": "print plain text (e.g. model.summary(print_fn=...), or no colour)",
    "attempted downloads": "read the file from the course's dataset mirror or cache (COURSE_OFFLINE=1)",
}


# --- each detector catches what it is for, and leaves ordinary outputs alone ------------------------------------

@pytest.mark.parametrize("text", [
    "data read from /home/ann/course/data/mnist.npz",
    "saved to /tmp/tmpk2x9/model.keras",
    "cache: /work/shared/datasets",
    "'/root/.keras/datasets'",
    "site-packages at /usr/local/lib/python3.11/site-packages/keras/",
    r"C:\Users\ann\course",
])
def test_machine_path_detector_catches(text):
    assert machine_paths(text)


@pytest.mark.parametrize("text", [
    "see https://example.org/home/docs/ and data/tmp/x", "device /job:localhost/replica:0/task:0/device:CPU:0",
    "POST /predict, GET /health", "~/course/build/model.keras", "build/notebooks/05_cnn.ipynb",
])
def test_machine_path_detector_ignores(text):
    assert machine_paths(text) == []


@pytest.mark.parametrize("text", [
    "I0000 00:00:1796228958.979344   17322 port.cc:153] oneDNN custom operations are on.",
    "W0000 00:00:1796229002.670126   17701 op_level_cost_estimator.cc:699] Error in PredictCost()",
    "E0000 00:00:1796204367.661834   22516 meta_optimizer.cc:967] remapper failed: INVALID_ARGUMENT",
    "I1202 16:28:17.123456  1234 gpu_device.cc:2020] Created device /job:localhost/replica:0/task:0/device:GPU:0",
    "WARNING:tensorflow:5 out of the last 7 calls to <function one_step_on_data> triggered tf.function retracing.",
    "INFO:tensorflow:Using MirroredStrategy with devices ('/job:localhost/replica:0/task:0/device:CPU:0',)",
    "WARNING:absl:You are saving your model as an HDF5 file",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "x/keras/src/layers/core/input_layer.py:27: UserWarning: Argument `input_shape` is deprecated.",
    "  warnings.warn(\nFutureWarning: the default of observed=False is deprecated",
    "[IPKernelApp] WARNING | Kernel is running over TCP without encryption.",
])
def test_log_line_detector_catches(text):
    assert log_lines(text)


@pytest.mark.parametrize("text", [
    "epoch 3/10 - 2.1 s - loss 0.1234 - val_loss 0.1301",
    "A warning sign: the validation loss rises while the training loss falls.",
    "Exercise 2 (chapter 05): correct.",
    "The information (INFO) content of a message is its surprisal.",
    "I0 = 3.2 and W1 has shape (4, 8)",
])
def test_log_line_detector_ignores(text):
    assert log_lines(text) == []


def test_ansi_detector_catches_colour_and_bold_and_ignores_plain_text():
    assert ansi_escapes('Model: "encoder"\n\x1b[1m Layer (type) \x1b[0m') == ["'\\x1b[1m'", "'\\x1b[0m'"]
    assert ansi_escapes("\x1b[31merror\x1b[0m") and ansi_escapes("\x1b]8;;https://x\x1b\\link")
    assert ansi_escapes("Model: encoder | Layer (type) | Param #") == []


@pytest.mark.parametrize("text, expected", [
    ("Downloading data from https://storage.googleapis.com/tensorflow/keras-applications/x.h5", True),
    ("Downloading and preparing dataset 11.06 MiB (download: 11.06 MiB) to ~/tensorflow_datasets/mnist", True),
    ("Downloading (…)okenizer_config.json: 100%", True),
    ("Fetching 4 files: 100%", True),
    ("the dataset is read from the mirror: nothing is downloaded (COURSE_OFFLINE=1)", False),
    ("Downloads are off: set COURSE_DATA_DIR to a mirror", False),
])
def test_download_detector(text, expected):
    assert bool(downloads(text)) is expected


def test_output_texts_reads_streams_and_text_mime_types_but_not_images():
    output = {"output_type": "display_data", "data": {"text/plain": ["<Figure>"], "text/html": "<b>/tmp/x/</b>",
                                                      "image/png": "iVBORw0KGgo/home/"}}
    assert list(output_texts(output)) == ["<Figure>", "<b>/tmp/x/</b>"]
    assert list(output_texts({"output_type": "stream", "name": "stderr", "text": ["a\n", "b\n"]})) == ["a\nb\n"]


def test_output_findings_names_the_cell():
    nb = {"cells": [{"cell_type": "markdown", "source": "Downloading data from x"},
                    {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stderr",
                                                       "text": "Downloading data from https://x/y.h5\n"}]}]}
    assert output_findings(nb, downloads) == ["cell 1: Downloading data from https://x/y.h5"]


def test_metadata_detector_catches_papermill_records_timestamps_and_paths():
    nb = {"metadata": {"kernelspec": {"name": "python3"},
                       "papermill": {"input_path": "/work/main/notebooks/05_cnn.ipynb",
                                     "start_time": "2026-12-02T12:01:02.345678"}},
          "cells": [{"metadata": {"execution": {"iopub.execute_input": "2026-12-02T12:01:03.1Z"}}},
                    {"metadata": {"tags": ["parameters"]}},
                    {"metadata": {"note": "C:\\Users\\ann\\x"}}]}
    found = metadata_findings(nb)
    assert "notebook metadata has 'papermill'" in found and "cell 0 metadata has 'execution'" in found
    assert any("timestamp 2026-12-02T12:01:02" in f for f in found)
    assert any(f.startswith("notebook metadata: path /work/") for f in found)
    assert any(f.startswith("cell 2 metadata: path") for f in found)
    assert metadata_findings({"metadata": {"kernelspec": {"name": "python3"}},
                              "cells": [{"metadata": {"tags": ["parameters", "solution"]}}]}) == []


# --- every stored notebook ---------------------------------------------------------------------------------------

CHECKS = ["warning or INFO lines", "ANSI escape codes", "attempted downloads"]   # paths: test_notebooks.py
assert set(CHECKS) | {"absolute machine paths"} == set(DETECTORS)


@pytest.mark.parametrize("check", CHECKS, ids=["log_lines", "ansi", "downloads"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_are_clean(path: Path, check: str):
    found = output_findings(json.loads(path.read_text(encoding="utf-8")), DETECTORS[check])
    assert not found, f"{path.name} stores {check}: " + "; ".join(found[:5]) + \
        (f" (and {len(found) - 5} more)" if len(found) > 5 else "") + f". Fix: {HINT[check]}."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_metadata_has_no_run_records_timestamps_or_paths(path: Path):
    found = metadata_findings(json.loads(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name}: " + "; ".join(found[:5]) + " (store with `course run --fast --store`)"
