"""A prediction service for a saved Keras model: FastAPI + uvicorn, strict input validation.

Start it with one command (it binds to 127.0.0.1, this machine only, unless told otherwise)::

    course serve model.keras --port 5000

and call it with JSON, one example or a batch::

    requests.post("http://127.0.0.1:5000/predict", json={"inputs": x[:3].tolist()}).json()
    # {"model_version": "mnist_mlp-3f2a...", "batched": true, "predictions": [[...], ...], "classes": [7, 2, 1]}

Endpoints
- ``POST /predict``: body ``{"inputs": <one example or a batch>}`` as ``application/json``.
  The array is checked against the model's input signature (shape, numeric dtype, finite values,
  a non-empty batch of at most ``max_batch`` examples) before the model sees it.
- ``GET /health``: ``{"status": "ok", "model_version": ..., "input_shape": ..., ...}``.
- ``GET /openapi.json`` and ``GET /docs``: the OpenAPI schema and its browsable page.

Every bad request gets a 4xx answer ``{"detail": "<what was wrong and how to fix it>"}``:
400 malformed JSON or a body that is not ``{"inputs": ...}``, 413 a body over ``max_body_bytes``
or a batch over ``max_batch``, 415 a body that is not JSON (form data, for example), 422 values
of the wrong shape or type, NaN/infinity, or an empty batch. The model itself only ever sees
validated float arrays, so a client cannot crash the service or make it answer 500.

:class:`ServiceProcess` starts the service in a subprocess on a free port, waits for
``/health`` and stops it reliably; notebooks, tests and the benchmark use it.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from starlette.requests import Request

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_BATCH = 256
FLOAT32_MAX = float(np.finfo(np.float32).max)


# --------------------------------------------------------------------------- validation (pure Python)
class RequestError(Exception):
    """A client error: ``status`` is the HTTP status (4xx), ``message`` says what to fix."""

    def __init__(self, status: int, message: str):
        if not 400 <= status < 500:
            raise ValueError(f"RequestError is for client errors (4xx), got status {status}")
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class InputSpec:
    """What one example must look like: ``shape`` without the batch axis (None = any size) and dtype."""

    shape: tuple[int | None, ...]
    dtype: str = "float32"

    def __post_init__(self):
        if any(d is not None and (not isinstance(d, int) or d < 1) for d in self.shape):
            raise ValueError(f"every dimension must be a positive integer or None, got {self.shape}")
        try:
            kind = np.dtype(self.dtype).kind
        except TypeError:
            kind = "?"
        if kind not in "fiu":
            raise ValueError(f"only numeric inputs can be served, not dtype {self.dtype!r}")

    def describe(self) -> str:
        dims = ", ".join("any" if d is None else str(d) for d in self.shape)
        return f"({dims})"

    def matches(self, shape: tuple[int, ...]) -> bool:
        return len(shape) == len(self.shape) and all(s is None or s == d for s, d in zip(self.shape, shape))


def _reject_constant(name: str) -> Any:
    raise RequestError(422, f"the body contains {name}, which is not a finite number (nor valid JSON): "
                            "send finite numbers only")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:20] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def find_problem(value: Any, max_depth: int, path: str = "inputs") -> str | None:
    """Walk a decoded JSON value and describe the first thing that keeps it from being a numeric
    array: a non-number, a non-finite or out-of-range number, rows of unequal length or depth, or
    nesting deeper than ``max_depth``. None when it is a rectangular array of finite numbers.

    The walk goes level by level, so every list at one depth must have the same length and hold
    the same kind of item (lists or numbers) as every other list at that depth.
    """
    level: list[tuple[Any, str]] = [(value, path)]
    for depth in range(max_depth + 1):
        lists = [(item, where) for item, where in level if isinstance(item, list)]
        for item, where in level:
            if isinstance(item, list):
                continue
            if isinstance(item, bool) or item is None or isinstance(item, (str, dict)):
                return f"{where} is {_describe(item)}; every value must be a number"
            if not isinstance(item, (int, float)):
                return f"{where} is {_describe(item)}; every value must be a number"
            if isinstance(item, float) and not math.isfinite(item):
                return f"{where} is {item}; every value must be a finite number"
            if abs(item) > FLOAT32_MAX:
                return f"{where} = {item:.6g} is outside the float32 range (|x| <= {FLOAT32_MAX:.4g})"
        if not lists:
            return None
        if len(lists) != len(level):
            number = next(where for item, where in level if not isinstance(item, list))
            nested = lists[0][1]
            return (f"{nested} is a list but {number} is a single value; every row must have the same "
                    "shape (the array is ragged)")
        if depth == max_depth:
            return f"{lists[0][1]} nests deeper than the {max_depth} levels a batch of examples can have"
        first_len, first_where = len(lists[0][0]), lists[0][1]
        for item, where in lists:
            if len(item) != first_len:
                return (f"{first_where} has {first_len} items but {where} has {len(item)}; "
                        "every row must have the same length")
        level = [(child, f"{where}[{i}]") for item, where in lists for i, child in enumerate(item)]
    return None  # pragma: no cover - the loop returns at max_depth


def parse_predict_body(body: bytes, content_type: str | None, spec: InputSpec,
                       max_batch: int = DEFAULT_MAX_BATCH) -> tuple[np.ndarray, bool]:
    """Validate a ``/predict`` request body; return ``(batch array, batched)``.

    ``batched`` is False when the body held one example (it is returned as a batch of one).
    Raises :class:`RequestError` with a 4xx status and a message for every kind of bad input.
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        got = media or "no Content-Type"
        raise RequestError(415, f"expected a JSON body (Content-Type: application/json), got {got}; "
                                "with requests use json={'inputs': ...}, not data=...")
    if not body.strip():
        raise RequestError(400, "the body is empty; send {\"inputs\": <one example or a batch>}")
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except RequestError:
        raise
    except UnicodeDecodeError as err:
        raise RequestError(400, f"the body is not valid UTF-8 text: {err.reason}") from None
    except json.JSONDecodeError as err:
        raise RequestError(400, f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise RequestError(400, "the JSON nests too deeply to parse") from None
    except ValueError as err:  # e.g. an integer literal with too many digits
        raise RequestError(400, f"malformed JSON: {err}") from None
    if not isinstance(document, dict):
        raise RequestError(400, f"the body must be a JSON object {{\"inputs\": ...}}, got {_describe(document)}")
    if "inputs" not in document:
        keys = ", ".join(sorted(map(repr, document))) or "none"
        raise RequestError(400, f"the body has no \"inputs\" key (keys found: {keys}); "
                                "send {\"inputs\": <one example or a batch>}")
    extra = sorted(set(document) - {"inputs"})
    if extra:
        raise RequestError(400, f"unknown key(s) {', '.join(map(repr, extra))}; the body takes only \"inputs\"")
    inputs = document["inputs"]
    example_ndim = len(spec.shape)
    expected = f"one example of shape {spec.describe()} or a batch of shape (n, {spec.describe()[1:]}"

    array = None
    if isinstance(inputs, list):
        try:
            array = np.asarray(inputs)
        except (ValueError, TypeError, OverflowError):
            array = None
    if array is None or array.dtype.kind not in "iuf" or b"true" in body or b"false" in body:
        problem = find_problem(inputs, max_depth=example_ndim + 1)
        if problem is None and not isinstance(inputs, list):
            problem = f"inputs is a single number; expected {expected}"
        if problem is not None:
            raise RequestError(422, problem)
        try:
            array = np.asarray(inputs)
        except (ValueError, TypeError, OverflowError) as err:  # pragma: no cover - find_problem catches these
            raise RequestError(422, f"inputs is not a rectangular array of numbers ({err})") from None
    if array.dtype.kind not in "iuf":  # pragma: no cover - find_problem covers every such case
        raise RequestError(422, f"inputs must hold numbers only, got dtype {array.dtype}")

    if spec.matches(array.shape):
        batched, array = False, array[None, ...]
    elif array.ndim == example_ndim + 1 and spec.matches(array.shape[1:]):
        batched = True
    elif array.ndim >= 1 and array.shape[0] == 0:
        raise RequestError(422, f"the batch is empty; send at least one example of shape {spec.describe()}")
    else:
        raise RequestError(422, f"inputs has shape {tuple(array.shape)}; expected {expected}")
    if len(array) == 0:
        raise RequestError(422, f"the batch is empty; send at least one example of shape {spec.describe()}")
    if len(array) > max_batch:
        raise RequestError(413, f"the batch has {len(array)} examples; at most {max_batch} per request")

    target = np.dtype(spec.dtype)
    if target.kind in "iu":
        if array.dtype.kind == "f" and not np.all(np.mod(array, 1) == 0):
            raise RequestError(422, f"this model takes integers ({spec.dtype}); inputs holds fractions")
        info = np.iinfo(target)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise RequestError(422, f"inputs holds values outside the {spec.dtype} range [{info.min}, {info.max}]")
        return array.astype(target), batched
    with np.errstate(over="ignore", invalid="ignore"):
        converted = array.astype(target)
    bad = ~np.isfinite(converted)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = "inputs" + "".join(f"[{i}]" for i in (index if batched else index[1:]))
        value = float(array[index])
        if math.isfinite(value):
            raise RequestError(422, f"{where} = {value:.6g} is outside the {spec.dtype} range "
                                    f"(|x| <= {float(np.finfo(target).max):.4g})")
        raise RequestError(422, f"{where} is {value}; every value must be a finite number")
    return converted, batched


# --------------------------------------------------------------------------- the app
def model_version(model_path: str | os.PathLike) -> str:
    """``<file stem>-<first 12 hex digits of the file's SHA-256>``: changes whenever the model does."""
    path = Path(model_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{path.stem}-{digest}"


def load_model_checked(model_path: str | os.PathLike) -> Any:
    """Load a ``.keras`` file in Keras' safe mode (no arbitrary code is run) with clear errors."""
    path = Path(model_path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; save the model with model.save('model.keras') first")
    if path.suffix != ".keras" or not path.is_file():
        raise ValueError(f"{path} is not a .keras file; the service loads models saved with model.save('name.keras')")
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (OSError, ValueError, TypeError, KeyError) as err:
        raise ValueError(f"{path} could not be loaded as a Keras model ({type(err).__name__}: {err})") from err


def input_spec_of(model: Any) -> InputSpec:
    """The :class:`InputSpec` of a single-input Keras model (its input shape without the batch axis)."""
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        raise ValueError("the service supports models with exactly one input tensor")
    tensor = inputs[0]
    return InputSpec(shape=tuple(None if d is None else int(d) for d in tensor.shape[1:]), dtype=str(tensor.dtype))


def create_app(model_path: str | os.PathLike, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               max_batch: int = DEFAULT_MAX_BATCH) -> Any:
    """Build the FastAPI application serving the ``.keras`` model at ``model_path``.

    The model is loaded (safe mode), its forward pass compiled once for any batch size and run
    once on zeros, so the first request is as fast as the rest.
    """
    if not isinstance(max_body_bytes, int) or max_body_bytes < 1:
        raise ValueError(f"max_body_bytes must be a positive integer, got {max_body_bytes!r}")
    if not isinstance(max_batch, int) or max_batch < 1:
        raise ValueError(f"max_batch must be a positive integer, got {max_batch!r}")
    model = load_model_checked(model_path)
    import tensorflow as tf
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, Field
    from starlette.concurrency import run_in_threadpool

    spec = input_spec_of(model)
    version = model_version(model_path)
    forward = make_predict_fn(model)
    warm = np.zeros([1, *(d or 1 for d in spec.shape)], dtype=spec.dtype)
    out_shape = tuple(forward(warm).shape[1:])

    class PredictRequest(BaseModel):
        inputs: list = Field(description=f"one example of shape {spec.describe()}, or a batch (a list) of "
                                         f"1 to {max_batch} such examples; finite numbers only")

    class PredictResponse(BaseModel):
        model_version: str
        batched: bool = Field(description="false when the request held one example")
        predictions: list = Field(description=f"the model's output, shape {out_shape} per example")
        classes: list[int] | int | None = Field(None, description="argmax of each prediction (classifiers)")

    class HealthResponse(BaseModel):
        status: str
        model_version: str
        input_shape: list[int | None]
        input_dtype: str
        output_shape: list[int]
        max_batch: int
        max_body_bytes: int

    class ErrorResponse(BaseModel):
        detail: str

    app = FastAPI(title="course_lib prediction service", version=version,
                  description=f"Serves {Path(model_path).name}. POST /predict with "
                              "{\"inputs\": <one example or a batch>} as JSON.")
    drain_limit = max(4 * max_body_bytes, 32 * 1024 * 1024)
    errors = {status: {"model": ErrorResponse} for status in (400, 413, 415, 422)}

    @app.get("/health", response_model=HealthResponse)
    def health() -> dict:
        return {"status": "ok", "model_version": version, "input_shape": list(spec.shape),
                "input_dtype": spec.dtype, "output_shape": list(out_shape), "max_batch": max_batch,
                "max_body_bytes": max_body_bytes}

    def predict_sync(body: bytes, content_type: str | None) -> JSONResponse:
        try:
            batch, batched = parse_predict_body(body, content_type, spec, max_batch)
        except RequestError as err:
            return JSONResponse({"detail": err.message}, status_code=err.status)
        outputs = forward(batch)
        if not np.all(np.isfinite(outputs)):
            return JSONResponse({"detail": "the model's output is not finite for these inputs (NaN or infinity); "
                                           "the values are far outside what it was trained on"}, status_code=422)
        answer: dict[str, Any] = {"model_version": version, "batched": batched}
        answer["predictions"] = outputs.tolist() if batched else outputs[0].tolist()
        if outputs.ndim == 2 and outputs.shape[1] > 1:
            classes = outputs.argmax(axis=1).tolist()
            answer["classes"] = classes if batched else classes[0]
        return JSONResponse(answer)

    @app.post("/predict", response_model=PredictResponse, responses=errors,
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": PredictRequest.model_json_schema()}}}})
    async def predict(request: Request):
        declared = request.headers.get("content-length")
        too_big = f"the body is larger than {max_body_bytes} bytes; split the batch into smaller requests"
        if declared is not None and not declared.strip().isdigit():
            return JSONResponse({"detail": "the Content-Length header is not a number"}, status_code=400)
        if declared is not None and int(declared) > drain_limit:
            return JSONResponse({"detail": too_big}, status_code=413)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size <= max_body_bytes:
                chunks.append(chunk)
            elif size > drain_limit:
                break
        if size > max_body_bytes:
            # the rest of a moderately oversized body was read and dropped, so that the client,
            # which is still sending, receives this 413 instead of a reset connection
            return JSONResponse({"detail": too_big}, status_code=413)
        return await run_in_threadpool(predict_sync, b"".join(chunks), request.headers.get("content-type"))

    app.state.model = model
    app.state.spec = spec
    app.state.version = version
    return app


def main(args: argparse.Namespace) -> int:
    """``course serve MODEL_PATH [--host 127.0.0.1] [--port 5000]``: load the model and run uvicorn."""
    import uvicorn

    port = getattr(args, "port", 5000)
    host = getattr(args, "host", "127.0.0.1")
    if not isinstance(port, int) or not 0 < port < 65536:
        print(f"course serve: --port must be between 1 and 65535, got {port!r}", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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


# --------------------------------------------------------------------------- subprocess helper
def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """Run ``course serve MODEL_PATH`` in a subprocess; a context manager.

    >>> with ServiceProcess("model.keras") as service:
    ...     requests.post(service.url + "/predict", json={"inputs": x[:2].tolist()}).json()

    :meth:`start` picks a free port (unless one is given), starts the process and, with
    ``wait=True``, polls ``GET /health`` until the model is loaded, raising ``RuntimeError`` with the
    service's log if it exits or does not answer within ``startup_timeout`` seconds. :meth:`stop`
    sends SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it has not exited after
    ``stop_timeout`` seconds; it also runs when the Python process exits.
    """

    def __init__(self, model_path: str | os.PathLike, host: str = "127.0.0.1", port: int | None = None,
                 startup_timeout: float = 120.0, stop_timeout: float = 10.0):
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"{self.model_path} does not exist; save the model first")
        if port is not None and (not isinstance(port, int) or not 0 < port < 65536):
            raise ValueError(f"port must be between 1 and 65535, got {port!r}")
        if startup_timeout <= 0 or stop_timeout <= 0:
            raise ValueError("startup_timeout and stop_timeout must be positive (seconds)")
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen | None = None
        self.health: dict | None = None
        self._log_file = None

    @property
    def url(self) -> str:
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
        self._log_file = tempfile.NamedTemporaryFile(prefix="course-serve-", suffix=".log", delete=False)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
        command = [sys.executable, "-m", "course_lib.cli", "serve", str(self.model_path),
                   "--host", self.host, "--port", str(self.port)]
        self.process = subprocess.Popen(command, stdout=self._log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env)
        atexit.register(self.stop)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """Everything the service has printed so far."""
        if self._log_file is None:
            return ""
        return Path(self._log_file.name).read_text(encoding="utf-8", errors="replace")

    def wait_until_ready(self, timeout: float | None = None) -> dict:
        """Poll ``GET /health`` until it answers; return its JSON."""
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        while time.monotonic() < deadline:
            if not self.running:
                code = self.process.returncode if self.process else None
                raise RuntimeError(f"the service exited with status {code} before it was ready:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as reply:
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
        if self._log_file is not None:
            self._log_file.close()
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


def make_predict_fn(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The model's forward pass compiled once (``tf.function``, batch axis free): array in, array out.

    The service answers with it, and tests use it to compute the in-process predictions that the
    service's answers are compared with.
    """
    import tensorflow as tf

    spec = input_spec_of(model)
    signature = tf.TensorSpec([None, *spec.shape], tf.as_dtype(spec.dtype))
    forward = tf.function(lambda t: model(t, training=False), input_signature=[signature])

    def predict(x: np.ndarray) -> np.ndarray:
        return forward(np.asarray(x, dtype=spec.dtype)).numpy()

    return predict


__all__: Sequence[str] = ["RequestError", "InputSpec", "find_problem", "parse_predict_body", "model_version",
                          "load_model_checked", "input_spec_of", "create_app", "main", "free_port",
                          "ServiceProcess", "make_predict_fn"]
