"""FedAvg variants on chapter 10's full-mode federated set-up: what each one reaches after 50 rounds.

The set-up is the notebook's section 5 in full mode: 20 000 MNIST training examples (seed 42), 10
clients, the "pathological" non-IID split (2 sorted-label shards per client) and an IID split, the
784-64-10 MLP, minibatch SGD on the clients (batch 32). The variants change one thing each:

- more local epochs ``E`` per round and the client learning rate;
- FedProx (Li et al., 2020): the client minimises ``loss + mu / 2 * ||w - w_server||^2``, so its
  gradient gets ``mu * (w - w_server)`` added;
- FedAvgM (Hsu et al., 2019): server momentum, :func:`course_lib.federated.server_momentum_step`.

Usage (about 1-2 minutes per variant and split with E = 1 on an idle 2-core CPU, E times that)::

    python benchmarks/fedavg_variants.py                      # every variant, both splits
    python benchmarks/fedavg_variants.py fedavgm-0.9 e5       # some of them
    python benchmarks/fedavg_variants.py --examples 2000 --rounds 2 base   # a quick smoke run

Each result is printed and written to ``--output`` (JSON, curves included); variants already in that
file are skipped, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from course_lib.data import load_mnist, subset
from course_lib.federated import federated_average, server_momentum_step, shard_split

VARIANTS: dict[str, dict[str, float]] = {
    "base": dict(epochs=1, lr=0.05),                       # the chapter's plain FedAvg
    "lr0.1": dict(epochs=1, lr=0.1),
    "e2-lr0.1": dict(epochs=2, lr=0.1),
    "e5": dict(epochs=5, lr=0.05),
    "fedprox-0.01-e5": dict(epochs=5, lr=0.05, mu=0.01),
    "fedavgm-0.7": dict(epochs=1, lr=0.05, momentum=0.7),
    "fedavgm-0.9": dict(epochs=1, lr=0.05, momentum=0.9),  # the chapter's recipe
}
NUM_CLIENTS, CLIENT_BATCH, SEED = 10, 32, 42


def build_mlp(hidden: int = 64, seed: int = SEED) -> keras.Model:
    """The chapter's MLP, 784 -> hidden (ReLU) -> 10 logits."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(hidden, activation="relu"),
                             keras.layers.Dense(10)])


class Federation:
    """Clients' data, one Keras model reused for every client, and the test set."""

    def __init__(self, examples: int, seed: int = SEED) -> None:
        (x_train, y_train), (x_test, y_test) = load_mnist()
        self.x_test = x_test.reshape(len(x_test), -1).astype("float32") / 255.0
        self.y_test = y_test.astype("int64")
        x, self.y = subset(x_train, y_train, examples, seed=seed)
        self.x = x.reshape(len(x), -1).astype("float32") / 255.0
        self.splits = {"non-IID": shard_split(self.y, NUM_CLIENTS, shards_per_client=2, seed=seed),
                       "IID": np.array_split(np.random.default_rng(seed).permutation(len(self.y)), NUM_CLIENTS)}
        self.seed = seed
        self.model = build_mlp()
        self.loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.optimizer = keras.optimizers.SGD(0.05)
        self.optimizer.build(self.model.trainable_variables)
        self.mu = tf.Variable(0.0, trainable=False)
        self.anchor = [tf.Variable(v, trainable=False) for v in self.model.trainable_variables]
        self._step = tf.function(self._sgd_step, reduce_retracing=True)

    def _sgd_step(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            loss = self.loss(y, self.model(x, training=True))
        grads = tape.gradient(loss, variables)
        # FedProx's proximal term mu/2 ||w - w_server||^2 adds mu (w - w_server) to the gradient (0 when mu = 0)
        grads = [g + self.mu * (w - a) for g, w, a in zip(grads, variables, self.anchor)]
        self.optimizer.apply_gradients(zip(grads, variables))
        return loss

    def local_training(self, weights: list[np.ndarray], idx: np.ndarray, epochs: int,
                       rng: np.random.Generator) -> list[np.ndarray]:
        self.model.set_weights(weights)
        for anchor, w in zip(self.anchor, weights):
            anchor.assign(w)
        x, y = self.x[idx], self.y[idx]
        for _ in range(epochs):
            order = rng.permutation(len(x))
            for i in range(0, len(x), CLIENT_BATCH):
                self._step(x[order[i:i + CLIENT_BATCH]], y[order[i:i + CLIENT_BATCH]])
        return self.model.get_weights()

    def accuracy(self, weights: list[np.ndarray]) -> float:
        self.model.set_weights(weights)
        predicted = np.argmax(self.model(self.x_test, training=False), axis=1)
        return float(np.mean(predicted == self.y_test))

    def run(self, split: str, rounds: int, epochs: int = 1, lr: float = 0.05, mu: float = 0.0,
            momentum: float = 0.0) -> list[float]:
        """Test accuracy after each round."""
        self.optimizer.learning_rate.assign(lr)
        self.mu.assign(mu)
        splits = self.splits[split]
        rng = np.random.default_rng(self.seed)
        weights, velocity, curve = build_mlp().get_weights(), None, []
        for _ in range(rounds):
            updates = [self.local_training(weights, idx, int(epochs), rng) for idx in splits]
            average = federated_average(updates, [len(idx) for idx in splits])
            if momentum == 0:
                weights = average
            else:
                weights, velocity = server_momentum_step(weights, average, velocity, momentum)
            curve.append(self.accuracy(weights))
        return curve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help=f"some of {', '.join(VARIANTS)} (default: all)")
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--splits", default="non-IID,IID", help="comma-separated: non-IID, IID")
    parser.add_argument("--output", type=Path, default=Path("build/fedavg_variants.json"))
    args = parser.parse_args(argv)
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    splits = [s.strip() for s in args.splits.split(",")]
    if not set(splits) <= {"non-IID", "IID"}:
        parser.error("--splits takes non-IID, IID or both")
    federation = Federation(args.examples)
    results = json.loads(args.output.read_text()) if args.output.is_file() else {}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    for name in args.variants or list(VARIANTS):
        for split in splits:
            key = f"{name} | {split} | {args.examples} examples, {args.rounds} rounds"
            if key in results:
                continue
            started = time.perf_counter()
            curve = federation.run(split, args.rounds, **VARIANTS[name])
            results[key] = {"final": curve[-1], "best": max(curve), "seconds": round(time.perf_counter() - started, 1),
                            "curve": [round(c, 4) for c in curve], **VARIANTS[name]}
            print(f"{key}: final {curve[-1]:.4f}, best {max(curve):.4f} ({results[key]['seconds']} s)", flush=True)
            args.output.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
