"""The one call a notebook makes after its ``parameters`` cell.

.. code-block:: python

    from course_lib.notebook import start
    run = start("04_keras_mlp", fast=FAST, seed=SEED)

It seeds every random generator, names the notebook for :func:`course_lib.report.record`,
records whether this was a FAST run, quiets TensorFlow's start-up chatter, sets readable
figure defaults and prints one line saying what mode this is.

:func:`cell_definitions` runs the definitions of one notebook cell outside the notebook, so a
benchmark script builds a network exactly as the chapter does instead of keeping a copy.
"""

from __future__ import annotations

import platform
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib import config, report
from course_lib.tflog import quiet_kernel_stderr, quiet_native_logs, quiet_python_logs


@dataclass(frozen=True)
class NotebookRun:
    """What :func:`start` set up."""

    name: str
    fast: bool
    seed: int

    def pick(self, fast_value, full_value):
        """``fast_value`` in FAST mode, else ``full_value``: ``EPOCHS = run.pick(2, 20)``."""
        return fast_value if self.fast else full_value


def start(name: str, fast: bool, seed: int = 42) -> NotebookRun:
    """Set up a notebook run; see the module docstring."""
    if not isinstance(fast, bool):
        raise TypeError(f"fast must be True or False, got {fast!r}")
    quiet_native_logs()
    quiet_python_logs()
    quiet_kernel_stderr()
    # tqdm (imported by keras-hub) warns that Jupyter widgets are missing; the course shows no widgets
    warnings.filterwarnings("ignore", message="IProgress not found")
    report.set_notebook(name)
    report.reset(name)
    config.set_seed(seed)
    report.record("fast_mode", 1.0 if fast else 0.0, quiet=True)
    try:
        import matplotlib

        matplotlib.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "axes.grid": True,
                                    "figure.figsize": (6.4, 4.0)})
    except ImportError:  # pragma: no cover
        pass
    mode = "FAST (small data, few epochs)" if fast else "full"
    print(f"{name}: {mode} mode, seed {seed}, Python {platform.python_version()}")
    return NotebookRun(name=name, fast=fast, seed=seed)


def cell_definitions(notebook: str | Path, marker: str, namespace: dict[str, Any] | None = None,
                     stop_at: str | None = None) -> dict[str, Any]:
    """Execute the first code cell of ``notebook`` that contains ``marker``; return its namespace.

    Args:
        notebook: path of an ``.ipynb`` file.
        marker: text that identifies the cell, for example ``"def cifar_resnet"``.
        namespace: names the cell uses but does not define (``keras``, ``layers``...).
        stop_at: run the cell only up to the first line that starts with this text (to leave
            out, say, data loading that follows the definitions).

    Raises:
        ValueError: no code cell contains ``marker``, or ``stop_at`` is not in that cell.
    """
    import json

    path = Path(notebook)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    source = next(("".join(c["source"]) for c in cells
                   if c["cell_type"] == "code" and marker in "".join(c["source"])), None)
    if source is None:
        raise ValueError(f"No code cell of {path} contains {marker!r}; was the cell renamed?")
    if stop_at is not None:
        lines = source.splitlines(keepends=True)
        cut = next((i for i, line in enumerate(lines) if line.startswith(stop_at)), None)
        if cut is None:
            raise ValueError(f"The cell of {path} with {marker!r} has no line starting with {stop_at!r}.")
        source = "".join(lines[:cut])
    scope = dict(namespace or {})
    exec(compile(source, str(path), "exec"), scope)
    return scope
