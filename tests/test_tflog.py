"""course_lib.tflog: the settings that quiet TensorFlow's start-up logging."""

from __future__ import annotations

import logging

from course_lib.tflog import QUIET_LOG_LEVEL, TF_LOG_LEVEL_ENV, quiet_native_logs, quiet_python_logs


def test_quiet_native_logs_keeps_an_explicit_choice_unless_forced():
    env = {"PATH": "/bin"}
    assert quiet_native_logs(env) is env and env[TF_LOG_LEVEL_ENV] == QUIET_LOG_LEVEL == "2"
    chosen = {TF_LOG_LEVEL_ENV: "0"}
    assert quiet_native_logs(chosen)[TF_LOG_LEVEL_ENV] == "0"
    assert quiet_native_logs(chosen, force=True)[TF_LOG_LEVEL_ENV] == "2"


def test_quiet_native_logs_defaults_to_this_process(monkeypatch):
    monkeypatch.delenv(TF_LOG_LEVEL_ENV, raising=False)
    import os

    assert quiet_native_logs() is os.environ and os.environ[TF_LOG_LEVEL_ENV] == "2"


def test_quiet_python_logs(monkeypatch):
    logger = logging.getLogger("tensorflow")
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    quiet_python_logs()
    assert logger.level == logging.ERROR
