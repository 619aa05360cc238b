"""pytest set-up shared by the unit tests and the notebook tests.

The test-suite runs the notebooks in FAST mode: this sets ``COURSE_FAST=1`` (unless the
caller chose otherwise) before any kernel starts, and keeps metrics written by the test runs
apart from a learner's ``build/metrics``.

With ``COURSE_NO_SKIP=1`` (CI sets it) a skipped test fails instead: there, a skip can only mean
something is missing or broken (a dataset mirror, a package), never that a check does not apply.
A test whose skip is legitimate even in CI carries ``@pytest.mark.may_skip``.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("COURSE_METRICS_DIR", str(ROOT / "build" / "test-metrics"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

NO_SKIP_ENV = "COURSE_NO_SKIP"


def pytest_configure(config):
    config.addinivalue_line("markers", "may_skip: the test may skip even when COURSE_NO_SKIP=1 forbids skips")


def skips_forbidden() -> bool:
    """True when ``COURSE_NO_SKIP`` is set to a yes value (same parser as every other course flag)."""
    from course_lib.config import _env_flag

    return _env_flag(NO_SKIP_ENV)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and not item.get_closest_marker("may_skip") \
            and skips_forbidden():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped ({reason}), but {NO_SKIP_ENV}=1 forbids skips: fix what is missing"
