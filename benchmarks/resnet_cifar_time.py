"""Time chapter 05's full-mode CIFAR-10 ResNet on this machine.

Builds the network exactly as the notebook does (the cell defining ``residual_block`` and
``cifar_resnet`` is read from ``notebooks/05_cnn.ipynb`` and executed, the whitening layer
computed from the loaded images), feeds it the notebook's training pipeline (random flips and
2-pixel shifts in ``tf.data``, batch 512, SGD, label smoothing), traces the training step on one
short fit, then times whole epochs over the first ``--images`` CIFAR-10 training images and
prints milliseconds per image and the time a full run (50 000 images x 10 epochs) would take at
that rate. A benchmark, not a test: it asserts nothing.

    COURSE_DATA_DIR=... python benchmarks/resnet_cifar_time.py --images 4096 --epochs 2
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras

from course_lib.data import load_cifar10, make_dataset
from course_lib.device import setup_device
# the notebook's network and optimizer
from resnet_cifar_full import (FULL_BATCH, FULL_EPOCHS, FULL_WIDTHS, build, cifar_augmentation, resnet_loss,
                               resnet_optimizer, widths_argument)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4096, help="training images per timed epoch")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs")
    parser.add_argument("--widths", default=",".join(map(str, FULL_WIDTHS)), help="channels of the three stages")
    args = parser.parse_args()
    widths = widths_argument(args.widths)
    if args.images < FULL_BATCH or args.epochs < 1:
        raise ValueError(f"--images must be at least {FULL_BATCH} (one batch) and --epochs at least 1.")

    dev = setup_device(verbose=False)
    (x, y), _ = load_cifar10(num_train=args.images, num_test=1)
    one_hot = keras.utils.to_categorical(y, 10)
    data = make_dataset(x.astype("float32"), one_hot, batch_size=FULL_BATCH, shuffle=True, seed=0,
                        augment=cifar_augmentation())
    model, _ = build(widths, x.astype("float32"), one_hot, FULL_BATCH, seed=0)
    model.compile(optimizer=resnet_optimizer(args.epochs + 1, -(-len(x) // FULL_BATCH)),
                  loss=resnet_loss(), metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                  jit_compile=dev.jit_compile)
    model.fit(data.take(2), epochs=1, shuffle=False, verbose=0)   # trace the training step (data is shuffled)
    seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.fit(data, epochs=1, shuffle=False, verbose=0)
        seconds.append(time.perf_counter() - start)
    per_image = statistics.median(seconds) / len(x)
    device = "GPU" if dev.plan.gpus else "CPU"
    print(f"ResNet {'/'.join(map(str, widths))}: {model.count_params():,} parameters, "
          f"{device}, XLA {'on' if dev.jit_compile else 'off'}")
    print(f"epochs of {len(x)} images: {', '.join(f'{s:.1f} s' for s in seconds)}; "
          f"{1000 * per_image:.2f} ms per training image (median)")
    print(f"at that rate: {50000 * per_image / 60:.1f} min per 50 000-image epoch, "
          f"{FULL_EPOCHS * 50000 * per_image / 3600:.1f} h for the notebook's {FULL_EPOCHS} full-mode epochs")


if __name__ == "__main__":
    main()
