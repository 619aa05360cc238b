"""Execute notebooks with papermill and summarise the results.

``course run`` calls :func:`run_notebooks`: each notebook runs in a fresh kernel, in its own
folder, with ``COURSE_FAST`` set for the kernel (no parameters are injected, so the notebook's
own ``parameters`` cell decides), its executed copy written to ``build/notebooks/``, and its
recorded metrics collected from ``build/metrics/``. A summary table (notebook, status,
seconds, metrics) is printed and written as Markdown and JSON, and a report of every chapter's
metrics and figures is written to ``build/report/`` (:mod:`course_lib.run_report`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from course_lib.tflog import STARTUP_NOISE, drop_startup_noise


@dataclass
class NotebookResult:
    """The outcome of one notebook run."""

    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    error: str = ""
    output: str = ""


# Start-up chatter TensorFlow writes to the process's stderr before its logging is set up (no CUDA driver,
# CPU instruction sets): one list, in course_lib.tflog. Stored notebooks drop exactly these lines.
_NOISE = STARTUP_NOISE


INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: Arguments for each chapter's kernel: its own log at ERROR, so ipykernel's start-up warning ("Kernel is
#: running over TCP without encryption", about a kernel that listens on 127.0.0.1 for this one run) stays
#: off the terminal of ``course run``. What the notebook prints is not affected.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def strip_startup_noise(notebook: dict) -> int:
    """Remove TensorFlow's start-up lines from stderr outputs in place; returns the lines removed."""
    removed = 0
    for cell in notebook.get("cells", []):
        kept_outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
                kept, dropped = drop_startup_noise(text)
                removed += dropped
                if not kept.strip():
                    continue
                output["text"] = kept
            kept_outputs.append(output)
        if "outputs" in cell:
            cell["outputs"] = kept_outputs
    return removed


# Metadata that describes one execution on one machine (timings, paths, kernel state), not the notebook.
_RUN_METADATA_CELL = ("papermill", "execution", "ExecuteTime", "collapsed", "scrolled")
_RUN_METADATA_NOTEBOOK = ("papermill", "widgets")


def clean_metadata(notebook: dict) -> None:
    """Drop per-run metadata in place: papermill's timings, parameters and paths, execution timestamps.

    Tags (``parameters``, exercise tags), the kernelspec and the language info are kept.
    """
    for key in _RUN_METADATA_NOTEBOOK:
        notebook.get("metadata", {}).pop(key, None)
    for cell in notebook.get("cells", []):
        metadata = cell.get("metadata", {})
        for key in _RUN_METADATA_CELL:
            metadata.pop(key, None)


def metadata_problems(notebook: dict) -> list[str]:
    """What :func:`clean_metadata` would remove, as messages; an empty list for a clean notebook."""
    problems = [f"notebook metadata has {key!r}" for key in _RUN_METADATA_NOTEBOOK
                if key in notebook.get("metadata", {})]
    for index, cell in enumerate(notebook.get("cells", [])):
        found = [key for key in _RUN_METADATA_CELL if key in cell.get("metadata", {})]
        if found:
            problems.append(f"cell {index} metadata has {', '.join(map(repr, found))}")
    return problems


def discover(paths: list[str] | None, root: Path) -> list[Path]:
    """The notebooks to run: the given paths, or every ``notebooks/*.ipynb`` in order."""
    if paths:
        found = []
        for raw in paths:
            path = Path(raw)
            if not path.exists() and (root / "notebooks" / raw).exists():
                path = root / "notebooks" / raw
            if not path.exists() and (root / "notebooks" / f"{raw}.ipynb").exists():
                path = root / "notebooks" / f"{raw}.ipynb"
            if not path.is_file() or path.suffix != ".ipynb":
                raise FileNotFoundError(f"{raw}: no such notebook "
                                        "(give a path to a .ipynb file, or a name in notebooks/)")
            found.append(path.resolve())
        return found
    found = sorted((root / "notebooks").glob("[0-9]*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no notebooks found in {root / 'notebooks'}")
    return found


def _describe_failure(err: BaseException) -> str:
    try:
        from papermill.exceptions import PapermillExecutionError
    except ImportError:  # pragma: no cover
        PapermillExecutionError = ()  # type: ignore[assignment]
    if isinstance(err, PapermillExecutionError):
        return f"cell {err.cell_index} (execution count {err.exec_count}) raised {err.ename}: {err.evalue}"
    return f"{type(err).__name__}: {err}"


def run_notebook(path: Path, output_dir: Path, fast: bool, timeout: int | None = None,
                 store: bool = False) -> NotebookResult:
    """Execute one notebook with papermill; never raises for a failing notebook."""
    import papermill

    name = path.stem
    metrics_dir = Path(os.environ.get("COURSE_METRICS_DIR") or output_dir / "metrics")
    metrics_dir.mkdir(parents=True, exist_ok=True)
    metrics_file = metrics_dir / f"{name}.json"
    if metrics_file.exists():
        metrics_file.unlink()
    executed = output_dir / "notebooks" / path.name
    executed.parent.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in ("COURSE_FAST", "COURSE_METRICS_DIR", "MPLBACKEND", "COURSE_PROGRESS")}
    os.environ["COURSE_FAST"] = "1" if fast else "0"
    os.environ["COURSE_PROGRESS"] = "epoch"     # nobody watches an executed copy: one line per epoch, no live line
    os.environ["COURSE_METRICS_DIR"] = str(metrics_dir.resolve())
    if store:   # a stored notebook shows its figures: Jupyter's inline backend, whatever the shell set
        os.environ["MPLBACKEND"] = INLINE_BACKEND
    started = time.perf_counter()
    status, error = "ok", ""
    try:
        papermill.execute_notebook(str(path), str(executed), cwd=str(path.parent), progress_bar=False,
                                   log_output=False, execution_timeout=timeout, extra_arguments=KERNEL_ARGUMENTS)
    except Exception as err:  # noqa: BLE001 - any failure is reported in the summary
        status, error = "failed", _describe_failure(err)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.perf_counter() - started
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    if status == "ok" and store:
        import nbformat

        notebook = nbformat.read(str(executed), as_version=4)
        strip_startup_noise(notebook)
        clean_metadata(notebook)
        nbformat.write(notebook, str(path))
    return NotebookResult(notebook=name, status=status, seconds=round(seconds, 1), metrics=metrics,
                          error=error, output=str(executed))


def summary_markdown(results: list[NotebookResult], fast: bool) -> str:
    """The summary as a Markdown table."""
    lines = [f"# Notebook run ({'FAST' if fast else 'full'} mode)", "",
             "| notebook | status | seconds | metrics |", "|---|---|---:|---|"]
    for r in results:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in sorted(r.metrics.items()) if k != "fast_mode")
        status = r.status if not r.error else f"{r.status}: {r.error}"
        lines.append(f"| {r.notebook} | {status.replace('|', '/')} | {r.seconds:.1f} | {shown} |")
    return "\n".join(lines) + "\n"


def run_notebooks(paths: list[Path], fast: bool, output_dir: Path, timeout: int | None = None,
                  store: bool = False, print_fn: Callable[[str], None] = print) -> list[NotebookResult]:
    """Run ``paths`` in order, print progress and the summary, write ``summary.{md,json}``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    results = []
    backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND       # executed copies keep their figures, for the report
    try:
        for i, path in enumerate(paths, 1):
            print_fn(f"[{i}/{len(paths)}] {path.stem} ({'FAST' if fast else 'full'} mode) ...")
            result = run_notebook(path, output_dir, fast=fast, timeout=timeout, store=store)
            detail = f"{result.seconds:.1f} s" + (f" - {result.error}" if result.error else "")
            print_fn(f"      {result.status}: {detail}")
            results.append(result)
    finally:
        if backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = backend
    table = summary_markdown(results, fast)
    (output_dir / "summary.md").write_text(table, encoding="utf-8")
    (output_dir / "summary.json").write_text(
        json.dumps({"fast": fast, "results": [asdict(r) for r in results]}, indent=2) + "\n", encoding="utf-8")
    from course_lib.run_report import write_report

    report = write_report(results, fast, output_dir)
    print_fn("")
    print_fn(table)
    print_fn(f"summary written to {output_dir / 'summary.md'} and {output_dir / 'summary.json'}")
    print_fn(f"report with every chapter's metrics and figures: {report} and {report.with_suffix('.html')}")
    return results
