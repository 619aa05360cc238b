"""The FastAPI application: model loading, the compiled forward pass and the two endpoints.

FastAPI, Starlette, pydantic and TensorFlow are imported inside the functions that need them,
so importing :mod:`course_lib.serving` stays cheap.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the ``Request`` annotation of the
# endpoint defined inside create_app, and a postponed (string) annotation would have to be
# resolved in this module's globals, where the locally imported class is not.

import hashlib
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from course_lib._validate import positive_int
from course_lib.forward import forward_function
from course_lib.serving.validation import (DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, InputSpec, RequestError,
                                           parse_predict_body)

__all__ = ["model_version", "load_model_checked", "input_spec_of", "make_predict_fn", "create_app"]


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


def make_predict_fn(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The model's forward pass compiled once (``tf.function``, batch axis free): array in, array out.

    The service answers with it, and tests use it to compute the in-process predictions that the
    service's answers are compared with. Inputs are converted to the model input's dtype.
    """
    spec = input_spec_of(model)
    return forward_function(model, dtype=spec.dtype)


def _answer(outputs: np.ndarray, version: str, batched: bool) -> dict:
    """The ``/predict`` JSON for the model's outputs on a valid batch."""
    answer: dict[str, Any] = {"model_version": version, "batched": batched}
    answer["predictions"] = outputs.tolist() if batched else outputs[0].tolist()
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        classes = outputs.argmax(axis=1).tolist()
        answer["classes"] = classes if batched else classes[0]
    return answer


def create_app(model_path: str | os.PathLike, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               max_batch: int = DEFAULT_MAX_BATCH) -> Any:
    """Build the FastAPI application serving the ``.keras`` model at ``model_path``.

    The model is loaded (safe mode), its forward pass compiled once for any batch size and run
    once on zeros, so the first request is as fast as the rest.

    Raises:
        TypeError: ``max_body_bytes`` or ``max_batch`` is not an integer.
        ValueError: either is below 1, or the file is not a loadable ``.keras`` model.
        FileNotFoundError: ``model_path`` does not exist.
    """
    max_body_bytes = positive_int("max_body_bytes", max_body_bytes)
    max_batch = positive_int("max_batch", max_batch)
    model = load_model_checked(model_path)
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, Field
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request

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
        return JSONResponse(_answer(outputs, version, batched))

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
