"""Small helpers shared by the loaders: derived-array caches written atomically, a fixed shuffle."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from collections.abc import Mapping

import numpy as np

#: Seed of the fixed shuffles that mix the classes of datasets stored one class per folder.
SHUFFLE_SEED = 1234


def fixed_permutation(n: int, seed: int = SHUFFLE_SEED) -> np.ndarray:
    """A fixed permutation of ``range(n)`` (PCG64 seeded with ``seed``): the same on every run."""
    return np.random.Generator(np.random.PCG64(seed)).permutation(n)


def save_arrays(folder: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Store arrays as ``folder/<key>.npy`` (plain ``.npy`` files load at disk speed).

    The files are written into a temporary sibling folder renamed into place at the end, with a
    ``.complete`` marker, so a reader never sees half a cache (and two processes building the
    same cache at once do not clash: the first one to finish wins).
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", suffix=".tmp", dir=folder.parent))
    try:
        for key, value in arrays.items():
            np.save(tmp / f"{key}.npy", np.ascontiguousarray(value), allow_pickle=False)
        (tmp / ".complete").write_text(",".join(arrays) + "\n")
        if (folder / ".complete").is_file():
            return  # another process finished the same cache first: keep theirs
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)  # an incomplete leftover
        try:
            os.replace(tmp, folder)
        except OSError:
            if not (folder / ".complete").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def load_arrays(folder: Path) -> dict[str, np.ndarray] | None:
    """The arrays saved by :func:`save_arrays`, or None when absent, incomplete or unreadable."""
    folder = Path(folder)
    marker = folder / ".complete"
    if not marker.is_file():
        return None
    try:
        keys = [k for k in marker.read_text().strip().split(",") if k]
        return {key: np.load(folder / f"{key}.npy", allow_pickle=False) for key in keys}
    except (OSError, ValueError, EOFError):  # truncated or corrupt cache: rebuild it
        shutil.rmtree(folder, ignore_errors=True)
        return None
