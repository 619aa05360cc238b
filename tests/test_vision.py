"""Tests for course_lib.vision: NumPy conv/pool against Keras, Grad-CAM on a model with a known answer."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib import vision
from course_lib.vision import (conv2d_numpy, conv_output_size, feature_maps, grad_cam, max_pool_numpy,
                               overlay_heatmap, plot_feature_maps, plot_grad_cam, resize_heatmap,
                               same_padding)


# --------------------------------------------------------------------------- sizes and padding

@pytest.mark.parametrize("n, k, s, padding, expected", [
    (28, 3, 1, "valid", 26), (28, 3, 1, "same", 28), (7, 3, 2, "valid", 3), (7, 3, 2, "same", 4),
    (6, 2, 2, "valid", 3), (5, 5, 1, "valid", 1), (5, 7, 1, "same", 5),
])
def test_conv_output_size(n, k, s, padding, expected):
    assert conv_output_size(n, k, s, padding) == expected


def test_same_padding_puts_the_odd_zero_after():
    assert same_padding(5, 3, 1) == (1, 1)
    assert same_padding(6, 3, 2) == (0, 1)
    assert same_padding(4, 2, 2) == (0, 0)
    assert same_padding(5, 4, 1) == (1, 2)


@pytest.mark.parametrize("args, error", [
    ((5, 7, 1, "valid"), ValueError), ((5, 3, 1, "full"), ValueError), ((0, 3), ValueError),
    ((5, 3, 0), ValueError), ((5.0, 3), TypeError), ((5, True), TypeError),
])
def test_conv_output_size_rejects_bad_input(args, error):
    with pytest.raises(error):
        conv_output_size(*args)


# --------------------------------------------------------------------------- convolution

def test_conv2d_numpy_small_example_by_hand():
    x = np.arange(9, dtype=float).reshape(3, 3, 1)           # 0..8
    k = np.ones((2, 2, 1, 1))
    y = conv2d_numpy(x, k, bias=[1.0])
    assert y.shape == (2, 2, 1)
    np.testing.assert_allclose(y[..., 0], [[0 + 1 + 3 + 4 + 1, 1 + 2 + 4 + 5 + 1],
                                           [3 + 4 + 6 + 7 + 1, 4 + 5 + 7 + 8 + 1]])


def test_conv2d_numpy_is_cross_correlation_not_flipped():
    x = np.zeros((3, 3, 1)); x[1, 1, 0] = 1.0                  # an impulse
    k = np.arange(9, dtype=float).reshape(3, 3, 1, 1)
    y = conv2d_numpy(x, k, padding="same")[..., 0]
    np.testing.assert_allclose(y, k[::-1, ::-1, 0, 0])        # correlation mirrors the kernel


@pytest.mark.parametrize("size, kernel, stride, padding", [
    ((9, 9), 3, 1, "valid"), ((9, 9), 3, 1, "same"), ((8, 7), 3, 2, "same"), ((8, 7), (2, 3), (2, 1), "valid"),
    ((6, 6), 4, 3, "same"),
])
def test_conv2d_numpy_matches_keras(size, kernel, stride, padding):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, *size, 3)).astype("float32")
    layer = keras.layers.Conv2D(4, kernel, strides=stride, padding=padding)
    expected = np.asarray(layer(x))
    kernel_w, bias = (np.asarray(w) for w in layer.get_weights())
    got = conv2d_numpy(x, kernel_w, bias, stride=stride, padding=padding)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) < 1e-5


@pytest.mark.parametrize("kwargs, error", [
    (dict(x=np.zeros((3, 3)), kernel=np.zeros((2, 2, 1, 1))), ValueError),            # no channel axis
    (dict(x=np.zeros((3, 3, 2)), kernel=np.zeros((2, 2, 1, 1))), ValueError),         # channel mismatch
    (dict(x=np.zeros((3, 3, 1)), kernel=np.zeros((2, 2, 1))), ValueError),            # kernel rank
    (dict(x=np.zeros((3, 3, 1)), kernel=np.zeros((2, 2, 1, 2)), bias=[0.0]), ValueError),
    (dict(x=np.zeros((3, 3, 1)), kernel=np.zeros((2, 2, 1, 1)), stride=0), ValueError),
    (dict(x=np.zeros((3, 3, 1)), kernel=np.zeros((2, 2, 1, 1)), stride=(1, 1, 1)), ValueError),
    (dict(x=np.zeros((3, 3, 1)), kernel=np.zeros((2, 2, 1, 1)), padding="causal"), ValueError),
    (dict(x=np.zeros((3, 3, 1)), kernel=np.zeros((4, 4, 1, 1))), ValueError),         # kernel > image
    (dict(x=np.array([["a"]]), kernel=np.zeros((1, 1, 1, 1))), TypeError),
])
def test_conv2d_numpy_rejects_bad_input(kwargs, error):
    with pytest.raises(error):
        conv2d_numpy(**kwargs)


# --------------------------------------------------------------------------- pooling

def test_max_pool_small_example_by_hand():
    x = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [6, 1, 3, 3]], dtype=float)[..., None]
    np.testing.assert_array_equal(max_pool_numpy(x)[..., 0], [[4, 5], [6, 7]])


def test_max_pool_same_padding_never_picks_the_padding():
    x = -np.ones((3, 3, 1))
    y = max_pool_numpy(x, 2, padding="same")
    assert y.shape == (2, 2, 1)
    np.testing.assert_array_equal(y, -1.0)                    # zeros would have won the max


@pytest.mark.parametrize("pool, stride, padding", [(2, None, "valid"), (2, None, "same"), (3, 2, "valid"),
                                                    (3, 2, "same"), ((2, 3), (1, 2), "valid")])
def test_max_pool_matches_keras(pool, stride, padding):
    x = np.random.default_rng(1).normal(size=(2, 7, 9, 3)).astype("float32")
    expected = np.asarray(keras.layers.MaxPooling2D(pool, strides=stride, padding=padding)(x))
    got = max_pool_numpy(x, pool, stride, padding)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) < 1e-6


@pytest.mark.parametrize("kwargs, error", [
    (dict(x=np.zeros((4, 4))), ValueError), (dict(x=np.zeros((4, 4, 1)), pool_size=0), ValueError),
    (dict(x=np.zeros((4, 4, 1)), padding="full"), ValueError), (dict(x=np.zeros((4, 4, 1)), pool_size=2.5), TypeError),
    (dict(x=np.zeros((2, 2, 1)), pool_size=3), ValueError),
])
def test_max_pool_rejects_bad_input(kwargs, error):
    with pytest.raises(error):
        max_pool_numpy(**kwargs)


# --------------------------------------------------------------------------- feature maps and Grad-CAM

def _known_model() -> keras.Model:
    """input -> 1x1 conv that copies the image ("copy") -> global mean -> logits [mean, -mean].

    Class 0's evidence is every pixel in proportion to its value; class 1 has no positive
    evidence anywhere for a non-negative image.
    """
    inp = keras.Input((6, 6, 1))
    copy = keras.layers.Conv2D(1, 1, name="copy", kernel_initializer="ones", bias_initializer="zeros")(inp)
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(copy)
    out = keras.layers.Dense(2, name="logits", use_bias=False)(pooled)
    model = keras.Model(inp, out)
    model.get_layer("logits").set_weights([np.array([[1.0, -1.0]])])
    return model


def _image() -> np.ndarray:
    img = np.zeros((6, 6, 1), dtype="float32")
    img[1, 4, 0] = 2.0
    img[3:5, 0:2, 0] = 1.0
    return img


def test_grad_cam_finds_the_evidence():
    model, img = _known_model(), _image()
    heat, classes, scores = grad_cam(model, img, "copy")
    assert heat.shape == (1, 6, 6) and classes.tolist() == [0] and scores.shape == (1, 2)
    np.testing.assert_allclose(heat[0], img[..., 0] / img.max(), atol=1e-6)


def test_grad_cam_of_a_class_with_no_evidence_is_zero():
    heat, classes, _ = grad_cam(_known_model(), np.stack([_image()] * 2), "copy", class_index=1)
    assert classes.tolist() == [1, 1]
    np.testing.assert_array_equal(heat, 0.0)


@pytest.mark.parametrize("kwargs, error", [
    (dict(layer_name="nope"), ValueError), (dict(layer_name="gap"), ValueError),
    (dict(layer_name="copy", class_index=2), ValueError), (dict(layer_name="copy", class_index=[0, 1]), ValueError),
    (dict(layer_name="copy", class_index=0.5), ValueError), (dict(layer_name=3), TypeError),
])
def test_grad_cam_rejects_bad_input(kwargs, error):
    with pytest.raises(error):
        grad_cam(_known_model(), _image(), **kwargs)


def test_grad_cam_rejects_bad_images():
    with pytest.raises(ValueError):
        grad_cam(_known_model(), np.zeros((6, 6)), "copy")


def test_feature_maps_returns_each_layers_activations():
    maps = feature_maps(_known_model(), _image(), ["copy"])
    assert list(maps) == ["copy"]
    np.testing.assert_allclose(maps["copy"], _image(), atol=1e-6)
    with pytest.raises(ValueError):
        feature_maps(_known_model(), _image(), ["gap"])          # not a 4-D map
    with pytest.raises(ValueError):
        feature_maps(_known_model(), np.stack([_image()] * 2), ["copy"])
    with pytest.raises(ValueError):
        feature_maps(_known_model(), _image(), "copy")
    with pytest.raises(ValueError):
        feature_maps(_known_model(), _image(), ["missing"])


# --------------------------------------------------------------------------- heatmap helpers and figures

def test_resize_heatmap_keeps_constants_and_corners():
    np.testing.assert_allclose(resize_heatmap(np.full((3, 4), 0.3), (12, 7)), 0.3)
    hm = np.array([[0.0, 1.0], [1.0, 0.0]])
    big = resize_heatmap(hm, (8, 8))
    assert big.shape == (8, 8) and big[0, 0] == 0.0 and big[0, -1] == 1.0
    np.testing.assert_allclose(resize_heatmap(hm, (2, 2)), hm)
    with pytest.raises(ValueError):
        resize_heatmap(np.zeros(4), (2, 2))
    with pytest.raises(ValueError):
        resize_heatmap(hm, (0, 2))


def test_overlay_heatmap_blends():
    img = np.full((4, 4, 3), 255, dtype=np.uint8)
    np.testing.assert_allclose(overlay_heatmap(img, np.zeros((2, 2)), alpha=0.0), 1.0)
    blended = overlay_heatmap(img, np.ones((2, 2)), alpha=1.0)
    np.testing.assert_allclose(blended, np.broadcast_to(matplotlib.colormaps["jet"](1.0)[:3], (4, 4, 3)))
    for bad in (dict(image=np.zeros((4, 4))), dict(alpha=1.5), dict(heatmap=np.full((2, 2), 2.0)),
                dict(image=np.full((4, 4, 3), 2.0))):
        args = dict(image=img, heatmap=np.zeros((2, 2)), alpha=0.5) | bad
        with pytest.raises(ValueError):
            overlay_heatmap(**args)


def test_figures_have_the_expected_panels():
    fig = plot_feature_maps({"a": np.random.rand(5, 5, 3), "b": np.random.rand(2, 2, 10)}, max_maps=4)
    assert len(fig.axes) == 2 * 4
    plt.close(fig)
    imgs = np.random.randint(0, 255, (3, 8, 8, 3), dtype=np.uint8)
    fig = plot_grad_cam(imgs, np.random.rand(3, 2, 2), titles=["a", "b", "c"], title_colors=["k", "r", "k"], ncols=2)
    assert len(fig.axes) == 2 * 2 * 2
    plt.close(fig)
    with pytest.raises(ValueError):
        plot_feature_maps({})
    with pytest.raises(ValueError):
        plot_feature_maps({"a": np.zeros((2, 2))})
    with pytest.raises(ValueError):
        plot_grad_cam(imgs, np.random.rand(2, 2, 2))
    with pytest.raises(ValueError):
        plot_grad_cam(imgs, np.random.rand(3, 2, 2), titles=["a"])


def test_module_exports_exist():
    assert all(hasattr(vision, name) for name in vision.__all__)


def test_models_with_several_inputs_are_rejected():
    a, b = keras.Input((4, 4, 1)), keras.Input((4, 4, 1))
    conv = keras.layers.Conv2D(1, 1, name="conv")(keras.layers.Add()([a, b]))
    model = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(conv)))
    with pytest.raises(ValueError, match="one input"):
        grad_cam(model, np.zeros((4, 4, 1)), "conv")
    with pytest.raises(ValueError, match="one input"):
        feature_maps(model, np.zeros((4, 4, 1)), ["conv"])


def test_patch_whitening_outputs_are_white():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 9, 9, 3))
    images = base + 0.8 * np.roll(base, 1, axis=2) + np.array([5.0, -2.0, 1.0])   # correlated, off-centre
    kernel, bias = vision.patch_whitening(images, patch_size=2, epsilon=0.0)
    assert kernel.shape == (2, 2, 3, 24) and bias.shape == (24,)
    out = conv2d_numpy(images, kernel, bias).reshape(-1, 24)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.cov(out[:, :12], rowvar=False, bias=True), np.eye(12), atol=1e-3)
    np.testing.assert_allclose(out[:, 12:], -out[:, :12], atol=1e-5)      # the negated copies


def test_patch_whitening_as_a_keras_layer():
    images = np.random.default_rng(1).uniform(size=(20, 8, 8, 3)).astype("float32")
    kernel, bias = vision.patch_whitening(images)
    layer = keras.layers.Conv2D(kernel.shape[-1], 2)
    layer.build(images.shape)
    layer.set_weights([kernel, bias])
    np.testing.assert_allclose(np.asarray(layer(images)), conv2d_numpy(images, kernel, bias), atol=1e-4)


def test_patch_whitening_epsilon_limits_the_gain():
    images = np.zeros((3, 4, 4, 1))
    images[:, :, :2] = 1.0                                # only some directions vary
    kernel, _ = vision.patch_whitening(images, epsilon=1e-2)
    assert np.all(np.isfinite(kernel)) and np.abs(kernel).max() <= 1 / np.sqrt(1e-2) + 1e-6


@pytest.mark.parametrize("kwargs, error", [
    (dict(images=np.zeros((4, 4, 3))), "batch"),
    (dict(images=np.zeros((2, 1, 4, 3))), "no 2x2 patch"),
    (dict(images=np.zeros((2, 4, 4, 3)), patch_size=0), "patch_size"),
    (dict(images=np.zeros((2, 4, 4, 3)), epsilon=-1.0), "epsilon"),
    (dict(images=np.zeros((2, 4, 4, 3)), max_patches=0), "max_patches"),
])
def test_patch_whitening_rejects_bad_input(kwargs, error):
    with pytest.raises(ValueError, match=error):
        vision.patch_whitening(**kwargs)


def test_patch_whitening_sampling_is_seeded():
    images = np.random.default_rng(2).normal(size=(10, 12, 12, 3))
    kernel, bias = vision.patch_whitening(images, max_patches=500, seed=3)
    again = vision.patch_whitening(images, max_patches=500, seed=3)
    np.testing.assert_array_equal(kernel, again[0])
    assert kernel.shape == (2, 2, 3, 24) and np.all(np.isfinite(bias))


def test_patch_whitening_sample_is_the_patches_at_the_drawn_positions():
    # non-square images and a 3x3 kernel: a mix-up of rows, columns or channels would show
    images = np.random.default_rng(4).normal(size=(7, 5, 9, 2))
    total = 7 * 3 * 7                                        # images x rows x columns of 3x3 patches
    kernel, bias = vision.patch_whitening(images, patch_size=3, epsilon=0.0, max_patches=60, seed=1)
    drawn = np.random.default_rng(1).choice(total, 60, replace=False)
    out = conv2d_numpy(images, kernel, bias).reshape(total, -1)[drawn][:, :18]   # whitened sampled patches
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.cov(out, rowvar=False, bias=True), np.eye(18), atol=1e-3)
