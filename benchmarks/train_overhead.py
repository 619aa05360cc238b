"""Measure what course_lib.train.fit costs over plain model.fit.

Trains the same MNIST MLP (784-256-128-10, batch 128) with plain ``model.fit(verbose=0)`` and with
``course_lib.train.fit`` (which builds the optimizer and metrics before the first step and adds its
one-line-per-epoch logger), timing each whole call, alternating the two (and which goes
first) so load on the machine hits both alike, and prints min/median/max seconds per epoch of each.
A benchmark, not a test: it asserts nothing.

    COURSE_DATA_DIR=... python benchmarks/train_overhead.py --repeats 5 --epochs 2
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from contextlib import redirect_stdout

import keras

from course_lib.data import load_mnist
from course_lib.train import fit


def build() -> keras.Model:
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    (x, y), _ = load_mnist()
    x = x.reshape(-1, 784).astype("float32") / 255.0
    times: dict[str, list[float]] = {"plain": [], "course": []}
    for repeat in range(args.repeats):
        # alternate which goes first, so warm-up and drifting load do not favour either
        for kind in (("plain", "course") if repeat % 2 == 0 else ("course", "plain")):
            model = build()
            if kind == "plain":
                started = time.perf_counter()
                model.fit(x, y, epochs=args.epochs, batch_size=128, verbose=0)
                times[kind].append((time.perf_counter() - started) / args.epochs)
            else:
                started = time.perf_counter()           # the whole call, building before training included
                with redirect_stdout(io.StringIO()):
                    fit(model, x, y, epochs=args.epochs, batch_size=128)
                times[kind].append((time.perf_counter() - started) / args.epochs)
    out = {f"{kind}_s_per_epoch": {"min": min(v), "median": statistics.median(v), "max": max(v)}
           for kind, v in times.items()}
    out.update(ratio_of_medians=statistics.median(times["course"]) / statistics.median(times["plain"]),
               repeats=args.repeats, epochs=args.epochs)
    print(json.dumps(out, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
