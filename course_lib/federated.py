"""Federated learning (联邦学习) in simulation: non-IID client splits and federated averaging.

In federated learning the data stays on the clients (phones, hospitals, banks). Each round the
server sends the current model to some clients, each trains it for a few local steps on its
own data, and the server replaces the model with the average of the returned weights, each
client weighted by its number of examples: **federated averaging** (FedAvg, McMahan et al.,
2017). Real client data is *non-IID*: one client holds mostly some classes. Two standard ways
to simulate that are here:

- :func:`shard_split`: sort by label, cut into ``num_clients * shards_per_client`` shards and
  give each client ``shards_per_client`` of them (the "pathological" split of McMahan et al.:
  with 2 shards, most of each client's examples are of two digits; a shard that straddles two
  labels adds a few of a third);
- :func:`dirichlet_split`: per class, split its examples among the clients in proportions
  drawn from ``Dirichlet(alpha)`` (small ``alpha``: very skewed; large: close to IID).

On non-IID clients plain FedAvg climbs slowly. :func:`server_momentum_step` is FedAvgM's server
step (Hsu et al., 2019): the server treats ``weights - average`` as a gradient and takes a
momentum-SGD step with it instead of jumping to the average.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from course_lib._validate import check_number, positive_int, positive_number

__all__ = ["shard_split", "dirichlet_split", "label_counts", "federated_average", "server_momentum_step"]


def _labels(y: Sequence[int]) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array of class labels, got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
    if y.min() < 0:
        raise ValueError("class labels must be non-negative")
    return y


def shard_split(y: Sequence[int], num_clients: int, shards_per_client: int = 2,
                seed: int = 0) -> list[np.ndarray]:
    """Indices of each client's examples, by sorted-label shards (see the module docstring)."""
    y = _labels(y)
    num_clients = positive_int("num_clients", num_clients)
    shards_per_client = positive_int("shards_per_client", shards_per_client)
    num_shards = num_clients * shards_per_client
    if num_shards > len(y):
        raise ValueError(f"{num_clients} clients x {shards_per_client} shards = {num_shards} shards "
                         f"but only {len(y)} examples; use fewer clients or shards")
    rng = np.random.default_rng(seed)
    # sort by label, ties broken at random so each shard is a random sample of its label(s)
    order = np.lexsort((rng.random(len(y)), y))
    shards = np.array_split(order, num_shards)
    assignment = rng.permutation(num_shards).reshape(num_clients, shards_per_client)
    return [np.sort(np.concatenate([shards[s] for s in row])) for row in assignment]


def dirichlet_split(y: Sequence[int], num_clients: int, alpha: float = 0.5, seed: int = 0,
                    min_size: int = 1, max_tries: int = 100) -> list[np.ndarray]:
    """Indices of each client's examples, class proportions drawn from ``Dirichlet(alpha)``.

    Draws again (up to ``max_tries``) until every client has at least ``min_size`` examples.
    """
    y = _labels(y)
    num_clients = positive_int("num_clients", num_clients)
    positive_number("alpha", alpha)
    if min_size * num_clients > len(y):
        raise ValueError(f"cannot give {num_clients} clients {min_size} examples each from {len(y)}")
    rng = np.random.default_rng(seed)
    for _ in range(max_tries):
        parts: list[list[np.ndarray]] = [[] for _ in range(num_clients)]
        for label in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == label))
            cuts = (np.cumsum(rng.dirichlet([alpha] * num_clients)) * len(idx)).astype(int)[:-1]
            for client, chunk in enumerate(np.split(idx, cuts)):
                parts[client].append(chunk)
        splits = [np.sort(np.concatenate(p)) for p in parts]
        if min(len(s) for s in splits) >= min_size:
            return splits
    raise ValueError(f"no Dirichlet({alpha}) split gave every client >= {min_size} examples in "
                     f"{max_tries} tries; raise alpha or lower min_size")


def label_counts(y: Sequence[int], splits: Sequence[np.ndarray], num_classes: int | None = None) -> np.ndarray:
    """``counts[c, k]``: examples of class ``k`` held by client ``c``."""
    y = _labels(y)
    k = int(num_classes) if num_classes is not None else int(y.max()) + 1
    if y.max() >= k:
        raise ValueError(f"a label is >= num_classes={k}")
    return np.stack([np.bincount(y[np.asarray(s, dtype=int)], minlength=k) for s in splits])


def _same_shapes(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.shape(u) == np.shape(v) for u, v in zip(a, b))


def federated_average(client_weights: Sequence[Sequence[np.ndarray]],
                      client_sizes: Sequence[float]) -> list[np.ndarray]:
    """FedAvg's server step: the average of the clients' weight lists, weighted by ``client_sizes``.

    ``client_weights[c]`` is ``model.get_weights()`` of client ``c`` after local training.
    """
    if len(client_weights) == 0:
        raise ValueError("client_weights is empty: average needs at least one client")
    if len(client_weights) != len(client_sizes):
        raise ValueError(f"{len(client_weights)} weight lists but {len(client_sizes)} client sizes")
    sizes = np.asarray(client_sizes, dtype=np.float64)
    if sizes.ndim != 1 or np.any(~np.isfinite(sizes)) or np.any(sizes < 0) or sizes.sum() <= 0:
        raise ValueError("client_sizes must be non-negative numbers with a positive sum")
    first = client_weights[0]
    for c, weights in enumerate(client_weights):
        if not _same_shapes(weights, first):
            raise ValueError(f"client {c}'s weights do not match client 0's shapes: same model everywhere?")
    share = sizes / sizes.sum()
    averaged = []
    for i in range(len(first)):
        mean = sum(s * np.asarray(w[i], dtype=np.float64) for s, w in zip(share, client_weights))
        averaged.append(mean.astype(np.asarray(first[i]).dtype))
    return averaged


def server_momentum_step(weights: Sequence[np.ndarray], average: Sequence[np.ndarray],
                         velocity: Sequence[np.ndarray] | None = None, momentum: float = 0.9,
                         server_lr: float = 1.0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """FedAvgM's server step (Hsu et al., 2019): momentum SGD on the "pseudo-gradient".

    ``weights`` are the weights the server sent out this round, ``average`` the
    :func:`federated_average` of what the clients returned and ``velocity`` the value this
    function returned last round (None, or zeros, in the first round). With ``d = weights - average``::

        velocity = momentum * velocity + d
        weights  = weights - server_lr * velocity

    ``momentum=0, server_lr=1`` is plain FedAvg (the new weights are the average). Returns
    ``(new_weights, new_velocity)``, each a list of arrays with the dtypes of ``weights``.
    """
    momentum = check_number("momentum", momentum, at_least=0, below=1)
    server_lr = positive_number("server_lr", server_lr)
    if len(weights) == 0:
        raise ValueError("weights is empty: pass model.get_weights() of the server's model")
    if not _same_shapes(average, weights):
        raise ValueError("average does not match the shapes of weights: same model everywhere?")
    if velocity is None:
        velocity = [np.zeros(np.shape(w), np.float64) for w in weights]
    elif not _same_shapes(velocity, weights):
        raise ValueError("velocity does not match the shapes of weights: pass last round's velocity, or None")
    new_velocity = [momentum * np.asarray(v, np.float64) + (np.asarray(w, np.float64) - np.asarray(a, np.float64))
                    for v, w, a in zip(velocity, weights, average)]
    new_weights = [(np.asarray(w, np.float64) - server_lr * v).astype(np.asarray(w).dtype)
                   for w, v in zip(weights, new_velocity)]
    return new_weights, [v.astype(np.asarray(w).dtype) for v, w in zip(new_velocity, weights)]
