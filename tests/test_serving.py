"""The prediction service: validation rules in-process, then the REAL service on 127.0.0.1.

The live tests start ``course serve`` in a subprocess (:class:`ServiceProcess`) once for the
module and check: every class of bad input gets a 4xx with a message (never a 5xx), a
hypothesis fuzz of well over 1 000 generated requests gets no 5xx, and a concurrent load of
several client threads and a few thousand requests gets answers equal to in-process predictions.
"""

from __future__ import annotations

import argparse
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib import serving
from course_lib.serving import InputSpec, RequestError, ServiceProcess, parse_predict_body

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


# --------------------------------------------------------------------------- the live service
@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28), name="pixels")
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(32, activation="relu")(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    path = tmp_path_factory.mktemp("serving") / "mnist_tiny.keras"
    keras.Model(inputs, outputs).save(path)
    return path


@pytest.fixture(scope="module")
def service(model_file):
    svc = ServiceProcess(model_file, startup_timeout=240)
    svc.start()
    yield svc
    code = svc.stop()
    assert code is not None and not svc.running, "the service did not stop"


@pytest.fixture(scope="module")
def local(model_file):
    """In-process predictions of the same model file, with the service's compiled forward pass."""
    import keras

    return serving.make_predict_fn(keras.saving.load_model(model_file))


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def post(http, service, body: bytes, content_type: str | None = JSON) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return http.post(service.url + "/predict", data=body, headers=headers, timeout=30)


def test_health_openapi_and_binding(service, http, model_file):
    health = http.get(service.url + "/health", timeout=10).json()
    assert health["status"] == "ok" and health["input_shape"] == [28, 28] and health["output_shape"] == [10]
    assert health["model_version"] == serving.model_version(model_file)
    schema = http.get(service.url + "/openapi.json", timeout=10).json()
    assert {"/predict", "/health"} <= set(schema["paths"])
    assert "requestBody" in schema["paths"]["/predict"]["post"]
    assert service.host == "127.0.0.1"


def test_predictions_match_in_process(service, http, local):
    x = example(5)
    reply = post(http, service, body_of({"inputs": x.tolist()}))
    assert reply.status_code == 200
    answer = reply.json()
    expected = local(x)
    np.testing.assert_allclose(answer["predictions"], expected, atol=1e-5)
    assert answer["classes"] == expected.argmax(1).tolist() and answer["batched"] is True
    single = post(http, service, body_of({"inputs": x[0].tolist()})).json()
    assert single["batched"] is False and single["classes"] == int(expected[0].argmax())
    np.testing.assert_allclose(single["predictions"], expected[0], atol=1e-5)


def _bad_requests(health: dict) -> list[tuple[str, bytes, str | None, int, str]]:
    x = example(2).tolist()
    with_string, with_nan, with_null = json.loads(json.dumps(x)), json.loads(json.dumps(x)), json.loads(json.dumps(x))
    with_string[1][4][7] = "255"
    with_nan[0][0][0] = float("nan")
    with_null[0][2][2] = None
    oversized = b'{"inputs": [' + b"1," * (health["max_body_bytes"] // 2) + b"1]}"
    return [
        ("malformed JSON", b'{"inputs": [[1, 2,', JSON, 400, "malformed JSON"),
        ("not an object", b"[1, 2]", JSON, 400, "JSON object"),
        ("missing key", b'{"instances": []}', JSON, 400, "inputs"),
        ("form data (article 000)", b"data=1&data=2", "application/x-www-form-urlencoded", 415, "json="),
        ("no content type", body_of({"inputs": x}), None, 415, "Content-Type"),
        ("wrong shape", body_of({"inputs": [[1.0] * 27] * 28}), JSON, 422, "shape"),
        ("too many dimensions", body_of({"inputs": [x]}), JSON, 422, "shape"),
        ("ragged rows", body_of({"inputs": [[1.0] * 28] * 27 + [[1.0] * 27]}), JSON, 422, "same length"),
        ("a string", body_of({"inputs": with_string}), JSON, 422, "inputs[1][4][7] is a string"),
        ("null", body_of({"inputs": with_null}), JSON, 422, "null"),
        ("NaN", body_of({"inputs": with_nan}), JSON, 422, "NaN"),
        ("infinity", b'{"inputs": [Infinity]}', JSON, 422, "Infinity"),
        ("float32 overflow", body_of({"inputs": [[1e300] * 28] * 28}), JSON, 422, "float32"),
        ("empty batch", b'{"inputs": []}', JSON, 422, "empty"),
        ("batch too large", body_of({"inputs": np.zeros((health["max_batch"] + 1, 28, 28), int).tolist()}),
         JSON, 413, "at most"),
        ("oversized body", oversized, JSON, 413, "larger than"),
        ("deep nesting", b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON, 400, "nests too deeply"),
    ]


def test_every_bad_input_class_gets_a_4xx_with_a_clear_message(service, http):
    for name, body, content_type, status, words in _bad_requests(service.health):
        reply = post(http, service, body, content_type)
        assert reply.status_code == status, f"{name}: got {reply.status_code} {reply.text[:200]}"
        detail = reply.json()["detail"]
        assert isinstance(detail, str) and words in detail, f"{name}: unclear message {detail!r}"
    assert http.get(service.url + "/predict", timeout=10).status_code == 405
    assert http.get(service.url + "/nothing-here", timeout=10).status_code == 404


def test_inputs_the_model_cannot_handle_are_refused_not_crashed(service, http):
    # finite float32 inputs so large that the network's output overflows to NaN
    reply = post(http, service, body_of({"inputs": [[3e38] * 28] * 28}))
    assert reply.status_code in (200, 422), reply.text[:200]
    if reply.status_code == 422:
        assert "not finite" in reply.json()["detail"]


# --------------------------------------------------------------------------- fuzz
JSON_LEAVES = (st.none() | st.booleans() | st.integers(min_value=-10**30, max_value=10**30)
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=6))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=30)
POISON = [None, True, "1", float("nan"), float("inf"), -1e39, 1e300, [], [1, 2], {"a": 1}, 10**40]


def fuzz_settings(examples: int) -> settings:
    """Deterministic (derandomised) runs of exactly ``examples`` generated requests, no example database."""
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def _check_reply(reply: requests.Response, local, sent: np.ndarray | None) -> None:
    assert reply.status_code < 500, f"{reply.status_code}: {reply.text[:300]}"
    answer = reply.json()
    if reply.status_code == 200:
        assert sent is not None, f"an invalid request was accepted: {answer}"
        expected = local(sent.reshape(-1, 28, 28))
        got = np.asarray(answer["predictions"]).reshape(expected.shape)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    else:
        assert 400 <= reply.status_code < 500 and isinstance(answer["detail"], str) and answer["detail"]


def test_fuzz_arbitrary_json_gets_no_5xx(service, http, local):
    calls = []

    @fuzz_settings(350)
    @given(value=JSON_VALUES, wrap=st.booleans())
    def run(value, wrap):
        reply = post(http, service, body_of({"inputs": value} if wrap else value))
        calls.append(reply.status_code)
        _check_reply(reply, local, None)

    run()
    assert len(calls) >= 350


def test_fuzz_near_valid_arrays_gets_no_5xx(service, http, local):
    calls = []

    @fuzz_settings(450)
    @given(seed=st.integers(0, 2**32 - 1), batch=st.sampled_from([None, 0, 1, 3]),
           rows=st.sampled_from([28, 28, 28, 27, 29]), cols=st.sampled_from([28, 28, 28, 1]),
           floats=st.booleans(), poison=st.lists(st.sampled_from(POISON), max_size=2))
    def run(seed, batch, rows, cols, floats, poison):
        rng = np.random.default_rng(seed)
        shape = (rows, cols) if batch is None else (batch, rows, cols)
        x = rng.uniform(-1e3, 1e3, shape) if floats else rng.integers(0, 256, shape)
        value = x.tolist()
        if poison and x.size:
            flat = value if batch is None else value[0]
            for item in poison:
                flat[int(rng.integers(len(flat)))][int(rng.integers(cols))] = item
        valid = not poison and batch != 0 and rows == 28 and cols == 28
        reply = post(http, service, body_of({"inputs": value}))
        calls.append(reply.status_code)
        _check_reply(reply, local, x if valid else None)

    run()
    assert len(calls) >= 450
    assert calls.count(200) > 20 and len(set(calls)) >= 2, "the fuzz should reach both valid and invalid requests"


def test_fuzz_raw_bytes_and_content_types_gets_no_5xx(service, http, local):
    calls = []
    valid = body_of({"inputs": example().tolist()})

    @fuzz_settings(300)
    @given(data=st.binary(max_size=300) | st.integers(0, len(valid) - 1).map(lambda n: valid[:n]),
           content_type=st.sampled_from([JSON, "application/json; charset=utf-8", None, "text/plain",
                                         "application/x-www-form-urlencoded", "multipart/form-data"]))
    def run(data, content_type):
        reply = post(http, service, data, content_type)
        calls.append(reply.status_code)
        _check_reply(reply, local, None)

    run()
    assert len(calls) >= 300


# --------------------------------------------------------------------------- concurrent load
def test_concurrent_clients_get_correct_answers(service, local):
    clients, per_client = 8, 320
    pool = example(64)
    expected = local(pool)
    mismatches, statuses, lock = [], [], threading.Lock()

    def client(index: int) -> int:
        rng = np.random.default_rng(100 + index)
        done = 0
        with requests.Session() as session:
            for _ in range(per_client):
                size = int(rng.integers(0, 5))  # 0 = a single example, else a batch of 1-4
                chosen = rng.choice(len(pool), size=max(size, 1), replace=False)
                value = pool[chosen[0]].tolist() if size == 0 else pool[chosen].tolist()
                reply = session.post(service.url + "/predict", json={"inputs": value}, timeout=60)
                with lock:
                    statuses.append(reply.status_code)
                if reply.status_code != 200:
                    continue
                answer = reply.json()
                got = np.asarray(answer["predictions"]).reshape(-1, 10)
                if not np.allclose(got, expected[chosen], atol=1e-5):
                    with lock:
                        mismatches.append((index, chosen.tolist()))
                done += 1
        return done

    with ThreadPoolExecutor(clients) as executor:
        done = sum(executor.map(client, range(clients)))
    assert len(statuses) == clients * per_client >= 2500
    assert set(statuses) == {200}, f"status codes seen: {sorted(set(statuses))}"
    assert done == clients * per_client and not mismatches, f"{len(mismatches)} answers differ from in-process"


def test_service_survives_everything_and_stops(service, http):
    assert service.running, f"the service died:\n{service.log()[-2000:]}"
    assert http.get(service.url + "/health", timeout=10).json()["status"] == "ok"
    assert "Traceback" not in service.log(), service.log()[-3000:]
