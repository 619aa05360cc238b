"""course_lib.notebook: start() and running one notebook cell's definitions elsewhere."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_lib import notebook

ROOT = Path(__file__).resolve().parents[1]


def _write(path: Path, *sources: str, markdown: str = "") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = ([nbformat.v4.new_markdown_cell(markdown)] if markdown else []) + \
        [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_start_returns_the_mode_and_picks_by_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_METRICS_DIR", str(tmp_path))
    run = notebook.start("demo", fast=True, seed=3)
    assert (run.name, run.fast, run.seed) == ("demo", True, 3)
    assert run.pick(1, 2) == 1
    assert "FAST" in capsys.readouterr().out
    with pytest.raises(TypeError, match="fast must be True or False"):
        notebook.start("demo", fast="yes")


def test_cell_definitions_runs_the_marked_cell_with_the_given_names(tmp_path):
    path = _write(tmp_path / "nb.ipynb", "def first():\n    return 1",
                  "def double(x):\n    return factor * x\nvalue = double(21)",
                  markdown="def double is mentioned here too, in prose")
    scope = notebook.cell_definitions(path, "def double", {"factor": 2})
    assert scope["value"] == 42
    assert "first" not in scope                      # only the marked code cell ran


def test_cell_definitions_stops_before_the_given_line(tmp_path):
    path = _write(tmp_path / "nb.ipynb", "def f():\n    return 1\n# load the data\nraise RuntimeError('not run')")
    scope = notebook.cell_definitions(path, "def f", stop_at="# load the data")
    assert scope["f"]() == 1


def test_cell_definitions_says_what_is_missing(tmp_path):
    path = _write(tmp_path / "nb.ipynb", "x = 1")
    with pytest.raises(ValueError, match="No code cell .* contains 'def gone'"):
        notebook.cell_definitions(path, "def gone")
    with pytest.raises(ValueError, match="no line starting with '# nowhere'"):
        notebook.cell_definitions(path, "x = 1", stop_at="# nowhere")


def test_cell_definitions_builds_chapter_05s_resnet():
    import keras
    from keras import layers

    scope = notebook.cell_definitions(ROOT / "notebooks" / "05_cnn.ipynb", "def cifar_resnet",
                                      {"keras": keras, "layers": layers}, stop_at="# the first n images")
    assert "cifar_x" not in scope                    # the data loading after the definitions did not run
    whitening = (np.zeros((2, 2, 3, 24), "float32"), np.zeros(24, "float32"))
    model = scope["cifar_resnet"](whitening, (64, 256, 256))
    assert model.count_params() == 1_975_096 and not model.get_layer("whiten").trainable
