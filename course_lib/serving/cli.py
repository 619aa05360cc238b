"""``course serve MODEL_PATH``: load a saved model and serve it with uvicorn."""

from __future__ import annotations

import argparse
import sys

from course_lib._validate import check_int
from course_lib.serving.app import (DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_QUEUE, DEFAULT_TIMEOUT, create_app)
from course_lib.serving.guards import LOOPBACK_NAMES
from course_lib.serving.server import LOG_LEVELS, serve
from course_lib.serving.validation import DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES
from course_lib.tflog import quiet_native_logs

__all__ = ["main", "parse_input_shape"]


def parse_input_shape(text: str | None) -> tuple[int, ...] | None:
    """``"28,28,1"`` -> ``(28, 28, 1)``; ValueError naming the option for anything else."""
    if text is None:
        return None
    parts = [p.strip() for p in str(text).replace("x", ",").split(",")]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"--input-shape must be positive sizes separated by commas, such as 28,28,1; got {text!r}")
    return tuple(int(p) for p in parts)


def main(args: argparse.Namespace) -> int:
    """``course serve MODEL_PATH [--host 127.0.0.1] [--port 5000] [options]``: load the model, run uvicorn.

    Options (each optional on ``args``, with the defaults of :func:`create_app`): ``input_shape``,
    ``max_batch``, ``max_body_bytes``, ``max_concurrency``, ``max_queue``, ``timeout``,
    ``allowed_host`` (a list added to the loopback names), ``docs``, ``log_level``, ``access_log``.

    Returns the exit status: 2 (with a message on stderr) for a bad option, a model that cannot be
    loaded or one that fails its warm-up; otherwise it serves until stopped and returns 0.
    """
    port = getattr(args, "port", 5000)
    host = getattr(args, "host", "127.0.0.1")
    log_level = str(getattr(args, "log_level", "info")).lower()
    try:
        check_int("--port", port, minimum=1, maximum=65535)
        if log_level not in LOG_LEVELS:
            raise ValueError(f"--log-level must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
        input_shape = parse_input_shape(getattr(args, "input_shape", None))
        extra_hosts = list(getattr(args, "allowed_host", None) or [])
        hosts = [*LOOPBACK_NAMES, *([host] if host not in ("0.0.0.0", "::") else []), *extra_hosts]
        options = dict(max_batch=getattr(args, "max_batch", DEFAULT_MAX_BATCH),
                       max_body_bytes=getattr(args, "max_body_bytes", DEFAULT_MAX_BODY_BYTES),
                       max_concurrency=getattr(args, "max_concurrency", DEFAULT_MAX_CONCURRENCY),
                       max_queue=getattr(args, "max_queue", DEFAULT_MAX_QUEUE),
                       timeout=getattr(args, "timeout", DEFAULT_TIMEOUT))
        for name in ("max_batch", "max_body_bytes", "max_concurrency"):
            check_int(f"--{name.replace('_', '-')}", options[name], minimum=1)
        check_int("--max-queue", options["max_queue"], minimum=0)
        if not isinstance(options["timeout"], (int, float)) or not options["timeout"] > 0:
            raise ValueError(f"--timeout must be a positive number of seconds, got {options['timeout']!r}")
    except (TypeError, ValueError) as err:
        print(f"course serve: {err}", file=sys.stderr)
        return 2
    quiet_native_logs()
    try:
        app = create_app(args.model_path, input_shape=input_shape, allowed_hosts=hosts,
                         docs=bool(getattr(args, "docs", False)), **options)
    except (FileNotFoundError, ValueError) as err:
        print(f"course serve: {err}", file=sys.stderr)
        return 2
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"course serve: listening on {host}, reachable from other machines; the service has no "
              "authentication", file=sys.stderr)
    if host in ("0.0.0.0", "::") and not extra_hosts:
        print("course serve: only requests addressed to a loopback name are answered; add this machine's "
              "name with --allowed-host NAME (or --allowed-host '*')", file=sys.stderr)
    print(f"serving {args.model_path} ({app.state.version}) on http://{host}:{port}", flush=True)
    serve(app, host, port, header_timeout=options["timeout"], log_level=log_level,
          access_log=getattr(args, "access_log", True))
    return 0
