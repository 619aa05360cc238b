"""``tf.data`` input pipelines from arrays or image files.

TensorFlow is imported inside the functions, so ``import course_lib.data`` stays cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from collections.abc import Callable, Sequence

import numpy as np

from .._validate import check_int, check_shape, positive_int
from .sampling import _length, subset

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["make_dataset", "image_dataset_from_files", "subset"]


def _check_common(batch_size: Any, seed: Any, augment: Any) -> None:
    positive_int("batch_size", batch_size)
    check_int("seed", seed, minimum=0)
    if augment is not None and not callable(augment):
        raise TypeError("augment must be a callable or a Keras layer applied to a batch, "
                        f"got {type(augment).__name__}")


def _batch_fn(augment: Callable) -> Callable:
    """Call a Keras layer with ``training=True`` (random layers are no-ops otherwise)."""
    import keras

    if isinstance(augment, keras.layers.Layer):
        return lambda batch: augment(batch, training=True)
    return augment


def _finish(ds: tf.data.Dataset, *, labelled: bool, batch_size: int, augment: Callable | None,
            prefetch: bool, drop_remainder: bool) -> tf.data.Dataset:
    import tensorflow as tf

    ds = ds.batch(int(batch_size), drop_remainder=drop_remainder)
    if augment is not None:
        fn = _batch_fn(augment)
        if labelled:
            ds = ds.map(lambda xb, yb: (fn(xb), yb), num_parallel_calls=tf.data.AUTOTUNE)
        else:
            ds = ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds


def make_dataset(x: Any, y: Any = None, batch_size: int = 32, shuffle: bool = False, seed: int = 0,
                 cache: bool = True, augment: Callable | None = None, prefetch: bool = True,
                 drop_remainder: bool = False) -> tf.data.Dataset:
    """A batched ``tf.data.Dataset`` from in-memory arrays.

    Steps: ``from_tensor_slices`` -> ``cache`` (optional) -> ``shuffle`` over the whole data
    (optional, reshuffled each epoch, reproducible for a given ``seed``) -> ``batch`` ->
    ``augment`` on whole batches (optional) -> ``prefetch(AUTOTUNE)`` (optional).

    Pass ``augment`` for the *training* dataset only: a Keras layer (e.g. a ``Sequential`` of
    ``RandomFlip``/``RandomRotation``) is called with ``training=True``; any other callable gets
    the image batch. Validation/test datasets are built without it.

    Args:
        x: array (or list, or dict of arrays for multi-input models) of N examples.
        y: labels of length N, or None for an unlabelled dataset.
        batch_size: examples per batch (> 0).
        shuffle: shuffle the examples (use for training).
        seed: shuffle seed (>= 0); the same seed gives the same order.
        cache: cache the elements in memory after the first epoch.
        augment: callable or Keras layer applied to each batch of ``x``.
        prefetch: overlap input and training with ``prefetch(AUTOTUNE)``.
        drop_remainder: drop the last, smaller batch.

    Raises:
        TypeError: ``batch_size`` or ``seed`` is not an integer, or ``augment`` is not callable.
        ValueError: ``batch_size`` below 1 or ``seed`` below 0, empty data, or ``x``/``y``
            length mismatch.
    """
    _check_common(batch_size, seed, augment)
    if x is None:
        raise ValueError("x must not be None")
    n = _length(x, "x")
    if n == 0:
        raise ValueError("x is empty")
    if y is not None and _length(y, "y") != n:
        raise ValueError(f"x and y have different lengths: {n} and {_length(y, 'y')}")
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(n, seed=int(seed), reshuffle_each_iteration=True)
    return _finish(ds, labelled=y is not None, batch_size=batch_size, augment=augment,
                   prefetch=prefetch, drop_remainder=drop_remainder)


def image_dataset_from_files(paths: Sequence[str | os.PathLike], labels: Any = None,
                             image_size: tuple[int, int] = (160, 160), batch_size: int = 32,
                             shuffle: bool = False, seed: int = 0, augment: Callable | None = None,
                             cache: bool = False, prefetch: bool = True) -> tf.data.Dataset:
    """A batched dataset that reads, decodes (JPEG/PNG/GIF/BMP) and resizes image files.

    Like ``keras.utils.image_dataset_from_directory`` but from a list of paths (for example
    ``cats_vs_dogs_files()["path"]``): images come out as ``float32`` ``(batch, h, w, 3)`` with
    values 0-255 (bilinear resize, aspect ratio not kept), labels as given. A JPEG much larger
    than ``image_size`` is decoded at 1/2, 1/4 or 1/8 scale first (libjpeg's fast path). Without
    ``cache`` the file list is shuffled (when asked) before decoding, so shuffling is cheap.

    Args:
        paths: image file paths.
        labels: one label per path, or None for an unlabelled dataset.
        image_size: ``(height, width)`` after resizing.
        batch_size, shuffle, seed, augment, prefetch: as in :func:`make_dataset`.
        cache: keep the decoded, resized images in memory after the first full pass, so
            later epochs skip reading and decoding (with ``shuffle``, the cached images are
            reshuffled every epoch). Needs ``len(paths) * h * w * 3 * 4`` bytes of memory.

    Raises:
        TypeError: ``batch_size`` or ``seed`` is not an integer, or ``augment`` is not callable.
        ValueError: empty ``paths``, length mismatch, bad ``image_size``/``batch_size``/``seed``.
        FileNotFoundError: some paths do not exist (the first few are named).
    """
    _check_common(batch_size, seed, augment)
    paths = [os.fspath(p) for p in (paths.tolist() if hasattr(paths, "tolist") else paths)]
    if not paths:
        raise ValueError("paths is empty")
    if labels is not None and _length(labels, "labels") != len(paths):
        raise ValueError(f"paths and labels have different lengths: {len(paths)} and {_length(labels, 'labels')}")
    check_shape("image_size", image_size, length=2, expected="(height, width) with positive integers")
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(f"{len(missing)} of {len(paths)} image files do not exist, e.g. {missing[:3]}")
    import tensorflow as tf

    height, width = int(image_size[0]), int(image_size[1])

    def decode_jpeg_scaled(data: tf.Tensor) -> tf.Tensor:
        # libjpeg can decode at 1/2, 1/4 or 1/8 size directly, several times faster than a full
        # decode; take the smallest such size that still covers the target, then resize.
        shape = tf.image.extract_jpeg_shape(data)
        fits = tf.minimum(shape[0] // height, shape[1] // width)
        return tf.case([(fits >= ratio, lambda r=ratio: tf.io.decode_jpeg(data, channels=3, ratio=r))
                        for ratio in (8, 4, 2)],
                       default=lambda: tf.io.decode_jpeg(data, channels=3))

    def load(path: tf.Tensor) -> tf.Tensor:
        data = tf.io.read_file(path)
        image = tf.cond(tf.io.is_jpeg(data), lambda: decode_jpeg_scaled(data),
                        lambda: tf.io.decode_image(data, channels=3, expand_animations=False))
        image.set_shape([None, None, 3])
        return tf.image.resize(image, (height, width))

    if labels is None:
        ds = tf.data.Dataset.from_tensor_slices(paths)
    else:
        ds = tf.data.Dataset.from_tensor_slices((paths, np.asarray(labels)))
    if shuffle and not cache:
        ds = ds.shuffle(len(paths), seed=int(seed), reshuffle_each_iteration=True)   # paths: cheap
    if labels is None:
        ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda p, label: (load(p), label), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(len(paths), seed=int(seed), reshuffle_each_iteration=True)
    return _finish(ds, labelled=labels is not None, batch_size=batch_size, augment=augment,
                   prefetch=prefetch, drop_remainder=False)
