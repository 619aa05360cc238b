"""Language-model bookkeeping in NumPy: character vocabularies, count baselines, text diversity
and the arithmetic of training compute.

- :class:`CharVocab`: characters <-> integer ids, built from a text;
- :func:`split_tokens`: the first 90 % for training, the rest for validation (nanoGPT's split);
- :func:`ngram_loss`: cross-entropy in nats per token of a unigram or bigram count model with
  add-k smoothing, the baselines a trained model must beat;
- :func:`bigram_sample`: text drawn from the bigram counts, for a side-by-side comparison;
- :func:`distinct_ngrams`: the share of distinct n-grams in generated text (1.0 = no repeats);
- :func:`training_flops`, :func:`days_to_train`: compute ~ 6 x parameters x tokens.

Importing this module does not import TensorFlow or Keras.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from course_lib._validate import positive_int

__all__ = ["CharVocab", "split_tokens", "ngram_counts", "ngram_loss", "bigram_sample", "distinct_ngrams",
           "training_flops", "days_to_train", "SECONDS_PER_DAY"]

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class CharVocab:
    """A character-level vocabulary: ``chars[i]`` is the character with id ``i`` (sorted, as nanoGPT's)."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str | Iterable[str]) -> CharVocab:
        """Every distinct character of ``text`` (a string, or strings), sorted."""
        if isinstance(text, str):
            chars = set(text)
        else:
            chars = set()
            for part in text:
                if not isinstance(part, str):
                    raise TypeError(f"text must be a string or strings, got an item of type {type(part).__name__}")
                chars.update(part)
        if not chars:
            raise ValueError("text is empty: a vocabulary needs at least one character.")
        return cls(tuple(sorted(chars)))

    def __len__(self) -> int:
        return len(self.chars)

    @property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of ``text`` (int32). Raises ValueError naming unknown characters."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        index = self.index
        unknown = sorted(set(text) - index.keys())
        if unknown:
            raise ValueError(f"{len(unknown)} character(s) are not in the vocabulary: {''.join(unknown[:20])!r}")
        return np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``. Raises ValueError for an id outside ``[0, len(self))``."""
        ids = [int(i) for i in ids]
        bad = [i for i in ids if not 0 <= i < len(self.chars)]
        if bad:
            raise ValueError(f"ids out of range [0, {len(self.chars)}): {bad[:10]}")
        return "".join(self.chars[i] for i in ids)


def split_tokens(tokens: np.ndarray, train_fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """``tokens[:n]`` and ``tokens[n:]`` with ``n = int(train_fraction * len(tokens))``: the first
    part for training, the rest (a later stretch of the text) for validation."""
    tokens = np.asarray(tokens)
    if not 0.0 < float(train_fraction) < 1.0:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction}")
    if tokens.ndim != 1 or len(tokens) < 2:
        raise ValueError(f"tokens must be a 1-D array of at least 2 tokens, got shape {tokens.shape}")
    n = int(train_fraction * len(tokens))
    return tokens[:n], tokens[n:]


def _check_tokens(name: str, tokens: np.ndarray, vocab_size: int) -> np.ndarray:
    tokens = np.asarray(tokens)
    if tokens.ndim != 1 or not np.issubdtype(tokens.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D integer array, got shape {tokens.shape} dtype {tokens.dtype}")
    if len(tokens) and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(f"{name} holds ids outside [0, {vocab_size}): min {tokens.min()}, max {tokens.max()}")
    return tokens.astype(np.int64)


def ngram_counts(tokens: np.ndarray, vocab_size: int, order: int) -> np.ndarray:
    """Counts of unigrams (``order=1``: shape ``(V,)``) or bigrams (``order=2``: ``(V, V)``,
    ``counts[a, b]`` = times b followed a)."""
    positive_int("vocab_size", vocab_size)
    if order not in (1, 2):
        raise ValueError(f"order must be 1 (unigram) or 2 (bigram), got {order!r}")
    tokens = _check_tokens("tokens", tokens, vocab_size)
    if order == 1:
        return np.bincount(tokens, minlength=vocab_size).astype(np.float64)
    pairs = tokens[:-1] * vocab_size + tokens[1:]
    return np.bincount(pairs, minlength=vocab_size * vocab_size).reshape(vocab_size, vocab_size).astype(np.float64)


def ngram_loss(train: np.ndarray, test: np.ndarray, vocab_size: int, order: int, smoothing: float = 1.0) -> float:
    """Cross-entropy (nats per token) on ``test`` of the ``order``-gram model counted on ``train``,
    with add-``smoothing`` counts so an unseen pair is not infinitely surprising.

    ``order=1`` predicts every token from the character frequencies alone; ``order=2`` from the
    previous token (the first test token is predicted by the unigram model). A uniform guess
    scores ``ln(vocab_size)``.
    """
    if not smoothing > 0:
        raise ValueError(f"smoothing must be > 0 (add-k counts), got {smoothing}")
    counts = ngram_counts(train, vocab_size, order) + smoothing
    test = _check_tokens("test", test, vocab_size)
    if len(test) == 0:
        raise ValueError("test is empty")
    if order == 1:
        log_p = np.log(counts / counts.sum())
        return float(-log_p[test].mean())
    log_p = np.log(counts / counts.sum(axis=1, keepdims=True))
    unigram = ngram_counts(train, vocab_size, 1) + smoothing
    first = -math.log(unigram[test[0]] / unigram.sum())
    rest = -log_p[test[:-1], test[1:]]
    return float((first + rest.sum()) / len(test))


def bigram_sample(train: np.ndarray, vocab_size: int, start: int, length: int, seed: int = 0,
                  smoothing: float = 1.0, stop: int | None = None) -> list[int]:
    """``length`` tokens drawn one after another from the bigram counts of ``train``, starting
    after ``start``; stops early after drawing ``stop`` when given."""
    positive_int("length", length)
    if not smoothing > 0:
        raise ValueError(f"smoothing must be > 0 (add-k counts), got {smoothing}")
    if not 0 <= int(start) < vocab_size:
        raise ValueError(f"start must lie in [0, {vocab_size}), got {start}")
    train = _check_tokens("train", train, vocab_size)
    previous, following = train[:-1], train[1:]
    rng = np.random.default_rng(seed)
    out, token = [], int(start)
    for _ in range(length):
        # one row of the bigram table at a time: (V, V) counts would be 14 M numbers for 3 754 characters
        row = np.bincount(following[previous == token], minlength=vocab_size).astype(np.float64) + smoothing
        token = int(rng.choice(vocab_size, p=row / row.sum()))
        out.append(token)
        if stop is not None and token == stop:
            break
    return out


def distinct_ngrams(tokens: Sequence, n: int) -> float:
    """Distinct n-grams divided by all n-grams of ``tokens`` (characters of a string, or ids):
    1.0 when nothing repeats, near 0 for a loop such as "the the the"."""
    positive_int("n", n)
    items = list(tokens)
    grams = [tuple(items[i:i + n]) for i in range(len(items) - n + 1)]
    if not grams:
        raise ValueError(f"{len(items)} tokens hold no {n}-gram; generate at least {n} tokens.")
    return len(set(grams)) / len(grams)


def training_flops(parameters: float, tokens: float) -> float:
    """Training compute in floating-point operations: ``6 * parameters * tokens``.

    Per token the forward pass costs about 2 operations per parameter (a multiply and an add),
    the backward pass about twice that (gradients for activations and for weights). Attention's
    own ``T^2`` term is left out; it is small while the context is short next to the width.
    """
    if not parameters > 0 or not tokens > 0:
        raise ValueError(f"parameters and tokens must be > 0, got {parameters} and {tokens}")
    return 6.0 * float(parameters) * float(tokens)


def days_to_train(flops: float, flops_per_second: float, devices: int = 1) -> float:
    """Days to do ``flops`` operations on ``devices`` devices that each sustain ``flops_per_second``."""
    positive_int("devices", devices)
    if not flops > 0 or not flops_per_second > 0:
        raise ValueError(f"flops and flops_per_second must be > 0, got {flops} and {flops_per_second}")
    return float(flops) / (float(flops_per_second) * devices) / SECONDS_PER_DAY
