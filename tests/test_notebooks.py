"""Every notebook in notebooks/ is checked statically and executed in FAST mode with papermill.

New notebooks are picked up by the glob; each must have a THRESHOLDS entry.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from thresholds import THRESHOLDS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
MAX_STORED_BYTES = 1_500_000
MODE = "fast" if os.environ.get("COURSE_FAST", "1") == "1" else "full"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


def test_every_threshold_names_a_notebook():
    names = {p.stem for p in NOTEBOOKS}
    assert set(THRESHOLDS) <= names, f"thresholds for missing notebooks: {set(THRESHOLDS) - names}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_clean(path: Path):
    nb = _load(path)
    cells = nb["cells"]
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell must be tagged 'parameters'"
    source = "".join(params[0]["source"])
    assert "FAST" in source and "SEED" in source, "the parameters cell must define FAST and SEED"
    assert "fast_from_env()" in source, "FAST must default to the COURSE_FAST environment variable"
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"cell {index} stores an error output"
            text = "".join(output.get("text", "")) if isinstance(output.get("text"), (list, str)) else ""
            assert "Traceback" not in text, f"cell {index} stores a traceback"
            assert "\b" not in text and "\r" not in text, f"cell {index} stores progress-bar output"
    assert len(json.dumps(nb)) < MAX_STORED_BYTES, "stored notebook too large: shrink figures or outputs"
    assert path.stem in THRESHOLDS, f"add {path.stem} to tests/thresholds.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_meets_thresholds(path: Path, tmp_path: Path, monkeypatch):
    from course_lib.runner import run_notebook

    monkeypatch.setenv("COURSE_METRICS_DIR", str(tmp_path / "metrics"))
    result = run_notebook(path, tmp_path, fast=(MODE == "fast"))
    assert result.status == "ok", f"{path.name} failed: {result.error} (see {result.output})"
    metrics = result.metrics
    assert metrics.get("fast_mode") == (1.0 if MODE == "fast" else 0.0), "the notebook did not call notebook.start"
    expected = THRESHOLDS[path.stem][MODE]
    assert expected, f"{path.stem} has no {MODE} thresholds"
    failures = []
    for name, (op, bound) in expected.items():
        if name not in metrics:
            failures.append(f"{name} was not recorded")
        elif op == ">=" and not metrics[name] >= bound:
            failures.append(f"{name} = {metrics[name]:.6g}, expected >= {bound}")
        elif op == "<=" and not metrics[name] <= bound:
            failures.append(f"{name} = {metrics[name]:.6g}, expected <= {bound}")
        elif op == "==" and not metrics[name] == bound:
            failures.append(f"{name} = {metrics[name]:.6g}, expected exactly {bound}")
        elif op not in (">=", "<=", "=="):
            failures.append(f"{name}: unknown operator {op!r}")
    assert not failures, f"{path.stem}: " + "; ".join(failures)
