"""A prediction service for a saved Keras model: FastAPI + uvicorn, strict input validation, limits.

Start it with one command (it binds to 127.0.0.1, this machine only, unless told otherwise)::

    course serve model.keras --port 5000

and call it with JSON, one example or a batch::

    requests.post("http://127.0.0.1:5000/predict", json={"inputs": x[:3].tolist()}).json()
    # {"model_version": "mnist_mlp-3f2a...", "batched": true, "predictions": [[...], ...], "classes": [7, 2, 1]}

Endpoints (``HEAD`` works wherever ``GET`` does)
- ``POST /predict``: body ``{"inputs": <one example or a batch>}`` as ``application/json``.
  The array is checked against the model's input signature (shape, numeric dtype, finite values,
  a non-empty batch of at most ``max_batch`` examples, free dimensions at least the size the model
  needs, indices below the vocabulary size of an ``Embedding`` the input feeds) before the model sees it.
- ``GET /health``: what is served and the limits; ``GET /health/live`` (liveness: the process
  answers) and ``GET /health/ready`` (readiness: 503 while every worker is busy and the queue full).
- ``GET /openapi.json``: the OpenAPI schema; ``GET /docs`` (Swagger, scripts from a CDN) only with ``--docs``.

Every client mistake gets a 4xx answer ``{"detail": "<what was wrong and how to fix it>"}``:
400 malformed JSON, a body that is not ``{"inputs": ...}``, a request that is not valid HTTP or a
``Host`` header that is not allowed (DNS rebinding; loopback names only unless ``--allowed-host``);
408 headers or body slower than ``--timeout``; 413 a body over ``max_body_bytes`` or a batch over
``max_batch``; 415 a body that is not JSON; 422 values of the wrong shape, type or range, NaN or
infinity, or an empty batch. A model that still fails on a validated input gets a JSON 500 that
says so (logged once, without the data); overload (``--max-concurrency`` requests at work and
``--max-queue`` waiting, or a wait over ``--timeout``) gets 503 with ``Retry-After``.

:class:`ServiceProcess` starts the service in a subprocess on a free port, waits for
``/health/ready`` and stops it reliably; notebooks, tests and the benchmark use it.

The package has one module per concern, and every name below can be imported from
``course_lib.serving`` directly:

- :mod:`course_lib.serving.validation`: the request rules (NumPy only: no TensorFlow, no FastAPI);
- :mod:`course_lib.serving.guards`: the concurrency limit, the body reader, the allowed hosts;
- :mod:`course_lib.serving.app`: model loading, warm-up, the compiled forward pass, the FastAPI app;
- :mod:`course_lib.serving.server`: uvicorn set up for it (JSON 400s, header timeout, logging);
- :mod:`course_lib.serving.process`: :class:`ServiceProcess`, the service in a subprocess;
- :mod:`course_lib.serving.cli`: :func:`main`, what ``course serve`` runs.
"""

from course_lib.serving.app import (DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_QUEUE, DEFAULT_TIMEOUT, create_app,
                                    input_spec_of, layer_shapes_fn, load_model_checked, make_predict_fn, model_version,
                                    warm_up)
from course_lib.serving.cli import main, parse_input_shape
from course_lib.serving.guards import LOOPBACK_NAMES, AllowedHosts, Limiter, Overloaded, host_name, read_body
from course_lib.serving.process import ServiceProcess, free_port
from course_lib.serving.validation import (DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, FLOAT32_MAX, InputSpec,
                                           RequestError, find_problem, parse_predict_body)

__all__ = ["RequestError", "InputSpec", "find_problem", "parse_predict_body", "model_version",
           "load_model_checked", "input_spec_of", "layer_shapes_fn", "warm_up", "create_app", "main",
           "parse_input_shape", "free_port",
           "ServiceProcess", "make_predict_fn", "Limiter", "Overloaded", "AllowedHosts", "host_name", "read_body",
           "LOOPBACK_NAMES", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_BATCH", "DEFAULT_MAX_CONCURRENCY",
           "DEFAULT_MAX_QUEUE", "DEFAULT_TIMEOUT", "FLOAT32_MAX"]
