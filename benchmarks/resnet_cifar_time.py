"""Time chapter 05's full-mode CIFAR-10 ResNet on this machine.

Builds the network exactly as the notebook does (the cell defining ``residual_block`` and
``cifar_resnet`` is read from ``notebooks/05_cnn.ipynb`` and executed), feeds it the notebook's
training pipeline (random flips and 4-pixel shifts in ``tf.data``, batch 128, AdamW), traces the
training step on one short fit, then times whole epochs over the first ``--images`` CIFAR-10
training images and prints milliseconds per image and the time a full run (50 000 images x 25
epochs) would take at that rate. A benchmark, not a test: it asserts nothing.

    COURSE_DATA_DIR=... python benchmarks/resnet_cifar_time.py --images 2048 --epochs 2
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
from keras import layers

from course_lib.data import load_cifar10, make_dataset
from course_lib.device import setup_device
# the notebook's network and optimizer
from resnet_cifar_full import FULL_EPOCHS, notebook_resnet_builder, resnet_optimizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2048, help="training images per timed epoch")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=2)
    args = parser.parse_args()
    if args.images < 128 or args.epochs < 1:
        raise ValueError("--images must be at least 128 (one batch) and --epochs at least 1.")

    dev = setup_device(verbose=False)
    (x, y), _ = load_cifar10(num_train=args.images, num_test=1)
    augment = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomTranslation(0.125, 0.125)])
    data = make_dataset(x.astype("float32"), y, batch_size=128, shuffle=True, seed=0, augment=augment)
    model = notebook_resnet_builder()(args.width, args.blocks)
    model.compile(optimizer=resnet_optimizer((args.epochs + 1) * -(-len(x) // 128)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                  jit_compile=dev.jit_compile)
    model.fit(data.take(2), epochs=1, shuffle=False, verbose=0)   # trace the training step (data is shuffled)
    seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.fit(data, epochs=1, shuffle=False, verbose=0)
        seconds.append(time.perf_counter() - start)
    per_image = statistics.median(seconds) / len(x)
    device = "GPU" if dev.plan.gpus else "CPU"
    print(f"ResNet width {args.width}, {args.blocks} blocks per stage: {model.count_params():,} parameters, "
          f"{device}, XLA {'on' if dev.jit_compile else 'off'}")
    print(f"epochs of {len(x)} images: {', '.join(f'{s:.1f} s' for s in seconds)}; "
          f"{1000 * per_image:.2f} ms per training image (median)")
    print(f"at that rate: {50000 * per_image / 60:.1f} min per 50 000-image epoch, "
          f"{FULL_EPOCHS * 50000 * per_image / 3600:.1f} h for the notebook's {FULL_EPOCHS} full-mode epochs")


if __name__ == "__main__":
    main()
