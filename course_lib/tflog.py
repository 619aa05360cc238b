"""TensorFlow's log noise: the settings that keep its start-up chatter out of notebooks and logs.

TensorFlow's C++ core writes INFO and WARNING lines (CPU instruction sets, missing CUDA
drivers, ...) to the process's stderr as soon as it is imported. The environment variable
``TF_CPP_MIN_LOG_LEVEL`` silences them, but only when it is set *before* TensorFlow is
imported in that process, so it is set by the notebook start-up call, by the ``course serve``
command and in the environment of every subprocess the package starts.
"""

from __future__ import annotations

import logging
import os
from typing import MutableMapping

__all__ = ["TF_LOG_LEVEL_ENV", "QUIET_LOG_LEVEL", "quiet_native_logs", "quiet_python_logs"]

#: The environment variable TensorFlow's C++ logging reads.
TF_LOG_LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"
#: ``"2"``: errors only (``"0"`` shows everything, ``"1"`` hides INFO, ``"3"`` hides errors too).
QUIET_LOG_LEVEL = "2"


def quiet_native_logs(env: MutableMapping[str, str] | None = None, *,
                      force: bool = False) -> MutableMapping[str, str]:
    """Set ``TF_CPP_MIN_LOG_LEVEL=2`` in ``env`` (default: this process's ``os.environ``).

    A value already there is kept (someone asked for more or fewer lines on purpose) unless
    ``force``. Returns ``env``, so a subprocess environment can be built in one expression:
    ``quiet_native_logs(dict(os.environ))``.
    """
    target = os.environ if env is None else env
    if force:
        target[TF_LOG_LEVEL_ENV] = QUIET_LOG_LEVEL
    else:
        target.setdefault(TF_LOG_LEVEL_ENV, QUIET_LOG_LEVEL)
    return target


def quiet_python_logs() -> None:
    """Show only errors from TensorFlow's Python logger (``logging.getLogger("tensorflow")``)."""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
