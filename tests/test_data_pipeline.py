"""course_lib.data.pipeline and sampling: batching, seeded shuffling, augmentation, validation."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from course_lib.data.pipeline import image_dataset_from_files, make_dataset
from course_lib.data.sampling import subset

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

X = np.arange(10 * 4, dtype=np.float32).reshape(10, 4)
Y = np.arange(10, dtype=np.int64)


def first_epoch_labels(ds) -> list[int]:
    return [int(v) for _, yb in ds for v in yb.numpy()]


# ------------------------------------------------------------------ make_dataset

def test_batches_and_remainder():
    batches = list(make_dataset(X, Y, batch_size=4))
    assert [tuple(xb.shape) for xb, _ in batches] == [(4, 4), (4, 4), (2, 4)]
    assert batches[0][1].dtype == tf.int64
    assert np.array_equal(np.concatenate([xb.numpy() for xb, _ in batches]), X)
    dropped = list(make_dataset(X, Y, batch_size=4, drop_remainder=True))
    assert [tuple(xb.shape) for xb, _ in dropped] == [(4, 4), (4, 4)]


def test_unlabelled_and_dict_inputs():
    (only,) = list(make_dataset(X, batch_size=16))
    assert tuple(only.shape) == (10, 4)
    xb, yb = next(iter(make_dataset({"a": X, "b": Y}, Y, batch_size=3)))
    assert set(xb) == {"a", "b"} and tuple(xb["a"].shape) == (3, 4)


def test_text_arrays_become_string_tensors():
    texts = np.empty(3, dtype=object)
    texts[:] = ["a good film", "bad", "é"]
    xb, yb = next(iter(make_dataset(texts, np.array([1, 0, 1]), batch_size=3)))
    assert xb.dtype == tf.string and xb.numpy()[2].decode("utf-8") == "é"


def test_no_shuffle_keeps_order():
    assert first_epoch_labels(make_dataset(X, Y, batch_size=3, prefetch=False, cache=False)) == list(range(10))


def test_shuffle_is_reproducible_with_a_seed():
    a = first_epoch_labels(make_dataset(X, Y, batch_size=3, shuffle=True, seed=7))
    b = first_epoch_labels(make_dataset(X, Y, batch_size=3, shuffle=True, seed=7))
    c = first_epoch_labels(make_dataset(X, Y, batch_size=3, shuffle=True, seed=8))
    assert a == b
    assert sorted(a) == list(range(10)) and a != list(range(10))
    assert a != c
    ds = make_dataset(X, Y, batch_size=10, shuffle=True, seed=7)
    assert first_epoch_labels(ds) != first_epoch_labels(ds), "a new order each epoch"


def test_pairs_stay_together_when_shuffled():
    for xb, yb in make_dataset(X, Y, batch_size=4, shuffle=True, seed=1):
        assert np.array_equal(xb.numpy()[:, 0], yb.numpy() * 4)


def test_augment_only_when_asked():
    plain = next(iter(make_dataset(X, Y, batch_size=10)))[0].numpy()
    assert np.array_equal(plain, X)
    shifted = next(iter(make_dataset(X, Y, batch_size=10, augment=lambda b: b + 100.0)))
    assert np.array_equal(shifted[0].numpy(), X + 100.0)
    assert np.array_equal(shifted[1].numpy(), Y), "labels are not augmented"
    unlabelled = next(iter(make_dataset(X, batch_size=10, augment=lambda b: b * 0.0)))
    assert float(tf.reduce_sum(unlabelled)) == 0.0


class AddOneInTraining(keras.layers.Layer):
    """Adds 1 in training mode only, like Keras' random augmentation layers."""

    def call(self, inputs, training=None):
        return inputs + 1.0 if training else inputs


def test_keras_layer_augment_runs_in_training_mode():
    layer = AddOneInTraining()
    xb, _ = next(iter(make_dataset(X, Y, batch_size=10, augment=layer)))
    assert np.array_equal(xb.numpy(), X + 1.0)
    images = np.zeros((4, 8, 8, 3), np.float32)
    images[:, :, :4] = 1.0
    flip = keras.layers.RandomFlip("horizontal", seed=3)
    flipped = np.concatenate([b.numpy() for b in make_dataset(images, batch_size=4, augment=flip)])
    assert flipped.shape == images.shape
    for out in flipped:  # each image comes out as is or mirrored, never altered otherwise
        assert np.array_equal(out, images[0]) or np.array_equal(out, images[0][:, ::-1])


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, "batch_size"), ({"batch_size": -3}, ValueError, "batch_size"),
    ({"batch_size": 2.5}, TypeError, "batch_size"), ({"batch_size": True}, TypeError, "batch_size"),
    ({"seed": -1}, ValueError, "seed"), ({"augment": "flip"}, TypeError, "augment"),
])
def test_make_dataset_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_dataset(X, Y, **kwargs)


def test_make_dataset_rejects_bad_data():
    with pytest.raises(ValueError, match="different lengths: 10 and 9"):
        make_dataset(X, Y[:9])
    with pytest.raises(ValueError, match="empty"):
        make_dataset(X[:0], Y[:0])
    with pytest.raises(ValueError, match="different lengths"):
        make_dataset({"a": X, "b": Y[:5]})


# ------------------------------------------------------------------ image_dataset_from_files

@pytest.fixture
def image_files(tmp_path):
    paths = []
    for i, size in enumerate([(40, 30), (20, 50), (64, 64), (33, 17), (16, 16)]):
        path = tmp_path / f"img{i}.{'png' if i == 4 else 'jpg'}"
        Image.new("RGB", size, (50 * i, 10, 200)).save(path)
        paths.append(str(path))
    return paths


def test_image_dataset_from_files(image_files):
    labels = np.array([0, 1, 0, 1, 1])
    batches = list(image_dataset_from_files(image_files, labels, image_size=(16, 24), batch_size=2))
    assert [tuple(xb.shape) for xb, _ in batches] == [(2, 16, 24, 3), (2, 16, 24, 3), (1, 16, 24, 3)]
    assert batches[0][0].dtype == tf.float32
    assert [int(v) for _, yb in batches for v in yb] == labels.tolist()
    assert abs(float(batches[1][0][0, 0, 0, 0]) - 100.0) < 3  # third image: red = 100 (JPEG)
    unlabelled = next(iter(image_dataset_from_files(image_files, None, image_size=(8, 8), batch_size=5)))
    assert tuple(unlabelled.shape) == (5, 8, 8, 3)


def test_image_dataset_shuffle_and_augment(image_files):
    labels = np.arange(5)
    a = first_epoch_labels(image_dataset_from_files(image_files, labels, (8, 8), 2, shuffle=True, seed=4))
    b = first_epoch_labels(image_dataset_from_files(image_files, labels, (8, 8), 2, shuffle=True, seed=4))
    assert a == b and sorted(a) == list(range(5))
    xb, _ = next(iter(image_dataset_from_files(image_files, labels, (8, 8), 5, augment=lambda x: x * 0)))
    assert float(tf.reduce_max(xb)) == 0.0


def test_cached_shuffled_image_dataset_decodes_once_and_reshuffles(image_files, tmp_path):
    labels = np.arange(5)
    ds = image_dataset_from_files(image_files, labels, (8, 8), 5, shuffle=True, seed=1, cache=True)
    first = [(int(label), float(image[0, 0, 0])) for images, lab in ds for image, label in zip(images, lab)]
    for path in image_files:                      # the second pass must come from memory
        os.remove(path)
    epochs = [[(int(label), float(image[0, 0, 0])) for images, lab in ds for image, label in zip(images, lab)]
              for _ in range(4)]
    assert all(sorted(e) == sorted(first) for e in epochs)       # same images, same labels
    assert len({tuple(label for label, _ in e) for e in [first] + epochs}) > 1   # new order per epoch


def test_large_jpeg_decoded_at_reduced_scale_matches_a_full_decode(tmp_path):
    # a smooth 480x360 photo-like image: decoding at 1/8 scale then resizing to 32x32 must give
    # nearly what a full decode and resize gives
    yy, xx = np.mgrid[0:360, 0:480]
    pixels = np.stack([xx * 255 // 479, yy * 255 // 359, (xx + yy) * 255 // 838], axis=-1).astype(np.uint8)
    path = tmp_path / "large.jpg"
    Image.fromarray(pixels).save(path, quality=95)
    (scaled,), = [xb.numpy() for xb in image_dataset_from_files([str(path)], None, (32, 32), 1)]
    full = tf.image.resize(tf.io.decode_jpeg(tf.io.read_file(str(path)), channels=3), (32, 32)).numpy()
    assert scaled.shape == full.shape == (32, 32, 3)
    assert np.abs(scaled - full).mean() < 3.0


def test_image_dataset_validation(image_files, tmp_path):
    with pytest.raises(ValueError, match="different lengths"):
        image_dataset_from_files(image_files, [0, 1], (8, 8))
    with pytest.raises(ValueError, match="image_size"):
        image_dataset_from_files(image_files, None, (8,))
    with pytest.raises(ValueError, match="image_size"):
        image_dataset_from_files(image_files, None, (0, 8))
    with pytest.raises(ValueError, match="empty"):
        image_dataset_from_files([], None, (8, 8))
    with pytest.raises(FileNotFoundError, match="nope.jpg"):
        image_dataset_from_files(image_files + [str(tmp_path / "nope.jpg")], None, (8, 8))


# ------------------------------------------------------------------ subset

def test_subset_is_stratified_and_reproducible():
    y = np.repeat([0, 1, 2], [600, 300, 100])
    x = np.arange(1000)
    xs, ys = subset(x, y, 100, seed=0)
    assert np.bincount(ys).tolist() == [60, 30, 10]
    assert np.array_equal(y[xs], ys)
    xs2, _ = subset(x, y, 100, seed=0)
    xs3, _ = subset(x, y, 100, seed=1)
    assert np.array_equal(xs, xs2) and not np.array_equal(xs, xs3)
    assert len(set(xs.tolist())) == 100


def test_subset_keeps_rare_classes_and_shapes():
    y = np.array([0] * 98 + [1, 2]).reshape(-1, 1)  # keras-style (N, 1) labels
    _, ys = subset(np.zeros((100, 2, 2)), y, 10, seed=0)
    assert ys.shape == (10, 1) and set(ys[:, 0].tolist()) == {0, 1, 2}


def test_subset_other_inputs():
    df = pd.DataFrame({"a": range(50)})
    target = pd.Series(np.tile([0, 1], 25))
    xs, ys = subset(df, target, 10, seed=3)
    assert isinstance(xs, pd.DataFrame) and len(xs) == 10 and ys.value_counts().tolist() == [5, 5]
    texts = [f"t{i}" for i in range(20)]
    xs, ys = subset(texts, None, 5)
    assert isinstance(xs, list) and len(xs) == 5 and ys is None
    xs, ys = subset(np.arange(30), np.linspace(0, 1, 30), 7)  # regression target: random sample
    assert len(xs) == 7
    x, y = np.arange(5), np.arange(5)
    assert subset(x, y, 10) == (x, y)


def test_subset_validation():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        subset(np.arange(5), None, 0)
    with pytest.raises(ValueError, match="5 examples but y has 4"):
        subset(np.arange(5), np.arange(4), 2)
