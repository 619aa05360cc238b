"""Figures the notebooks share: training curves, image grids, confusion matrices.

Every figure has a title, axis labels and units where there are units. Functions return the
matplotlib ``Figure`` so a notebook can save or adjust it.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def _history_dict(history: Any) -> Mapping[str, Sequence[float]]:
    if hasattr(history, "history") and isinstance(history.history, Mapping):
        return history.history  # keras History or TrainResult
    if isinstance(history, Mapping):
        return history
    raise TypeError("history must be a dict of lists, a keras History or a TrainResult")


def plot_history(history: Any, metrics: Sequence[str] | None = None, title: str = "Training curves"):
    """Loss and each metric against epoch, train (solid) vs validation (dashed), one panel each."""
    hist = _history_dict(history)
    if not hist:
        raise ValueError("history is empty: train for at least one epoch first")
    names = list(metrics) if metrics else [k for k in hist if not k.startswith("val_") and k != "learning_rate"]
    missing = [m for m in names if m not in hist]
    if missing:
        raise KeyError(f"not in the history: {missing}; it has {sorted(hist)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(hist[name]) + 1)
        ax.plot(epochs, hist[name], "-o", ms=3, label=f"train {name}")
        if f"val_{name}" in hist:
            ax.plot(epochs, hist[f"val_{name}"], "--o", ms=3, label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(name)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_images(images: np.ndarray, labels: Sequence[Any] | None = None,
                class_names: Sequence[str] | None = None, predictions: Sequence[Any] | None = None,
                ncols: int = 8, title: str = "Examples", cmap: str | None = None):
    """A grid of images with their labels (and predictions, red where wrong)."""
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be (N, H, W) or (N, H, W, C), got shape {images.shape}")
    n = len(images)
    if n == 0:
        raise ValueError("no images to show")
    for name, seq in (("labels", labels), ("predictions", predictions)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"{name} has {len(seq)} entries for {n} images")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.6 * ncols, 1.8 * nrows), squeeze=False)

    def name_of(value: Any) -> str:
        arr = np.asarray(value)
        if arr.size == 1 and np.issubdtype(arr.dtype, np.integer):  # a class index, possibly shaped (1,)
            index = int(arr.reshape(-1)[0])
            return class_names[index] if class_names is not None else str(index)
        return str(value)

    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        if img.dtype != np.uint8:
            lo, hi = float(np.min(img)), float(np.max(img))
            img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img, dtype=float)
        ax.imshow(img, cmap=cmap or ("gray" if img.ndim == 2 else None))
        text, color = "", "black"
        if labels is not None:
            text = name_of(labels[i])
        if predictions is not None:
            pred = name_of(predictions[i])
            color = "green" if labels is None or pred == text else "red"
            text = f"{text}\npred: {pred}" if text else f"pred: {pred}"
        ax.set_title(text, fontsize=8, color=color)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int],
                          class_names: Sequence[str] | None = None, normalize: bool = False,
                          title: str = "Confusion matrix"):
    """Confusion matrix (rows: true class, columns: predicted class), counts or row shares."""
    from course_lib.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, num_classes=len(class_names) if class_names else None)
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    k = cm.shape[0]
    names = list(class_names) if class_names else [str(i) for i in range(k)]
    size = max(3.5, 0.45 * k + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(shown, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of true class" if normalize else "examples")
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.grid(False)
    threshold = shown.max() / 2 if shown.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{shown[i, j]:.2f}" if normalize else f"{cm[i, j]:d}", ha="center", va="center",
                    fontsize=7, color="white" if shown[i, j] > threshold else "black")
    ax.set_title(title)
    fig.tight_layout()
    return fig
