"""Vision helpers for the CNN chapter: reference convolution and pooling, feature maps, Grad-CAM.

- :func:`conv_output_size`, :func:`conv2d_numpy`, :func:`max_pool_numpy`: plain NumPy versions of
  what ``keras.layers.Conv2D`` and ``keras.layers.MaxPooling2D`` compute (cross-correlation,
  ``"valid"``/``"same"`` padding with TensorFlow's rule for odd padding, strides), written with
  loops so they can be read next to the formula. They are references, not fast code.
- :func:`patch_whitening`: the weights of a fixed first convolution that whitens small image
  patches (PCA whitening, as in Keller Jordan's fast CIFAR-10 training, "airbench", 2024).
- :func:`feature_maps`, :func:`plot_feature_maps`: the activations of chosen layers for one image.
- :func:`grad_cam`, :func:`overlay_heatmap`, :func:`plot_grad_cam`: Grad-CAM (Selvaraju et al.,
  2017): the gradient of a class score with respect to a convolutional layer's feature maps,
  averaged over space, weights those maps; the ReLU of the weighted sum shows where the evidence
  for the class lies in the image.

Array layout is channels-last throughout, as in Keras: images ``(H, W, C)`` or ``(N, H, W, C)``
and kernels ``(kh, kw, C_in, C_out)``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from course_lib._validate import check_number, positive_int

__all__ = [
    "conv_output_size", "same_padding", "conv2d_numpy", "max_pool_numpy", "patch_whitening",
    "feature_maps", "plot_feature_maps", "grad_cam", "resize_heatmap", "overlay_heatmap",
    "plot_grad_cam",
]

_PADDINGS = ("valid", "same")


def _pair(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an integer or a pair (rows, columns), got {value!r}")
        return positive_int(name, value[0]), positive_int(name, value[1])
    v = positive_int(name, value)
    return v, v


def _check_padding(padding: str) -> str:
    if padding not in _PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding


def conv_output_size(n: int, kernel: int, stride: int = 1, padding: str = "valid") -> int:
    """Output length along one axis of a convolution or pooling window.

    ``"valid"`` (no padding): ``floor((n - kernel) / stride) + 1``;
    ``"same"`` (zero padding as needed): ``ceil(n / stride)``.

    Raises:
        ValueError: a size below 1, an unknown padding, or a ``"valid"`` kernel larger than ``n``.
    """
    n, kernel, stride = (positive_int(name, v) for name, v in (("n", n), ("kernel", kernel), ("stride", stride)))
    if _check_padding(padding) == "same":
        return math.ceil(n / stride)
    if kernel > n:
        raise ValueError(f"a {kernel}-wide window does not fit in {n} positions without padding; "
                         "use padding='same' or a smaller kernel")
    return (n - kernel) // stride + 1


def same_padding(n: int, kernel: int, stride: int = 1) -> tuple[int, int]:
    """Zeros added (before, after) along one axis for ``"same"`` padding, TensorFlow's rule:
    the total is ``max((out - 1) * stride + kernel - n, 0)`` and an odd total puts the extra
    zero after (bottom/right)."""
    out = conv_output_size(n, kernel, stride, "same")
    total = max((out - 1) * stride + kernel - n, 0)
    return total // 2, total - total // 2


def _as_batch(x: Any, name: str) -> tuple[np.ndarray, bool]:
    arr = np.asarray(x)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim == 3:
        return arr[None].astype(np.float64), True
    if arr.ndim == 4:
        return arr.astype(np.float64), False
    raise ValueError(f"{name} must be (H, W, C) or (N, H, W, C) (channels last), got shape {arr.shape}")


def conv2d_numpy(x: Any, kernel: Any, bias: Any = None, stride: int | tuple[int, int] = 1,
                 padding: str = "valid") -> np.ndarray:
    """2-D convolution as Keras computes it (a cross-correlation: the kernel is not flipped).

    ``y[n, i, j, o] = b[o] + sum_{u, v, c} x_pad[n, i*s + u, j*s + v, c] * K[u, v, c, o]``

    Args:
        x: images ``(H, W, C_in)`` or ``(N, H, W, C_in)``.
        kernel: ``(kh, kw, C_in, C_out)``, the layout of ``Conv2D.kernel``.
        bias: ``(C_out,)`` or None.
        stride: an integer or a (rows, columns) pair.
        padding: ``"valid"`` or ``"same"``.

    Returns:
        float64 array ``(N, H_out, W_out, C_out)``, without the batch axis when ``x`` had none.
    """
    xb, single = _as_batch(x, "x")
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 4:
        raise ValueError(f"kernel must be (kh, kw, C_in, C_out), got shape {k.shape}")
    if k.shape[2] != xb.shape[3]:
        raise ValueError(f"kernel expects {k.shape[2]} input channels but x has {xb.shape[3]}")
    b = np.zeros(k.shape[3]) if bias is None else np.asarray(bias, dtype=np.float64)
    if b.shape != (k.shape[3],):
        raise ValueError(f"bias must have shape ({k.shape[3]},), got {b.shape}")
    sh, sw = _pair(stride, "stride")
    _check_padding(padding)
    kh, kw = k.shape[:2]
    n, h, w, _ = xb.shape
    if padding == "same":
        (pt, pb), (pl, pr) = same_padding(h, kh, sh), same_padding(w, kw, sw)
        xb = np.pad(xb, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh, ow = conv_output_size(h, kh, sh, padding), conv_output_size(w, kw, sw, padding)
    out = np.empty((n, oh, ow, k.shape[3]))
    for i in range(oh):
        for j in range(ow):
            patch = xb[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]          # (N, kh, kw, C_in)
            out[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2])) + b
    return out[0] if single else out


def max_pool_numpy(x: Any, pool_size: int | tuple[int, int] = 2, stride: int | tuple[int, int] | None = None,
                   padding: str = "valid") -> np.ndarray:
    """Max pooling per channel, as ``keras.layers.MaxPooling2D`` (stride defaults to the pool size;
    ``"same"`` pads with -inf so padding never wins the max)."""
    xb, single = _as_batch(x, "x")
    ph, pw = _pair(pool_size, "pool_size")
    sh, sw = (ph, pw) if stride is None else _pair(stride, "stride")
    _check_padding(padding)
    n, h, w, c = xb.shape
    if padding == "same":
        (pt, pb), (pl, pr) = same_padding(h, ph, sh), same_padding(w, pw, sw)
        xb = np.pad(xb, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
    oh, ow = conv_output_size(h, ph, sh, padding), conv_output_size(w, pw, sw, padding)
    out = np.empty((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j, :] = xb[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :].max(axis=(1, 2))
    return out[0] if single else out


# --------------------------------------------------------------------------- models


def patch_whitening(images: Any, patch_size: int = 2, epsilon: float = 5e-4,
                    max_patches: int = 2_000_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Kernel and bias of a ``"valid"`` convolution that whitens ``patch_size`` x ``patch_size`` patches.

    Every patch of ``images`` (``(N, H, W, C)``, any scale) is a vector of ``d = patch_size**2 * C``
    values. With their mean ``m`` and covariance ``S = V diag(lam) V^T``, filter ``i`` is the
    eigenvector ``v_i / sqrt(lam_i + epsilon)``: its output over the patches has mean zero and
    variance ``lam_i / (lam_i + epsilon)`` (about 1 unless the direction is nearly constant), and
    different filters are uncorrelated. The ``d`` filters are followed by their negatives, so a
    ReLU after the layer keeps both signs: ``2 d`` output channels in all.

    Args:
        images: ``(N, H, W, C)`` array, scaled as the layer's input will be.
        patch_size: side of the square patches (the kernel size), at least 1.
        epsilon: added to each eigenvalue; limits the gain of nearly constant directions.
        max_patches: patches sampled at random (with ``seed``) when there are more.
        seed: seed of that sample.

    Returns:
        ``kernel`` of shape ``(patch_size, patch_size, C, 2 d)`` and ``bias`` of shape ``(2 d,)``,
        ready for ``Conv2D(2 d, patch_size).set_weights([kernel, bias])``.

    Raises:
        ValueError: ``images`` not 4-D or smaller than one patch, a bad ``patch_size``,
            ``epsilon`` or ``max_patches``.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"images must be a batch (N, H, W, C), got shape {x.shape}")
    p = positive_int("patch_size", patch_size)
    if x.shape[0] < 1 or x.shape[1] < p or x.shape[2] < p:
        raise ValueError(f"images of shape {x.shape} hold no {p}x{p} patch")
    check_number("epsilon", epsilon, at_least=0)
    limit = positive_int("max_patches", max_patches)
    n, h, w, c = x.shape
    rows, cols = h - p + 1, w - p + 1
    total = n * rows * cols
    if total > limit:             # gather only a random sample of patches (sorted: reads memory in order)
        chosen = np.sort(np.random.default_rng(seed).choice(total, limit, replace=False))
        image, row, col = np.unravel_index(chosen, (n, rows, cols))
        top_left = (image * h + row) * w + col                          # row index into x.reshape(-1, c)
        pixels = x.reshape(-1, c)
        # patches[k, u * p + v] = x[image_k, row_k + u, col_k + v]: the (kh, kw, C) order of a Keras kernel
        patches = np.stack([np.take(pixels, top_left + (u * w + v), axis=0) for u in range(p) for v in range(p)],
                           axis=1)
    else:                         # every patch, in the same (kh, kw, C) order
        patches = np.stack([x[:, u:u + rows, v:v + cols, :] for u in range(p) for v in range(p)], axis=3)
    patches = patches.reshape(-1, p * p * c)
    mean = patches.mean(axis=0)
    centred = patches - mean
    covariance = centred.T @ centred / len(patches)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)                 # ascending eigenvalues
    filters = eigenvectors[:, ::-1] / np.sqrt(np.maximum(eigenvalues[::-1], 0.0) + epsilon)   # (d, d)
    filters = np.concatenate([filters, -filters], axis=1)                   # (d, 2 d)
    kernel = filters.reshape(p, p, c, 2 * p * p * c)
    bias = -mean @ filters                                                  # zero-mean outputs
    return kernel.astype("float32"), bias.astype("float32")


def _layer(model: Any, name: str) -> Any:
    if not isinstance(name, str):
        raise TypeError(f"layer names are strings, got {type(name).__name__}")
    names = [layer.name for layer in model.layers]
    if name not in names:
        raise ValueError(f"the model has no layer {name!r}; its layers are {names}")
    return model.get_layer(name)


def _single_input(model: Any) -> Any:
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        raise ValueError("the model must be built (call it once or start it with keras.Input) and have one input")
    return inputs[0]


def _image_batch(images: Any) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"images must be (H, W, C) or (N, H, W, C), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("no images given")
    return arr.astype("float32")


def feature_maps(model: Any, image: Any, layer_names: Sequence[str]) -> dict[str, np.ndarray]:
    """The activations of ``layer_names`` for one image: ``{name: (h, w, channels)}``.

    The model must be a built functional or Sequential Keras model whose named layers output
    4-D feature maps (convolution, pooling, activation layers).
    """
    import keras

    if isinstance(layer_names, str) or not layer_names:
        raise ValueError("layer_names must be a non-empty list of layer names")
    batch = _image_batch(image)
    if batch.shape[0] != 1:
        raise ValueError(f"feature_maps takes one image, got {batch.shape[0]}")
    outputs = [_layer(model, name).output for name in layer_names]
    for name, out in zip(layer_names, outputs):
        if len(out.shape) != 4:
            raise ValueError(f"layer {name!r} outputs shape {tuple(out.shape)}, not (batch, h, w, channels) maps")
    probe = keras.Model(_single_input(model), outputs)
    values = probe(batch, training=False)
    values = values if isinstance(values, (list, tuple)) else [values]
    return {name: np.asarray(v)[0] for name, v in zip(layer_names, values)}


def plot_feature_maps(maps: dict[str, np.ndarray], max_maps: int = 8, title: str = "Feature maps"):
    """One row per layer, its first ``max_maps`` channels as images (each scaled to its own range)."""
    import matplotlib.pyplot as plt

    if not maps:
        raise ValueError("no feature maps to plot")
    max_maps = positive_int("max_maps", max_maps)
    for name, m in maps.items():
        if np.ndim(m) != 3:
            raise ValueError(f"maps[{name!r}] must be (h, w, channels), got shape {np.shape(m)}")
    ncols = min(max_maps, max(m.shape[-1] for m in maps.values()))
    fig, axes = plt.subplots(len(maps), ncols, figsize=(1.3 * ncols, 1.45 * len(maps)), squeeze=False)
    for row, (name, m) in zip(axes, maps.items()):
        for ch, ax in enumerate(row):
            ax.axis("off")
            if ch < m.shape[-1]:
                ax.imshow(m[..., ch], cmap="viridis")
                ax.set_title(f"{name}[{ch}]" if ch == 0 else f"[{ch}]", fontsize=7)
        row[0].text(-0.1, 0.5, f"{m.shape[0]}x{m.shape[1]}", transform=row[0].transAxes,
                    ha="right", va="center", fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def grad_cam(model: Any, images: Any, layer_name: str, class_index: int | Sequence[int] | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grad-CAM heatmaps of ``images`` at the convolutional layer ``layer_name``.

    For the class score ``y_c`` (the model's output for class ``c``; give the model logits so
    the score does not saturate), the channel weights are ``a_k = mean_{i,j} dy_c / dA_k[i,j]``
    and the map is ``ReLU(sum_k a_k A_k)``, scaled to [0, 1] per image.

    Args:
        model: a built Keras model with one output ``(batch, classes)``.
        images: ``(H, W, C)`` or ``(N, H, W, C)``, preprocessed as the model expects.
        layer_name: a layer of ``model`` (at its top level) that outputs ``(batch, h, w, k)``.
        class_index: the class to explain, one per image, or None for the predicted class.

    Returns:
        ``(heatmaps, classes, scores)``: ``(N, h, w)`` float32 maps in [0, 1] (all zeros where no
        location speaks for the class), the class explained per image, and the model outputs
        ``(N, classes)``.
    """
    import keras
    import tensorflow as tf

    batch = _image_batch(images)
    layer = _layer(model, layer_name)
    if len(layer.output.shape) != 4:
        raise ValueError(f"layer {layer_name!r} outputs shape {tuple(layer.output.shape)}; "
                         "Grad-CAM needs a convolutional layer's (batch, h, w, channels) output")
    if len(model.outputs) != 1 or len(model.outputs[0].shape) != 2:
        raise ValueError("Grad-CAM needs a model with a single (batch, classes) output")
    probe = keras.Model(_single_input(model), [layer.output, model.outputs[0]])
    x = tf.convert_to_tensor(batch)
    with tf.GradientTape() as tape:
        fmap, out = probe(x, training=False)
        n_classes = int(out.shape[-1])
        if class_index is None:
            classes = tf.argmax(out, axis=-1, output_type=tf.int32)
        else:
            wanted = np.broadcast_to(np.asarray(class_index), (batch.shape[0],)) \
                if np.ndim(class_index) == 0 else np.asarray(class_index)
            if wanted.shape != (batch.shape[0],):
                raise ValueError(f"class_index needs one class per image ({batch.shape[0]}), got {len(wanted)}")
            if not np.issubdtype(wanted.dtype, np.integer) or wanted.min() < 0 or wanted.max() >= n_classes:
                raise ValueError(f"class_index must be integers in [0, {n_classes}), got {wanted.tolist()}")
            classes = tf.constant(wanted, dtype=tf.int32)
        score = tf.gather(out, classes, axis=1, batch_dims=1)
    grads = tape.gradient(score, fmap)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * fmap, axis=-1)).numpy()
    peak = cam.max(axis=(1, 2), keepdims=True)
    cam = np.where(peak > 0, cam / np.where(peak > 0, peak, 1.0), 0.0).astype("float32")
    return cam, classes.numpy(), np.asarray(out)


def resize_heatmap(heatmap: Any, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D map to ``size`` = (height, width), pixel centres aligned."""
    hm = np.asarray(heatmap, dtype=np.float64)
    if hm.ndim != 2 or 0 in hm.shape:
        raise ValueError(f"heatmap must be a non-empty 2-D array, got shape {hm.shape}")
    out_h, out_w = _pair(tuple(size), "size")

    def coords(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, pos - lo

    r0, r1, fr = coords(out_h, hm.shape[0])
    c0, c1, fc = coords(out_w, hm.shape[1])
    top = hm[r0][:, c0] * (1 - fc) + hm[r0][:, c1] * fc
    bottom = hm[r1][:, c0] * (1 - fc) + hm[r1][:, c1] * fc
    return top * (1 - fr)[:, None] + bottom * fr[:, None]


def overlay_heatmap(image: Any, heatmap: Any, alpha: float = 0.45, cmap: str = "jet") -> np.ndarray:
    """``image`` (``(H, W, 3)``, uint8 or floats in [0, 1]) blended with a coloured ``heatmap``
    (2-D, values in [0, 1], any size: resized to the image). Returns floats in [0, 1]."""
    import matplotlib

    img = np.asarray(image)
    if img.ndim != 3 or img.shape[-1] != 3:
        raise ValueError(f"image must be (H, W, 3) RGB, got shape {img.shape}")
    img = img.astype(np.float64) / 255.0 if img.dtype == np.uint8 else img.astype(np.float64)
    if img.min() < 0 or img.max() > 1:
        raise ValueError("a float image must hold values in [0, 1] (pass uint8 for 0-255 pixels)")
    check_number("alpha", alpha, at_least=0, at_most=1)
    hm = np.asarray(heatmap, dtype=np.float64)
    if hm.ndim == 2 and hm.size and (hm.min() < 0 or hm.max() > 1):
        raise ValueError("heatmap values must be in [0, 1] (grad_cam returns them scaled)")
    hm = resize_heatmap(hm, img.shape[:2])
    colour = matplotlib.colormaps[cmap](hm)[..., :3]
    return np.clip((1 - alpha) * img + alpha * colour, 0.0, 1.0)


def plot_grad_cam(images: Any, heatmaps: Any, titles: Sequence[str] | None = None,
                  title_colors: Sequence[str] | None = None, ncols: int = 6, alpha: float = 0.45,
                  title: str = "Grad-CAM"):
    """Each image above its Grad-CAM overlay; ``title_colors`` (e.g. red for a wrong prediction)."""
    import matplotlib.pyplot as plt

    imgs = np.asarray(images)
    hms = np.asarray(heatmaps)
    if imgs.ndim != 4 or hms.ndim != 3 or len(imgs) != len(hms) or len(imgs) == 0:
        raise ValueError(f"need (N, H, W, 3) images and (N, h, w) heatmaps with the same N >= 1, "
                         f"got {imgs.shape} and {hms.shape}")
    for name, seq in (("titles", titles), ("title_colors", title_colors)):
        if seq is not None and len(seq) != len(imgs):
            raise ValueError(f"{name} has {len(seq)} entries for {len(imgs)} images")
    ncols = min(positive_int("ncols", ncols), len(imgs))
    nrows = math.ceil(len(imgs) / ncols)
    fig, axes = plt.subplots(2 * nrows, ncols, figsize=(1.7 * ncols, 3.3 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, (img, hm) in enumerate(zip(imgs, hms)):
        r, c = divmod(k, ncols)
        shown = img if img.dtype == np.uint8 else np.clip(img, 0, 1)
        axes[2 * r, c].imshow(shown)
        if titles is not None:
            axes[2 * r, c].set_title(titles[k], fontsize=7, color=title_colors[k] if title_colors else "black")
        axes[2 * r + 1, c].imshow(overlay_heatmap(img, hm, alpha=alpha))
    fig.suptitle(title)
    fig.tight_layout()
    return fig
