"""The fuzz and load suite: three REAL services (``course serve``) on 127.0.0.1, attacked as a hostile client would.

Three models, each in its own service process: a float MLP on (28, 28) images, an integer model
whose (12,) input feeds an ``Embedding`` with a vocabulary of 50, and a free-shape model
(input (None, None, 1), two 3x3 valid convolutions, so it needs at least 5x5). The free-shape
service runs with tight limits (1 request at work, 1 waiting, 2 s timeout) to exercise overload
(503 + ``Retry-After``) and the timeouts.

What is proven: Hypothesis generates well over 1 000 bad requests of many kinds (arbitrary JSON,
near-valid arrays with poisoned values, out-of-vocabulary and huge integers, wrong and too-small
shapes, raw bytes with assorted content types, random HTTP headers), and hand-written raw-socket
cases send broken HTTP; every answer is a 4xx with a JSON message (never a 5xx; a 503 only from
the overloaded service), every connection gets its answer, and the services are alive afterwards
with no traceback in their logs. 16 concurrent clients then send valid requests to all three
services; every answer equals ``model.predict`` on the same input. Every count is fixed and the
Hypothesis runs are derandomised, so the suite always runs the same requests and stops by itself.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib.serving import ServiceProcess

JSON = "application/json"
RNG = np.random.default_rng(0)
TALLY = {"requests": 0, "4xx": 0, "5xx": 0, "raw": 0}     # over the whole module; checked at the end
TALLY_LOCK = threading.Lock()
VOCAB, TOKENS = 50, 12


# --------------------------------------------------------------------------- the three services
@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    import keras

    folder = tmp_path_factory.mktemp("serving_live")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28), name="pixels")
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    x = keras.layers.Dense(32, activation="relu")(x)
    floats = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x), name="mlp")
    tokens = keras.Input((TOKENS,), dtype="int32", name="tokens")
    x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(VOCAB, 8)(tokens))
    integers = keras.Model(tokens, keras.layers.Dense(3, activation="softmax")(x), name="bag_of_tokens")
    image = keras.Input((None, None, 1), name="image")
    x = keras.layers.Conv2D(4, 3, activation="relu")(image)
    x = keras.layers.GlobalMaxPooling2D()(keras.layers.Conv2D(4, 3)(x))
    free = keras.Model(image, keras.layers.Dense(5)(x), name="free_shape")
    found = {}
    for name, model in (("float", floats), ("int", integers), ("free", free)):
        path = folder / f"{name}.keras"
        model.save(path)
        found[name] = (path, model)
    return found


OPTIONS = {"float": [], "int": [],
           "free": ["--max-concurrency", "1", "--max-queue", "1", "--timeout", "2", "--max-body-bytes", "200000"]}


@pytest.fixture(scope="module")
def services(models) -> dict:
    started = {name: ServiceProcess(models[name][0], startup_timeout=300, options=OPTIONS[name]).start(wait=False)
               for name in models}
    try:
        for svc in started.values():
            svc.wait_until_ready()
        logs = {name: Path(svc._log_file.name) for name, svc in started.items()}
        yield started
    finally:
        codes = {name: svc.stop() for name, svc in started.items()}
    assert all(code is not None for code in codes.values()), codes
    assert not any(path.exists() for path in logs.values()), "a log file was left in the temporary folder"


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def post(http, svc, body: bytes, content_type: str | None = JSON, **headers) -> requests.Response:
    if content_type:
        headers["Content-Type"] = content_type
    reply = http.post(svc.url + "/predict", data=body, headers=headers, timeout=30)
    with TALLY_LOCK:
        TALLY["requests"] += 1
        TALLY["4xx"] += 400 <= reply.status_code < 500
        TALLY["5xx"] += reply.status_code >= 500
    return reply


def body_of(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def check_refused(reply: requests.Response, allow_503: bool = False) -> str:
    """A JSON 4xx (or, where allowed, a 503 with Retry-After) with a message; returns the message."""
    if allow_503 and reply.status_code == 503:
        assert reply.headers.get("Retry-After"), reply.headers
    else:
        assert 400 <= reply.status_code < 500, f"{reply.status_code}: {reply.text[:300]}"
    assert reply.headers["content-type"].startswith(JSON), reply.headers
    detail = reply.json()["detail"]
    assert isinstance(detail, str) and len(detail) > 10, detail
    return detail


def fuzz_settings(examples: int) -> settings:
    """Exactly ``examples`` derandomised runs, no example database: the same requests every time."""
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


# --------------------------------------------------------------------------- hand-written cases
def test_health_endpoints_and_head(services, http):
    svc = services["float"]
    health = http.get(svc.url + "/health", timeout=10).json()
    assert health["status"] == "ok" and health["input_shape"] == [28, 28] and health["output_shape"] == [10]
    assert http.get(svc.url + "/health/live", timeout=10).json() == {"status": "alive"}
    assert http.get(svc.url + "/health/ready", timeout=10).json()["status"] == "ready"
    for path in ("/health", "/health/live", "/health/ready"):
        head = http.head(svc.url + path, timeout=10)
        assert head.status_code == 200 and head.content == b""
    free = http.get(services["free"].url + "/health", timeout=10).json()
    assert free["input_shape"] == [None, None, 1] and free["min_input_shape"] == [5, 5, 1]
    assert http.get(services["int"].url + "/health", timeout=10).json()["vocabulary"] == VOCAB
    assert http.get(svc.url + "/docs", timeout=10).status_code == 404        # off: it would load a CDN
    assert "/predict" in http.get(svc.url + "/openapi.json", timeout=10).json()["paths"]


@pytest.mark.parametrize("name, value, words", [
    ("float", 10**400, "integer with 401 digits"),
    ("float", -(10**4000), "digits"),
    ("float", 2**70, None),                         # beyond int64 but a fine float32: answered
    ("int", 10**400, "digits"),
    ("int", 2**70, "int32 range"),
    ("int", VOCAB, "vocabulary of 50"),
    ("int", -1, "vocabulary of 50"),
    ("int", 2.5, "fractions"),
])
def test_huge_integers_and_out_of_vocabulary_indices_are_4xx(services, http, name, value, words):
    if name == "float":
        x = np.zeros((28, 28)).tolist()
        x[3][4] = value
    else:
        x = [1] * TOKENS
        x[5] = value
    reply = post(http, services[name], body_of({"inputs": x}))
    if words is None:
        assert reply.status_code == 200 or "not finite" in check_refused(reply), reply.text[:300]
    else:
        assert words in check_refused(reply)
    big = b'{"inputs": [' + b"9" * 5000 + b"]}"          # over Python's 4 300-digit limit for int()
    assert "malformed JSON" in check_refused(post(http, services[name], big))


def test_too_small_and_wrong_shapes_for_the_free_shape_model(services, http):
    svc = services["free"]
    for shape, words in (((4, 9, 1), "at least 5"), ((9, 2, 1), "at least 5"), ((2, 4, 6, 1), "at least 5"),
                         ((6, 6, 3), "shape"), ((6, 6), "shape")):
        assert words in check_refused(post(http, svc, body_of({"inputs": np.zeros(shape).tolist()})))
    assert post(http, svc, body_of({"inputs": np.zeros((5, 5, 1)).tolist()})).status_code == 200


def test_allowed_hosts(services, http):
    svc = services["float"]
    for host in ("evil.example", "127.0.0.1.nip.io", "attacker.com:80"):
        reply = http.get(svc.url + "/health", headers={"Host": host}, timeout=10)
        assert reply.status_code == 400 and "--allowed-host" in reply.json()["detail"]
    for host in (f"localhost:{svc.port}", f"127.0.0.1:{svc.port}", "LOCALHOST", f"[::1]:{svc.port}"):
        assert http.get(svc.url + "/health", headers={"Host": host}, timeout=10).status_code == 200


def raw(svc, *parts: bytes, pause: float = 0.0, timeout: float = 15.0) -> bytes:
    """Send ``parts`` on one new connection (``pause`` seconds apart); everything received until it closes."""
    with socket.create_connection((svc.host, svc.port), timeout=timeout) as sock:
        for part in parts:
            sock.sendall(part)
            time.sleep(pause)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    with TALLY_LOCK:
        TALLY["raw"] += 1
    return received


def statuses(reply: bytes) -> list[int]:
    """The status of every response in ``reply`` (pipelined responses follow each other's bodies)."""
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", reply)]


VALID = body_of({"inputs": np.zeros((28, 28), int).tolist()})
RAW_CASES = {
    "garbage": (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(40)) + b"\r\n\r\n",),
    "no HTTP version": (b"GET /health\r\n\r\n",),
    "HTTP/1.1 without Host": (b"GET /health HTTP/1.1\r\n\r\n",),
    "header without colon": (b"GET /health HTTP/1.1\r\nHost: localhost\r\nnonsense\r\n\r\n",),
    "headers over 16 KiB": (b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 200_000,),
    "URL over 16 KiB": (b"GET /" + b"a" * 200_000,),
    "Content-Length not a number": (b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n{}",),
    "two Content-Lengths": (b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n"
                            b"Content-Length: 3\r\n\r\n{}",),
    "broken chunked body": (b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",),
    "unknown method": (b"BREW /predict HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",),
    "GET /predict": (b"GET /predict HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",),
    "unknown path": (b"GET /%00%ff/../etc HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",),
    "bad Host": (b"GET /health HTTP/1.1\r\nHost: rebind.example\r\nConnection: close\r\n\r\n",),
    "announced 1 GB": (b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 1000000000\r\nConnection: close\r\n\r\n{\"inputs\": [",),
    "chunked, valid": (b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                       + f"{len(VALID):x}".encode() + b"\r\n" + VALID + b"\r\n0\r\n\r\n",),
    "pipelined": (b"GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n"
                  b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 2\r\n\r\n{}"
                  b"GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",),
    "HTTP/1.0 without Host": (b"GET /health/live HTTP/1.0\r\n\r\n",),
    "Expect: 100-continue": (b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                             b"Expect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n", b"[]"),
}
EXPECTED = {"chunked, valid": [200], "pipelined": [200, 400, 200], "HTTP/1.0 without Host": [200],
            "Expect: 100-continue": [400]}


@pytest.mark.parametrize("case", sorted(RAW_CASES))
def test_raw_http_gets_a_json_answer_on_every_connection(services, case):
    reply = raw(services["float"], *RAW_CASES[case])
    codes = statuses(reply)
    assert codes, f"{case}: the connection closed without an answer: {reply[:200]!r}"
    codes = [c for c in codes if c != 100]
    if case in EXPECTED:
        assert codes == EXPECTED[case], (case, reply[:500])
    else:
        assert len(codes) == 1 and 400 <= codes[0] < 500, (case, reply[:500])
        head, _, body = reply.partition(b"\r\n\r\n")
        assert b"application/json" in head.lower() and b'"detail"' in body, (case, reply[:500])


def test_slow_clients_get_408_and_lose_their_connection(services):
    svc = services["free"]                                  # --timeout 2
    started = time.monotonic()
    reply = raw(svc, b"POST /predict HTTP/1.1\r\nHost: local", pause=0.1)
    assert statuses(reply) == [408] and b"headers did not arrive" in reply and time.monotonic() - started < 10
    body = body_of({"inputs": np.zeros((6, 6, 1)).tolist()})
    head = (b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode())
    reply = raw(svc, head + body[:10])
    assert statuses(reply) == [408] and b"body did not arrive" in reply


def test_clients_that_disconnect_mid_body_leave_no_traceback(services):
    svc = services["float"]
    head = (b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(VALID)}\r\n\r\n".encode())
    for _ in range(5):
        with socket.create_connection((svc.host, svc.port), timeout=10) as sock:
            sock.sendall(head + VALID[: len(VALID) // 2])
            time.sleep(0.05)
    time.sleep(0.5)
    assert "disconnected before its body was complete" in svc.log()
    assert "Traceback" not in svc.log() and "Exception in ASGI application" not in svc.log()


# --------------------------------------------------------------------------- generated bad requests
JSON_LEAVES = (st.none() | st.booleans() | st.integers(min_value=-10**30, max_value=10**30)
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=6))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=30)
POISON = [None, True, "1", float("nan"), float("inf"), -1e39, 1e300, [], [1, 2], {"a": 1}, 10**40, 10**400]


def test_fuzz_arbitrary_json(services, http):
    @fuzz_settings(300)
    @given(value=JSON_VALUES, wrap=st.booleans(), name=st.sampled_from(["float", "int"]))
    def run(value, wrap, name):
        check_refused(post(http, services[name], body_of({"inputs": value} if wrap else value)))

    run()


def test_fuzz_near_valid_images(services, http, models):
    from course_lib.serving import make_predict_fn

    forward = make_predict_fn(models["float"][1])

    @fuzz_settings(300)
    @given(seed=st.integers(0, 2**32 - 1), batch=st.sampled_from([None, 0, 1, 3]),
           rows=st.sampled_from([28, 28, 27, 29]), cols=st.sampled_from([28, 28, 1]),
           poison=st.lists(st.sampled_from(POISON), min_size=0, max_size=2))
    def run(seed, batch, rows, cols, poison):
        rng = np.random.default_rng(seed)
        shape = (rows, cols) if batch is None else (batch, rows, cols)
        x = rng.integers(0, 256, shape)
        value = x.tolist()
        if poison and x.size:
            flat = value if batch is None else value[0]
            for item in poison:
                flat[int(rng.integers(len(flat)))][int(rng.integers(cols))] = item
        reply = post(http, services["float"], body_of({"inputs": value}))
        if not poison and batch != 0 and rows == 28 and cols == 28:
            assert reply.status_code == 200, reply.text[:300]
            expected = forward(x.reshape(-1, 28, 28))
            np.testing.assert_allclose(np.reshape(reply.json()["predictions"], expected.shape), expected, atol=1e-5)
        else:
            check_refused(reply)

    run()


def test_fuzz_token_indices(services, http):
    @fuzz_settings(250)
    @given(rows=st.lists(st.lists(st.one_of(st.integers(-5, VOCAB + 5), st.integers(-10**500, 10**500),
                                            st.floats(-60, 60), st.sampled_from([True, None, "3", 2**63])),
                                  min_size=TOKENS - 1, max_size=TOKENS + 1), min_size=1, max_size=3))
    def run(rows):
        valid = all(len(r) == TOKENS and all(type(v) in (int, float) and 0 <= v < VOCAB and float(v).is_integer()
                                              for v in r) for r in rows)
        reply = post(http, services["int"], body_of({"inputs": rows}))
        if valid:
            assert reply.status_code == 200, reply.text[:300]
        else:
            check_refused(reply)

    run()


def test_fuzz_free_shapes(services, http):
    @fuzz_settings(160)
    @given(shape=st.lists(st.integers(0, 9), min_size=1, max_size=5), ragged=st.booleans())
    def run(shape, ragged):
        value = np.ones(shape).tolist()
        if ragged and len(shape) >= 2 and shape[0] >= 2 and shape[1] >= 1:
            value[0] = value[0][:-1]
        fits = (not ragged and ((len(shape) == 3 and shape[2] == 1 and min(shape[:2]) >= 5)
                                or (len(shape) == 4 and shape[3] == 1 and shape[0] >= 1 and min(shape[1:3]) >= 5)))
        reply = post(http, services["free"], body_of({"inputs": value}))
        if fits:
            assert reply.status_code == 200, reply.text[:300]
        else:
            check_refused(reply)

    run()


def test_fuzz_raw_bytes_and_content_types(services, http):
    @fuzz_settings(160)
    @given(data=st.binary(max_size=300) | st.integers(0, len(VALID) - 1).map(lambda n: VALID[:n]),
           content_type=st.sampled_from([JSON, "application/json; charset=utf-8", None, "text/plain",
                                         "application/x-www-form-urlencoded", "multipart/form-data", "",
                                         "application/json; charset=latin-1", "APPLICATION/JSON"]))
    def run(data, content_type):
        check_refused(post(http, services["float"], data, content_type))

    run()


HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


def test_fuzz_http_headers_and_methods(services):
    svc = services["int"]

    @fuzz_settings(60)
    @given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "X"]),
           path=st.sampled_from(["/predict", "/health", "/health/ready", "/", "/predict/", "/docs", "/%2e%2e/"]),
           headers=st.lists(st.tuples(st.sampled_from(["Host", "Content-Type", "Content-Length", "X-A",
                                                       "Transfer-Encoding", "Expect"]), HEADER_TEXT), max_size=4),
           body=st.binary(max_size=40))
    def run(method, path, headers, body):
        lines = [f"{method} {path} HTTP/1.1", "Host: localhost", "Connection: close",
                 *(f"{name}: {value}" for name, value in headers)]
        reply = raw(svc, ("\r\n".join(lines) + "\r\n\r\n").encode() + body, timeout=15)
        codes = statuses(reply)
        assert codes and all(c < 500 for c in codes), reply[:400]
        with TALLY_LOCK:
            TALLY["requests"] += 1
            TALLY["4xx"] += codes[-1] >= 400

    run()


# --------------------------------------------------------------------------- load
def test_memory_stays_bounded_under_concurrent_large_bodies(services):
    svc = services["float"]
    process = psutil.Process(svc.process.pid)
    body = b'{"inputs": [' + b"12.5," * 700_000 + b"1]}"       # 3.5 MB that parse, then fail the shape check
    idle = process.memory_info().rss
    peak, stop = [idle], threading.Event()

    def watch():
        while not stop.is_set():
            peak.append(process.memory_info().rss)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda _: requests.post(svc.url + "/predict", data=body, timeout=120,
                                                        headers={"Content-Type": JSON}), range(16)))
    stop.set()
    watcher.join()
    assert all(r.status_code == 422 for r in replies), [r.status_code for r in replies]
    growth = (max(peak) - idle) / 2**20
    print(f"service memory: {idle / 2**20:.0f} MiB idle, peak {max(peak) / 2**20:.0f} MiB with 16 concurrent "
          f"{len(body) / 1e6:.1f} MB bodies (growth {growth:.0f} MiB, 4 at work at a time)")
    assert growth < 400, f"memory grew by {growth:.0f} MiB"


def test_sixteen_concurrent_clients_get_what_model_predict_gives(services, models):
    clients, per_client = 16, 30
    images = RNG.integers(0, 256, (32, 28, 28))
    tokens = RNG.integers(0, VOCAB, (32, TOKENS))
    pictures = {shape: RNG.uniform(0, 1, (4, *shape, 1)) for shape in ((5, 5), (7, 9), (12, 6))}
    expected = {"float": models["float"][1].predict(images, verbose=0),
                "int": models["int"][1].predict(tokens, verbose=0),
                **{shape: models["free"][1].predict(x, verbose=0) for shape, x in pictures.items()}}
    seen, problems, lock = [], [], threading.Lock()

    def client(index: int) -> None:
        rng = np.random.default_rng(1000 + index)
        with requests.Session() as session:
            for i in range(per_client):
                kind = ("float", "int", "free")[(index + i) % 3]
                if kind == "free":
                    shape = list(pictures)[int(rng.integers(3))]
                    chosen = rng.choice(4, size=int(rng.integers(1, 4)), replace=False)
                    x, want = pictures[shape][chosen], expected[shape][chosen]
                else:
                    chosen = rng.choice(32, size=int(rng.integers(1, 5)), replace=False)
                    x, want = (images if kind == "float" else tokens)[chosen], expected[kind][chosen]
                for _ in range(200):              # a polite client: retries a 503 after Retry-After
                    reply = session.post(services[kind].url + "/predict", json={"inputs": x.tolist()}, timeout=60)
                    if reply.status_code != 503:
                        break
                    assert reply.headers["Retry-After"] == "1" and kind == "free", reply.text
                    with lock:
                        seen.append(503)
                    time.sleep(0.02)
                with lock:
                    seen.append(reply.status_code)
                    if reply.status_code != 200:
                        problems.append(f"{kind}: {reply.status_code} {reply.text[:200]}")
                    elif not np.allclose(np.asarray(reply.json()["predictions"]), want, atol=1e-5):
                        problems.append(f"{kind}: answer differs from model.predict")

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    answered = [s for s in seen if s != 503]
    print(f"{len(answered)} answers to 16 concurrent clients, {seen.count(503)} polite 503s (free-shape service)")
    assert len(answered) == clients * per_client and not problems, problems[:5]


def test_the_services_survived_and_the_tally(services, http):
    for name, svc in services.items():
        assert svc.running, f"{name} died:\n{svc.log()[-2000:]}"
        assert http.get(svc.url + "/health/ready", timeout=10).status_code == 200
        log = svc.log()
        assert "Traceback" not in log and "Exception in ASGI" not in log and "ERROR" not in log, log[-3000:]
        assert '"POST /predict HTTP/1.1" 422' in log or name == "free"          # the access log
    print(f"tally: {TALLY}")
    if TALLY["requests"] > 1200:                  # the whole module ran, not a -k selection
        assert TALLY["4xx"] >= 1000, TALLY
    assert TALLY["5xx"] == 0, TALLY
