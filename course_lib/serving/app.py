"""The FastAPI application: model loading, warm-up, the compiled forward pass and the endpoints.

FastAPI, Starlette, pydantic and TensorFlow are imported inside the functions that need them,
so importing :mod:`course_lib.serving` stays cheap.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the ``Request`` annotation of the
# endpoint defined inside create_app, and a postponed (string) annotation would have to be
# resolved in this module's globals, where the locally imported class is not.

import asyncio
import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from course_lib._validate import check_int, check_shape, positive_int, positive_number
from course_lib.forward import forward_function
from course_lib.serving.guards import LOOPBACK_NAMES, AllowedHosts, Limiter, Overloaded, read_body
from course_lib.serving.validation import (DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, InputSpec, RequestError,
                                           parse_predict_body)

__all__ = ["DEFAULT_MAX_CONCURRENCY", "DEFAULT_MAX_QUEUE", "DEFAULT_TIMEOUT", "model_version",
           "load_model_checked", "input_spec_of", "make_predict_fn", "layer_shapes_fn", "warm_up", "create_app"]

DEFAULT_MAX_CONCURRENCY = 4     # requests read, validated and predicted at once
DEFAULT_MAX_QUEUE = 64          # requests waiting for a turn before new ones get 503
DEFAULT_TIMEOUT = 10.0          # seconds for headers, for the body, and for a turn
WARM_UP_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)   # tried for free dimensions until the model runs

log = logging.getLogger("course_lib.serving")


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


def _embedding_vocabulary(model: Any) -> int | None:
    """``input_dim`` of an ``Embedding`` layer that reads the model's input directly, else None."""
    import keras

    tensor = model.inputs[0]
    for layer in model.layers:
        if not isinstance(layer, keras.layers.Embedding):
            continue
        try:
            inbound = layer.input
        except (AttributeError, ValueError):     # a layer used more than once has no single input
            continue
        if inbound is tensor or getattr(inbound, "name", None) == tensor.name:
            return int(layer.input_dim)
    return None


def input_spec_of(model: Any) -> InputSpec:
    """The :class:`InputSpec` of a single-input Keras model: its input shape without the batch axis,
    its dtype and, when the input feeds an ``Embedding`` directly, that layer's vocabulary size."""
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        raise ValueError("the service supports models with exactly one input tensor")
    tensor = inputs[0]
    return InputSpec(shape=tuple(None if d is None else int(d) for d in tensor.shape[1:]), dtype=str(tensor.dtype),
                     vocabulary=_embedding_vocabulary(model))


def make_predict_fn(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The model's forward pass compiled once (``tf.function``, batch axis free): array in, array out.

    The service answers with it, and tests use it to compute the in-process predictions that the
    service's answers are compared with. Inputs are converted to the model input's dtype.
    """
    spec = input_spec_of(model)
    return forward_function(model, dtype=spec.dtype)


def layer_shapes_fn(model: Any) -> Callable[[Sequence[int]], list[tuple]] | None:
    """``input shape -> [every layer's output shape]``, worked out by Keras without computing anything
    (None for a model whose layers cannot be listed).

    :func:`warm_up` uses it to see whether an input is too small: on a CPU, a valid convolution on
    too small an input may not fail; it can return a feature map of the wrong size, and what follows
    it is garbage. Keras' shape inference refuses such a size.
    """
    import keras

    try:
        tensors = [t for layer in model.layers[1:] for t in keras.tree.flatten(layer.output)]
        probe = keras.Model(model.inputs, tensors)
    except (AttributeError, ValueError, TypeError):
        return None

    def shapes(example_shape: Sequence[int]) -> list[tuple]:
        spec = probe.compute_output_spec([keras.KerasTensor((1, *example_shape), dtype=model.inputs[0].dtype)])
        return [tuple(t.shape) for t in keras.tree.flatten(spec)]

    return shapes


def _fitting_input_shape(spec: InputSpec, input_shape: Sequence[int]) -> tuple[int, ...]:
    """``input_shape`` as a tuple; ValueError unless it is one example's shape for ``spec``."""
    input_shape = tuple(check_shape("input_shape", tuple(input_shape), length=len(spec.shape),
                                    expected=f"{len(spec.shape)} positive sizes, one example's shape"))
    if not spec.matches(input_shape):
        raise ValueError(f"--input-shape {','.join(map(str, input_shape))} does not fit the model's input "
                         f"shape {spec.describe()}")
    return input_shape


def warm_up(forward: Callable[[np.ndarray], np.ndarray], spec: InputSpec,
            input_shape: Sequence[int] | None = None,
            layer_shapes: Callable[[Sequence[int]], list[tuple]] | None = None) -> InputSpec:
    """Run the forward pass once on zeros, so the first request is as fast as the rest.

    With free dimensions (``None`` in ``spec.shape``) it also finds the smallest size that works for
    all of them at once (a 3x3 valid convolution needs at least 3): sizes 1, 2, 4, ... 256 are tried
    (or, with ``input_shape``, one example's shape, its smallest free size), then the smallest working
    size is found by bisection (models whose valid sizes have gaps are not supported). Returns
    ``spec`` with ``min_size`` set, so that a too-small input is a 422, not a failure in the model.

    Raises:
        ValueError: ``input_shape`` does not fit ``spec``, or the model fails on every warm-up input
            (the message says to pass ``--input-shape``).
    """
    free = [axis for axis, d in enumerate(spec.shape) if d is None]

    def runs(shape: Sequence[int]) -> bool:
        try:
            if layer_shapes is not None and free:
                if any(d is not None and d < 1 for out in layer_shapes(shape) for d in out):
                    return False
            outputs = forward(np.zeros([1, *shape], dtype=spec.dtype))
        except Exception:  # any failure of the model on this shape: try another
            return False
        return bool(outputs.size) and bool(np.all(np.isfinite(outputs)))

    def sized(size: int) -> list[int]:
        return [size if d is None else d for d in spec.shape]

    def done(least: Sequence[int]) -> InputSpec:
        return InputSpec(spec.shape, spec.dtype, spec.vocabulary, tuple(least))

    if input_shape is not None:
        input_shape = _fitting_input_shape(spec, input_shape)
        if not runs(input_shape):
            raise ValueError(f"the model fails on a warm-up input of zeros of shape {input_shape}; "
                             "pass an --input-shape that it can take")
        if not free:
            return spec
        works = min(input_shape[axis] for axis in free)
        if not runs(sized(works)):     # the free sizes differ and the smallest alone is too small
            return done([input_shape[axis] if d is None else 1 for axis, d in enumerate(spec.shape)])
        low = 0
    elif not free:
        if not runs(spec.shape):
            raise ValueError(f"the model fails on a warm-up input of zeros of shape {spec.describe()}")
        return spec
    else:
        works = next((size for size in WARM_UP_SIZES if runs(sized(size))), None)
        if works is None:
            example = ",".join("28" if d is None else str(d) for d in spec.shape)
            raise ValueError(f"the model's input shape {spec.describe()} has free dimensions, and the model "
                             f"failed on warm-up inputs with them set to 1, 2, 4, ... {WARM_UP_SIZES[-1]}; "
                             "start the service with --input-shape giving the shape of one example it can take, "
                             f"e.g. --input-shape {example}")
        low = WARM_UP_SIZES[WARM_UP_SIZES.index(works) - 1] if works > 1 else 0
    while works - low > 1:                       # the smallest working size is in (low, works]
        middle = (low + works) // 2
        low, works = (low, middle) if runs(sized(middle)) else (middle, works)
    return done([works if d is None else 1 for d in spec.shape])


def _answer(outputs: np.ndarray, version: str, batched: bool) -> dict:
    """The ``/predict`` JSON for the model's outputs on a valid batch."""
    answer: dict[str, Any] = {"model_version": version, "batched": batched}
    answer["predictions"] = outputs.tolist() if batched else outputs[0].tolist()
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        classes = outputs.argmax(axis=1).tolist()
        answer["classes"] = classes if batched else classes[0]
    return answer


class ModelFailed(Exception):
    """The model raised on an input that passed validation: the service answers a JSON 500."""


def create_app(model_path: str | os.PathLike, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               max_batch: int = DEFAULT_MAX_BATCH, max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
               max_queue: int = DEFAULT_MAX_QUEUE, timeout: float = DEFAULT_TIMEOUT,
               input_shape: Sequence[int] | None = None, allowed_hosts: Iterable[str] = LOOPBACK_NAMES,
               docs: bool = False) -> Any:
    """Build the FastAPI application serving the ``.keras`` model at ``model_path``.

    The model is loaded (safe mode), its forward pass compiled once for any batch size and warmed
    up (:func:`warm_up`). ``max_concurrency`` requests are served at once and ``max_queue`` more
    wait up to ``timeout`` seconds (then 503); a body must arrive within ``timeout`` seconds (else
    408) and hold at most ``max_body_bytes`` bytes (else 413). Requests whose ``Host`` header is
    not in ``allowed_hosts`` get 400. ``docs=True`` adds the Swagger page ``/docs``, which loads its
    scripts from a CDN (so it is off by default; ``/openapi.json`` is always served).

    Raises:
        TypeError: a limit is not a number.
        ValueError: a limit is below 1 (``max_queue``: below 0), the file is not a loadable
            ``.keras`` model, or the model fails its warm-up.
        FileNotFoundError: ``model_path`` does not exist.
    """
    max_body_bytes = positive_int("max_body_bytes", max_body_bytes)
    max_batch = positive_int("max_batch", max_batch)
    max_concurrency = positive_int("max_concurrency", max_concurrency)
    max_queue = check_int("max_queue", max_queue, minimum=0)
    timeout = positive_number("timeout", timeout, expected="a positive number of seconds")
    model = load_model_checked(model_path)
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, Field
    from starlette.requests import ClientDisconnect, Request

    version = model_version(model_path)
    forward = make_predict_fn(model)
    spec = input_spec_of(model)
    spec = warm_up(forward, spec, input_shape, layer_shapes_fn(model) if None in spec.shape else None)
    out_shape = [None if d is None else int(d) for d in model.outputs[0].shape[1:]]
    limiter = Limiter(max_concurrency, max_queue, timeout)
    # the requests at work parse and predict in these threads: a fixed few, so the memory that
    # their allocations leave behind (one malloc arena per thread) is bounded too
    workers = ThreadPoolExecutor(max_concurrency, thread_name_prefix="predict")

    def predict_sync(body: bytes, content_type: str | None) -> dict:
        """Validate (4xx on any mistake), run the model (ModelFailed on any error), answer."""
        batch, batched = parse_predict_body(body, content_type, spec, max_batch)
        try:
            outputs = forward(batch)
        except Exception as err:
            # once, without the data: the error's type and the batch's shape only
            log.error("the model failed on a validated batch of shape %s (%s): %s", batch.shape, batch.dtype,
                      type(err).__name__)
            raise ModelFailed(type(err).__name__) from None
        if not np.all(np.isfinite(outputs)):
            raise RequestError(422, "the model's output is not finite for these inputs (NaN or infinity); "
                                    "the values are far outside what it was trained on")
        return _answer(outputs, version, batched)

    def refuse(request: Request, status: int, detail: str, headers: dict | None = None) -> JSONResponse:
        log.info("%d %s %s: %s", status, request.method, request.url.path, detail)
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)

    class PredictRequest(BaseModel):
        inputs: list = Field(description=f"one example of shape {spec.describe()}, or a batch (a list) of "
                                         f"1 to {max_batch} such examples; finite numbers only")

    class PredictResponse(BaseModel):
        model_version: str
        batched: bool = Field(description="false when the request held one example")
        predictions: list = Field(description=f"the model's output, shape {tuple(out_shape)} per example")
        classes: list[int] | int | None = Field(None, description="argmax of each prediction (classifiers)")

    class HealthResponse(BaseModel):
        status: str
        model_version: str
        input_shape: list[int | None]
        input_dtype: str
        min_input_shape: list[int]
        vocabulary: int | None
        output_shape: list[int | None]
        max_batch: int
        max_body_bytes: int
        max_concurrency: int
        max_queue: int
        timeout_s: float

    class ErrorResponse(BaseModel):
        detail: str

    app = FastAPI(title="course_lib prediction service", version=version,
                  docs_url="/docs" if docs else None, redoc_url=None,
                  description=f"Serves {Path(model_path).name}. POST /predict with "
                              "{\"inputs\": <one example or a batch>} as JSON.")
    errors = {status: {"model": ErrorResponse} for status in (400, 408, 413, 415, 422, 500, 503)}

    @app.api_route("/health", methods=["GET", "HEAD"], response_model=HealthResponse)
    def health() -> dict:
        """What the service serves and its limits (always 200 while the process runs)."""
        return {"status": "ok", "model_version": version, "input_shape": list(spec.shape),
                "input_dtype": spec.dtype, "min_input_shape": list(spec.minimum_shape()),
                "vocabulary": spec.vocabulary, "output_shape": out_shape, "max_batch": max_batch,
                "max_body_bytes": max_body_bytes, "max_concurrency": max_concurrency, "max_queue": max_queue,
                "timeout_s": timeout}

    @app.api_route("/health/live", methods=["GET", "HEAD"])
    def live() -> dict:
        """Liveness: the process answers (restart it if this fails)."""
        return {"status": "alive"}

    @app.api_route("/health/ready", methods=["GET", "HEAD"], responses={503: {"model": ErrorResponse}})
    def ready(request: Request):
        """Readiness: the model is loaded and warm and a new request would be taken (else 503)."""
        if limiter.full:
            return refuse(request, 503, "busy: every worker is taken and the queue is full",
                          {"Retry-After": "1"})
        return {"status": "ready", "model_version": version}

    @app.post("/predict", response_model=PredictResponse, responses=errors,
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": PredictRequest.model_json_schema()}}}})
    async def predict(request: Request):
        try:
            async with limiter.turn():                                  # 503 when overloaded
                body = await read_body(request, max_body_bytes, timeout)  # 413 too big, 408 too slow
                answer = await asyncio.get_running_loop().run_in_executor(
                    workers, predict_sync, body, request.headers.get("content-type"))
            return JSONResponse(answer)
        except RequestError as err:                                     # the client's mistake: 4xx
            headers = {"Connection": "close"} if err.status == 408 else None
            return refuse(request, err.status, err.message, headers)
        except Overloaded as err:
            return refuse(request, 503, err.message, {"Retry-After": str(err.retry_after)})
        except ModelFailed as err:
            return JSONResponse({"detail": f"the model failed on this input ({err}); the input was valid, "
                                           "so this is the service's fault: the error is in its log"},
                                status_code=500)
        except ClientDisconnect:
            log.info("the client disconnected before its body was complete")
            return JSONResponse({"detail": "client disconnected"}, status_code=400)

    app.add_middleware(AllowedHosts, hosts=list(allowed_hosts))
    app.state.model = model
    app.state.spec = spec
    app.state.version = version
    app.state.limiter = limiter
    return app
