"""course_lib.forward: one compiled forward pass shared by the service and the compression chapter."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_lib import compression, serving
from course_lib.forward import forward_function


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(2)(inputs))


def test_forward_function_matches_the_model_for_any_batch_size():
    model = _model()
    forward = forward_function(model)
    for n in (1, 5):
        x = np.random.default_rng(n).normal(size=(n, 3))
        out = forward(x)
        assert isinstance(out, np.ndarray) and out.shape == (n, 2)
        np.testing.assert_allclose(out, np.asarray(model(x.astype("float32"))), atol=1e-6)


def test_both_public_wrappers_give_the_same_answers():
    model = _model()
    x = np.arange(12, dtype="float64").reshape(4, 3)
    np.testing.assert_allclose(serving.make_predict_fn(model)(x), compression.keras_predict_function(model)(x))


def test_the_input_dtype_is_the_models_unless_given():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,), dtype="int32")
    model = keras.Model(inputs, keras.layers.Flatten()(keras.layers.Embedding(10, 2)(inputs)))
    x = np.array([[1, 2, 3]])
    expected = np.asarray(model(x.astype("int32")))
    np.testing.assert_allclose(forward_function(model)(x.astype("float64")), expected)
    np.testing.assert_allclose(forward_function(model, dtype=np.int32)(x), expected)


def test_multi_input_models_are_refused():
    a, b = keras.Input((2,)), keras.Input((2,))
    model = keras.Model([a, b], keras.layers.Add()([a, b]))
    with pytest.raises(ValueError, match="only single-input models are supported"):
        forward_function(model)
