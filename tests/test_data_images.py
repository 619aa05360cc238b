"""course_lib.data.images against the mirror: MNIST, Fashion-MNIST, CIFAR-10, cats vs dogs."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mirror import need, private_cache
from course_lib.data import images as img_mod
from course_lib.data.images import (CATS_VS_DOGS_CLASSES, CIFAR10_CLASSES, cats_vs_dogs_files,
                                    load_cats_vs_dogs, load_cifar10, load_fashion_mnist,
                                    load_mnist, read_idx)


data_env = private_cache("course_cache_images")


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


# ------------------------------------------------------------------ MNIST family

def test_mnist_like_keras():
    need("mnist")
    ((x_train, y_train), (x_test, y_test)), first_s = timed(load_mnist)
    assert x_train.shape == (60_000, 28, 28) and x_test.shape == (10_000, 28, 28)
    assert y_train.shape == (60_000,) and y_test.shape == (10_000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert (y_train == 1).sum() == 6742
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert x_train.max() == 255 and x_train.min() == 0
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first training labels
    (again, _), second_s = timed(load_mnist)
    assert np.array_equal(again[0], x_train)
    print(f"MNIST first load {first_s:.2f}s, cached {second_s:.2f}s")


def test_fashion_mnist_like_keras():
    need("fashion_mnist")
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    assert x_train.shape == (60_000, 28, 28) and x_test.shape == (10_000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


def _idx(tmp_path: Path, raw: bytes, name: str = "bad-idx1-ubyte.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(raw))
    return path


def test_read_idx_validates_the_file(tmp_path):
    good = b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + bytes([1, 2, 3])
    assert read_idx(_idx(tmp_path, good)).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(_idx(tmp_path, b"\x01\x02" + good[2:]))
    with pytest.raises(ValueError, match="type code 0x0d"):
        read_idx(_idx(tmp_path, b"\x00\x00\x0d\x01" + good[4:]))
    with pytest.raises(ValueError, match="payload"):
        read_idx(_idx(tmp_path, good[:-1]))
    with pytest.raises(ValueError, match="has 1 dimensions, expected 3"):
        read_idx(_idx(tmp_path, good), expected_ndim=3)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(ValueError, match="broken.gz"):
        read_idx(broken)


# ------------------------------------------------------------------ CIFAR-10

@pytest.fixture(scope="module")
def cifar_timed():
    need("cifar10")
    first, first_s = timed(load_cifar10)
    second, second_s = timed(load_cifar10)
    return first, second, first_s, second_s


def test_cifar10_like_keras(cifar_timed):
    ((x_train, y_train), (x_test, y_test)), _, _, _ = cifar_timed
    assert x_train.shape == (50_000, 32, 32, 3) and x_test.shape == (10_000, 32, 32, 3)
    assert y_train.shape == (50_000, 1) and y_test.shape == (10_000, 1)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train[:, 0]).tolist() == [5000] * 10
    assert np.bincount(y_test[:, 0]).tolist() == [1000] * 10
    assert len(set(y_train[:50, 0].tolist())) >= 8, "classes should be mixed"
    assert CIFAR10_CLASSES[0] == "airplane" and CIFAR10_CLASSES[9] == "truck" and len(CIFAR10_CLASSES) == 10
    # Colour sanity check on the class semantics: ships and planes are bluer than frogs.
    blue = x_train[..., 2].mean(axis=(1, 2)) - x_train[..., 0].mean(axis=(1, 2))
    by_class = [blue[y_train[:, 0] == k].mean() for k in range(10)]
    assert by_class[8] > by_class[6] and by_class[0] > by_class[6]


def test_cifar10_second_load_is_cached(cifar_timed):
    first, second, first_s, second_s = cifar_timed
    assert np.array_equal(first[0][0], second[0][0]) and np.array_equal(first[1][1], second[1][1])
    assert second_s < first_s / 3
    print(f"CIFAR-10 first load {first_s:.1f}s, cached {second_s:.2f}s")


def test_cifar10_limit_decodes_only_the_images_kept(cifar_timed, tmp_path, monkeypatch):
    (full_train, full_test), _, _, _ = cifar_timed
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))          # nothing cached yet
    decoded = []
    real_decode = img_mod._decode_rgb
    monkeypatch.setattr(img_mod, "_decode_rgb", lambda data, where: decoded.append(where) or real_decode(data, where))
    (x_train, y_train), (x_test, y_test) = load_cifar10(num_train=300, num_test=100)
    assert len(decoded) == 400
    assert x_train.shape == (300, 32, 32, 3) and y_test.shape == (100, 1)
    # the same images as the first ones of a full load
    assert np.array_equal(x_train, full_train[0][:300]) and np.array_equal(y_train, full_train[1][:300])
    assert np.array_equal(x_test, full_test[0][:100]) and np.array_equal(y_test, full_test[1][:100])
    assert len(set(y_train[:, 0].tolist())) == 10
    again = load_cifar10(num_train=300, num_test=100)                # now cached under that limit
    assert len(decoded) == 400 and np.array_equal(again[0][0], x_train)


def test_cifar10_limit_slices_a_cached_full_load(cifar_timed):
    (full_train, _), _, _, _ = cifar_timed
    (x_train, _), (x_test, _) = load_cifar10(num_train=5)             # the full arrays are cached here
    assert np.array_equal(x_train, full_train[0][:5]) and x_test.shape == (10_000, 32, 32, 3)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError),
                                        ("100", TypeError)])
def test_cifar10_bad_limit_is_a_clear_error(bad, error):
    with pytest.raises(error, match="num_train must be a positive number of images or None"):
        load_cifar10(num_train=bad)


def test_cifar10_python_tarball_reader(tmp_path):
    """The download path: pickled channel-first batches become (N, 32, 32, 3) like Keras."""
    rng = np.random.default_rng(0)
    path = tmp_path / "cifar-10-python.tar.gz"
    batches = {}
    with tarfile.open(path, "w:gz") as tar:
        for name in ("data_batch_1", "data_batch_2", "test_batch"):
            data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
            labels = rng.integers(0, 10, 4).tolist()
            batches[name] = (data, labels)
            blob = pickle.dumps({b"data": data, b"labels": labels})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    out = img_mod._cifar_from_python_tar(path)
    assert out["x_train"].shape == (8, 32, 32, 3) and out["y_train"].shape == (8, 1)
    assert out["x_test"].shape == (4, 32, 32, 3)
    data, labels = batches["data_batch_2"]
    # pixel (row 5, col 7) of image 1 in batch 2: red at 5*32+7, green +1024, blue +2048
    assert out["x_train"][5, 5, 7].tolist() == [data[1, 167], data[1, 1024 + 167], data[1, 2048 + 167]]
    assert out["y_train"][4:, 0].tolist() == labels


def test_fast_jpeg_decoding_matches_pil(tmp_path):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    assert img_mod._jpeg_frame(data)[:4] == (0xC0, 32, 32, 3)
    with Image.open(io.BytesIO(data)) as im:
        reference = np.asarray(im.convert("RGB"))
    assert np.array_equal(img_mod._decode_rgb(data, "test"), reference)
    grey = io.BytesIO()
    Image.fromarray(pixels[..., 0]).save(grey, "JPEG")
    assert img_mod._decode_rgb(grey.getvalue(), "grey").shape == (32, 32, 3)
    with pytest.raises(ValueError, match="cannot decode image junk"):
        img_mod._decode_rgb(b"\xff\xd8 not a jpeg", "junk")


# ------------------------------------------------------------------ cats vs dogs

@pytest.fixture(scope="module")
def cats_files():
    need("cats_vs_dogs")
    return cats_vs_dogs_files()


def test_cats_vs_dogs_files(cats_files):
    df = cats_files
    assert list(df.columns) == ["path", "label", "split"]
    assert df["label"].dtype == np.int64
    counts = df.groupby(["split", "label"]).size().to_dict()
    assert counts == {("test", 0): 1000, ("test", 1): 1000, ("train", 0): 1000, ("train", 1): 1000}
    assert df["path"].is_unique and all(Path(p).is_file() for p in df["path"].iloc[::97])
    names = df["path"].map(lambda p: Path(p).name.split(".")[0])
    assert (names == df["label"].map(dict(enumerate(CATS_VS_DOGS_CLASSES)))).all()
    assert 0.3 < df["label"].iloc[:100].mean() < 0.7
    with Image.open(df["path"].iloc[0]) as im:
        assert max(im.size) == 192
    assert cats_vs_dogs_files().equals(df), "the order must be deterministic"


def test_load_cats_vs_dogs(cats_files):
    ((x_train, y_train), (x_test, y_test)), first_s = timed(load_cats_vs_dogs)
    assert x_train.shape == (2000, 160, 160, 3) and x_test.shape == (2000, 160, 160, 3)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [1000, 1000] and np.bincount(y_test).tolist() == [1000, 1000]
    train = cats_files[cats_files["split"] == "train"]
    assert np.array_equal(y_train, train["label"].to_numpy())
    (again, _), second_s = timed(load_cats_vs_dogs)
    assert np.array_equal(again[0], x_train)
    assert second_s < first_s
    print(f"cats vs dogs first load {first_s:.1f}s, cached {second_s:.2f}s")
    with pytest.raises(ValueError, match="image_size"):
        load_cats_vs_dogs((0, 160))


def _jpeg(size: tuple[int, int], seed: int) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, "JPEG")
    return buffer.getvalue()


def test_small_set_drawn_from_the_microsoft_zip(tmp_path):
    """The download path, on a synthetic zip with the Microsoft layout and some corrupt files."""
    path = tmp_path / "kagglecatsanddogs_5340.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for cls in ("Cat", "Dog"):
            for n in range(10):
                zf.writestr(f"PetImages/{cls}/{n}.jpg", _jpeg((300, 200), n))
            zf.writestr(f"PetImages/{cls}/10.jpg", b"")                       # empty
            zf.writestr(f"PetImages/{cls}/11.jpg", b"\x89PNG\r\n\x1a\n" * 4)  # not a JPEG
            zf.writestr(f"PetImages/{cls}/12.jpg", _jpeg((50, 50), 1)[:-400])  # truncated
            zf.writestr(f"PetImages/{cls}/Thumbs.db", b"junk")
    skipped = img_mod.build_cats_vs_dogs_from_zip(path, tmp_path / "out", per_split=4)
    root = tmp_path / "out" / "cats_vs_dogs_small"
    for split in ("train", "test"):
        for cls in ("cats", "dogs"):
            files = sorted((root / split / cls).glob("*.jpg"))
            assert len(files) == 4
            for f in files:
                with Image.open(f) as im:
                    assert im.size == (192, 128)
    assert set(skipped) == {"Cat", "Dog"}
    again = tmp_path / "again"
    img_mod.build_cats_vs_dogs_from_zip(path, again, per_split=4)
    assert sorted(p.name for p in again.rglob("*.jpg")) == sorted(p.name for p in root.rglob("*.jpg"))
    with pytest.raises(ValueError, match="only"):
        img_mod.build_cats_vs_dogs_from_zip(path, tmp_path / "too-many", per_split=6)
