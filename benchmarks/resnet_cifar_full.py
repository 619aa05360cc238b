"""Train chapter 05's full-mode CIFAR-10 ResNet outside the notebook, on any Keras 3 backend.

Section 4 of ``notebooks/05_cnn.ipynb`` trains a ResNet (width 32, two residual blocks per
stage, 698 858 parameters) for 25 epochs over the 50 000 CIFAR-10 training images: about two
hours on a 2-core CPU (``benchmarks/resnet_cifar_time.py`` estimates it for your machine). This
script runs that same recipe on its own, so the full-mode figure can be measured on a GPU
machine, including one with JAX or PyTorch but no TensorFlow (``KERAS_BACKEND=jax``):

- the network: the notebook's own ``cifar_resnet`` cell, executed from the notebook file;
- the data: :func:`course_lib.data.load_cifar10` (mirror, cache or download, as in the course);
- training: random horizontal flips and shifts of up to 4 pixels (the notebook's ``RandomFlip``
  and ``RandomTranslation(0.125, 0.125)`` layers, applied to each shuffled training batch in the
  input pipeline, as the notebook's ``tf.data`` pipeline does, but with a ``keras.utils.PyDataset``
  that needs no TensorFlow), batch 128, AdamW (weight decay 0.05 on the kernels, none on
  batch-normalisation scales and shifts or biases) with a cosine decay from 2e-3 to zero, seed 42.
  The augmentation layers stay outside the model on purpose: Keras marks ``RandomTranslation``
  as not compilable (``supports_jit = False``), so a model containing it is trained without
  compilation, which on the JAX backend means one operation at a time;
- precision and XLA: :func:`course_lib.device.plan_devices`, the rule every chapter uses
  (``mixed_float16`` and XLA on GPUs with tensor cores, ``float32`` without XLA on a CPU).

It prints one line per epoch and writes ``results.json`` (test accuracy, seconds per epoch, the
software and device) and ``cifar_resnet.weights.h5`` (the trained network, loadable with
``model.load_weights`` into ``cifar_resnet(32, 2)`` on any backend) to ``--out``. A measurement,
not a test.

    COURSE_DATA_DIR=... KERAS_BACKEND=jax python benchmarks/resnet_cifar_full.py --out build/resnet_full
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

from course_lib.data import load_cifar10
from course_lib.device import GpuInfo, cpu_name, plan_devices
from course_lib.notebook import cell_definitions

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "05_cnn.ipynb"
FULL_EPOCHS = 25   # the notebook's full-mode CIFAR_EPOCHS


def notebook_resnet_builder():
    """Return the notebook's ``cifar_resnet(width, blocks_per_stage)`` function."""
    scope = cell_definitions(NOTEBOOK, "def cifar_resnet", {"keras": keras, "layers": layers},
                             stop_at="# the first n images")         # definitions only, no data loading
    return scope["cifar_resnet"]


def backend_gpus() -> list[GpuInfo]:
    """The GPUs the active Keras backend sees, with compute capability where it says."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from course_lib.device import detect_gpus

        return detect_gpus()
    if backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        return [GpuInfo(name=d.device_kind,
                        compute_capability=tuple(int(v) for v in str(d.compute_capability).split(".")[:2]))
                for d in gpus]
    if backend == "torch":
        import torch

        return [GpuInfo(name=torch.cuda.get_device_name(i), compute_capability=torch.cuda.get_device_capability(i))
                for i in range(torch.cuda.device_count())]
    return []


class AugmentedBatches(keras.utils.PyDataset):
    """Training batches in a new random order every epoch, each passed through ``augment``."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, augment: keras.Layer, seed: int) -> None:
        super().__init__()
        self.x, self.y, self.batch_size, self.augment = x, y, batch_size, augment
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self) -> int:
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        return keras.ops.convert_to_numpy(self.augment(self.x[rows], training=True)), self.y[rows]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.x))


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every epoch (validation included)."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def build(width: int, blocks: int, x: np.ndarray, y: np.ndarray, batch_size: int,
          seed: int) -> tuple[keras.Model, AugmentedBatches]:
    """The notebook's network and its augmented training batches (augmentation outside the model)."""
    model = notebook_resnet_builder()(width, blocks)
    augment = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomTranslation(0.125, 0.125)])
    return model, AugmentedBatches(x, y, batch_size, augment, seed)


def resnet_optimizer(steps: int, learning_rate: float = 2e-3) -> keras.optimizers.Optimizer:
    """The notebook's optimizer: AdamW, cosine decay to zero over ``steps``, weight decay on kernels only.

    Decoupled weight decay shrinks each kernel by ``learning_rate * 0.05`` per step; batch-normalisation
    scales (``gamma``) and shifts (``beta``) and the biases are left alone.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    optimizer = keras.optimizers.AdamW(keras.optimizers.schedules.CosineDecay(learning_rate, steps),
                                       weight_decay=0.05)
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return optimizer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=FULL_EPOCHS)
    parser.add_argument("--train", type=int, default=None, help="first n training images (default: all 50 000)")
    parser.add_argument("--test", type=int, default=None, help="first n test images (default: all 10 000)")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("build") / "resnet_cifar_full")
    args = parser.parse_args(argv)
    for name in ("epochs", "width", "blocks", "batch"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be at least 1, got {getattr(args, name)}.")
    for name in ("train", "test"):
        value = getattr(args, name)
        if value is not None and value < args.batch:
            raise ValueError(f"--{name} must be at least one batch ({args.batch} images), got {value}.")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    gpus = backend_gpus()
    plan = plan_devices(gpus, cpu=cpu_name(), cpu_count=os.cpu_count() or 1)
    keras.mixed_precision.set_global_policy(plan.precision_policy)
    keras.utils.set_random_seed(args.seed)

    start = time.perf_counter()
    (x, y), (x_test, y_test) = load_cifar10(num_train=args.train, num_test=args.test)
    load_seconds = time.perf_counter() - start
    x, x_test = x.astype("float32"), x_test.astype("float32")

    model, train_batches = build(args.width, args.blocks, x, y, args.batch, args.seed)
    # the course's XLA rule is TensorFlow's; JAX and PyTorch keep their own default ("auto")
    jit_compile = plan.jit_compile if keras.backend.backend() == "tensorflow" else "auto"
    steps = args.epochs * int(np.ceil(len(x) / args.batch))
    model.compile(optimizer=resnet_optimizer(steps),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                  jit_compile=jit_compile)
    device = ", ".join(g.describe() for g in gpus) or plan.cpu
    print(f"Keras {keras.__version__} on {keras.backend.backend()}; {device}; policy {plan.precision_policy}, "
          f"jit_compile {jit_compile}; {model.count_params():,} parameters; "
          f"{len(x)} training and {len(x_test)} test images (loaded in {load_seconds:.1f} s)", flush=True)

    timer = EpochTimer()
    history = model.fit(train_batches, epochs=args.epochs, validation_data=(x_test, y_test), callbacks=[timer],
                        verbose=2)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)

    args.out.mkdir(parents=True, exist_ok=True)
    model.save_weights(args.out / "cifar_resnet.weights.h5")
    results = {
        "test_accuracy": float(test_accuracy), "test_loss": float(test_loss),
        "epoch_seconds": [round(s, 3) for s in timer.seconds],
        "median_epoch_seconds": float(np.median(timer.seconds)),
        "first_epoch_seconds_with_compile": round(timer.seconds[0], 3),
        "total_training_seconds": round(sum(timer.seconds), 3),
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "train_images": len(x), "test_images": len(x_test), "epochs": args.epochs, "batch_size": args.batch,
        "width": args.width, "blocks_per_stage": args.blocks, "parameters": model.count_params(),
        "seed": args.seed, "keras": keras.__version__, "backend": keras.backend.backend(),
        "precision_policy": plan.precision_policy, "jit_compile": jit_compile, "device": device,
        "python": platform.python_version(),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"test accuracy {test_accuracy:.4f}; median epoch {results['median_epoch_seconds']:.1f} s "
          f"(first, with compilation, {timer.seconds[0]:.1f} s); {sum(timer.seconds):.0f} s in all; "
          f"written to {args.out}")
    return results


if __name__ == "__main__":
    main()
