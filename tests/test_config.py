"""course_lib.config.shorten_paths: what notebooks print reads the same on any machine."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from course_lib.config import shorten_paths

ROOT = Path("/srv/course")


@pytest.mark.parametrize("text, expected", [
    ("/srv/course/build/metrics/00_setup.json", "build/metrics/00_setup.json"),
    ("/srv/course", "."),
    ("COURSE_DATA_DIR      /srv/shared/datasets", "COURSE_DATA_DIR      ../shared/datasets"),
    ("/srv/coursework/x", "../coursework/x"),                 # a sibling folder, not inside the project
    ("https://example.org/srv/course/file", "https://example.org/srv/course/file"),   # URLs stay
    ("../shared/datasets and ./notebooks", "../shared/datasets and ./notebooks"),      # already relative
])
def test_project_paths_become_relative(text, expected):
    assert shorten_paths(text, ROOT) == expected


def test_temporary_and_home_folders_get_short_names():
    tmp = Path(tempfile.gettempdir()).resolve()
    assert shorten_paths(f"mirror: {tmp}/empty-1/mnist (COURSE_DATA_DIR={tmp}/empty-1)", ROOT) == \
        "mirror: <tmp>/empty-1/mnist (COURSE_DATA_DIR=<tmp>/empty-1)"
    assert shorten_paths(f"{Path.home().resolve()}/.cache/course_lib", ROOT) == "~/.cache/course_lib"


def test_bad_input():
    with pytest.raises(TypeError, match="text must be a str"):
        shorten_paths(Path("/srv/course"), ROOT)
