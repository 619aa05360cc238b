"""Tests of course_lib.gpt: parameter count, causality, the KV cache, generation, training windows,
learning and saving."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from keras import ops

from course_lib import gpt, lm, nlp

VOCAB, CONTEXT, WIDTH, DEPTH, HEADS = 11, 16, 32, 2, 4


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    m = gpt.GPT(vocab_size=VOCAB, context=CONTEXT, width=WIDTH, depth=DEPTH, heads=HEADS)
    m.build()
    return m


@pytest.fixture(scope="module")
def functions(model):
    return gpt.forward_functions(model)


def tokens(shape, seed=0):
    return np.random.default_rng(seed).integers(0, VOCAB, size=shape).astype("int32")


def logits_of(model, x):
    return np.asarray(ops.convert_to_numpy(model(x, training=False)))


def sample(logits, rng):
    """A seeded random pick from the softmax of the logits."""
    p = np.exp(logits - logits.max())
    return int(rng.choice(len(p), p=p / p.sum()))


# --- size and shape ----------------------------------------------------------------------------

@pytest.mark.parametrize("vocab, context, width, depth, heads", [
    (11, 16, 32, 2, 4), (5, 8, 16, 1, 1), (65, 12, 24, 3, 3), (2, 1, 16, 1, 2)])
def test_count_params_equals_parameter_count(vocab, context, width, depth, heads):
    m = gpt.GPT(vocab_size=vocab, context=context, width=width, depth=depth, heads=heads)
    m.build()
    assert m.count_params() == gpt.parameter_count(vocab, context, width, depth)
    assert m.count_params() == vocab * width + context * width + depth * (12 * width**2 + 13 * width) + 2 * width
    # weight tying: the output matrix is the token embedding, no extra weights
    assert len(m.weights) == 2 + depth * 12 + 2


def test_parameter_count_by_hand():
    # V=2, T=1, C=1, one block: embeddings 2 + 1, block 12 + 13, final norm 2
    assert gpt.parameter_count(2, 1, 1, 1) == 30


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")   # a 1-token sequence
def test_output_shape(model):
    for batch, time in ((1, 1), (3, 7), (2, CONTEXT)):
        out = logits_of(model, tokens((batch, time)))
        assert out.shape == (batch, time, VOCAB) and out.dtype == np.float32
        assert np.all(np.isfinite(out))


def test_untrained_model_is_close_to_uniform(model):
    x = tokens((4, CONTEXT), seed=1)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(x[:, 1:], logits_of(model, x)[:, :-1])
    assert float(loss) == pytest.approx(math.log(VOCAB), abs=0.1)


# --- causality ---------------------------------------------------------------------------------

@pytest.mark.parametrize("t", [0, 5, CONTEXT - 1])
def test_changing_token_t_changes_nothing_before_t(model, t):
    x = tokens((2, CONTEXT), seed=2)
    changed = x.copy()
    changed[:, t] = (changed[:, t] + 1) % VOCAB
    before, after = logits_of(model, x), logits_of(model, changed)
    np.testing.assert_array_equal(before[:, :t], after[:, :t])          # exactly: future tokens are invisible
    assert np.abs(before[:, t] - after[:, t]).max(axis=-1).min() > 1e-6   # the changed token itself matters
    if t + 1 < CONTEXT:
        assert np.abs(before[:, t + 1:] - after[:, t + 1:]).max() > 1e-6   # and so it does later on


def test_attention_layer_alone_is_causal():
    layer = gpt.CausalSelfAttention(16, 2)
    x = np.random.default_rng(3).normal(size=(1, 6, 16)).astype("float32")
    y = x.copy()
    y[:, 4] += 1.0
    a, b = np.asarray(layer(x)), np.asarray(layer(y))
    assert a.shape == (1, 6, 16)
    np.testing.assert_array_equal(a[:, :4], b[:, :4])
    assert not np.allclose(a[:, 4:], b[:, 4:])


def test_attention_layer_matches_a_numpy_reference():
    # per head: softmax(q k^T / sqrt(head_size)) v with a lower-triangular mask (course_lib.nlp's reference)
    width, heads, time = 16, 4, 6
    layer = gpt.CausalSelfAttention(width, heads)
    x = np.random.default_rng(4).normal(size=(2, time, width)).astype("float32")
    out = np.asarray(layer(x))
    w_qkv, b_qkv = (np.asarray(w, "float64") for w in layer.qkv.weights)
    w_proj, b_proj = (np.asarray(w, "float64") for w in layer.proj.weights)
    qkv = x @ w_qkv + b_qkv                                                    # (B, T, 3C): q | k | v
    size = width // heads
    q, k, v = (qkv[..., i * width:(i + 1) * width].reshape(2, time, heads, size).transpose(0, 2, 1, 3)
               for i in range(3))
    causal = np.tril(np.ones((time, time), bool))
    mixed, weights = nlp.scaled_dot_product_attention(q, k, v, mask=causal)
    np.testing.assert_array_equal(weights[..., ~causal], 0)
    expected = mixed.transpose(0, 2, 1, 3).reshape(2, time, width) @ w_proj + b_proj
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_attention_width_must_be_divisible_by_heads():
    with pytest.raises(ValueError, match=r"width \(30\) must be a multiple of heads \(4\)"):
        gpt.CausalSelfAttention(30, 4)
    with pytest.raises(ValueError, match=r"width \(30\) must be a multiple of heads \(4\)"):
        gpt.GPT(vocab_size=5, context=8, width=30, depth=1, heads=4)
    with pytest.raises(ValueError, match="heads must be a positive integer, got 0"):
        gpt.CausalSelfAttention(32, 0)


@pytest.mark.parametrize("name", ["vocab_size", "context", "width", "depth", "heads"])
def test_gpt_sizes_must_be_positive_integers(name):
    sizes = dict(vocab_size=5, context=8, width=16, depth=1, heads=2)
    with pytest.raises(ValueError, match=f"{name} must be a positive integer, got 0"):
        gpt.GPT(**(sizes | {name: 0}))
    with pytest.raises(TypeError, match=f"{name} must be a positive integer, got float"):
        gpt.GPT(**(sizes | {name: 2.0}))


def test_cached_attention_needs_an_index(model):
    with pytest.raises(ValueError, match="a cached call needs index"):
        model.blocks[0].attention(np.zeros((1, 1, WIDTH), "float32"), cache=model.empty_cache(1)[0])


# --- the KV cache ------------------------------------------------------------------------------

def test_cached_forward_token_by_token_matches_the_full_pass(model):
    x = tokens((2, CONTEXT), seed=4)
    full = logits_of(model, x)
    cache = model.empty_cache(2)
    assert tuple(cache.shape) == (DEPTH, 2, 2, HEADS, CONTEXT, WIDTH // HEADS)
    for t in range(CONTEXT):
        step, cache = model(x[:, t:t + 1], cache=cache, index=t)
        np.testing.assert_allclose(np.asarray(step)[:, 0], full[:, t], atol=1e-4, err_msg=f"position {t}")
    # the cache holds keys and values of every position now
    assert np.abs(np.asarray(cache)[:, :, :, :, -1]).max() > 0


def test_cached_forward_in_chunks_matches_the_full_pass(model):
    x = tokens((1, 12), seed=5)
    full = logits_of(model, x)
    first, cache = model(x[:, :5], cache=model.empty_cache(1), index=0)          # a prompt at once
    rest, cache = model(x[:, 5:], cache=cache, index=5)                          # then the others
    np.testing.assert_allclose(np.concatenate([np.asarray(first), np.asarray(rest)], axis=1), full, atol=1e-4)


@pytest.mark.parametrize("pick", [gpt.greedy, sample], ids=["greedy", "sampled"])
def test_generate_with_and_without_cache_agree(model, functions, pick):
    prompt = [3, 1, 4, 1, 5]
    new = CONTEXT - len(prompt)
    cached = gpt.generate(model, prompt, new, pick=pick, use_cache=True, seed=7, functions=functions)
    plain = gpt.generate(model, prompt, new, pick=pick, use_cache=False, seed=7, functions=functions)
    assert cached.tokens == plain.tokens
    assert cached.tokens[:len(prompt)] == prompt and len(cached.tokens) == CONTEXT
    assert cached.logits.shape == (new, VOCAB) and cached.logits.dtype == np.float32
    np.testing.assert_allclose(cached.logits, plain.logits, atol=1e-4)
    # the logits are those of the full forward pass over the generated sequence
    full = logits_of(model, np.array([cached.tokens[:-1]], "int32"))[0, len(prompt) - 1:]
    np.testing.assert_allclose(cached.logits, full, atol=1e-4)
    if pick is gpt.greedy:
        assert cached.tokens[len(prompt):] == [int(np.argmax(row)) for row in cached.logits]
    else:   # an untrained model is near uniform: sampling does not repeat one token
        assert len(set(cached.tokens[len(prompt):])) > 2
        other = gpt.generate(model, prompt, new, pick=pick, seed=8, functions=functions)
        assert other.tokens != cached.tokens
    assert cached.seconds > 0 and cached.tokens_per_second == pytest.approx(new / cached.seconds)


def test_generate_compiles_its_own_functions(model):
    result = gpt.generate(model, np.array([[2]]), 3)        # any shape of prompt, flattened
    assert len(result.tokens) == 4 and result.tokens[0] == 2


def test_greedy_is_argmax():
    assert gpt.greedy(np.array([0.1, 3.0, -1.0])) == 1
    assert isinstance(gpt.greedy(np.array([1.0, 0.0]), np.random.default_rng(0)), int)


@pytest.mark.parametrize("prompt, new, error, message", [
    ([], 3, ValueError, "prompt is empty"),
    ([1, 2], CONTEXT - 1, ValueError, rf"prompt \(2\) \+ new_tokens \({CONTEXT - 1}\) exceeds the model's context "
                                      rf"of {CONTEXT} tokens"),
    ([1, VOCAB], 2, ValueError, rf"prompt tokens must lie in \[0, {VOCAB}\)"),
    ([-1], 2, ValueError, rf"prompt tokens must lie in \[0, {VOCAB}\)"),
    ([1], 0, ValueError, "new_tokens must be a positive integer, got 0"),
    ([1], 2.0, TypeError, "new_tokens must be a positive integer, got float"),
])
def test_generate_errors(model, functions, prompt, new, error, message):
    with pytest.raises(error, match=message):
        gpt.generate(model, prompt, new, functions=functions)


# --- RandomWindows -----------------------------------------------------------------------------

def test_windows_are_slices_and_targets_are_shifted_by_one():
    data = np.random.default_rng(0).permutation(100)        # distinct tokens: the first one tells the start
    ds = gpt.RandomWindows(data, context=8, batch_size=5, steps=3, seed=0)
    assert len(ds) == 3
    for i in range(len(ds)):
        x, y = ds[i]
        assert x.shape == y.shape == (5, 8) and x.dtype == y.dtype == np.int32
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
        for row_x, row_y in zip(x, y):
            start = int(np.flatnonzero(data == row_x[0])[0])
            np.testing.assert_array_equal(row_x, data[start:start + 8])
            np.testing.assert_array_equal(row_y, data[start + 1:start + 9])


def test_windows_reach_the_last_token():
    # with context + 1 tokens there is exactly one window: the whole array
    x, y = gpt.RandomWindows(np.arange(9), context=8, batch_size=4, steps=1)[0]
    np.testing.assert_array_equal(x, np.tile(np.arange(8), (4, 1)))
    np.testing.assert_array_equal(y, np.tile(np.arange(1, 9), (4, 1)))
    # every start, the last one (10 - 8 - 1 = 1) included, comes up
    ds = gpt.RandomWindows(np.arange(10), context=8, batch_size=64, steps=1)
    assert set(ds[0][0][:, 0].tolist()) == {0, 1}


def test_windows_are_reproducible_and_new_every_epoch():
    data = np.arange(1000)
    a = gpt.RandomWindows(data, 16, 8, steps=4, seed=1)
    b = gpt.RandomWindows(data, 16, 8, steps=4, seed=1)
    np.testing.assert_array_equal(a[2][0], b[2][0])
    np.testing.assert_array_equal(a[2][0], a[2][0])                      # same index, same batch
    assert not np.array_equal(a[0][0], a[1][0])                           # another index, another batch
    assert not np.array_equal(a[0][0], gpt.RandomWindows(data, 16, 8, steps=4, seed=2)[0][0])
    first = a[0][0]
    a.on_epoch_end()
    assert a.epoch == 1 and not np.array_equal(a[0][0], first)
    b.on_epoch_end()
    np.testing.assert_array_equal(a[0][0], b[0][0])


@pytest.mark.parametrize("data, kwargs, error, message", [
    (np.arange(8), {}, ValueError, "8 tokens are too few for windows of 8 . 1"),
    (np.zeros((4, 20), int), {}, ValueError, r"tokens must be a 1-D integer array, got shape \(4, 20\)"),
    (np.linspace(0, 1, 50), {}, ValueError, "tokens must be a 1-D integer array, got shape .50,. dtype float64"),
    (np.arange(50), dict(context=0), ValueError, "context must be a positive integer, got 0"),
    (np.arange(50), dict(batch_size=0), ValueError, "batch_size must be a positive integer, got 0"),
    (np.arange(50), dict(steps=1.5), TypeError, "steps must be a positive integer, got float"),
])
def test_windows_errors(data, kwargs, error, message):
    args = dict(context=8, batch_size=2, steps=1) | kwargs
    with pytest.raises(error, match=message):
        gpt.RandomWindows(data, **args)


# --- learning and saving -----------------------------------------------------------------------

def test_gpt_learns_a_periodic_text_it_needs_context_for():
    # Each character comes twice: after "a" comes "a" or "b", depending on the character before.
    # A bigram model scores ln 2 per token; a causal model that attends to the previous token
    # gets the whole text right. (A model whose mask lets it see the future also drives its
    # training loss down, by copying the next token, but then it cannot generate the text.)
    text = "aabbccdd" * 64
    vocab = lm.CharVocab.from_text(text)
    ids = vocab.encode(text)
    size = len(vocab)
    bigram = lm.ngram_loss(ids, ids, size, 2, smoothing=1e-6)
    assert bigram == pytest.approx(math.log(2), abs=0.01)
    keras.utils.set_random_seed(0)
    m = gpt.GPT(vocab_size=size, context=16, width=32, depth=1, heads=2)
    m.compile(optimizer=keras.optimizers.Adam(0.01),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = gpt.RandomWindows(ids, 16, 16, 1, seed=99)[0]
    assert m.evaluate(x, y, verbose=0) == pytest.approx(math.log(size), abs=0.1)   # a uniform guess at first
    history = m.fit(gpt.RandomWindows(ids, 16, 16, steps=300, seed=0), epochs=1, verbose=0)
    assert history.history["loss"][-1] < 0.3 * math.log(size)
    assert m.evaluate(x, y, verbose=0) < 0.3 * bigram                                  # unseen windows
    # honest next-token prediction: the model continues the text from a few characters
    prompt = ids[3:7].tolist()
    result = gpt.generate(m, prompt, 12)
    assert vocab.decode(result.tokens) == text[3:19]
    truth = ids[7:19]
    log_p = result.logits - np.log(np.exp(result.logits).sum(axis=1, keepdims=True))
    assert -log_p[np.arange(12), truth].mean() < 0.5 * bigram


def test_saved_and_reloaded_model_gives_the_same_logits(model, tmp_path):
    path = tmp_path / "gpt.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, gpt.GPT)
    assert (loaded.vocab_size, loaded.context, loaded.width, loaded.depth, loaded.heads) \
        == (VOCAB, CONTEXT, WIDTH, DEPTH, HEADS)
    assert loaded.count_params() == model.count_params()
    x = tokens((2, CONTEXT), seed=6)
    np.testing.assert_array_equal(logits_of(loaded, x), logits_of(model, x))
    assert gpt.generate(loaded, [1, 2], 4).tokens == gpt.generate(model, [1, 2], 4).tokens


def test_layers_round_trip_through_their_config():
    block = gpt.Block(16, 2, dropout=0.1, name="b")
    again = gpt.Block.from_config(block.get_config())
    assert (again.width, again.heads, again.dropout_rate, again.name) == (16, 2, 0.1, "b")
    attention = gpt.CausalSelfAttention.from_config(gpt.CausalSelfAttention(16, 4, 0.2).get_config())
    assert (attention.width, attention.heads, attention.head_size, attention.dropout_rate) == (16, 4, 4, 0.2)
