"""Environment variables, FAST mode, seeds and paths shared by every notebook.

Environment variables (all optional):

``COURSE_FAST``
    ``1`` turns FAST mode on: small data subsets and few epochs, so a notebook finishes in
    about a minute on a CPU while still really training. CI and the test-suite set it.
``COURSE_DATA_DIR``
    A dataset mirror folder (for example ``../shared/datasets``), searched first.
``COURSE_CACHE_DIR``
    Where downloaded or unpacked datasets are kept (default ``~/.cache/course_lib``).
``COURSE_OFFLINE``
    ``1`` forbids downloads: a dataset missing from the mirror and the cache is an error at once.
``COURSE_METRICS_DIR``
    Where :func:`course_lib.report.record` writes ``<notebook>.json`` (default ``build/metrics``
    under the project root, or under the working directory outside the project).
"""

from __future__ import annotations

import os
import random
import re
import tempfile
from pathlib import Path

import numpy as np

from course_lib._validate import check_int

FAST_ENV = "COURSE_FAST"
DATA_DIR_ENV = "COURSE_DATA_DIR"
CACHE_DIR_ENV = "COURSE_CACHE_DIR"
OFFLINE_ENV = "COURSE_OFFLINE"
METRICS_DIR_ENV = "COURSE_METRICS_DIR"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _env_flag(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"Environment variable {name}={raw!r} is not a yes/no value; use 1 or 0.")


def fast_from_env() -> bool:
    """Return the default for a notebook's ``FAST`` parameter: True when ``COURSE_FAST=1``."""
    return _env_flag(FAST_ENV)


def offline() -> bool:
    """True when ``COURSE_OFFLINE=1`` forbids downloads."""
    return _env_flag(OFFLINE_ENV)


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the working directory) holding
    ``pyproject.toml`` and ``course_lib/``; None outside the project."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "course_lib").is_dir():
            return folder
    return None


def shorten_paths(text: str, root: Path | None = None) -> str:
    """``text`` with this machine's absolute paths written so that they read the same on any machine.

    Paths inside the project (``root``, default :func:`project_root`) become relative to it
    (``build/metrics``), paths beside it start with ``../`` (``../shared/datasets``), and paths in the
    system's temporary folder or the home folder start with ``<tmp>`` or ``~``. Used for what notebooks
    print, so that stored outputs show no machine's folders.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    root = root or project_root()
    prefixes = [(Path(tempfile.gettempdir()).resolve(), "<tmp>"), (Path.home().resolve(), "~")]
    if root is not None:
        prefixes += [(root.resolve(), "."), (root.resolve().parent, "..")]
    for folder, short in sorted(prefixes, key=lambda item: len(str(item[0])), reverse=True):
        if str(folder) == "/":
            continue
        start = r"(?<![\w./-])" + re.escape(str(folder))
        if short == ".":                                  # inside the project: build/metrics, not ./build/metrics
            text = re.sub(start + "/", "", text)
        text = re.sub(start + r"(?=/|(?![\w.-]))", short, text)
    return text


def data_dir() -> Path | None:
    """The mirror folder from ``COURSE_DATA_DIR``, or None when it is not set."""
    raw = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(raw).expanduser().resolve() if raw else None


def cache_dir() -> Path:
    """The user cache for downloaded and unpacked datasets (created on demand)."""
    raw = os.environ.get(CACHE_DIR_ENV, "").strip()
    base = Path(raw).expanduser() if raw else Path.home() / ".cache" / "course_lib"
    base.mkdir(parents=True, exist_ok=True)
    return base


def metrics_dir() -> Path:
    """Folder where recorded notebook metrics go (created on demand)."""
    raw = os.environ.get(METRICS_DIR_ENV, "").strip()
    if raw:
        folder = Path(raw).expanduser()
    else:
        folder = (project_root() or Path.cwd()) / "build" / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and (when it is importable) TensorFlow/Keras in one call."""
    check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import keras
    except ImportError:  # pragma: no cover - keras is a dependency
        return
    keras.utils.set_random_seed(seed)
