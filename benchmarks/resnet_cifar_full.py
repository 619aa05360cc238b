"""Train chapter 05's full-mode CIFAR-10 ResNet outside the notebook, on any Keras 3 backend.

Section 4 of ``notebooks/05_cnn.ipynb`` trains a ResNet (a fixed 2x2 whitening layer, then
three stages of 64, 256 and 256 channels with one residual block each; 1 975 096 parameters) for
10 epochs over the 50 000 CIFAR-10 training images: over an hour on a 2-core CPU
(``benchmarks/resnet_cifar_time.py`` estimates it for your machine). This script runs that same
recipe on its own, so the full-mode figure can be measured on a GPU machine, including one with
JAX or PyTorch but no TensorFlow (``KERAS_BACKEND=jax``):

- the network: the notebook's own ``cifar_resnet`` cell, executed from the notebook file, its
  whitening layer computed by :func:`course_lib.vision.patch_whitening` from the first 5 000
  training images, as in the notebook;
- the data: :func:`course_lib.data.load_cifar10` (mirror, cache or download, as in the course);
- training: random horizontal flips and shifts of up to 2 whole pixels (the notebook's
  ``RandomFlip`` and ``RandomTranslation(2 / 32, 2 / 32, interpolation="nearest")`` layers,
  applied to each shuffled training batch in the input pipeline, as the notebook's ``tf.data``
  pipeline does, but with a ``keras.utils.PyDataset`` that needs no TensorFlow), batch 512, SGD
  with Nesterov momentum 0.9 and weight decay 5e-3, the learning rate rising linearly from 0 to
  0.4 over the first fifth of the run and then falling to zero along a cosine
  (:func:`resnet_optimizer`), cross-entropy with label smoothing 0.2 (:func:`resnet_loss`), seed
  42. The augmentation layers stay outside the model on purpose: Keras marks
  ``RandomTranslation`` as not compilable (``supports_jit = False``), so a model containing it is
  trained without compilation, which on the JAX backend means one operation at a time;
- precision and XLA: :func:`course_lib.device.plan_devices`, the rule every chapter uses
  (``mixed_float16`` and XLA on GPUs with tensor cores, ``float32`` without XLA on a CPU).

It prints one line per epoch and writes ``results.json`` (test accuracy from one view and averaged
with the mirror image, as the notebook records both; seconds per epoch; the software and device)
and ``cifar_resnet.weights.h5`` (the trained network, loadable with ``model.load_weights`` into
``cifar_resnet(whitening, widths)`` on any backend) to ``--out``. A measurement, not a test.

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
from course_lib.vision import patch_whitening

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "05_cnn.ipynb"
FULL_EPOCHS = 10   # the notebook's full-mode CIFAR_EPOCHS
FULL_BATCH = 512   # its full-mode CIFAR_BATCH
FULL_WIDTHS = (64, 256, 256)   # and its full-mode RESNET_WIDTHS
WHITENING_IMAGES = 5000
LABEL_SMOOTHING = 0.2


def notebook_resnet_builder():
    """Return the notebook's ``cifar_resnet(whitening, widths, num_classes=10)`` function."""
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


def cifar_augmentation() -> keras.Sequential:
    """The notebook's augmentation: mirror images and shifts of up to 2 whole pixels."""
    return keras.Sequential([layers.RandomFlip("horizontal"),
                             layers.RandomTranslation(2 / 32, 2 / 32, interpolation="nearest")])


def build(widths: tuple[int, ...], x: np.ndarray, y: np.ndarray, batch_size: int,
          seed: int) -> tuple[keras.Model, AugmentedBatches]:
    """The notebook's network and its augmented training batches (augmentation outside the model).

    The whitening layer is computed from the first 5 000 images of ``x`` (pixel values 0-255).
    """
    whitening = patch_whitening(x[:WHITENING_IMAGES] / 255)
    model = notebook_resnet_builder()(whitening, widths)
    return model, AugmentedBatches(x, y, batch_size, cifar_augmentation(), seed)


def resnet_loss() -> keras.losses.Loss:
    """The notebook's loss: cross-entropy on logits against one-hot targets smoothed by 0.2."""
    return keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=LABEL_SMOOTHING)


def flip_tta_accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Test accuracy from one view and from the logits of each image plus its mirror image."""
    logits = model.predict(x, batch_size=512, verbose=0)
    mirror_logits = model.predict(x[:, :, ::-1], batch_size=512, verbose=0)
    labels = np.asarray(y).ravel()
    return (float(np.mean(np.argmax(logits, axis=1) == labels)),
            float(np.mean(np.argmax(logits + mirror_logits, axis=1) == labels)))


def resnet_optimizer(epochs: int, steps_per_epoch: int, batch_size: int = FULL_BATCH) -> keras.optimizers.Optimizer:
    """The notebook's optimizer: SGD, Nesterov momentum 0.9, decoupled weight decay 5e-3.

    The learning rate rises linearly from 0 to ``0.4 * batch_size / 512`` over the first fifth of
    the ``epochs * steps_per_epoch`` steps, then falls to zero along a cosine.
    """
    if epochs < 1 or steps_per_epoch < 1:
        raise ValueError(f"epochs and steps_per_epoch must be at least 1, got {epochs} and {steps_per_epoch}.")
    steps = epochs * steps_per_epoch
    warmup = max(1, round(steps / 5))
    peak = 0.4 * batch_size / 512
    learning_rate = keras.optimizers.schedules.CosineDecay(0.0, max(1, steps - warmup), warmup_target=peak,
                                                           warmup_steps=warmup)
    return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True, weight_decay=5e-3)


def widths_argument(text: str) -> tuple[int, ...]:
    """``"64,256,256"`` -> ``(64, 256, 256)``: three positive channel counts."""
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        widths = ()
    if len(widths) != 3 or min(widths) < 1:
        raise ValueError(f"--widths must be three positive integers like 64,256,256, got {text!r}.")
    return widths


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=FULL_EPOCHS)
    parser.add_argument("--train", type=int, default=None, help="first n training images (default: all 50 000)")
    parser.add_argument("--test", type=int, default=None, help="first n test images (default: all 10 000)")
    parser.add_argument("--widths", default=",".join(map(str, FULL_WIDTHS)),
                        help="channels of the three stages, comma-separated (default: 64,256,256)")
    parser.add_argument("--batch", type=int, default=FULL_BATCH)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("build") / "resnet_cifar_full")
    args = parser.parse_args(argv)
    args.widths = widths_argument(args.widths)
    for name in ("epochs", "batch"):
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

    y_one_hot, y_test_one_hot = keras.utils.to_categorical(y, 10), keras.utils.to_categorical(y_test, 10)
    model, train_batches = build(args.widths, x, y_one_hot, args.batch, args.seed)
    # the course's XLA rule is TensorFlow's; JAX and PyTorch keep their own default ("auto")
    jit_compile = plan.jit_compile if keras.backend.backend() == "tensorflow" else "auto"
    model.compile(optimizer=resnet_optimizer(args.epochs, len(train_batches), args.batch),
                  loss=resnet_loss(), metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                  jit_compile=jit_compile)
    device = ", ".join(g.describe() for g in gpus) or plan.cpu
    print(f"Keras {keras.__version__} on {keras.backend.backend()}; {device}; policy {plan.precision_policy}, "
          f"jit_compile {jit_compile}; {model.count_params():,} parameters; "
          f"{len(x)} training and {len(x_test)} test images (loaded in {load_seconds:.1f} s)", flush=True)

    timer = EpochTimer()
    history = model.fit(train_batches, epochs=args.epochs, validation_data=(x_test, y_test_one_hot),
                        callbacks=[timer], verbose=2)
    test_loss, test_accuracy = model.evaluate(x_test, y_test_one_hot, batch_size=512, verbose=0)
    _, tta_accuracy = flip_tta_accuracy(model, x_test, y_test)

    args.out.mkdir(parents=True, exist_ok=True)
    model.save_weights(args.out / "cifar_resnet.weights.h5")
    results = {
        "test_accuracy": float(test_accuracy), "flip_tta_test_accuracy": tta_accuracy, "test_loss": float(test_loss),
        "epoch_seconds": [round(s, 3) for s in timer.seconds],
        "median_epoch_seconds": float(np.median(timer.seconds)),
        "first_epoch_seconds_with_compile": round(timer.seconds[0], 3),
        "total_training_seconds": round(sum(timer.seconds), 3),
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "train_images": len(x), "test_images": len(x_test), "epochs": args.epochs, "batch_size": args.batch,
        "widths": list(args.widths), "parameters": model.count_params(),
        "seed": args.seed, "keras": keras.__version__, "backend": keras.backend.backend(),
        "precision_policy": plan.precision_policy, "jit_compile": jit_compile, "device": device,
        "python": platform.python_version(),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"test accuracy {test_accuracy:.4f} (with the mirror image {tta_accuracy:.4f}); "
          f"median epoch {results['median_epoch_seconds']:.1f} s "
          f"(first, with compilation, {timer.seconds[0]:.1f} s); {sum(timer.seconds):.0f} s in all; "
          f"written to {args.out}")
    return results


if __name__ == "__main__":
    main()
