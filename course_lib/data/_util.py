"""Small helpers shared by the loaders: derived-array caches written atomically, a fixed shuffle."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..files import staged_folder

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
    with staged_folder(folder) as tmp:
        for key, value in arrays.items():
            np.save(tmp / f"{key}.npy", np.ascontiguousarray(value), allow_pickle=False)
        (tmp / ".complete").write_text(",".join(arrays) + "\n")


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
