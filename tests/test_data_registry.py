"""course_lib.data.registry: complete, well-formed specs whose hashes match the mirror."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from course_lib.data.registry import REGISTRY, DatasetSpec, get_spec

HEX64 = re.compile(r"^[0-9a-f]{64}$")
EXPECTED = {"mnist", "fashion_mnist", "cifar10", "cats_vs_dogs", "imdb", "sst2", "rt_polarity",
            "chnsenticorp", "waimai_10k", "german_credit", "movielens_100k", "tiny_shakespeare", "tang_poems"}


def mirror_root() -> Path:
    raw = os.environ.get("COURSE_DATA_DIR", "").strip()
    if not raw:
        pytest.skip("COURSE_DATA_DIR is not set: point it at the dataset mirror (e.g. ../shared/datasets)")
    return Path(raw).expanduser().resolve()


def manifest() -> dict[str, str]:
    path = mirror_root() / "MANIFEST.sha256"
    assert path.is_file(), f"{path} not found: the mirror named by COURSE_DATA_DIR is incomplete"
    out = {}
    for line in path.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        out[name.removeprefix("./")] = digest
    return out


def test_every_course_dataset_is_registered():
    assert set(REGISTRY) == EXPECTED
    assert all(name == spec.name for name, spec in REGISTRY.items())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spec_is_complete(name):
    spec = REGISTRY[name]
    assert spec.description and spec.license and spec.citation and spec.homepage.startswith("http")
    assert spec.files and spec.downloads
    assert len(set(spec.file_names)) == len(spec.file_names)
    for f in spec.files:
        assert HEX64.match(f.sha256), f
        assert f.content in ("raw", "gunzip")
    for d in spec.downloads:
        assert d.sha256 is None or HEX64.match(d.sha256), d
        assert d.urls and all(u.startswith(("https://", "http://")) for u in d.urls)
        assert d.hash_source, f"{name}/{d.filename}: say where the hash comes from"


def test_specs_are_frozen_and_registry_read_only():
    spec = REGISTRY["mnist"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        REGISTRY["new"] = spec  # type: ignore[index]


def test_get_spec():
    assert get_spec("imdb") is REGISTRY["imdb"]
    assert get_spec(REGISTRY["imdb"]) is REGISTRY["imdb"]
    with pytest.raises(ValueError, match="registered datasets: mnist, fashion_mnist"):
        get_spec("nope")


def test_spec_lookup_helpers():
    spec = REGISTRY["sst2"]
    assert spec.file("stsa.binary.dev").size == 94400
    assert spec.download("stsa.binary.dev").urls[0].endswith("/data/stsa.binary.dev")
    assert len(spec.urls) == 3
    with pytest.raises(KeyError):
        spec.file("missing")


def test_raw_mirror_hashes_match_the_manifest():
    entries = manifest()
    for spec in REGISTRY.values():
        for f in spec.files:
            key = f"{spec.folder}/{f.name}"
            assert key in entries, f"{key} is not in the mirror's MANIFEST.sha256"
            if f.content == "raw":
                assert f.sha256 == entries[key], key
            else:  # re-compressed .gz: the registry holds the hash of the decompressed content
                assert f.sha256 != entries[key], key


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_gunzip_hashes_are_of_the_decompressed_mirror_files(name):
    spec: DatasetSpec = REGISTRY[name]
    folder = mirror_root() / spec.folder
    for f in spec.files:
        assert f.content == "gunzip"
        with gzip.open(folder / f.name, "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == f.sha256, f.name
        assert (folder / f.name).stat().st_size == f.size


def test_byte_identical_downloads_use_the_mirror_hash():
    for name in ("sst2", "rt_polarity", "chnsenticorp", "waimai_10k", "german_credit", "tiny_shakespeare"):
        spec = REGISTRY[name]
        for d in spec.downloads:
            if d.filename in spec.file_names:
                assert d.sha256 == spec.file(d.filename).sha256, (name, d.filename)
                assert d.size == spec.file(d.filename).size, (name, d.filename)


def test_tang_poem_downloads_are_the_members_of_the_mirror_tarball():
    """The 58 download hashes were computed from the mirror tarball's members (byte-identical, says its README)."""
    spec = REGISTRY["tang_poems"]
    assert [d.filename for d in spec.downloads] == [f"poet.tang.{n}.json" for n in range(0, 58_000, 1000)]
    assert all(d.urls == ("https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/"
                          "99ebbef7e1345c0985c44b9fd96a3f9e776f117b/%E5%85%A8%E5%94%90%E8%AF%97/" + d.filename,)
               for d in spec.downloads)
    with tarfile.open(mirror_root() / spec.folder / spec.files[0].name) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}
    assert set(members) == {f"tang-poems/{d.filename}" for d in spec.downloads} | {"tang-poems/LICENSE"}
    for d in spec.downloads:
        data = members[f"tang-poems/{d.filename}"]
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (d.sha256, d.size), d.filename


def test_importing_the_package_does_not_import_tensorflow():
    code = "import sys, course_lib.data; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False False"
