"""A reference multi-layer perceptron in NumPy with hand-written backpropagation.

Chapter 02 writes the same network out cell by cell; this module is the tested copy the
notebook compares its own code with.

Conventions (the same as in the chapter's equations, with examples as *rows*):

- ``params = [(W1, b1), ..., (WL, bL)]`` where ``W_l`` has shape ``(n_l, n_{l-1})`` and ``b_l``
  shape ``(n_l,)``. A Keras ``Dense`` kernel is ``W_l.T``.
- Forward, for a batch ``X`` of shape ``(N, n_0)``: ``Z_l = A_{l-1} W_l^T + b_l`` and
  ``A_l = sigma(Z_l)`` for the hidden layers; the last layer is linear and gives the logits.
- Loss: mean softmax cross-entropy over the batch, ``L = -(1/N) sum_n log softmax(Z_L)[n, y_n]``.
- Backward: ``Delta_L = (softmax(Z_L) - Y) / N`` and the delta recursion
  ``Delta_l = (Delta_{l+1} W_{l+1}) * sigma'(Z_l)`` (the row form of
  ``delta_l = (W_{l+1}^T delta_{l+1}) * sigma'(z_l)``), then ``dL/dW_l = Delta_l^T A_{l-1}``
  and ``dL/db_l = sum_n Delta_l[n]``.

.. code-block:: python

    params = init_params([64, 32, 16, 10], seed=0)
    loss, grads = loss_and_grads(params, x, y, activation="tanh")
    gradient_check(params, x[:8], y[:8], activation="tanh")   # ~1e-9 in float64
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from course_lib._validate import check_number, check_shape, positive_number
from course_lib.metrics import relative_error  # max|a-b| / max(max|a|, max|b|)

Params = list[tuple[np.ndarray, np.ndarray]]

__all__ = [
    "ACTIVATIONS", "Params", "Cache", "sigmoid", "sigmoid_prime", "tanh", "tanh_prime", "relu",
    "relu_prime", "softmax", "cross_entropy", "softmax_cross_entropy_grad", "init_params",
    "forward", "backward", "loss_and_grads", "predict", "accuracy", "sgd_step",
    "numerical_gradients", "relative_error", "gradient_check",
]


# --- activations and their derivatives (functions of the pre-activation z) -------------------

def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + e^{-z}), computed without overflow for large |z|."""
    z = np.asarray(z)
    out = np.empty_like(z, dtype=np.result_type(z, np.float32))
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """sigma'(z) = sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(z)


def tanh_prime(z: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)^2."""
    t = np.tanh(z)
    return 1.0 - t * t


def relu(z: np.ndarray) -> np.ndarray:
    """max(0, z)."""
    return np.maximum(z, 0)


def relu_prime(z: np.ndarray) -> np.ndarray:
    """1 where z > 0, else 0 (at z = 0 the derivative does not exist; 0 is the usual choice,
    the same as TensorFlow's)."""
    z = np.asarray(z)
    return (z > 0).astype(np.result_type(z, np.float32))


ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
}


def _activation(name: str):
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


# --- softmax cross-entropy ------------------------------------------------------------------

def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so that exp never overflows."""
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must be a 2-D array (examples, classes), got shape {logits.shape}")
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def _check_labels(y: np.ndarray, n: int, classes: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y must hold one integer class index per example ({n}), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class indices, got dtype {y.dtype}; use y.astype(int)")
    if n and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"class indices must lie in [0, {classes - 1}], got [{y.min()}, {y.max()}]")
    return y


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean softmax cross-entropy -(1/N) sum_n log p[n, y_n], via log-sum-exp (stable)."""
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must be a 2-D array (examples, classes), got shape {logits.shape}")
    y = _check_labels(y, logits.shape[0], logits.shape[1])
    if logits.shape[0] == 0:
        raise ValueError("cannot compute the loss of zero examples")
    m = logits.max(axis=1, keepdims=True)
    log_z = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return float(np.mean(log_z - logits[np.arange(len(y)), y]))


def softmax_cross_entropy_grad(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dlogits of the mean softmax cross-entropy: (softmax(logits) - onehot(y)) / N."""
    p = softmax(logits)
    y = _check_labels(y, p.shape[0], p.shape[1])
    p[np.arange(len(y)), y] -= 1.0
    return p / len(y)


# --- the network ----------------------------------------------------------------------------

@dataclass
class Cache:
    """What the forward pass keeps for the backward pass: inputs ``A[0] = X``, every hidden
    activation ``A[l]`` and every pre-activation ``Z[l]`` (``Z[-1]`` are the logits)."""

    A: list[np.ndarray]
    Z: list[np.ndarray]


def init_params(layer_sizes: Sequence[int], seed: int = 0, dtype: type = np.float64,
                scheme: str = "he") -> Params:
    """Random weights for an MLP with the given layer widths (input first, classes last).

    ``scheme="he"`` draws W_l from N(0, 2/n_{l-1}) (for ReLU), ``"glorot"`` from
    N(0, 2/(n_{l-1}+n_l)) (for sigmoid/tanh); biases start at zero.
    """
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output width, got {sizes}")
    check_shape("layer_sizes", sizes, expected="a list of layer widths, each a positive integer")
    if scheme not in ("he", "glorot"):
        raise ValueError(f"scheme must be 'he' or 'glorot', got {scheme!r}")
    rng = np.random.default_rng(seed)
    params: Params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        std = np.sqrt(2.0 / n_in) if scheme == "he" else np.sqrt(2.0 / (n_in + n_out))
        params.append(((rng.standard_normal((n_out, n_in)) * std).astype(dtype), np.zeros(n_out, dtype=dtype)))
    return params


def _check_params(params: Params) -> None:
    if not isinstance(params, (list, tuple)) or not params:
        raise TypeError("params must be a non-empty list of (W, b) pairs, as init_params returns")
    for i, pair in enumerate(params):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"params[{i}] must be a (W, b) pair")
        W, b = pair
        if np.ndim(W) != 2 or np.ndim(b) != 1 or np.shape(b)[0] != np.shape(W)[0]:
            raise ValueError(f"layer {i + 1}: W must be (n_out, n_in) and b (n_out,), "
                             f"got {np.shape(W)} and {np.shape(b)}")
        if i and np.shape(W)[1] != np.shape(params[i - 1][0])[0]:
            raise ValueError(f"layer {i + 1} expects {np.shape(W)[1]} inputs but layer {i} gives "
                             f"{np.shape(params[i - 1][0])[0]}")


def forward(params: Params, x: np.ndarray, activation: str = "relu") -> tuple[np.ndarray, Cache]:
    """Logits ``Z_L`` for the batch ``x`` (N, n_0) and the cache for :func:`backward`."""
    _check_params(params)
    sigma, _ = _activation(activation)
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != params[0][0].shape[1]:
        raise ValueError(f"x must have shape (N, {params[0][0].shape[1]}), got {x.shape}")
    A, Z = [x], []
    for i, (W, b) in enumerate(params):
        z = A[-1] @ W.T + b
        Z.append(z)
        if i < len(params) - 1:
            A.append(sigma(z))
    return Z[-1], Cache(A=A, Z=Z)


def backward(params: Params, cache: Cache, y: np.ndarray, activation: str = "relu") -> Params:
    """Gradients ``[(dL/dW1, dL/db1), ...]`` of the mean cross-entropy by the delta recursion."""
    _check_params(params)
    _, sigma_prime = _activation(activation)
    delta = softmax_cross_entropy_grad(cache.Z[-1], y)          # Delta_L, shape (N, n_L)
    grads: Params = [None] * len(params)  # type: ignore[list-item]
    for i in range(len(params) - 1, -1, -1):                      # layer l = i + 1, last first
        grads[i] = (delta.T @ cache.A[i], delta.sum(axis=0))     # dW_l = Delta_l^T A_{l-1}
        if i:
            delta = (delta @ params[i][0]) * sigma_prime(cache.Z[i - 1])  # the delta recursion
    return grads


def loss_and_grads(params: Params, x: np.ndarray, y: np.ndarray, activation: str = "relu") -> tuple[float, Params]:
    """Mean cross-entropy of the batch and its gradients (forward then backward)."""
    logits, cache = forward(params, x, activation)
    return cross_entropy(logits, y), backward(params, cache, y, activation)


def predict(params: Params, x: np.ndarray, activation: str = "relu") -> np.ndarray:
    """Predicted class index of each row of ``x``."""
    return np.argmax(forward(params, x, activation)[0], axis=1)


def accuracy(params: Params, x: np.ndarray, y: np.ndarray, activation: str = "relu") -> float:
    """Share of rows of ``x`` whose predicted class equals ``y``."""
    y = _check_labels(y, np.shape(x)[0], params[-1][0].shape[0])
    return float(np.mean(predict(params, x, activation) == y))


def sgd_step(params: Params, grads: Params, learning_rate: float) -> Params:
    """One plain gradient-descent update ``theta <- theta - lr * grad`` (returns new arrays)."""
    positive_number("learning_rate", learning_rate)
    if len(grads) != len(params):
        raise ValueError(f"{len(grads)} gradient pairs for {len(params)} layers")
    return [(W - learning_rate * dW, b - learning_rate * db) for (W, b), (dW, db) in zip(params, grads)]


# --- gradient checking ----------------------------------------------------------------------

def numerical_gradients(params: Params, x: np.ndarray, y: np.ndarray, activation: str = "relu",
                        eps: float = 1e-5) -> Params:
    """Central differences (L(theta + eps) - L(theta - eps)) / (2 eps) for every parameter.

    Needs float64 parameters and inputs: in float32 the rounding error of the loss (~1e-7)
    divided by 2 eps swamps the derivative.
    """
    _check_params(params)
    check_number("eps", eps, above=0, below=1, expected="a small positive step such as 1e-5")
    arrays = [a for pair in params for a in pair] + [np.asarray(x)]
    if any(np.asarray(a).dtype != np.float64 for a in arrays):
        raise TypeError("finite differences need float64 params and x (float32 rounding swamps "
                        "the derivative); cast with .astype(np.float64)")
    work = [(W.copy(), b.copy()) for W, b in params]
    grads: Params = []
    for W, b in work:
        pair = []
        for arr in (W, b):
            g = np.zeros_like(arr)
            flat, gflat = arr.reshape(-1), g.reshape(-1)
            for i in range(flat.size):
                old = flat[i]
                flat[i] = old + eps
                plus = cross_entropy(forward(work, x, activation)[0], y)
                flat[i] = old - eps
                minus = cross_entropy(forward(work, x, activation)[0], y)
                flat[i] = old
                gflat[i] = (plus - minus) / (2 * eps)
            pair.append(g)
        grads.append((pair[0], pair[1]))
    return grads


def gradient_check(params: Params, x: np.ndarray, y: np.ndarray, activation: str = "relu",
                   eps: float = 1e-5) -> float:
    """The largest :func:`relative_error` between backprop and central-difference gradients
    over every weight matrix and bias vector (float64; about 1e-9 when backprop is right)."""
    _, analytic = loss_and_grads(params, x, y, activation)
    numeric = numerical_gradients(params, x, y, activation, eps)
    return max(relative_error(ga, gn) for pa, pn in zip(analytic, numeric) for ga, gn in zip(pa, pn))
