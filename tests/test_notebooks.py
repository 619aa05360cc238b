"""Every notebook in notebooks/ is checked statically and executed once, in FAST mode, with papermill.

That one run is checked twice: its recorded metrics against ``tests/thresholds.py``, and the outputs
of its ``# NBVAL_CHECK_OUTPUT`` cells against the stored notebook, with nbval's comparison
(``tests/nbcompare.py``). New notebooks are picked up by the glob; each must have a THRESHOLDS entry.
"""

from __future__ import annotations

import json
from pathlib import Path

import hygiene
import nbformat
import pytest
from nbcompare import compare_outputs
from thresholds import THRESHOLDS, threshold_failures

from course_lib.config import fast_from_env
from course_lib.runner import NotebookResult, metadata_problems, run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
MAX_STORED_BYTES = 1_500_000
MODE = "fast" if fast_from_env() else "full"

_RUNS: dict[Path, NotebookResult] = {}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def executed(path: Path, tmp_path_factory: pytest.TempPathFactory) -> NotebookResult:
    """The notebook's one papermill run in this test session (run on first use, then reused)."""
    if path not in _RUNS:
        out = tmp_path_factory.mktemp(path.stem)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("COURSE_METRICS_DIR", str(out / "metrics"))
            _RUNS[path] = run_notebook(path, out, fast=(MODE == "fast"))
    return _RUNS[path]


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
def test_stored_notebook_metadata_is_clean(path: Path):
    problems = metadata_problems(_load(path))
    assert not problems, f"{path.name}: " + "; ".join(problems) + " (store with `course run --fast --store`)"


# an absolute path under a machine's usual top folders, not inside a URL or a relative path (the one pattern,
# shared with the other output-hygiene checks in tests/test_hygiene.py)
MACHINE_PATH = hygiene.MACHINE_PATH


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_show_no_machine_paths(path: Path):
    found = []
    for index, cell in enumerate(_load(path)["cells"]):
        for output in cell.get("outputs", []):
            for text in hygiene.output_texts(output):         # streams and every text MIME type, not images
                match = MACHINE_PATH.search(text)
                if match:
                    found.append(f"cell {index}: {match.group(0)}")
    assert not found, (f"{path.name} stores this machine's paths ({'; '.join(found)}): print them through "
                       "course_lib.config.shorten_paths")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_shows_its_figures(path: Path):
    missing = []
    for index, cell in enumerate(_load(path)["cells"]):
        shows = any(line.strip().startswith("plt.show()") for line in "".join(cell["source"]).splitlines())
        if cell["cell_type"] == "code" and shows and not any(
                "image/png" in output.get("data", {}) for output in cell.get("outputs", [])):
            missing.append(index)
    assert not missing, (f"{path.name}: cells {missing} call plt.show() but store no figure "
                         "(store with `course run --fast --store`, which uses Jupyter's inline backend)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_meets_thresholds(path: Path, tmp_path_factory):
    result = executed(path, tmp_path_factory)
    assert result.status == "ok", f"{path.name} failed: {result.error} (see {result.output})"
    metrics = result.metrics
    assert metrics.get("fast_mode") == (1.0 if MODE == "fast" else 0.0), "the notebook did not call notebook.start"
    expected = THRESHOLDS[path.stem][MODE]
    assert expected, f"{path.stem} has no {MODE} thresholds"
    failures = threshold_failures(metrics, expected)
    assert not failures, f"{path.stem}: " + "; ".join(failures)


@pytest.mark.may_skip
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_checked_outputs_match_the_stored_notebook(path: Path, tmp_path_factory):
    if MODE != "fast":
        pytest.skip("stored outputs come from a FAST run: they are compared in FAST mode only")
    result = executed(path, tmp_path_factory)
    assert result.status == "ok", f"{path.name} failed: {result.error} (see {result.output})"
    problems = compare_outputs(nbformat.read(result.output, as_version=4), nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}: " + "\n".join(problems)
