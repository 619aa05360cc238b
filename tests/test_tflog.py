"""course_lib.tflog: the settings that quiet TensorFlow's start-up logging."""

from __future__ import annotations

import io
import logging
import os

from course_lib import tflog
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


# --- start-up noise: one list, filtered at the first import of TensorFlow ---------------------------------------
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402

from course_lib.tflog import drop_startup_noise, is_startup_noise  # noqa: E402

NOISE_SAMPLES = [   # as TensorFlow 2.21 printed them on a 2-core machine without a GPU
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796228958.979344   17322 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders.",
    "I0000 00:00:1796228958.979763   17322 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    "not be used.",
    "I0000 00:00:1796228959.321768   17322 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the "
    "appropriate compiler flags.",
    "E0000 00:00:1796228973.710224   17322 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed "
    "call to cuInit: UNKNOWN ERROR (303)",
    "E0000 00:00:1796204297.316133   22289 util.cc:131] oneDNN supports DT_BOOL only on platforms with AVX-512. "
    "Falling back to the default Eigen-based implementation if present.",
]
REAL_LINES = [
    "W0000 00:00:1796228973.710224   17322 op_level_cost_estimator.cc:699] Error in PredictCost() for the op",
    "/x/train.py:3: UserWarning: a real warning",
    "ValueError: shapes (2,) and (3,) not aligned",
    "E0000 00:00:1796228973.710224   17322 bfc_allocator.cc:500] Allocator ran out of memory",
]


def test_each_startup_noise_line_is_recognised_and_real_lines_are_not():
    assert all(is_startup_noise(line) for line in NOISE_SAMPLES)
    assert all(is_startup_noise(line + "\n") for line in NOISE_SAMPLES)
    assert not any(is_startup_noise(line) for line in REAL_LINES)
    text = "\n".join(NOISE_SAMPLES[:3] + REAL_LINES[:1] + NOISE_SAMPLES[3:] + REAL_LINES[1:]) + "\n"
    kept, dropped = drop_startup_noise(text)
    assert dropped == len(NOISE_SAMPLES) and kept == "\n".join(REAL_LINES) + "\n"


def test_the_runner_strips_the_same_list():
    from course_lib import runner, tflog

    assert runner._NOISE is tflog.STARTUP_NOISE


def _python(code: str, env_drop=("TF_CPP_MIN_LOG_LEVEL",)) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=240)


def test_captured_native_stderr_drops_noise_and_keeps_real_lines_in_order():
    done = _python(f"""
        import os, sys
        from course_lib.tflog import captured_native_stderr
        with captured_native_stderr():
            os.write(2, b{NOISE_SAMPLES[0]!r} + b"\\n")
            os.write(2, b"E0000 real C++ error line\\n")
            print("a Python line on sys.stderr", file=sys.stderr)
            os.write(2, b{NOISE_SAMPLES[2]!r} + b"\\n")
        os.write(2, b"after the block\\n")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "E0000 real C++ error line\na Python line on sys.stderr\nafter the block\n"


def test_importing_course_lib_silences_tensorflow_start_but_not_real_warnings():
    code = """
        import course_lib
        import warnings
        import tensorflow as tf
        tf.constant(1.0) + 1.0
        warnings.warn("a real warning")
        print("done")
    """
    quiet = _python(code)
    assert quiet.returncode == 0 and quiet.stdout == "done\n", quiet.stderr
    noise = [line for line in quiet.stderr.splitlines() if is_startup_noise(line)]
    assert not noise, f"start-up noise after importing course_lib: {noise}"
    assert "UserWarning: a real warning" in quiet.stderr
    # (without course_lib the same program prints the NOISE_SAMPLES lines: TensorFlow 2.21 prints them
    # even with TF_CPP_MIN_LOG_LEVEL=3; not rerun here, a TensorFlow import takes 10-20 s on 2 cores)


def test_an_explicit_level_0_keeps_every_line():
    done = _python("""
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        from course_lib.tflog import quiet_tensorflow_import
        print(quiet_tensorflow_import())
    """)
    assert done.stdout == "False\n", done.stderr



class OutStream:
    """Has the name of ipykernel's stream class: that is what the filter looks for."""


ONEDNN = ("E0000 00:00:1796239797.526384   22374 util.cc:131] oneDNN supports DT_INT64 only on platforms "
          "with AVX-512. Falling back to the default Eigen-based implementation if present.\n")


def _read_until(fd, marker, timeout=10.0):
    import select
    import time

    data, deadline = b"", time.monotonic() + timeout
    while marker not in data and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            data += os.read(fd, 65536)
    return data


def test_a_kernel_descriptor_drops_noise_written_later_and_keeps_real_lines():
    shown, kernel_pipe = os.pipe()                  # what ipykernel reads and puts into the cell
    fd = os.dup(kernel_pipe)                        # stands in for file descriptor 2
    try:
        assert tflog.quiet_kernel_stderr(OutStream(), env={}, fd=fd)
        assert tflog.quiet_kernel_stderr(OutStream(), env={}, fd=fd)      # once only
        os.write(fd, ONEDNN.encode() + b"E0000 00:00:1.0 1 some_op.cc:12] a real error\n")
        assert _read_until(shown, b"error\n") == b"E0000 00:00:1.0 1 some_op.cc:12] a real error\n"
        os.write(fd, b"progress 50%")                                        # no newline: passes at once
        assert _read_until(shown, b"50%") == b"progress 50%"
        os.write(fd, b"\nE0000 00:00:2.0 2 ")                                # half a log line: held ...
        os.write(fd, b"util.cc:131] oneDNN supports DT_HALF only on platforms with AVX-512. Falling back.\n"
                     b"done\n")                                                # ... and dropped when whole
        assert _read_until(shown, b"done\n") == b"\ndone\n"
    finally:
        os.close(fd)
        os.close(kernel_pipe)
        os.close(shown)


def test_other_streams_and_level_0_are_left_alone():
    assert not tflog.quiet_kernel_stderr(io.StringIO(), env={}, fd=999)
    assert not tflog.quiet_kernel_stderr(OutStream(), env={"TF_CPP_MIN_LOG_LEVEL": "0"}, fd=999)
