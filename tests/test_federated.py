"""course_lib.federated: non-IID splits and the FedAvg server step."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.federated import (dirichlet_split, federated_average, label_counts, server_momentum_step,
                                  shard_split)

Y = np.repeat(np.arange(10), 100)  # 10 classes x 100 examples


def _is_partition(splits, n):
    joined = np.concatenate(splits)
    return len(joined) == n and len(np.unique(joined)) == n


def test_shard_split_is_a_non_iid_partition():
    splits = shard_split(Y, num_clients=10, shards_per_client=2, seed=0)
    assert len(splits) == 10 and _is_partition(splits, len(Y))
    counts = label_counts(Y, splits, 10)
    assert counts.sum() == len(Y)
    # each client holds 2 shards of 50 sorted examples: at most 2 distinct labels
    assert ((counts > 0).sum(axis=1) <= 2).all()
    assert shard_split(Y, 10, 2, seed=0)[3].tolist() == splits[3].tolist()  # reproducible


def test_dirichlet_split_skew_depends_on_alpha():
    skewed = label_counts(Y, dirichlet_split(Y, 10, alpha=0.05, seed=1), 10)
    flat = label_counts(Y, dirichlet_split(Y, 10, alpha=100.0, seed=1), 10)

    def mean_max_share(counts):
        return float(np.mean(counts.max(axis=1) / np.maximum(counts.sum(axis=1), 1)))

    assert mean_max_share(skewed) > 0.5 > mean_max_share(flat)
    assert skewed.sum() == flat.sum() == len(Y)


def test_dirichlet_split_min_size():
    splits = dirichlet_split(Y, 5, alpha=0.5, seed=2, min_size=20)
    assert _is_partition(splits, len(Y)) and min(len(s) for s in splits) >= 20


def test_federated_average_weights_by_size():
    a = [np.array([0.0, 0.0], np.float32), np.array([[1.0]], np.float32)]
    b = [np.array([4.0, 8.0], np.float32), np.array([[5.0]], np.float32)]
    avg = federated_average([a, b], [3, 1])
    np.testing.assert_allclose(avg[0], [1.0, 2.0])
    np.testing.assert_allclose(avg[1], [[2.0]])
    assert avg[0].dtype == np.float32
    same = federated_average([a, a, a], [1, 5, 2])
    np.testing.assert_allclose(same[1], a[1])


def test_server_momentum_step_without_momentum_is_fedavg():
    w = [np.array([1.0, 2.0], np.float32), np.array([[3.0]], np.float32)]
    avg = [np.array([0.5, 1.0], np.float32), np.array([[2.0]], np.float32)]
    new, velocity = server_momentum_step(w, avg, momentum=0.0)
    np.testing.assert_allclose(new[0], avg[0])
    np.testing.assert_allclose(new[1], avg[1])
    np.testing.assert_allclose(velocity[0], [0.5, 1.0])
    assert new[0].dtype == np.float32 and velocity[1].dtype == np.float32


def test_server_momentum_step_accumulates_the_pseudo_gradient():
    w, avg = [np.array([1.0])], [np.array([0.0])]          # every round the clients move the weight by -1
    w1, v1 = server_momentum_step(w, avg, momentum=0.5, server_lr=1.0)
    np.testing.assert_allclose(v1[0], [1.0])
    np.testing.assert_allclose(w1[0], [0.0])
    w2, v2 = server_momentum_step(w1, [w1[0] - 1.0], v1, momentum=0.5, server_lr=1.0)
    np.testing.assert_allclose(v2[0], [1.5])                # 0.5 * 1 + 1
    np.testing.assert_allclose(w2[0], [-1.5])               # a longer step than the average (-1)
    w3, _ = server_momentum_step(w1, [w1[0] - 1.0], v1, momentum=0.5, server_lr=0.5)
    np.testing.assert_allclose(w3[0], [-0.75])


@pytest.mark.parametrize("call, message", [
    (lambda: shard_split(Y, 0), "num_clients"),
    (lambda: shard_split(Y, 10, 0), "shards_per_client"),
    (lambda: shard_split(Y[:5], 10, 2), "only 5 examples"),
    (lambda: shard_split(Y.astype(float), 10), "integer"),
    (lambda: shard_split(np.zeros((2, 2, 2), int), 1), "1-D"),
    (lambda: shard_split(-Y, 10), "non-negative"),
    (lambda: dirichlet_split(Y, 10, alpha=0), "alpha"),
    (lambda: dirichlet_split(Y, 10, min_size=200), "cannot give"),
    (lambda: dirichlet_split(Y, 10, alpha=0.01, min_size=99, max_tries=2), "tries"),
    (lambda: label_counts(Y, [np.arange(5)], num_classes=3), "num_classes"),
    (lambda: federated_average([], []), "empty"),
    (lambda: federated_average([[np.zeros(2)]], [1, 2]), "1 weight lists but 2"),
    (lambda: federated_average([[np.zeros(2)], [np.zeros(3)]], [1, 1]), "shapes"),
    (lambda: federated_average([[np.zeros(2)], [np.zeros(2)]], [0, 0]), "positive sum"),
    (lambda: federated_average([[np.zeros(2)], [np.zeros(2)]], [1, -1]), "non-negative"),
    (lambda: server_momentum_step([], []), "weights is empty"),
    (lambda: server_momentum_step([np.zeros(2)], [np.zeros(3)]), "average does not match"),
    (lambda: server_momentum_step([np.zeros(2)], [np.zeros(2)], [np.zeros(1)]), "velocity does not match"),
    (lambda: server_momentum_step([np.zeros(2)], [np.zeros(2)], momentum=1.0), "momentum"),
    (lambda: server_momentum_step([np.zeros(2)], [np.zeros(2)], momentum=-0.1), "momentum"),
    (lambda: server_momentum_step([np.zeros(2)], [np.zeros(2)], server_lr=0), "server_lr"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
