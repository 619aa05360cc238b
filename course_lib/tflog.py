"""TensorFlow's log noise: the one place that keeps its start-up chatter out of notebooks and logs.

TensorFlow's C++ core writes lines to the process's stderr as soon as it is imported ("Could not
find cuda drivers on your machine", the CPU instruction sets, "failed call to cuInit: INTERNAL:
CUDA error ..." on a machine without a GPU). On a laptop without a GPU they read like a failure;
they are not one. Two mechanisms keep them out, both set up by importing ``course_lib``:

- ``TF_CPP_MIN_LOG_LEVEL=2`` (:func:`quiet_native_logs`) hides the C++ INFO and WARNING lines
  written once TensorFlow's logging is set up; it is inherited by every subprocess (``course run``'s
  kernels, the service, the workers). A value the user set is kept.
- The lines printed *before* that logging exists ignore the variable (they come even at level 3),
  so :func:`quiet_tensorflow_import` catches the first ``import tensorflow`` of the process, runs
  it (and the device discovery that prints the cuInit line) with the process's stderr going to a
  temporary file, and then writes back every line of it except those :data:`STARTUP_NOISE`
  matches. Real warnings and errors printed meanwhile still reach stderr, in order.

:data:`STARTUP_NOISE` is also what ``course run --store`` strips from stored notebooks
(:func:`course_lib.runner.strip_startup_noise`) and what the output-hygiene tests accept nowhere.
Inside a Jupyter kernel, ipykernel forwards what C++ code writes to stderr *later* into the cell too:
the oneDNN line ("E0000 ... oneDNN supports DT_INT64 only on platforms with AVX-512 ...") comes on the
first training step of a BERT model. :func:`quiet_kernel_stderr` (called by
:func:`course_lib.notebook.start`) puts a filter in front of the kernel's stderr descriptor that
drops the :data:`STARTUP_NOISE` lines; every other line still shows.

``TF_CPP_MIN_LOG_LEVEL=0`` (set before importing ``course_lib``) shows everything again.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile
import threading
from typing import Any, Iterator, MutableMapping

__all__ = ["TF_LOG_LEVEL_ENV", "QUIET_LOG_LEVEL", "STARTUP_NOISE", "is_startup_noise", "drop_startup_noise",
           "captured_native_stderr", "quiet_tensorflow_import", "quiet_native_logs", "quiet_python_logs",
           "quiet_kernel_stderr"]

#: Start-up chatter TensorFlow writes to stderr before its logging is set up (no CUDA driver, CPU
#: instruction sets, oneDNN, XLA's "compiled cluster"). It says nothing about the lesson; any other
#: line is kept wherever these are dropped.
STARTUP_NOISE = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
    re.compile(r"^[IWE]\d{4} [\d:. ]+\d+ (cudart_stub|cpu_feature_guard|cuda_platform|cuda_executor|port|service"
               r"|generator_dataset_op)\.cc:\d+\] "),
    re.compile(r"^I\d{4} [\d:. ]+\d+ device_compiler\.h:\d+\] Compiled cluster using XLA!"),
    re.compile(r"^E\d{4} [\d:. ]+\d+ util\.cc:\d+\] oneDNN supports DT_[A-Z0-9]+ only on platforms with AVX-512\. "),
    re.compile(r"^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.$"),
)


def is_startup_noise(line: str) -> bool:
    """True for one line (with or without its newline) of TensorFlow's start-up chatter."""
    line = line.rstrip("\r\n")
    return any(p.match(line) for p in STARTUP_NOISE)


def drop_startup_noise(text: str) -> tuple[str, int]:
    """``text`` without its start-up noise lines, and how many lines were dropped."""
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not is_startup_noise(line)]
    return "".join(kept), len(lines) - len(kept)


@contextlib.contextmanager
def captured_native_stderr(fd: int = 2) -> Iterator[None]:
    """Send file descriptor ``fd`` (stderr) to a temporary file inside the block, then write back all
    but the :data:`STARTUP_NOISE` lines. C++ code writes to the descriptor, not to ``sys.stderr``,
    so this is the only way to catch what TensorFlow prints while it loads."""
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):  # pragma: no cover - no stderr, or a closed one
        pass
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), fd)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (AttributeError, ValueError):  # pragma: no cover
                pass
            os.dup2(saved, fd)
            os.close(saved)
            capture.seek(0)
            kept, _ = drop_startup_noise(capture.read().decode("utf-8", "replace"))
            if kept:
                os.write(fd, kept.encode("utf-8"))


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run inside :func:`captured_native_stderr`, device discovery included."""

    def __init__(self, loader: Any):
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        with captured_native_stderr():
            try:
                self._loader.exec_module(module)
                with contextlib.suppress(Exception):     # prints "failed call to cuInit" without a GPU
                    module.config.list_physical_devices("GPU")
            finally:
                module.__loader__ = self._loader
                if getattr(module, "__spec__", None) is not None:
                    module.__spec__.loader = self._loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Catches the first ``import tensorflow`` of the process (then removes itself)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "tensorflow":
            return None
        _remove_finder()
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _QuietLoader(spec.loader)
        return spec


def _remove_finder() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowImport)]


def quiet_tensorflow_import() -> bool:
    """Quiet TensorFlow's start-up in this process: ``TF_CPP_MIN_LOG_LEVEL=2`` unless set, and the
    first ``import tensorflow`` filtered as described in the module docstring.

    Returns True when the import will be filtered; False when TensorFlow is already imported (too
    late: its lines are out) or the user asked for every line with ``TF_CPP_MIN_LOG_LEVEL=0``.
    Calling it again does nothing more.
    """
    quiet_native_logs()
    if "tensorflow" in sys.modules or os.environ.get(TF_LOG_LEVEL_ENV, "").strip() == "0":
        return False
    if not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
    return True

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


#: The filtering threads :func:`quiet_kernel_stderr` started, by file descriptor.
_KERNEL_FILTERS: dict[int, threading.Thread] = {}


def _forward_without_noise(read_end: int, target: int) -> None:
    """Copy bytes from ``read_end`` to ``target`` line by line, without :data:`STARTUP_NOISE` lines.
    A partial line is held only while it could still become a log line (it starts like one)."""
    pending = b""
    while True:
        try:
            chunk = os.read(read_end, 65536)
        except OSError:
            break
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        kept = b"".join(line + b"\n" for line in lines if not is_startup_noise(line.decode("utf-8", "replace")))
        if pending and pending[:1] not in (b"I", b"W", b"E", b"T"):
            kept, pending = kept + pending, b""
        if kept:
            _write_all(target, kept)
    if pending:
        _write_all(target, pending)


def _write_all(target: int, data: bytes) -> None:
    try:
        os.write(target, data)
    except OSError:   # the kernel's pipe is gone (it is shutting down): keep draining, so no writer blocks
        pass


def quiet_kernel_stderr(stream: Any = None, env: MutableMapping[str, str] | None = None, fd: int = 2) -> bool:
    """In a Jupyter kernel, keep :data:`STARTUP_NOISE` lines that C++ code writes *later* out of the cell.

    ipykernel sends whatever reaches file descriptor ``fd`` (stderr) into the cell's output. This puts
    a pipe in front of it and a thread that forwards every line except the noise. Only when ``stream``
    (default ``sys.stderr``) is ipykernel's ``OutStream`` and ``TF_CPP_MIN_LOG_LEVEL`` in ``env`` is not
    ``0``; a second call changes nothing. Returns whether ``fd`` is filtered.
    """
    stream = sys.stderr if stream is None else stream
    env = os.environ if env is None else env
    if env.get(TF_LOG_LEVEL_ENV, "").strip() == "0" or type(stream).__name__ != "OutStream":
        return False
    running = _KERNEL_FILTERS.get(fd)
    if running is not None and running.is_alive():
        return True
    target = os.dup(fd)                         # where fd went so far: ipykernel's own pipe
    read_end, write_end = os.pipe()
    os.dup2(write_end, fd)
    os.close(write_end)
    thread = threading.Thread(target=_forward_without_noise, args=(read_end, target),
                              name="course-quiet-stderr", daemon=True)
    thread.start()
    _KERNEL_FILTERS[fd] = thread
    return True


def quiet_python_logs() -> None:
    """Show only errors from TensorFlow's Python logger (``logging.getLogger("tensorflow")``)."""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
