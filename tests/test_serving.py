"""The prediction service in-process: validation rules, guards, warm-up, argument checks.

The REAL service on 127.0.0.1, its fuzz and its load are in ``tests/test_serving_live.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from course_lib import serving
from course_lib.serving import InputSpec, Limiter, Overloaded, RequestError, ServiceProcess, parse_predict_body

SPEC = InputSpec(shape=(28, 28), dtype="float32")
JSON = "application/json"
RNG = np.random.default_rng(0)


def body_of(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def example(n: int | None = None) -> np.ndarray:
    shape = (28, 28) if n is None else (n, 28, 28)
    return RNG.integers(0, 256, size=shape)


# --------------------------------------------------------------------------- validation, in-process
def test_valid_single_example_and_batch():
    x, batched = parse_predict_body(body_of({"inputs": example().tolist()}), JSON, SPEC)
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and batched is False
    x, batched = parse_predict_body(body_of({"inputs": example(3).tolist()}), "application/json; charset=utf-8", SPEC)
    assert x.shape == (3, 28, 28) and batched is True


@pytest.mark.parametrize("body, content_type, status, words", [
    (b"{not json", JSON, 400, "malformed JSON"),
    (b"", JSON, 400, "empty"),
    (b"\xff\xfe\x00garbage", JSON, 400, ""),
    (b"[1, 2, 3]", JSON, 400, "JSON object"),
    (b'{"data": [1]}', JSON, 400, "no \"inputs\" key"),
    (b'{"inputs": [1], "extra": 1}', JSON, 400, "unknown key"),
    (b"data=1%2C2", "application/x-www-form-urlencoded", 415, "json="),
    (b'{"inputs": [1]}', None, 415, "no Content-Type"),
    (b'{"inputs": [1]}', "text/plain", 415, "application/json"),
    (b'{"inputs": NaN}', JSON, 422, "NaN"),
    (b'{"inputs": [Infinity]}', JSON, 422, "Infinity"),
    (b'{"inputs": []}', JSON, 422, "empty"),
    (b'{"inputs": 3}', JSON, 422, "single number"),
    (b'{"inputs": "pixels"}', JSON, 422, "string"),
    (b'{"inputs": null}', JSON, 422, "null"),
    (b'{"inputs": {"a": 1}}', JSON, 422, "object"),
    (b'{"inputs": [[1, 2], [3]]}', JSON, 422, "same length"),
    (b'{"inputs": [[1, 2], 3]}', JSON, 422, "ragged"),
    (b'{"inputs": [[[1], [2]], [[3], [[4]]]]}', JSON, 422, "ragged"),
    (b'{"inputs": [[1], [[]]]}', JSON, 422, "ragged"),
    (b'{"inputs": [[1, 2]]}', JSON, 422, "shape (1, 2)"),
    (b'{"inputs": [[[1e39]]]}', JSON, 422, ""),
    (b"[" * 50_000, JSON, 400, "nests too deeply"),
    (b'{"inputs": [' + b"9" * 5000 + b"]}", JSON, 400, "malformed JSON"),
])
def test_each_bad_input_class_is_a_4xx_with_a_message(body, content_type, status, words):
    with pytest.raises(RequestError) as info:
        parse_predict_body(body, content_type, SPEC)
    assert info.value.status == status
    assert words in info.value.message and len(info.value.message) > 15


def test_values_inside_an_example_are_located_in_the_message():
    x = example().tolist()
    for bad, words in ((None, "null"), (True, "boolean"), ("7", "string"), (1e39, "float32 range"), ([1], "")):
        x[3][5] = bad
        with pytest.raises(RequestError) as info:
            parse_predict_body(body_of({"inputs": x}), JSON, SPEC)
        assert info.value.status == 422 and words in info.value.message
    x[3][5] = float("nan")
    with pytest.raises(RequestError, match="NaN"):
        parse_predict_body(body_of({"inputs": x}), JSON, SPEC)
    x[3][5] = 3.5e38  # a finite float64 that overflows float32
    with pytest.raises(RequestError, match=r"inputs\[3\]\[5\] = 3.5e\+38 is outside the float32 range"):
        parse_predict_body(body_of({"inputs": x}), JSON, SPEC)


def test_batch_limit_and_integer_specs():
    with pytest.raises(RequestError) as info:
        parse_predict_body(body_of({"inputs": example(5).tolist()}), JSON, SPEC, max_batch=4)
    assert info.value.status == 413 and "at most 4" in info.value.message
    ints = InputSpec(shape=(3,), dtype="int32")
    x, _ = parse_predict_body(b'{"inputs": [[1, 2, 3]]}', JSON, ints)
    assert x.dtype == np.int32
    with pytest.raises(RequestError, match="fractions"):
        parse_predict_body(b'{"inputs": [1.5, 2, 3]}', JSON, ints)
    with pytest.raises(RequestError, match="outside the int32 range"):
        parse_predict_body(b'{"inputs": [1, 2, 3000000000]}', JSON, ints)
    free = InputSpec(shape=(None, 2))
    assert parse_predict_body(b'{"inputs": [[1, 2], [3, 4], [5, 6]]}', JSON, free)[0].shape == (1, 3, 2)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="client errors"):
        RequestError(500, "no")
    with pytest.raises(ValueError, match="positive integer or None"):
        InputSpec(shape=(0, 3))
    with pytest.raises(ValueError, match="numeric"):
        InputSpec(shape=(3,), dtype="string")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        serving.load_model_checked("/nonexistent/model.keras")
    with pytest.raises(FileNotFoundError):
        ServiceProcess("/nonexistent/model.keras")


def test_service_process_arguments(tmp_path: Path):
    path = tmp_path / "m.keras"
    path.write_bytes(b"placeholder")
    with pytest.raises(ValueError, match="port"):
        ServiceProcess(path, port=70000)
    with pytest.raises(ValueError, match="positive"):
        ServiceProcess(path, startup_timeout=0)
    svc = ServiceProcess(path)
    with pytest.raises(RuntimeError, match="not been started"):
        _ = svc.url
    assert svc.stop() is None and not svc.running


def test_a_service_that_cannot_start_reports_its_log(tmp_path: Path):
    path = tmp_path / "weights.h5"
    path.write_bytes(b"not a .keras file")
    with pytest.raises(RuntimeError, match="exited with status 2(.|\n)*not a .keras file"):
        ServiceProcess(path, startup_timeout=120).start()


def test_a_broken_model_file_is_a_clear_error(tmp_path: Path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match="could not be loaded"):
        serving.load_model_checked(broken)


def test_main_rejects_bad_arguments(tmp_path: Path, capsys):
    assert serving.main(argparse.Namespace(model_path="missing.keras", host="127.0.0.1", port=5000)) == 2
    assert "does not exist" in capsys.readouterr().err
    assert serving.main(argparse.Namespace(model_path="m.keras", host="127.0.0.1", port=70000)) == 2
    assert "--port" in capsys.readouterr().err
    weights = tmp_path / "model.h5"
    weights.write_bytes(b"not a keras file")
    assert serving.main(argparse.Namespace(model_path=str(weights), host="127.0.0.1", port=5000)) == 2
    assert "not a .keras file" in capsys.readouterr().err


def test_integers_beyond_float64_and_int64_are_named_not_crashed():
    x = example().tolist()
    x[2][3] = 10**400
    with pytest.raises(RequestError, match=r"inputs\[2\]\[3\] = an integer with 401 digits is outside"):
        parse_predict_body(body_of({"inputs": x}), JSON, SPEC)
    x[2][3] = 2**70                      # beyond int64, a fine float32
    batch, _ = parse_predict_body(body_of({"inputs": x}), JSON, SPEC)
    assert batch[0, 2, 3] == np.float32(2**70)
    with pytest.raises(RequestError, match="outside the int32 range"):
        parse_predict_body(body_of({"inputs": [1, 2**70, 3]}), JSON, InputSpec((3,), "int32"))


def test_embedding_vocabulary_is_checked():
    spec = InputSpec((4,), "int32", vocabulary=10)
    assert parse_predict_body(b'{"inputs": [0, 9, 3, 1]}', JSON, spec)[0].tolist() == [[0, 9, 3, 1]]
    for values, where in (("[0, 10, 3, 1]", r"inputs\[1\] = 10"),
                          ("[[0, 1, 2, 3], [0, 1, -1, 3]]", r"inputs\[1\]\[2\]")):
        with pytest.raises(RequestError, match=where + ".*vocabulary of 10.*0 to 9"):
            parse_predict_body(('{"inputs": %s}' % values).encode(), JSON, spec)
    floats = InputSpec((2,), "float32", vocabulary=10)          # keras.Input((2,)) into an Embedding
    with pytest.raises(RequestError, match="vocabulary of 10"):
        parse_predict_body(b'{"inputs": [1.5, 2]}', JSON, floats)
    with pytest.raises(ValueError, match="vocabulary"):
        InputSpec((2,), vocabulary=0)


def test_free_dimensions_have_a_minimum_size():
    spec = InputSpec((None, None, 1), min_size=(5, 5, 1))
    assert spec.describe_minimum() == "(5, 5, 1)"
    assert parse_predict_body(body_of({"inputs": np.zeros((5, 7, 1)).tolist()}), JSON, spec)[0].shape == (1, 5, 7, 1)
    with pytest.raises(RequestError, match="dimension 1 of each example has size 4; this model needs at least 5"):
        parse_predict_body(body_of({"inputs": np.zeros((2, 6, 4, 1)).tolist()}), JSON, spec)
    with pytest.raises(ValueError, match="min_size"):
        InputSpec((None, 2), min_size=(1,))


def test_warm_up_finds_the_smallest_size_or_says_which_option_to_pass():
    def needs_five(x):                   # a stand-in for a model with two 3x3 valid convolutions
        if min(x.shape[1:3]) < 5:
            raise ValueError("Computed output size would be negative")
        return np.zeros((len(x), 2))

    spec = InputSpec((None, None, 1))
    assert serving.warm_up(needs_five, spec).min_size == (5, 5, 1)
    assert serving.warm_up(needs_five, spec, (9, 7, 1)).min_size == (5, 5, 1)
    with pytest.raises(ValueError, match="fails on a warm-up input of zeros of shape"):
        serving.warm_up(needs_five, spec, (3, 9, 1))
    with pytest.raises(ValueError, match="does not fit"):
        serving.warm_up(needs_five, spec, (9, 9, 2))

    def exactly_300(x):                  # Reshape((300,)) after a free axis: only one size works
        if x.shape[1] != 300:
            raise ValueError("cannot reshape")
        return np.zeros((len(x), 1))

    with pytest.raises(ValueError, match=r"free dimensions.*--input-shape"):
        serving.warm_up(exactly_300, InputSpec((None,)))
    assert serving.warm_up(exactly_300, InputSpec((None,)), (300,)).min_size == (300,)
    assert serving.warm_up(lambda x: np.zeros((1, 1)), InputSpec((3,))) == InputSpec((3,))
    with pytest.raises(ValueError, match="fails on a warm-up input"):
        serving.warm_up(lambda x: np.full((1, 1), np.nan), InputSpec((3,)))


def test_limiter_refuses_beyond_its_queue_and_after_its_timeout():
    async def scenario():
        limiter = Limiter(concurrency=1, queue=1, timeout=0.2)
        order, release = [], asyncio.Event()

        async def hold():
            async with limiter.turn():
                order.append("working")
                await release.wait()

        async def wait_turn():
            async with limiter.turn():
                order.append("second")

        first = asyncio.create_task(hold())
        await asyncio.sleep(0.01)
        second = asyncio.create_task(wait_turn())          # waits in the queue
        await asyncio.sleep(0.01)
        assert limiter.full
        with pytest.raises(Overloaded, match="at its limit"):
            async with limiter.turn():
                pass
        with pytest.raises(Overloaded, match="no worker was free within 0.2 s"):
            await second
        release.set()
        await first
        async with limiter.turn():
            order.append("third")
        return order, limiter

    order, limiter = asyncio.run(scenario())
    assert order == ["working", "third"] and limiter.waiting == 0 and limiter.working == 0


@pytest.mark.parametrize("header, name", [("localhost:5000", "localhost"), ("[::1]:80", "::1"), ("::1", "::1"),
                                          ("Example.COM.", "example.com"), ("127.0.0.1", "127.0.0.1")])
def test_host_names(header, name):
    assert serving.host_name(header) == name


def test_allowed_hosts_middleware():
    sent = []

    async def app(scope, receive, send):
        sent.append("app")

    async def send(message):
        sent.append(message)

    guard = serving.AllowedHosts(app, serving.LOOPBACK_NAMES)
    for host, allowed in ((b"localhost:8000", True), (b"evil.example", False), (b"[::1]:1", True)):
        sent.clear()
        asyncio.run(guard({"type": "http", "headers": [(b"host", host)]}, None, send))
        assert (sent == ["app"]) is allowed
        if not allowed:
            assert sent[0]["status"] == 400 and b"--allowed-host" in sent[1]["body"]
    assert serving.AllowedHosts(app, ["*"]).allows("anything:1")
    with pytest.raises(ValueError, match="at least one host"):
        serving.AllowedHosts(app, [])


def test_parse_input_shape():
    assert serving.parse_input_shape("28,28,1") == (28, 28, 1) and serving.parse_input_shape(None) is None
    for bad in ("28,,1", "0,3", "a"):
        with pytest.raises(ValueError, match="--input-shape"):
            serving.parse_input_shape(bad)


@pytest.mark.parametrize("option, value, words", [("log_level", "loud", "--log-level"),
                                                  ("max_concurrency", 0, "--max-concurrency"),
                                                  ("max_queue", -1, "--max-queue"),
                                                  ("timeout", 0, "--timeout"),
                                                  ("input_shape", "3,x", "--input-shape")])
def test_main_rejects_bad_options(capsys, option, value, words):
    args = argparse.Namespace(model_path="m.keras", host="127.0.0.1", port=5000, **{option: value})
    assert serving.main(args) == 2
    assert words in capsys.readouterr().err


def test_the_cli_knows_the_options():
    from course_lib.cli import build_parser

    args = build_parser().parse_args(["serve", "m.keras", "--input-shape", "28,28,1", "--timeout", "3",
                                      "--max-concurrency", "2", "--max-queue", "5", "--allowed-host", "box",
                                      "--log-level", "warning", "--no-access-log", "--docs"])
    assert (args.input_shape, args.timeout, args.max_concurrency, args.max_queue) == ("28,28,1", 3.0, 2, 5)
    assert args.allowed_host == ["box"] and args.log_level == "warning" and not args.access_log and args.docs


def test_a_model_that_fails_every_warm_up_exits_2_with_the_option_to_pass(tmp_path: Path, capsys):
    import keras

    inputs = keras.Input((None,))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Reshape((300,))(inputs)))
    path = tmp_path / "fixed_inside.keras"
    model.save(path)
    args = argparse.Namespace(model_path=str(path), host="127.0.0.1", port=5000)
    assert serving.main(args) == 2
    assert "--input-shape" in capsys.readouterr().err


def test_service_process_leaves_no_log_file(tmp_path: Path):
    path = tmp_path / "weights.h5"
    path.write_bytes(b"not a .keras file")
    svc = ServiceProcess(path, startup_timeout=120)
    with pytest.raises(RuntimeError):
        svc.start()
    assert svc._log_file is None and "not a .keras file" in svc.log()
    with pytest.raises(TypeError, match="options"):
        ServiceProcess(path, options="--timeout 3")


def test_a_model_failure_is_a_json_500_logged_once_without_the_data(tmp_path: Path, caplog):
    import keras
    from starlette.testclient import TestClient

    inputs = keras.Input((3,))
    hidden = keras.layers.Identity()(inputs)        # the Embedding does not read the input directly,
    outputs = keras.layers.Flatten()(keras.layers.Embedding(5, 2)(hidden))   # so its vocabulary is unknown
    path = tmp_path / "indirect_embedding.keras"
    keras.Model(inputs, outputs).save(path)
    app = serving.create_app(path, allowed_hosts=["testserver"])
    assert app.state.spec.vocabulary is None
    with TestClient(app) as client, caplog.at_level("INFO", logger="course_lib.serving"):
        assert client.post("/predict", json={"inputs": [1, 2, 4]}).status_code == 200
        reply = client.post("/predict", json={"inputs": [1, 2, 417]})
        refused = client.post("/predict", json={"inputs": [1, 2]})
        other_host = client.get("/health", headers={"Host": "rebind.example"})
    assert reply.status_code == 500 and reply.headers["content-type"] == "application/json"
    assert "the model failed on this input" in reply.json()["detail"] and "Traceback" not in reply.text
    assert refused.status_code == 422 and other_host.status_code == 400
    failures = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(failures) == 1 and "417" not in failures[0].getMessage(), [r.getMessage() for r in failures]
    assert any("422 POST /predict" in r.getMessage() for r in caplog.records)      # refusals are logged too
