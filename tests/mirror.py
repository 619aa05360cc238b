"""Shared set-up for the dataset tests: a private cache per test module, and skipping without a mirror."""

from __future__ import annotations

import os
import shutil

import pytest

from course_lib.data import REGISTRY, dataset_status


def private_cache(prefix: str):
    """A module-scoped, autouse fixture: a private COURSE_CACHE_DIR and no downloads (the mirror is the source)."""

    @pytest.fixture(scope="module", autouse=True)
    def data_env(tmp_path_factory):
        cache = tmp_path_factory.mktemp(prefix)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("COURSE_CACHE_DIR", str(cache))
            mp.setenv("COURSE_OFFLINE", "1")
            yield cache
        shutil.rmtree(cache, ignore_errors=True)

    return data_env


def need(name: str) -> None:
    """Skip when COURSE_DATA_DIR is not set and the dataset is not in the cache either."""
    if not os.environ.get("COURSE_DATA_DIR"):
        row = next(r for r in dataset_status() if r["name"] == name)
        if row["where"] == "missing":
            pytest.skip(f"dataset {name!r} unavailable: COURSE_DATA_DIR is not set "
                        f"(point it at the dataset mirror, e.g. ../shared/datasets)")
    assert name in REGISTRY
