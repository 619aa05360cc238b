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

The package has one module per concern, and every name below can be imported from
``course_lib.serving`` directly:

- :mod:`course_lib.serving.validation`: the request rules (NumPy only: no TensorFlow, no FastAPI);
- :mod:`course_lib.serving.app`: model loading, the compiled forward pass, the FastAPI app;
- :mod:`course_lib.serving.process`: :class:`ServiceProcess`, the service in a subprocess;
- :mod:`course_lib.serving.cli`: :func:`main`, what ``course serve`` runs.
"""

from course_lib.serving.app import create_app, input_spec_of, load_model_checked, make_predict_fn, model_version
from course_lib.serving.cli import main
from course_lib.serving.process import ServiceProcess, free_port
from course_lib.serving.validation import (DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, FLOAT32_MAX, InputSpec,
                                           RequestError, find_problem, parse_predict_body)

__all__ = ["RequestError", "InputSpec", "find_problem", "parse_predict_body", "model_version",
           "load_model_checked", "input_spec_of", "create_app", "main", "free_port",
           "ServiceProcess", "make_predict_fn", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_BATCH", "FLOAT32_MAX"]
