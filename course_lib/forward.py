"""A Keras model's forward pass compiled once, for many fast calls on NumPy arrays.

``model.predict`` builds a data pipeline on every call (milliseconds), which swamps the time of
one small batch; calling the model eagerly runs op by op. :func:`forward_function` traces
``model(x, training=False)`` once as a ``tf.function`` whose batch axis is free, so every batch
size reuses the same graph. The prediction service answers with it, and the compression
chapter times it against a TFLite interpreter.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["forward_function"]


def forward_function(model: Any, dtype: str | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """``x -> model(x, training=False)`` as NumPy in, NumPy out, traced once for any batch size.

    Args:
        model: a Keras model with exactly one input tensor.
        dtype: the dtype the input is converted to (default: the model input's own dtype).

    Raises:
        ValueError: the model does not have exactly one input tensor.
    """
    import tensorflow as tf

    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        count = len(inputs) if inputs else 0
        raise ValueError(f"only single-input models are supported (this one has {count} input tensors); "
                         "wrap a multi-input model in a keras.Model with one input")
    tensor = inputs[0]
    dtype = str(tensor.dtype) if dtype is None else np.dtype(dtype).name
    signature = tf.TensorSpec([None, *tensor.shape[1:]], tf.as_dtype(dtype))
    forward = tf.function(lambda t: model(t, training=False), input_signature=[signature])

    def predict(x: np.ndarray) -> np.ndarray:
        return forward(np.asarray(x, dtype=dtype)).numpy()

    return predict
