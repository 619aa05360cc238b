"""Which datasets are available where, without downloading anything (for ``course doctor``)."""

from __future__ import annotations

from typing import Any

from .fetch import cache_folder, mirror_folder, verify_file
from .registry import REGISTRY, DatasetSpec

__all__ = ["dataset_status"]


def _status(spec: DatasetSpec, verify: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"name": spec.name, "description": spec.description, "where": "missing",
                           "path": None, "verified": None}
    mirror = mirror_folder(spec)
    if mirror is not None and all((mirror / f.name).is_file() for f in spec.files):
        row.update(where=f"mirror {mirror}", path=str(mirror))
        if verify:
            row["verified"] = all(verify_file(mirror / f.name, f.sha256, f.content) for f in spec.files)
        return row
    cache = cache_folder(spec)
    if spec.downloads and all((cache / d.filename).is_file() for d in spec.downloads):
        row.update(where=f"cache {cache}", path=str(cache))
        if verify:
            row["verified"] = all(d.sha256 is not None and verify_file(cache / d.filename, d.sha256)
                                  for d in spec.downloads)
    elif spec.files and all((cache / f.name).is_file() for f in spec.files):
        row.update(where=f"cache {cache}", path=str(cache))
        if verify:
            row["verified"] = all(verify_file(cache / f.name, f.sha256, f.content) for f in spec.files)
    return row


def dataset_status(verify: bool = False) -> list[dict[str, Any]]:
    """One row per registered dataset, in registry order; never downloads.

    Args:
        verify: also check the sha256 of the files found (reads every file once per process).

    Returns:
        dicts with ``name``, ``description``, ``where`` (``"mirror <path>"``, ``"cache <path>"``
        or ``"missing"``), ``path`` (str or None) and ``verified`` (True/False, or None when not
        checked or missing).
    """
    return [_status(spec, verify) for spec in REGISTRY.values()]
