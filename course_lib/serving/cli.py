"""``course serve MODEL_PATH``: load a saved model and serve it with uvicorn."""

from __future__ import annotations

import argparse
import sys

from course_lib._validate import check_int
from course_lib.serving.app import create_app
from course_lib.tflog import quiet_native_logs

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """``course serve MODEL_PATH [--host 127.0.0.1] [--port 5000]``: load the model and run uvicorn.

    Returns the exit status: 2 (with a message on stderr) for a bad port or a model that cannot
    be loaded; otherwise it serves until stopped and returns 0.
    """
    import uvicorn

    port = getattr(args, "port", 5000)
    host = getattr(args, "host", "127.0.0.1")
    try:
        check_int("--port", port, minimum=1, maximum=65535)
    except (TypeError, ValueError) as err:
        print(f"course serve: {err}", file=sys.stderr)
        return 2
    quiet_native_logs()
    try:
        app = create_app(args.model_path)
    except (FileNotFoundError, ValueError) as err:
        print(f"course serve: {err}", file=sys.stderr)
        return 2
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"course serve: listening on {host}, reachable from other machines; the service has no "
              "authentication", file=sys.stderr)
    print(f"serving {args.model_path} ({app.state.version}) on http://{host}:{port}", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=getattr(args, "log_level", "warning"))
    return 0
