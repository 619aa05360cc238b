"""pytest set-up shared by the unit tests and nbval.

The test-suite runs the notebooks in FAST mode: this sets ``COURSE_FAST=1`` (unless the
caller chose otherwise) before nbval starts any kernel, and keeps metrics written by the
nbval runs apart from a learner's ``build/metrics``.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("COURSE_METRICS_DIR", str(ROOT / "build" / "test-metrics" / "nbval"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
