"""The reference NumPy MLP: activations, softmax cross-entropy, backprop and gradient checks."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import backprop as bp


def _batch(n=6, d=5, classes=4, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, classes, size=n)


@pytest.mark.parametrize("name", sorted(bp.ACTIVATIONS))
def test_activation_derivatives_match_central_differences(name):
    f, fprime = bp.ACTIVATIONS[name]
    z = np.linspace(-4, 4, 81)
    z = z[np.abs(z) > 1e-3]  # ReLU has no derivative at 0
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(fprime(z), numeric, atol=1e-8)


def test_activation_values():
    np.testing.assert_allclose(bp.sigmoid(np.array([0.0])), [0.5])
    np.testing.assert_allclose(bp.relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(bp.relu_prime(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])
    # no overflow warnings far in the tails
    with np.errstate(over="raise"):
        np.testing.assert_allclose(bp.sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])


def test_softmax_is_stable_and_normalised():
    p = bp.softmax(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    np.testing.assert_allclose(p, [[0.5, 0.5], [0.25, 0.75]])


def test_cross_entropy_known_value_and_gradient():
    logits = np.zeros((2, 4))
    assert bp.cross_entropy(logits, np.array([0, 3])) == pytest.approx(np.log(4))
    g = bp.softmax_cross_entropy_grad(logits, np.array([0, 3]))
    np.testing.assert_allclose(g, [[-0.375, 0.125, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]])
    # the simplified gradient (p - y) / N against finite differences
    rng = np.random.default_rng(0)
    logits, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    g = bp.softmax_cross_entropy_grad(logits, y)
    num = np.zeros_like(logits)
    for idx in np.ndindex(*logits.shape):
        e = np.zeros_like(logits)
        e[idx] = 1e-6
        num[idx] = (bp.cross_entropy(logits + e, y) - bp.cross_entropy(logits - e, y)) / 2e-6
    assert bp.relative_error(g, num) < 1e-7


def test_init_params_shapes_and_dtype():
    params = bp.init_params([5, 7, 3, 4], seed=0)
    assert [(W.shape, b.shape) for W, b in params] == [((7, 5), (7,)), ((3, 7), (3,)), ((4, 3), (4,))]
    assert all(W.dtype == np.float64 and not b.any() for W, b in params)
    assert bp.init_params([5, 4], seed=3, dtype=np.float32)[0][0].dtype == np.float32
    np.testing.assert_array_equal(bp.init_params([5, 4], seed=3)[0][0], bp.init_params([5, 4], seed=3)[0][0])


@pytest.mark.parametrize("name", sorted(bp.ACTIVATIONS))
def test_backprop_matches_finite_differences_two_hidden_layers(name):
    x, y = _batch()
    params = bp.init_params([5, 6, 4, 4], seed=2, scheme="he" if name == "relu" else "glorot")
    for _, b in params:
        b[:] = np.random.default_rng(7).normal(0, 0.1, b.shape)  # non-zero biases too
    assert bp.gradient_check(params, x, y, name) < 1e-7


def test_gradient_check_catches_a_wrong_backward():
    x, y = _batch()
    params = bp.init_params([5, 6, 4, 4], seed=2, scheme="glorot")
    _, grads = bp.loss_and_grads(params, x, y, "tanh")
    numeric = bp.numerical_gradients(params, x, y, "tanh")
    # dropping sigma'(z) in the recursion (a common mistake) gives a different first-layer gradient
    logits, cache = bp.forward(params, x, "tanh")
    delta = bp.softmax_cross_entropy_grad(logits, y)
    delta = delta @ params[2][0]            # missing * tanh'(Z2)
    delta = (delta @ params[1][0]) * bp.tanh_prime(cache.Z[0])
    wrong_dW1 = delta.T @ x
    assert bp.relative_error(wrong_dW1, numeric[0][0]) > 1e-2
    assert bp.relative_error(grads[0][0], numeric[0][0]) < 1e-7


def test_forward_shapes_and_predict():
    x, y = _batch(n=9)
    params = bp.init_params([5, 8, 4], seed=0)
    logits, cache = bp.forward(params, x)
    assert logits.shape == (9, 4) and len(cache.A) == 2 and len(cache.Z) == 2
    np.testing.assert_array_equal(bp.predict(params, x), np.argmax(logits, axis=1))
    assert bp.accuracy(params, x, y) == pytest.approx(np.mean(np.argmax(logits, axis=1) == y))


def test_predict_and_accuracy_on_known_weights():
    # identity weights and ReLU on non-negative inputs: the logits are the inputs themselves
    params = [(np.eye(3), np.zeros(3)), (np.eye(3), np.zeros(3))]
    x = np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0], [1.0, 0.0, 5.0], [4.0, 0.0, 0.0]])
    np.testing.assert_array_equal(bp.predict(params, x), [0, 1, 2, 0])
    assert bp.accuracy(params, x, np.array([0, 1, 0, 1])) == 0.5       # rows 0 and 1 right
    assert bp.accuracy(params, x, np.array([0, 1, 2, 0])) == 1.0
    assert bp.accuracy(params, x, np.array([1, 0, 0, 2])) == 0.0
    # a bias moves the decision: +10 on class 1 makes every row class 1
    params[1] = (np.eye(3), np.array([0.0, 10.0, 0.0]))
    assert bp.accuracy(params, x, np.array([1, 1, 1, 1])) == 1.0


def test_sgd_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)  # XOR-like quadrants: needs the hidden layers
    params = bp.init_params([2, 16, 16, 2], seed=0)
    first, _ = bp.loss_and_grads(params, x, y, "tanh")
    for _ in range(300):
        _, grads = bp.loss_and_grads(params, x, y, "tanh")
        params = bp.sgd_step(params, grads, 1.0)
    last, _ = bp.loss_and_grads(params, x, y, "tanh")
    assert last < 0.1 * first
    assert bp.accuracy(params, x, y, "tanh") > 0.95


def test_bad_inputs_raise_clear_errors():
    x, y = _batch()
    params = bp.init_params([5, 4, 4], seed=0)
    with pytest.raises(ValueError, match="activation"):
        bp.forward(params, x, "swish")
    with pytest.raises(ValueError, match="shape"):
        bp.forward(params, x[:, :3])
    with pytest.raises(ValueError, match="at least"):
        bp.init_params([5])
    with pytest.raises(ValueError, match="positive integer"):
        bp.init_params([5, 0, 2])
    with pytest.raises(ValueError, match="scheme"):
        bp.init_params([5, 2], scheme="xavier-ish")
    with pytest.raises(ValueError, match="class indices"):
        bp.cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        bp.cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="one integer class index"):
        bp.cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="2-D"):
        bp.cross_entropy(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match="2-D"):
        bp.softmax(np.zeros(3))
    with pytest.raises(ValueError, match="zero examples"):
        bp.cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(TypeError, match="float64"):
        bp.numerical_gradients(bp.init_params([5, 4], dtype=np.float32), x, y)
    with pytest.raises(ValueError, match="eps"):
        bp.numerical_gradients(params, x, y, eps=0.0)
    with pytest.raises(ValueError, match="learning_rate"):
        bp.sgd_step(params, params, -0.1)
    with pytest.raises(ValueError, match="gradient pairs"):
        bp.sgd_step(params, params[:1], 0.1)
    with pytest.raises(TypeError, match="non-empty list"):
        bp.forward([], x)
    with pytest.raises(TypeError, match="pair"):
        bp.forward([(params[0][0],)], x)
    with pytest.raises(ValueError, match="W must be"):
        bp.forward([(params[0][0], np.zeros(3))], x)
    with pytest.raises(ValueError, match="expects"):
        bp.forward([params[0], (np.zeros((4, 7)), np.zeros(4))], x)
