"""One version number: pyproject.toml, read by the package through its metadata."""

from __future__ import annotations

import tomllib
from pathlib import Path

import course_lib
from course_lib.data import fetch

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_package_version_is_pyprojects():
    version = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]
    assert course_lib.__version__ == version


def test_the_download_user_agent_carries_the_version():
    assert f"/{course_lib.__version__} " in fetch._USER_AGENT


def test_without_installed_metadata_the_version_comes_from_pyproject(monkeypatch):
    from importlib import metadata

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert course_lib._read_version() == course_lib.__version__
