"""record(): flat JSON of finite numbers, one file per notebook."""

import json
import math

import numpy as np
import pytest

from course_lib import config, notebook, report


@pytest.fixture(autouse=True)
def metrics_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_METRICS_DIR", str(tmp_path))
    return tmp_path


def test_record_writes_flat_json(metrics_dir):
    report.set_notebook("99_demo")
    report.record("test_accuracy", np.float32(0.5))
    report.record("loss", 1.25)
    data = json.loads((metrics_dir / "99_demo.json").read_text())
    assert data == {"test_accuracy": 0.5, "loss": 1.25}
    assert report.load_metrics() == data


@pytest.mark.parametrize("value, error", [(math.nan, ValueError), (math.inf, ValueError), ("0.9", TypeError),
                                          (True, TypeError), (None, TypeError)])
def test_record_rejects_non_numbers(value, error):
    report.set_notebook("99_demo")
    with pytest.raises(error):
        report.record("x", value)


@pytest.mark.parametrize("name", ["", "a b", "../x", "a/b"])
def test_bad_names_are_rejected(name):
    with pytest.raises(ValueError):
        report.set_notebook(name)
    report.set_notebook("99_demo")
    with pytest.raises(ValueError):
        report.record(name, 1.0)


def test_start_resets_and_records_mode(metrics_dir, capsys):
    report.set_notebook("99_demo")
    report.record("stale", 1.0)
    run = notebook.start("99_demo", fast=True, seed=3)
    assert "FAST" in capsys.readouterr().out
    assert report.load_metrics() == {"fast_mode": 1.0}
    assert run.pick(2, 20) == 2
    assert notebook.start("99_demo", fast=False).pick(2, 20) == 20
    with pytest.raises(TypeError):
        notebook.start("99_demo", fast="yes")


def test_fast_flag_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert config.fast_from_env() is True
    monkeypatch.setenv("COURSE_FAST", "0")
    assert config.fast_from_env() is False
    monkeypatch.delenv("COURSE_FAST")
    assert config.fast_from_env() is False
    monkeypatch.setenv("COURSE_FAST", "maybe")
    with pytest.raises(ValueError, match="COURSE_FAST"):
        config.fast_from_env()


def test_seed_is_validated():
    with pytest.raises(ValueError):
        config.set_seed(-1)
