"""Machine-readable notebook results.

Each notebook records its key results with one call::

    record("test_accuracy", 0.981)

The values land in ``$COURSE_METRICS_DIR/<notebook>.json`` as a flat JSON object of
name -> number, which the test-suite compares with thresholds and ``course run`` prints.
The notebook name is set once by :func:`course_lib.notebook.start`.
"""

from __future__ import annotations

import json
import math
import re
from numbers import Real
from pathlib import Path

from course_lib import config
from course_lib.files import write_text_atomic

_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_current_notebook: str | None = None


def set_notebook(name: str) -> None:
    """Name the notebook whose metrics :func:`record` writes (``02_backprop_math``...)."""
    global _current_notebook
    if not _NAME_RE.match(name or ""):
        raise ValueError(
            f"Notebook name {name!r} must be letters, digits, '_', '.' or '-' (it becomes a file name)."
        )
    _current_notebook = name


def metrics_path(notebook: str | None = None) -> Path:
    """Path of the JSON file holding ``notebook``'s metrics."""
    name = notebook or _current_notebook
    if name is None:
        raise RuntimeError(
            "No notebook name is set: call course_lib.notebook.start('<notebook name>', ...) "
            "at the top of the notebook, or pass notebook=... to record()."
        )
    return config.metrics_dir() / f"{name}.json"


def load_metrics(notebook: str | None = None) -> dict[str, float]:
    """The metrics recorded so far for ``notebook`` ({} when none)."""
    path = metrics_path(notebook)
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def record(name: str, value: float, notebook: str | None = None, *, quiet: bool = False) -> float:
    """Record one result (a finite number) under ``name`` and return it.

    The file is rewritten atomically, so a reader never sees half a file.
    """
    if not _NAME_RE.match(name or ""):
        raise ValueError(f"Metric name {name!r} must be letters, digits, '_', '.' or '-'.")
    if isinstance(value, (bool, str, bytes)) or value is None or not (
        isinstance(value, Real) or hasattr(value, "__float__")  # NumPy / TensorFlow scalars
    ):
        raise TypeError(f"Metric {name!r} must be a number, got {type(value).__name__}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"Metric {name!r} must be a single number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"Metric {name!r} is {value}; only finite numbers can be recorded.")
    path = metrics_path(notebook)
    metrics = load_metrics(notebook)
    metrics[name] = value
    write_text_atomic(path, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    if not quiet:
        print(f"recorded {name} = {value:.6g}")
    return value


def reset(notebook: str | None = None) -> None:
    """Forget earlier metrics of ``notebook`` (called by ``notebook.start``)."""
    path = metrics_path(notebook)
    if path.exists():
        path.unlink()
