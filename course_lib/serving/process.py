"""Run the prediction service in a subprocess: :class:`ServiceProcess` starts, waits and stops it."""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Sequence

from course_lib._validate import check_int, positive_number
from course_lib.ports import free_port
from course_lib.tflog import quiet_native_logs

__all__ = ["ServiceProcess", "free_port"]


class ServiceProcess:
    """Run ``course serve MODEL_PATH`` in a subprocess; a context manager.

    >>> with ServiceProcess("model.keras") as service:
    ...     requests.post(service.url + "/predict", json={"inputs": x[:2].tolist()}).json()

    :meth:`start` picks a free port (unless one is given), starts the process and, with
    ``wait=True``, polls ``GET /health/ready`` until the model is loaded, raising ``RuntimeError``
    with the service's log if it exits or does not answer within ``startup_timeout`` seconds.
    :meth:`stop` sends SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it has not exited
    after ``stop_timeout`` seconds; it also runs when the Python process exits. ``options`` are more
    ``course serve`` arguments, e.g. ``["--timeout", "2", "--log-level", "warning"]``.

    The service's output goes to a temporary file that :meth:`stop` reads into memory and deletes,
    so :meth:`log` still works afterwards and nothing is left in the temporary folder.
    """

    def __init__(self, model_path: str | os.PathLike, host: str = "127.0.0.1", port: int | None = None,
                 startup_timeout: float = 120.0, stop_timeout: float = 10.0, options: Sequence[str] = ()):
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"{self.model_path} does not exist; save the model first")
        if port is not None:
            port = check_int("port", port, minimum=1, maximum=65535)
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        for name, seconds in (("startup_timeout", startup_timeout), ("stop_timeout", stop_timeout)):
            positive_number(name, seconds, expected="a positive number of seconds")
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen | None = None
        self.health: dict | None = None
        self._log_file = None
        self._log_text = ""
        if isinstance(options, str) or not all(isinstance(o, str) for o in options):
            raise TypeError(f"options must be a list of strings (command-line arguments), got {options!r}")
        self.options = list(options)

    @property
    def url(self) -> str:
        """``http://<host>:<port>`` of the running service."""
        if self.port is None:
            raise RuntimeError("the service has not been started")
        return f"http://{self.host}:{self.port}"

    def start(self, wait: bool = True) -> "ServiceProcess":
        """Start the subprocess (and wait until it is healthy unless ``wait=False``)."""
        if self.running:
            raise RuntimeError(f"the service is already running at {self.url}")
        for attempt in range(3):
            self._launch()
            if not wait:
                return self
            try:
                self.wait_until_ready()
                return self
            except RuntimeError:
                clash = "already in use" in self.log() and self._requested_port is None
                if not clash or attempt == 2:
                    raise
        return self  # pragma: no cover

    def _launch(self) -> None:
        self.port = self._requested_port or free_port(self.host)
        self._close_log()
        self._log_file = tempfile.NamedTemporaryFile(prefix="course-serve-", suffix=".log", delete=False)
        env = quiet_native_logs(dict(os.environ), force=True)
        env["PYTHONUNBUFFERED"] = "1"
        command = [sys.executable, "-m", "course_lib.cli", "serve", str(self.model_path),
                   "--host", self.host, "--port", str(self.port), *self.options]
        self.process = subprocess.Popen(command, stdout=self._log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env)
        atexit.register(self.stop)

    @property
    def running(self) -> bool:
        """True while the subprocess is alive."""
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """Everything the service has printed so far."""
        if self._log_file is None:
            return self._log_text
        return Path(self._log_file.name).read_text(encoding="utf-8", errors="replace")

    def _close_log(self) -> None:
        """Keep the log's text in memory, then close and delete its file."""
        if self._log_file is None:
            return
        self._log_text = self.log()
        self._log_file.close()
        Path(self._log_file.name).unlink(missing_ok=True)
        self._log_file = None

    def wait_until_ready(self, timeout: float | None = None) -> dict:
        """Poll ``GET /health/ready`` until it answers 200; return the JSON of ``GET /health``."""
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        while time.monotonic() < deadline:
            if not self.running:
                code = self.process.returncode if self.process else None
                text = self.log()[-3000:]
                self._close_log()
                raise RuntimeError(f"the service exited with status {code} before it was ready:\n{text}")
            try:
                with urllib.request.urlopen(self.url + "/health/ready", timeout=2):
                    pass
                with urllib.request.urlopen(self.url + "/health", timeout=5) as reply:
                    self.health = json.loads(reply.read())
                    return self.health
            except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the service did not answer /health within {timeout or self.startup_timeout} s:\n"
                           f"{self.log()[-3000:]}")

    def stop(self) -> int | None:
        """Stop the service (SIGTERM, then SIGKILL); returns its exit status (None if never started)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=self.stop_timeout)
        self._close_log()
        try:
            atexit.unregister(self.stop)
        except Exception:  # pragma: no cover
            pass
        return self.process.returncode

    def __enter__(self) -> "ServiceProcess":
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        where = f" at {self.url}" if self.port else ""
        return f"ServiceProcess({str(self.model_path)!r}, {state}{where})"
