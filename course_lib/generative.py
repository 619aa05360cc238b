"""Reusable pieces for the generative-models chapter (VAE and GAN on MNIST).

The models themselves (the VAE's encoder heads, the reparameterisation trick, the loss terms,
the GAN's non-saturating losses and both custom ``train_step`` methods) are written out in the
notebook, where they are taught. This module holds what stays the same around them:

- :func:`build_mnist_classifier`: a small CNN that, once trained on real MNIST, serves as the
  judge of generated digits.
- :func:`score_probabilities` / :func:`quality_score`: a measured quality score for generated
  images: the share the judge labels with confidence above a threshold, and how evenly the
  predicted classes spread over the ten digits (normalised entropy: 1 = all classes equally
  often, 0 = every image the same class, i.e. mode collapse).
- :func:`image_grid`, :func:`save_image_grid`, :class:`SampleGridCallback`: tile a batch of
  images into one picture, save it as PNG, and snapshot samples from fixed noise during training.
- :class:`BatchHistory`: the losses every few training steps (GAN losses are noisy per step and
  an epoch-level curve hides what happens inside an epoch).
- :func:`latent_grid`, :func:`plot_latent_scatter`, :func:`plot_image_grids`: the figures of a
  2-D latent space and of samples over training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import keras
import numpy as np

from course_lib._validate import check_int, check_number, check_shape, positive_int, positive_number

__all__ = [
    "QualityScore", "build_mnist_classifier", "score_probabilities", "quality_score",
    "image_grid", "save_image_grid", "SampleGridCallback", "BatchHistory", "latent_grid",
    "plot_latent_scatter", "plot_image_grids",
]


# --------------------------------------------------------------------------- the judge
def build_mnist_classifier(input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10,
                           width: int = 32, dropout: float = 0.3) -> keras.Model:
    """A small CNN classifier (uncompiled) with a softmax output, for 28x28 grey digits in [0, 1].

    Two convolution blocks (``width`` and ``2 * width`` filters, each followed by max pooling),
    dropout and a softmax layer. Trained with Adam (batch 64) on the 60 000 MNIST training digits
    it is 98-99 % accurate on the test set after one or two epochs, but a judge also has to be
    *confident*: after 2 epochs the ``width=16`` version gave 91.4 % of the first 5 000 test digits a
    probability above 0.9 (94.9 % after 6 epochs); this default ``width=32`` gave 93.9 % after 2
    epochs and 96.2 % after 6 (test accuracy 98.9 %), at 30-50 s per epoch on two shared CPU cores.
    """
    check_shape("input_shape", input_shape, length=3, expected="(height, width, channels) of positive ints")
    check_int("num_classes", num_classes, minimum=2)
    positive_int("width", width, expected="a positive integer (filters in the first block)")
    check_number("dropout", dropout, at_least=0, below=1)
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(width, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(),
        layers.Conv2D(2 * width, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(dropout),
        layers.Dense(num_classes, activation="softmax"),
    ], name="mnist_judge")


# --------------------------------------------------------------------------- quality score
@dataclass(frozen=True)
class QualityScore:
    """What :func:`score_probabilities` measured on a batch of images.

    ``confident_share``: share of images whose top class probability exceeds the threshold.
    ``class_entropy``: entropy (nats) of the distribution of predicted classes.
    ``normalized_entropy``: ``class_entropy / log(num_classes)``; 1 = every class equally often,
    0 = one class only (mode collapse).
    ``largest_class_share``: share of the most frequent predicted class (0.1 for a perfect spread
    over ten classes).
    ``class_shares``: share of images predicted as each class.
    ``mean_confidence``: mean top class probability.
    """

    confident_share: float
    class_entropy: float
    normalized_entropy: float
    largest_class_share: float
    class_shares: tuple[float, ...]
    mean_confidence: float
    n_images: int
    threshold: float

    def describe(self) -> str:
        shares = " ".join(f"{s:.2f}" for s in self.class_shares)
        return (f"{self.n_images} images: {self.confident_share:.1%} labelled with confidence > {self.threshold:g}, "
                f"mean confidence {self.mean_confidence:.3f}, class entropy {self.normalized_entropy:.3f} of the "
                f"maximum, largest class {self.largest_class_share:.1%}\n  predicted class shares: {shares}")


def score_probabilities(probabilities: np.ndarray, threshold: float = 0.9) -> QualityScore:
    """Score a matrix of class probabilities, one row per image (rows sum to 1)."""
    check_number("threshold", threshold, above=0, below=1, expected="a probability strictly between 0 and 1")
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probabilities must be (images, classes) with at least 2 classes, got shape {p.shape}")
    if p.shape[0] == 0:
        raise ValueError("no images to score: probabilities has zero rows")
    if not np.all(np.isfinite(p)) or p.min() < 0.0 or p.max() > 1.0 + 1e-6:
        raise ValueError("probabilities must be finite and in [0, 1]; pass softmax outputs, not logits")
    if not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("each row of probabilities must sum to 1; pass softmax outputs, not logits")
    n, k = p.shape
    top = p.max(axis=1)
    counts = np.bincount(p.argmax(axis=1), minlength=k)
    shares = counts / n
    nonzero = shares[shares > 0]
    entropy = float(-(nonzero * np.log(nonzero)).sum()) + 0.0   # + 0.0 turns -0.0 into 0.0
    return QualityScore(confident_share=float(np.mean(top > threshold)), class_entropy=entropy,
                        normalized_entropy=entropy / math.log(k), largest_class_share=float(shares.max()),
                        class_shares=tuple(float(s) for s in shares), mean_confidence=float(top.mean()),
                        n_images=n, threshold=float(threshold))


def quality_score(classifier: keras.Model | Callable[[np.ndarray], np.ndarray], images: np.ndarray,
                  threshold: float = 0.9, batch_size: int = 512) -> QualityScore:
    """Run ``classifier`` (softmax outputs) on ``images`` and score the predictions.

    ``images`` are ``(N, 28, 28)`` or ``(N, 28, 28, 1)`` floats in [0, 1], the classifier's input
    scale; a plain callable returning probabilities works too.
    """
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W) or (N, H, W, C), got shape {np.shape(images)}")
    if len(x) == 0:
        raise ValueError("no images to score")
    if not np.issubdtype(x.dtype, np.floating) or x.min() < -1e-3 or x.max() > 1 + 1e-3:
        raise ValueError("images must be floats in [0, 1] (divide uint8 pixels by 255; map tanh outputs "
                         "with (x + 1) / 2)")
    positive_int("batch_size", batch_size)
    if not callable(classifier):
        raise TypeError(f"classifier must be a keras.Model or a callable, got {type(classifier).__name__}")
    # A direct call per batch (not Model.predict): no new tf.function is traced for each scoring.
    kwargs = {"training": False} if isinstance(classifier, keras.Model) else {}
    probs = np.concatenate([np.asarray(classifier(x[i:i + batch_size].astype("float32"), **kwargs))
                            for i in range(0, len(x), batch_size)])
    return score_probabilities(probs, threshold)


# --------------------------------------------------------------------------- image grids
def _as_images(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3:
        raise ValueError(f"images must be grey: (N, H, W) or (N, H, W, 1), got shape {np.shape(images)}")
    if len(x) == 0:
        raise ValueError("no images to tile")
    return x


def image_grid(images: np.ndarray, ncols: int = 8, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Tile grey images ``(N, H, W[, 1])`` into one ``(rows*(H+pad)-pad, ncols*(W+pad)-pad)`` array.

    Empty cells at the end and the gaps between images are filled with ``pad_value``.
    """
    x = _as_images(images).astype(np.float32)
    positive_int("ncols", ncols)
    check_int("pad", pad, minimum=0)
    n, h, w = x.shape
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    grid = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), pad_value, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = x[i]
    return grid


def save_image_grid(images: np.ndarray, path: str | Path, ncols: int = 8, pad: int = 1) -> Path:
    """Save ``images`` (floats in [0, 1]) as one PNG grid; returns the path (folders are created)."""
    grid = image_grid(images, ncols=ncols, pad=pad)
    if grid.min() < -1e-3 or grid.max() > 1 + 1e-3:
        raise ValueError("images must be in [0, 1] to be saved as a PNG grid")
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"save_image_grid writes PNG files; give a path ending in .png, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    Image.fromarray(np.round(np.clip(grid, 0, 1) * 255).astype(np.uint8), mode="L").save(path)
    return path


class SampleGridCallback(keras.callbacks.Callback):
    """Snapshot generated samples at the end of chosen epochs.

    ``generate()`` returns images in [0, 1] (for a GAN: the generator applied to a fixed batch of
    noise, so snapshots show the same latent points improving). Snapshots land in ``self.grids``
    (``{epoch: images}``, epochs counted from 1) and, when ``folder`` is given, as
    ``<prefix>_epoch<NNN>.png`` files there. ``every`` snapshots every N epochs; the last epoch is
    always kept; ``at_start=True`` also keeps a snapshot before training (epoch 0).
    """

    def __init__(self, generate: Callable[[], np.ndarray], every: int = 1, folder: str | Path | None = None,
                 prefix: str = "samples", ncols: int = 8, at_start: bool = True):
        super().__init__()
        if not callable(generate):
            raise TypeError("generate must be a function of no arguments returning images")
        positive_int("every", every, expected="a positive integer (epochs between snapshots)")
        self.generate = generate
        self.every = every
        self.folder = Path(folder) if folder is not None else None
        self.prefix = prefix
        self.ncols = ncols
        self.at_start = at_start
        self.grids: dict[int, np.ndarray] = {}
        self.paths: list[Path] = []
        self._epochs = 0

    def _snapshot(self, epoch: int) -> None:
        images = np.asarray(self.generate())
        self.grids[epoch] = images
        if self.folder is not None:
            self.paths.append(save_image_grid(images, self.folder / f"{self.prefix}_epoch{epoch:03d}.png",
                                              ncols=self.ncols))

    def on_train_begin(self, logs=None):
        self._epochs = (self.params or {}).get("epochs", 0)
        if self.at_start and 0 not in self.grids:
            self._snapshot(0)

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every == 0 or done == self._epochs:
            self._snapshot(done)


class BatchHistory(keras.callbacks.Callback):
    """Record the training logs every ``every`` steps: ``self.steps`` and ``self.history[key]``."""

    def __init__(self, every: int = 10):
        super().__init__()
        positive_int("every", every, expected="a positive integer (steps between records)")
        self.every = every
        self.steps: list[int] = []
        self.history: dict[str, list[float]] = {}
        self._step = 0

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every:
            return
        self.steps.append(self._step)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))


# --------------------------------------------------------------------------- latent space figures
def latent_grid(decode: Callable[[np.ndarray], np.ndarray], n: int = 15, span: float = 2.0) -> np.ndarray:
    """Decode an ``n x n`` grid of 2-D latent points on ``[-span, span]^2``; returns one tiled image.

    Rows run from +span (top) to -span (bottom) in z[1], columns from -span to +span in z[0], so
    the picture reads like a plot. ``decode`` maps ``(m, 2)`` latent points to ``(m, H, W[, 1])``.
    """
    check_int("n", n, minimum=2, expected="an integer >= 2 (points per axis)")
    positive_number("span", span)
    xs = np.linspace(-span, span, n)
    ys = xs[::-1]
    z = np.array([[x, y] for y in ys for x in xs], dtype=np.float32)
    images = _as_images(np.asarray(decode(z)))
    if len(images) != n * n:
        raise ValueError(f"decode returned {len(images)} images for {n * n} latent points")
    return image_grid(images, ncols=n, pad=0)


def plot_latent_scatter(z: np.ndarray, labels: Sequence[int], title: str = "Latent means of the test set"):
    """Scatter 2-D latent codes coloured by class, with a colour bar; returns the figure."""
    import matplotlib.pyplot as plt

    z = np.asarray(z)
    labels = np.asarray(labels).reshape(-1)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"z must be (N, 2) latent codes, got shape {z.shape}")
    if len(labels) != len(z):
        raise ValueError(f"{len(labels)} labels for {len(z)} latent codes")
    fig, ax = plt.subplots(figsize=(5.4, 4.4))
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=2, alpha=0.6)
    fig.colorbar(points, ax=ax, label="digit class", ticks=range(int(labels.max()) + 1))
    ax.set_xlabel("z[0] (latent mean)")
    ax.set_ylabel("z[1] (latent mean)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_image_grids(grids: dict[int, np.ndarray], ncols: int = 8, label: str = "epoch",
                     title: str = "Samples during training"):
    """Show snapshots ``{step: images}`` side by side (one panel per snapshot); returns the figure."""
    import matplotlib.pyplot as plt

    if not grids:
        raise ValueError("no snapshots to show: train with a SampleGridCallback first")
    keys = sorted(grids)
    fig, axes = plt.subplots(1, len(keys), figsize=(2.0 * len(keys), 2.3), squeeze=False)
    for ax, key in zip(axes[0], keys):
        ax.imshow(image_grid(grids[key], ncols=ncols), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{label} {key}", fontsize=9)
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
