"""A small GPT (decoder-only Transformer) in Keras 3, written with backend-agnostic ``keras.ops``.

Chapter 11 writes causal self-attention, sampling and LoRA out by hand in its cells; this
module holds the model it trains twice (Tiny Shakespeare, then Tang quatrains) and the
benchmark ``benchmarks/gpt_kv_cache.py`` times:

- :class:`CausalSelfAttention`: multi-head attention where position t sees positions <= t,
  with an optional key/value cache for incremental decoding;
- :class:`Block`: pre-norm Transformer block ``x + attn(ln(x))``, ``x + mlp(ln(x))``;
- :class:`GPT`: token + position embeddings, blocks, final norm, logits through the token
  embedding matrix (weight tying, as GPT-2 and nanoGPT do);
- :func:`parameter_count`: the closed-form parameter count, equal to ``count_params()``;
- :func:`generate`: autoregressive decoding with or without the KV cache;
- :class:`RandomWindows`: random training windows of a token array, as nanoGPT samples them.

.. code-block:: python

    model = GPT(vocab_size=65, context=64, width=128, depth=4, heads=4)
    logits = model(tokens)                      # (batch, time, vocab)
    out = generate(model, prompt, 200, pick=greedy)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import keras
import numpy as np
from keras import ops

from course_lib._validate import positive_int

__all__ = ["CausalSelfAttention", "Block", "GPT", "parameter_count", "generate", "greedy",
           "RandomWindows", "GenerationResult", "forward_functions"]


@keras.saving.register_keras_serializable(package="course_lib")
class CausalSelfAttention(keras.layers.Layer):
    """Multi-head self-attention with a causal mask: the output at position t depends only on
    positions 0..t.

    One ``Dense(3 * width)`` produces queries, keys and values for every head at once; scores
    are ``q @ k.T / sqrt(head_size)``, future positions are set to -inf before the softmax, and
    a ``Dense(width)`` mixes the heads' outputs.

    ``call(x, cache=None, index=None)``: without a cache, ``x`` is a whole sequence ``(B, T, C)``.
    With ``cache`` of shape ``(2, B, heads, max_len, head_size)`` (keys and values of the
    positions seen so far), ``x`` holds the new positions starting at ``index``; their keys and
    values are written into the cache and they attend to every cached position up to their own.
    Then the call returns ``(output, new_cache)``.
    """

    def __init__(self, width: int, heads: int, dropout: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        positive_int("width", width)
        positive_int("heads", heads)
        if width % heads:
            raise ValueError(f"width ({width}) must be a multiple of heads ({heads}).")
        self.width, self.heads, self.head_size = width, heads, width // heads
        self.dropout_rate = float(dropout)
        self.qkv = keras.layers.Dense(3 * width, name="qkv")
        self.proj = keras.layers.Dense(width, name="proj")
        self.attention_dropout = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        self.qkv.build(input_shape)
        self.proj.build((*input_shape[:-1], self.width))
        self.built = True

    def _split_heads(self, x):
        batch, time = ops.shape(x)[0], ops.shape(x)[1]
        qkv = ops.reshape(x, (batch, time, 3, self.heads, self.head_size))
        qkv = ops.transpose(qkv, (2, 0, 3, 1, 4))             # (3, B, heads, T, head_size)
        return qkv[0], qkv[1], qkv[2]

    def _merge_heads(self, y):
        batch, time = ops.shape(y)[0], ops.shape(y)[2]
        return ops.reshape(ops.transpose(y, (0, 2, 1, 3)), (batch, time, self.width))

    def call(self, x, cache=None, index=None, training=False):
        q, k, v = self._split_heads(self.qkv(x))
        time = ops.shape(x)[1]
        if cache is None:
            keys_at = ops.arange(time)
            queries_at = keys_at
        else:
            if index is None:
                raise ValueError("a cached call needs index: the position of the first new token.")
            start = ops.cast(index, "int32")
            zero = ops.zeros((), "int32")
            new = ops.stack([k, v])                              # (2, B, heads, T, head_size)
            cache = ops.slice_update(cache, (zero, zero, zero, start, zero), ops.cast(new, cache.dtype))
            k, v = cache[0], cache[1]
            keys_at = ops.arange(ops.shape(cache)[3])
            queries_at = start + ops.arange(time)
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / math.sqrt(self.head_size)
        allowed = ops.expand_dims(queries_at, 1) >= ops.expand_dims(keys_at, 0)   # (T_q, T_k)
        scores = ops.where(allowed, scores, ops.cast(-1e9, scores.dtype))
        weights = self.attention_dropout(ops.softmax(scores, axis=-1), training=training)
        out = self.proj(self._merge_heads(ops.matmul(weights, v)))
        return out if cache is None else (out, cache)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "heads": self.heads, "dropout": self.dropout_rate}


@keras.saving.register_keras_serializable(package="course_lib")
class Block(keras.layers.Layer):
    """A pre-norm Transformer block: ``x + attention(norm(x))``, then ``x + mlp(norm(x))``.

    The MLP is ``Dense(4 * width, gelu)`` then ``Dense(width)``, as in GPT-2.
    """

    def __init__(self, width: int, heads: int, dropout: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.width, self.heads, self.dropout_rate = width, heads, float(dropout)
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.attention = CausalSelfAttention(width, heads, dropout, name="attention")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.expand = keras.layers.Dense(4 * width, activation="gelu", name="expand")
        self.contract = keras.layers.Dense(width, name="contract")
        self.residual_dropout = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        for layer in (self.norm1, self.attention, self.norm2, self.expand):
            layer.build(input_shape)
        self.contract.build((*input_shape[:-1], 4 * self.width))
        self.built = True

    def call(self, x, cache=None, index=None, training=False):
        attended = self.attention(self.norm1(x), cache=cache, index=index, training=training)
        if cache is not None:
            attended, cache = attended
        x = x + self.residual_dropout(attended, training=training)
        x = x + self.residual_dropout(self.contract(self.expand(self.norm2(x))), training=training)
        return x if cache is None else (x, cache)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "heads": self.heads, "dropout": self.dropout_rate}


@keras.saving.register_keras_serializable(package="course_lib")
class GPT(keras.Model):
    """A decoder-only Transformer language model.

    ``GPT(vocab_size, context, width, depth, heads)(tokens)`` maps integer tokens ``(B, T)``,
    ``T <= context``, to next-token logits ``(B, T, vocab_size)``. The output layer reuses the
    token embedding matrix (weight tying), so the model has :func:`parameter_count` parameters.
    """

    def __init__(self, vocab_size: int, context: int, width: int, depth: int, heads: int,
                 dropout: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        for name, value in (("vocab_size", vocab_size), ("context", context), ("width", width),
                            ("depth", depth), ("heads", heads)):
            positive_int(name, value)
        self.vocab_size, self.context, self.width = vocab_size, context, width
        self.depth, self.heads, self.dropout_rate = depth, heads, float(dropout)
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.token_embedding = keras.layers.Embedding(vocab_size, width, embeddings_initializer=init,
                                                      name="token_embedding")
        self.position_embedding = keras.layers.Embedding(context, width, embeddings_initializer=init,
                                                         name="position_embedding")
        self.embedding_dropout = keras.layers.Dropout(dropout)
        self.blocks = [Block(width, heads, dropout, name=f"block_{i}") for i in range(depth)]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")

    def build(self, input_shape=None):
        shape = (None, self.context, self.width)
        self.token_embedding.build((None, self.context))
        self.position_embedding.build((None, self.context))
        for block in self.blocks:
            block.build(shape)
        self.final_norm.build(shape)
        self.built = True

    def call(self, tokens, cache=None, index=None, training=False):
        time = ops.shape(tokens)[1]
        start = 0 if cache is None else ops.cast(index, "int32")
        positions = start + ops.arange(time)
        x = self.token_embedding(tokens) + self.position_embedding(positions)[None]
        x = self.embedding_dropout(x, training=training)
        new_caches = []
        for i, block in enumerate(self.blocks):
            if cache is None:
                x = block(x, training=training)
            else:
                x, layer_cache = block(x, cache=cache[i], index=index, training=training)
                new_caches.append(layer_cache)
        x = self.final_norm(x)
        logits = ops.matmul(x, ops.transpose(self.token_embedding.embeddings))
        return logits if cache is None else (logits, ops.stack(new_caches))

    def empty_cache(self, batch_size: int, dtype: str = "float32"):
        """Zeros of shape ``(depth, 2, batch, heads, context, head_size)``: keys and values per layer."""
        return ops.zeros((self.depth, 2, batch_size, self.heads, self.context, self.width // self.heads), dtype)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "context": self.context,
                "width": self.width, "depth": self.depth, "heads": self.heads, "dropout": self.dropout_rate}


def parameter_count(vocab_size: int, context: int, width: int, depth: int) -> int:
    """Parameters of :class:`GPT` by formula.

    Embeddings ``V*C + T*C``; per block two LayerNorms ``2 * 2C``, attention ``C*3C + 3C`` and
    ``C*C + C``, MLP ``C*4C + 4C`` and ``4C*C + C``, that is ``12 C^2 + 13 C``; a final LayerNorm
    ``2C``. The output layer reuses the token embedding, so it adds nothing.
    """
    c = width
    return vocab_size * c + context * c + depth * (12 * c * c + 13 * c) + 2 * c


def greedy(logits: np.ndarray, rng: np.random.Generator | None = None) -> int:
    """The most likely next token (``argmax``); ``rng`` is unused, for the same signature as samplers."""
    return int(np.argmax(logits))


@dataclass
class GenerationResult:
    """What :func:`generate` returns: the tokens (prompt included), the logits of each new token
    (``(new_tokens, vocab)``, float32) and the seconds the new tokens took."""

    tokens: list[int]
    logits: np.ndarray
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        new = len(self.logits)
        return new / self.seconds if self.seconds > 0 else float("inf")


def forward_functions(model: GPT) -> tuple[Callable, Callable]:
    """The model's full forward pass and its cached one-token step.

    On TensorFlow both are compiled once (``tf.function``; the full pass for any sequence length).
    On JAX only the step is compiled: ``jax.jit`` would recompile the full pass for every new
    length inside a timed loop, so it runs op by op there. Other backends: plain calls."""
    def full(tokens):
        return model(tokens, training=False)

    def step(token, cache, index):
        return model(token, cache=cache, index=index, training=False)

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        cache_spec = tf.TensorSpec([model.depth, 2, 1, model.heads, model.context, model.width // model.heads],
                                   tf.float32)
        full = tf.function(full, input_signature=[tf.TensorSpec([1, None], tf.int32)])
        step = tf.function(step, input_signature=[tf.TensorSpec([1, 1], tf.int32), cache_spec,
                                                  tf.TensorSpec([], tf.int32)])
    elif keras.backend.backend() == "jax":
        import jax

        step = jax.jit(step)
    return full, step


def generate(model: GPT, prompt: list[int] | np.ndarray, new_tokens: int, *,
             pick: Callable[[np.ndarray, np.random.Generator], int] = greedy, use_cache: bool = True,
             seed: int = 0, functions: tuple[Callable, Callable] | None = None) -> GenerationResult:
    """Continue ``prompt`` by ``new_tokens`` tokens, one at a time.

    Each step turns the last position's logits into a token with ``pick(logits, rng)``
    (:func:`greedy`, or a sampler). Without the cache every step runs the model over the whole
    sequence so far (work grows with its length squared); with it, the prompt is run once and
    then each step feeds only the newest token, whose keys and values are added to the cache
    (work grows linearly). Both give the same logits. The sequence may not outgrow
    ``model.context``.

    ``functions``: the pair :func:`forward_functions` returns, to reuse one compilation over many
    calls; ``None`` compiles them here. Compile time is never counted in ``seconds``.
    """
    import time as _time

    prompt = [int(t) for t in np.asarray(prompt).reshape(-1)]
    positive_int("new_tokens", new_tokens)
    if not prompt:
        raise ValueError("prompt is empty: give at least one token to start from.")
    if len(prompt) + new_tokens > model.context:
        raise ValueError(f"prompt ({len(prompt)}) + new_tokens ({new_tokens}) exceeds the model's "
                         f"context of {model.context} tokens; generate fewer or use a shorter prompt.")
    if not all(0 <= t < model.vocab_size for t in prompt):
        raise ValueError(f"prompt tokens must lie in [0, {model.vocab_size}); got {prompt[:10]}...")
    full, step = functions or forward_functions(model)
    rng = np.random.default_rng(seed)
    tokens = list(prompt)
    out = np.zeros((new_tokens, model.vocab_size), np.float32)
    if use_cache:
        # warm-up: compile both functions before the clock starts
        warm = model.empty_cache(1)
        step(ops.convert_to_tensor([[0]], "int32"), warm, ops.convert_to_tensor(0, "int32"))
    else:
        full(ops.convert_to_tensor([tokens], "int32"))
    started = _time.perf_counter()
    if use_cache:
        cache = model.empty_cache(1)
        logits = None
        for i, token in enumerate(tokens):                  # the prompt, one token at a time
            logits, cache = step(ops.convert_to_tensor([[token]], "int32"), cache,
                                 ops.convert_to_tensor(i, "int32"))
        for n in range(new_tokens):
            last = np.asarray(ops.convert_to_numpy(logits))[0, -1]
            out[n] = last
            tokens.append(int(pick(last, rng)))
            if n + 1 < new_tokens:
                logits, cache = step(ops.convert_to_tensor([[tokens[-1]]], "int32"), cache,
                                     ops.convert_to_tensor(len(tokens) - 1, "int32"))
    else:
        for n in range(new_tokens):
            logits = full(ops.convert_to_tensor([tokens], "int32"))
            last = np.asarray(ops.convert_to_numpy(logits))[0, -1]
            out[n] = last
            tokens.append(int(pick(last, rng)))
    return GenerationResult(tokens=tokens, logits=out, seconds=_time.perf_counter() - started)


class RandomWindows(keras.utils.PyDataset):
    """Batches of random windows of a 1-D token array, nanoGPT style: ``x = tokens[i:i+T]``,
    ``y = tokens[i+1:i+T+1]`` for random starts ``i``.

    Batch ``b`` of epoch ``e`` is drawn from ``numpy.random.default_rng((seed, e, b))``, so a run
    is reproducible and every epoch sees new windows.
    """

    def __init__(self, tokens: np.ndarray, context: int, batch_size: int, steps: int, seed: int = 0, **kwargs: Any):
        super().__init__(**kwargs)
        positive_int("context", context)
        positive_int("batch_size", batch_size)
        positive_int("steps", steps)
        tokens = np.asarray(tokens)
        if tokens.ndim != 1 or not np.issubdtype(tokens.dtype, np.integer):
            raise ValueError(f"tokens must be a 1-D integer array, got shape {tokens.shape} dtype {tokens.dtype}")
        if len(tokens) < context + 1:
            raise ValueError(f"{len(tokens)} tokens are too few for windows of {context} + 1.")
        self.tokens, self.context, self.batch_size = tokens.astype(np.int32), context, batch_size
        self.steps, self.seed, self.epoch = steps, seed, 0
        self._offsets = np.arange(context + 1)

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int):
        rng = np.random.default_rng((self.seed, self.epoch, index))
        starts = rng.integers(0, len(self.tokens) - self.context, size=self.batch_size)   # i + T <= len - 1
        windows = self.tokens[starts[:, None] + self._offsets]
        return windows[:, :-1], windows[:, 1:]

    def on_epoch_end(self) -> None:
        self.epoch += 1
