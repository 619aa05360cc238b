"""Tests for course_lib.generative: the judge classifier, the quality score, image grids, callbacks."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from course_lib import generative as gen


# --------------------------------------------------------------------------- score_probabilities
def _one_hot(classes, k=10, confidence=1.0):
    p = np.full((len(classes), k), (1.0 - confidence) / (k - 1))
    p[np.arange(len(classes)), classes] = confidence
    return p


def test_score_of_confident_uniform_predictions():
    s = gen.score_probabilities(_one_hot(np.arange(100) % 10), threshold=0.9)
    assert s.confident_share == 1.0
    assert s.normalized_entropy == pytest.approx(1.0)
    assert s.class_entropy == pytest.approx(math.log(10))
    assert s.largest_class_share == pytest.approx(0.1)
    assert s.class_shares == pytest.approx((0.1,) * 10)
    assert s.n_images == 100 and "100 images" in s.describe()


def test_mode_collapse_has_zero_entropy():
    s = gen.score_probabilities(_one_hot([3] * 50), threshold=0.9)
    assert s.normalized_entropy == pytest.approx(0.0)
    assert s.largest_class_share == 1.0
    assert s.class_shares[3] == 1.0


def test_threshold_is_strict_and_counts_only_confident_rows():
    p = np.vstack([_one_hot([0, 1], confidence=0.95), _one_hot([2, 3], confidence=0.9),
                   np.full((1, 10), 0.1)])
    s = gen.score_probabilities(p, threshold=0.9)
    assert s.confident_share == pytest.approx(2 / 5)   # exactly 0.9 is not "above 0.9"
    assert s.mean_confidence == pytest.approx((0.95 * 2 + 0.9 * 2 + 0.1) / 5)


def test_entropy_of_two_equal_classes():
    s = gen.score_probabilities(_one_hot([0, 1] * 5), threshold=0.5)
    assert s.normalized_entropy == pytest.approx(math.log(2) / math.log(10))


@pytest.mark.parametrize("bad, match", [
    (np.zeros((0, 10)), "zero rows"),
    (np.ones(10) / 10, "shape"),
    (np.ones((4, 1)), "at least 2 classes"),
    (np.full((3, 10), 2.0), r"\[0, 1\]"),
    (np.full((3, 10), np.nan), "finite"),
    (np.full((3, 10), 0.5), "sum to 1"),
])
def test_score_rejects_bad_probabilities(bad, match):
    with pytest.raises(ValueError, match=match):
        gen.score_probabilities(bad)


@pytest.mark.parametrize("threshold, error", [(0.0, ValueError), (1.0, ValueError), (-0.5, ValueError),
                                              (1.5, ValueError), (True, TypeError), ("0.9", TypeError)])
def test_score_rejects_bad_threshold(threshold, error):
    with pytest.raises(error, match="threshold"):
        gen.score_probabilities(_one_hot([1, 2]), threshold=threshold)


# --------------------------------------------------------------------------- quality_score
def test_quality_score_with_a_callable_batches_and_adds_channel():
    seen = []

    def judge(x):
        seen.append(x.shape)
        # class = brightest-pixel row // 3, a deterministic stand-in for a classifier
        classes = np.argmax(x.reshape(len(x), 28, 28).max(axis=2), axis=1) // 3
        return _one_hot(classes, confidence=0.99)

    images = np.zeros((25, 28, 28), dtype=np.float32)
    for i in range(25):
        images[i, (i % 10) * 3, 5] = 1.0
    s = gen.quality_score(judge, images, batch_size=10)
    assert seen == [(10, 28, 28, 1), (10, 28, 28, 1), (5, 28, 28, 1)]
    assert s.confident_share == 1.0 and s.n_images == 25
    assert s.class_shares[0] == pytest.approx(3 / 25)


def test_quality_score_with_a_keras_model():
    # a softmax layer with hand-set weights: a lit pixel in row r votes with logit 20 * brightness for
    # class r // 3 (rows 0..27 cover classes 0..9), so each image's probabilities are known in closed form
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    kernel = np.zeros((28, 28, 10), dtype="float32")
    for row in range(28):
        kernel[row, :, row // 3] = 20.0
    model.layers[-1].set_weights([kernel.reshape(784, 10), np.zeros(10, dtype="float32")])
    images = np.zeros((8, 28, 28, 1), dtype="float32")
    for i, cls in enumerate([0, 1, 2, 3, 4]):
        images[i, 3 * cls, 7] = 1.0                    # logit 20: p ~ 1, confident
    images[5, 3 * 7, 7] = 0.1                          # logit 2 for class 7: p = e^2 / (e^2 + 9) = 0.45
    # images 6 and 7 stay black: all logits 0, p = 0.1 everywhere, argmax class 0
    s = gen.quality_score(model, images, threshold=0.4, batch_size=3)
    low = math.exp(2) / (math.exp(2) + 9)
    assert s.n_images == 8
    assert s.confident_share == pytest.approx(6 / 8)   # the five lit images and the dim one (0.45 > 0.4)
    assert s.class_shares == pytest.approx((3 / 8, 1 / 8, 1 / 8, 1 / 8, 1 / 8, 0, 0, 1 / 8, 0, 0))
    assert s.largest_class_share == pytest.approx(3 / 8)
    assert s.mean_confidence == pytest.approx((5 * 1.0 + low + 2 * 0.1) / 8, rel=1e-5)


@pytest.mark.parametrize("images, match", [
    (np.zeros((4, 28)), "shape"),
    (np.zeros((0, 28, 28)), "no images"),
    (np.full((2, 28, 28), 255.0), r"\[0, 1\]"),
    (np.full((2, 28, 28), -1.0), "tanh"),
    (np.zeros((2, 28, 28), dtype=np.uint8), "floats"),
])
def test_quality_score_rejects_bad_images(images, match):
    with pytest.raises(ValueError, match=match):
        gen.quality_score(lambda x: _one_hot([0] * len(x)), images)


def test_quality_score_rejects_bad_classifier_and_batch_size():
    images = np.zeros((2, 28, 28), dtype=np.float32)
    with pytest.raises(TypeError, match="classifier"):
        gen.quality_score("not a model", images)
    with pytest.raises(ValueError, match="batch_size"):
        gen.quality_score(lambda x: _one_hot([0] * len(x)), images, batch_size=0)


# --------------------------------------------------------------------------- classifier builder
def test_classifier_builder_shapes_and_softmax():
    model = gen.build_mnist_classifier(width=4)
    probs = model(np.zeros((3, 28, 28, 1), dtype="float32"))
    assert tuple(probs.shape) == (3, 10)
    np.testing.assert_allclose(np.asarray(probs).sum(axis=1), 1.0, rtol=1e-5)
    assert gen.build_mnist_classifier(input_shape=(28, 28, 1), num_classes=3, width=2).output_shape == (None, 3)


def test_classifier_learns_a_trivial_task():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 64)
    x = np.zeros((64, 28, 28, 1), dtype="float32")
    x[y == 1, :14] = 1.0          # class 1: bright top half
    x[y == 0, 14:] = 1.0          # class 0: bright bottom half
    keras.utils.set_random_seed(0)
    model = gen.build_mnist_classifier(num_classes=2, width=4, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] == 1.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(input_shape=(28, 28)), "input_shape"),
    (dict(input_shape=(28, 0, 1)), "input_shape"),
    (dict(num_classes=1), "num_classes"),
    (dict(width=0), "width"),
    (dict(dropout=1.0), "dropout"),
])
def test_classifier_builder_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gen.build_mnist_classifier(**kwargs)


# --------------------------------------------------------------------------- image grids
def test_image_grid_layout_and_padding():
    images = np.stack([np.full((2, 3), i, dtype=np.float32) for i in range(5)])
    grid = gen.image_grid(images[..., None], ncols=2, pad=1, pad_value=-1)
    assert grid.shape == (3 * 3 - 1, 2 * 4 - 1)
    assert grid[0, 0] == 0 and grid[0, 4] == 1 and grid[3, 0] == 2 and grid[6, 4] == -1
    assert grid[2, 0] == -1                          # padding row between image rows
    assert gen.image_grid(images, ncols=10, pad=0).shape == (2, 15)   # ncols capped at N


@pytest.mark.parametrize("images, kwargs, match", [
    (np.zeros((2, 4, 4, 3)), {}, "grey"),
    (np.zeros((0, 4, 4)), {}, "no images"),
    (np.zeros((2, 4, 4)), dict(ncols=0), "ncols"),
    (np.zeros((2, 4, 4)), dict(pad=-1), "pad"),
])
def test_image_grid_rejects_bad_input(images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gen.image_grid(images, **kwargs)


def test_save_image_grid_writes_a_png(tmp_path):
    from PIL import Image

    images = np.random.default_rng(0).random((6, 5, 5)).astype("float32")
    path = gen.save_image_grid(images, tmp_path / "sub" / "grid.png", ncols=3)
    with Image.open(path) as img:
        assert img.size == (3 * 6 - 1, 2 * 6 - 1) and img.mode == "L"
    with pytest.raises(ValueError, match=".png"):
        gen.save_image_grid(images, tmp_path / "grid.jpg")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gen.save_image_grid(images * 255, tmp_path / "bad.png")


# --------------------------------------------------------------------------- callbacks
def _tiny_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_sample_grid_callback_snapshots_and_saves(tmp_path):
    calls = []

    def generate():
        calls.append(1)
        return np.full((4, 5, 5), len(calls) / 10, dtype=np.float32)

    cb = gen.SampleGridCallback(generate, every=2, folder=tmp_path, prefix="gan")
    x, y = np.zeros((8, 3)), np.zeros((8, 1))
    _tiny_model().fit(x, y, epochs=5, batch_size=4, verbose=0, callbacks=[cb])
    assert sorted(cb.grids) == [0, 2, 4, 5]        # before training, every 2 epochs, and the last one
    assert [p.name for p in cb.paths] == ["gan_epoch000.png", "gan_epoch002.png", "gan_epoch004.png",
                                          "gan_epoch005.png"]
    assert all(p.is_file() for p in cb.paths)
    fig = gen.plot_image_grids(cb.grids, ncols=2)
    assert len(fig.axes) == 4


def test_sample_grid_callback_rejects_bad_arguments():
    with pytest.raises(TypeError, match="generate"):
        gen.SampleGridCallback(np.zeros(3))
    with pytest.raises(ValueError, match="every"):
        gen.SampleGridCallback(lambda: np.zeros((1, 2, 2)), every=0)
    with pytest.raises(ValueError, match="no snapshots"):
        gen.plot_image_grids({})


def test_batch_history_records_every_n_steps():
    cb = gen.BatchHistory(every=3)
    _tiny_model().fit(np.ones((40, 3)), np.ones((40, 1)), epochs=2, batch_size=4, verbose=0, callbacks=[cb])
    assert cb.steps == [3, 6, 9, 12, 15, 18]           # 10 steps per epoch, counted across epochs
    assert len(cb.history["loss"]) == 6
    with pytest.raises(ValueError, match="every"):
        gen.BatchHistory(every=0)


# --------------------------------------------------------------------------- latent figures
def test_latent_grid_orders_points_like_a_plot():
    def decode(z):  # image brightness encodes the latent point
        return np.stack([np.full((2, 2), 10 * a + b) for a, b in z])

    grid = gen.latent_grid(decode, n=3, span=1.0)
    assert grid.shape == (6, 6)
    assert grid[0, 0] == pytest.approx(10 * -1 + 1)   # top left: z = (-1, +1)
    assert grid[5, 5] == pytest.approx(10 * 1 - 1)    # bottom right: z = (+1, -1)


def test_latent_grid_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n must"):
        gen.latent_grid(lambda z: np.zeros((len(z), 2, 2)), n=1)
    with pytest.raises(ValueError, match="span"):
        gen.latent_grid(lambda z: np.zeros((len(z), 2, 2)), span=0)
    with pytest.raises(ValueError, match="returned 1 images"):
        gen.latent_grid(lambda z: np.zeros((1, 2, 2)), n=2)


def test_plot_latent_scatter_checks_shapes():
    fig = gen.plot_latent_scatter(np.zeros((5, 2)), [0, 1, 2, 3, 4])
    assert fig.axes[0].get_xlabel().startswith("z[0]")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        gen.plot_latent_scatter(np.zeros((5, 3)), [0] * 5)
    with pytest.raises(ValueError, match="labels"):
        gen.plot_latent_scatter(np.zeros((5, 2)), [0] * 4)
