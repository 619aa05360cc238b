"""Tests of course_lib.lm: character vocabularies, count baselines, text diversity, compute arithmetic."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from course_lib import lm

# --- CharVocab ---------------------------------------------------------------------------------

def test_vocab_is_the_sorted_distinct_characters():
    vocab = lm.CharVocab.from_text("hello world")
    assert vocab.chars == (" ", "d", "e", "h", "l", "o", "r", "w") and len(vocab) == 8
    assert vocab.index == {c: i for i, c in enumerate(vocab.chars)}
    assert lm.CharVocab.from_text(["ab", "", "ca"]).chars == ("a", "b", "c")   # strings, joined


def test_encode_decode_round_trip():
    text = "To be, or not to be:\nthat is the question."
    vocab = lm.CharVocab.from_text(text)
    ids = vocab.encode(text)
    assert ids.dtype == np.int32 and ids.shape == (len(text),)
    assert ids.min() == 0 and ids.max() == len(vocab) - 1
    assert vocab.encode("be")[0] == vocab.chars.index("b")
    assert vocab.decode(ids) == text
    assert vocab.decode(ids.tolist()) == text and vocab.decode(np.int64(ids)) == text
    assert vocab.encode("").shape == (0,) and vocab.decode([]) == ""


def test_encode_names_the_unknown_characters():
    vocab = lm.CharVocab.from_text("abc")
    with pytest.raises(ValueError, match=r"2 character\(s\) are not in the vocabulary: 'xz'"):
        vocab.encode("axbzx")
    with pytest.raises(TypeError, match="text must be a str, got list"):
        vocab.encode(["a"])


@pytest.mark.parametrize("ids", [[0, 3], [-1], [1, 2, 7]])
def test_decode_refuses_ids_out_of_range(ids):
    with pytest.raises(ValueError, match=r"ids out of range \[0, 3\)"):
        lm.CharVocab.from_text("abc").decode(ids)


def test_vocab_from_text_errors():
    with pytest.raises(ValueError, match="text is empty"):
        lm.CharVocab.from_text("")
    with pytest.raises(ValueError, match="text is empty"):
        lm.CharVocab.from_text([])
    with pytest.raises(TypeError, match="an item of type int"):
        lm.CharVocab.from_text(["ab", 3])


# --- split_tokens ------------------------------------------------------------------------------

@pytest.mark.parametrize("n, fraction, train_size", [(100, 0.9, 90), (10, 0.5, 5), (7, 0.9, 6), (2, 0.9, 1)])
def test_split_keeps_order_and_sizes(n, fraction, train_size):
    tokens = np.arange(n)
    train, val = lm.split_tokens(tokens, fraction)
    assert len(train) == train_size and len(val) == n - train_size
    np.testing.assert_array_equal(np.concatenate([train, val]), tokens)   # first part, then the rest


def test_split_default_is_ninety_percent():
    train, val = lm.split_tokens(np.arange(1000))
    assert (len(train), len(val)) == (900, 100)


@pytest.mark.parametrize("tokens, fraction, message", [
    (np.arange(10), 0.0, "train_fraction must lie strictly between 0 and 1, got 0.0"),
    (np.arange(10), 1.0, "train_fraction must lie strictly between 0 and 1, got 1.0"),
    (np.arange(10), 1.5, "train_fraction must lie strictly between 0 and 1"),
    (np.arange(1), 0.9, r"1-D array of at least 2 tokens, got shape \(1,\)"),
    (np.zeros((3, 4), int), 0.9, r"1-D array of at least 2 tokens, got shape \(3, 4\)"),
])
def test_split_errors(tokens, fraction, message):
    with pytest.raises(ValueError, match=message):
        lm.split_tokens(tokens, fraction)


# --- ngram_counts and ngram_loss ---------------------------------------------------------------

def test_ngram_counts():
    tokens = np.array([0, 1, 1, 2, 0, 1])
    np.testing.assert_array_equal(lm.ngram_counts(tokens, 4, 1), [2, 3, 1, 0])
    bigrams = lm.ngram_counts(tokens, 4, 2)
    expected = np.zeros((4, 4))
    for a, b in [(0, 1), (1, 1), (1, 2), (2, 0), (0, 1)]:
        expected[a, b] += 1
    np.testing.assert_array_equal(bigrams, expected)       # counts[a, b]: b followed a
    assert bigrams.shape == (4, 4) and bigrams.sum() == len(tokens) - 1


def test_unigram_loss_is_the_hand_computed_cross_entropy():
    # counts (2, 1, 0) + 1 -> probabilities (3, 2, 1) / 6 on the test tokens a, a, b
    loss = lm.ngram_loss(np.array([0, 0, 1]), np.array([0, 0, 1]), vocab_size=3, order=1, smoothing=1.0)
    assert loss == pytest.approx(-(2 * math.log(3 / 6) + math.log(2 / 6)) / 3)
    # with almost no smoothing the loss on the training text is its entropy
    tokens = np.array([0, 0, 1])
    entropy = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert lm.ngram_loss(tokens, tokens, 2, 1, smoothing=1e-9) == pytest.approx(entropy, rel=1e-6)


def test_bigram_loss_is_the_hand_computed_cross_entropy():
    # train a a b: bigram counts (a->a 1, a->b 1) + 1 -> row a (1/2, 1/2), row b (1/2, 1/2);
    # unigram counts (2, 1) + 1 -> (3/5, 2/5). Test a b b: -ln 3/5 (first token), -ln 1/2, -ln 1/2.
    loss = lm.ngram_loss(np.array([0, 0, 1]), np.array([0, 1, 1]), 2, 2, smoothing=1.0)
    assert loss == pytest.approx((-math.log(3 / 5) + 2 * math.log(2)) / 3)


def test_bigram_loss_on_an_alternating_sequence_is_near_zero():
    train, test = np.array([0, 1] * 50), np.array([0, 1] * 10)
    unigram = lm.ngram_loss(train, test, 2, 1, smoothing=1e-6)
    bigram = lm.ngram_loss(train, test, 2, 2, smoothing=1e-6)
    assert unigram == pytest.approx(math.log(2), rel=1e-6)
    # only the first token, predicted by the unigram model, costs anything: ln 2 / 20
    assert bigram == pytest.approx(math.log(2) / len(test), rel=1e-4)
    assert bigram < 0.1 * unigram
    assert lm.ngram_loss(train, test, 2, 2, smoothing=1.0) > bigram     # smoothing costs something


@pytest.mark.parametrize("order", [1, 2])
def test_uniform_text_scores_log_vocab_size(order):
    vocab_size = 7
    tokens = np.tile(np.arange(vocab_size), 30)
    expected = math.log(vocab_size)
    if order == 1:
        assert lm.ngram_loss(tokens, tokens, vocab_size, 1) == pytest.approx(expected)
    else:   # so much smoothing that the counts no longer matter: a uniform guess
        assert lm.ngram_loss(tokens, tokens, vocab_size, 2, smoothing=1e9) == pytest.approx(expected, rel=1e-6)


def test_unseen_tokens_cost_more_with_less_smoothing():
    train, test = np.array([0, 0, 1, 1]), np.array([2, 2])
    assert lm.ngram_loss(train, test, 3, 1, smoothing=0.01) > lm.ngram_loss(train, test, 3, 1, smoothing=1.0)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(order=3), ValueError, "order must be 1 .unigram. or 2 .bigram., got 3"),
    (dict(vocab_size=0), ValueError, "vocab_size must be a positive integer, got 0"),
    (dict(vocab_size=3.0), TypeError, "vocab_size must be a positive integer, got float 3.0"),
    (dict(tokens=np.array([0.0, 1.0])), ValueError, "tokens must be a 1-D integer array"),
    (dict(tokens=np.zeros((2, 2), int)), ValueError, r"tokens must be a 1-D integer array, got shape \(2, 2\)"),
    (dict(tokens=np.array([0, 3])), ValueError, r"tokens holds ids outside \[0, 3\): min 0, max 3"),
    (dict(tokens=np.array([-1, 0])), ValueError, r"tokens holds ids outside \[0, 3\): min -1"),
])
def test_ngram_counts_errors(kwargs, error, message):
    args = dict(tokens=np.array([0, 1, 2]), vocab_size=3, order=1) | kwargs
    with pytest.raises(error, match=message):
        lm.ngram_counts(**args)


@pytest.mark.parametrize("kwargs, message", [
    (dict(smoothing=0.0), "smoothing must be > 0 .add-k counts., got 0.0"),
    (dict(smoothing=-1.0), "smoothing must be > 0"),
    (dict(test=np.array([], dtype=np.int64)), "test is empty"),
    (dict(test=np.array([])), "test must be a 1-D integer array"),        # floats
    (dict(test=np.array([0, 5])), r"test holds ids outside \[0, 3\)"),
    (dict(train=np.array([0, 5])), r"tokens holds ids outside \[0, 3\)"),
    (dict(order=0), "order must be 1"),
])
def test_ngram_loss_errors(kwargs, message):
    args = dict(train=np.array([0, 1, 2]), test=np.array([0, 1]), vocab_size=3, order=2) | kwargs
    with pytest.raises(ValueError, match=message):
        lm.ngram_loss(**args)


# --- bigram_sample -----------------------------------------------------------------------------

TEXT = "the cat sat on the mat and the rat ran at the cat"
VOCAB = lm.CharVocab.from_text(TEXT)
TRAIN = VOCAB.encode(TEXT + TEXT[0])          # cyclic: every character has a successor


def test_bigram_sample_with_tiny_smoothing_only_draws_seen_pairs():
    seen = set(zip(TRAIN[:-1].tolist(), TRAIN[1:].tolist()))
    start = VOCAB.index["t"]
    for seed in range(3):
        out = lm.bigram_sample(TRAIN, len(VOCAB), start, 200, seed=seed, smoothing=1e-12)
        assert len(out) == 200 and all(0 <= t < len(VOCAB) for t in out)
        pairs = set(zip([start] + out[:-1], out))
        assert pairs <= seen, pairs - seen
    # with a lot of smoothing some pairs never seen in training come up
    out = lm.bigram_sample(TRAIN, len(VOCAB), start, 200, seed=0, smoothing=100.0)
    assert not set(zip([start] + out[:-1], out)) <= seen


def test_bigram_sample_follows_a_deterministic_text():
    train = np.array([0, 1, 2, 3] * 10)
    assert lm.bigram_sample(train, 4, 1, 6, smoothing=1e-12) == [2, 3, 0, 1, 2, 3]


def test_bigram_sample_is_seeded():
    a = lm.bigram_sample(TRAIN, len(VOCAB), 0, 50, seed=3)
    assert a == lm.bigram_sample(TRAIN, len(VOCAB), 0, 50, seed=3)
    assert a != lm.bigram_sample(TRAIN, len(VOCAB), 0, 50, seed=4)


def test_bigram_sample_stops_after_drawing_stop():
    space = VOCAB.index[" "]
    for seed in range(5):
        out = lm.bigram_sample(TRAIN, len(VOCAB), VOCAB.index["t"], 100, seed=seed, smoothing=1e-12, stop=space)
        assert out[-1] == space and space not in out[:-1] and len(out) < 100
    # a stop that never follows anything in the training text is never drawn: the full length
    out = lm.bigram_sample(np.array([0, 1] * 5), 3, 0, 9, smoothing=1e-12, stop=2)
    assert out == [1, 0, 1, 0, 1, 0, 1, 0, 1]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(length=0), ValueError, "length must be a positive integer, got 0"),
    (dict(length=2.5), TypeError, "length must be a positive integer, got float"),
    (dict(start=3), ValueError, r"start must lie in \[0, 3\), got 3"),
    (dict(start=-1), ValueError, r"start must lie in \[0, 3\), got -1"),
    (dict(smoothing=0.0), ValueError, "smoothing must be > 0 .add-k counts., got 0.0"),
    (dict(train=np.array([0, 7])), ValueError, r"train holds ids outside \[0, 3\)"),
])
def test_bigram_sample_errors(kwargs, error, message):
    args = dict(train=np.array([0, 1, 2, 0]), vocab_size=3, start=0, length=5) | kwargs
    with pytest.raises(error, match=message):
        lm.bigram_sample(**args)


# --- distinct_ngrams ---------------------------------------------------------------------------

def test_distinct_ngrams():
    assert lm.distinct_ngrams("abcd", 1) == 1.0 and lm.distinct_ngrams("abcd", 2) == 1.0
    assert lm.distinct_ngrams("aaaa", 1) == pytest.approx(1 / 4)
    assert lm.distinct_ngrams("aaaa", 2) == pytest.approx(1 / 3)       # aa, aa, aa
    assert lm.distinct_ngrams("abab", 2) == pytest.approx(2 / 3)       # ab, ba, ab
    assert lm.distinct_ngrams([3, 1, 3, 1], 2) == pytest.approx(2 / 3)  # ids as well as characters
    assert lm.distinct_ngrams(np.array([5, 5, 5]), 3) == 1.0            # one 3-gram
    assert lm.distinct_ngrams("the the the the", 4) < 0.5


def test_distinct_ngrams_errors():
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        lm.distinct_ngrams("abc", 0)
    with pytest.raises(ValueError, match="2 tokens hold no 3-gram; generate at least 3 tokens"):
        lm.distinct_ngrams("ab", 3)
    with pytest.raises(ValueError, match="0 tokens hold no 1-gram"):
        lm.distinct_ngrams("", 1)


# --- training compute --------------------------------------------------------------------------

def test_training_flops_is_six_n_d():
    assert lm.training_flops(1e6, 2e9) == pytest.approx(1.2e16)
    assert lm.training_flops(124_000_000, 300e9) == pytest.approx(6 * 124e6 * 300e9)
    assert isinstance(lm.training_flops(3, 5), float) and lm.training_flops(3, 5) == 90.0


def test_days_to_train():
    assert lm.SECONDS_PER_DAY == 24 * 3600
    assert lm.days_to_train(86_400e12, 1e12) == pytest.approx(1.0)              # 1 TFLOP/s for a day
    assert lm.days_to_train(86_400e12, 1e12, devices=4) == pytest.approx(0.25)
    # GPT-3-like: 6 * 175e9 * 300e9 FLOPs on 1000 devices at 100 TFLOP/s
    flops = lm.training_flops(175e9, 300e9)
    assert lm.days_to_train(flops, 100e12, devices=1000) == pytest.approx(flops / 1e17 / 86_400)


@pytest.mark.parametrize("args", [(0, 10), (10, 0), (-1, 10), (float("nan"), 10)])
def test_training_flops_errors(args):
    with pytest.raises(ValueError, match="parameters and tokens must be > 0, got"):
        lm.training_flops(*args)


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((0.0, 1e12), {}, ValueError, "flops and flops_per_second must be > 0, got 0.0 and"),
    ((1e18, -1.0), {}, ValueError, "flops and flops_per_second must be > 0, got 1e.18 and -1.0"),
    ((1e18, 1e12), dict(devices=0), ValueError, "devices must be a positive integer, got 0"),
    ((1e18, 1e12), dict(devices=2.0), TypeError, "devices must be a positive integer, got float 2.0"),
])
def test_days_to_train_errors(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        lm.days_to_train(*args, **kwargs)


def test_importing_lm_does_not_import_tensorflow_or_keras():
    code = "import sys, course_lib.lm; print(any(m in sys.modules for m in ('tensorflow', 'keras')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_bigram_sample_draws_from_the_bigram_table():
    # the same draws as sampling rows of the full (V, V) table of ngram_counts
    counts = lm.ngram_counts(TRAIN, len(VOCAB), 2) + 1.0
    table = counts / counts.sum(axis=1, keepdims=True)
    rng, token, expected = np.random.default_rng(5), 0, []
    for _ in range(40):
        token = int(rng.choice(len(VOCAB), p=table[token]))
        expected.append(token)
    assert lm.bigram_sample(TRAIN, len(VOCAB), 0, 40, seed=5) == expected
