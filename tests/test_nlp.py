"""Tests of course_lib.nlp: the NumPy attention references against Keras, and the BERT loaders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from course_lib import nlp

os.environ.setdefault("HF_HUB_OFFLINE", "1")


# --- softmax and scaled dot-product attention -------------------------------------------------

def test_softmax_rows_sum_to_one_and_survive_large_inputs():
    x = np.array([[1000.0, 1001.0, 1002.0], [-5.0, 0.0, 5.0]])
    s = nlp.softmax(x)
    assert np.allclose(s.sum(axis=-1), 1.0)
    assert np.all(np.isfinite(s))
    assert np.allclose(s[0], nlp.softmax([0.0, 1.0, 2.0]))  # shift invariance


def test_softmax_rejects_scalar():
    with pytest.raises(ValueError, match="scalar"):
        nlp.softmax(3.0)


def test_attention_matches_hand_computation():
    q = np.array([[1.0, 0.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0]])
    v = np.array([[10.0], [20.0]])
    out, w = nlp.scaled_dot_product_attention(q, k, v)
    scores = np.array([1.0, 0.0]) / np.sqrt(2.0)
    expected_w = np.exp(scores) / np.exp(scores).sum()
    assert np.allclose(w[0], expected_w)
    assert np.allclose(out[0, 0], expected_w @ np.array([10.0, 20.0]))
    assert w.shape == (1, 2) and out.shape == (1, 1)


def test_attention_single_key_returns_value():
    out, w = nlp.scaled_dot_product_attention([[0.1, 0.2]], [[0.6, 0.7]], [[1.0, 0.5, 0.2]])
    assert np.allclose(w, 1.0)
    assert np.allclose(out, [[1.0, 0.5, 0.2]])


def test_attention_mask_zeroes_masked_keys():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    mask = np.array([True, True, False, True, False])
    out, w = nlp.scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.all(w[:, ~mask] == 0)
    assert np.allclose(w.sum(-1), 1.0)
    ref_out, _ = nlp.scaled_dot_product_attention(q, k[mask], v[mask])
    assert np.allclose(out, ref_out)


def test_attention_batched_leading_dims():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 3, 4, 8)), rng.standard_normal((2, 3, 6, 8)), rng.standard_normal((2, 3, 6, 5))
    out, w = nlp.scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 4, 5) and w.shape == (2, 3, 4, 6)
    single, _ = nlp.scaled_dot_product_attention(q[1, 2], k[1, 2], v[1, 2])
    assert np.allclose(out[1, 2], single)


@pytest.mark.parametrize("q,k,v,match", [
    (np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 1)), "same feature size"),
    (np.ones((2, 3)), np.ones((4, 3)), np.ones((2, 1)), "same length"),
    (np.ones(3), np.ones((4, 3)), np.ones((4, 1)), "at least 2 dimensions"),
    (np.full((2, 3), np.nan), np.ones((4, 3)), np.ones((4, 1)), "NaN"),
])
def test_attention_rejects_bad_shapes(q, k, v, match):
    with pytest.raises(ValueError, match=match):
        nlp.scaled_dot_product_attention(q, k, v)


def test_attention_rejects_non_numbers():
    with pytest.raises(TypeError, match="array of numbers"):
        nlp.scaled_dot_product_attention([["a", "b"]], [[1.0, 2.0]], [[1.0]])


def test_attention_rejects_bad_masks():
    q = k = v = np.ones((3, 2))
    with pytest.raises(ValueError, match="does not broadcast"):
        nlp.scaled_dot_product_attention(q, k, v, mask=np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="every key masked"):
        nlp.scaled_dot_product_attention(q, k, v, mask=np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0]]))


# --- multi-head attention against Keras ------------------------------------------------------

def _keras_mha(weights, d_model, heads, key_dim, value_dim=None):
    import keras

    layer = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim, value_dim=value_dim)
    dummy = np.zeros((1, 2, d_model), "float32")
    layer(dummy, dummy)
    layer.set_weights(weights)
    return layer


@pytest.mark.parametrize("heads,key_dim,value_dim", [(1, 4, None), (3, 5, None), (2, 4, 6)])
def test_multi_head_attention_matches_keras(heads, key_dim, value_dim):
    d_model, batch, t_q, t_k = 8, 2, 4, 5
    rng = np.random.default_rng(heads)
    query = rng.standard_normal((batch, t_q, d_model)).astype("float32")
    value = rng.standard_normal((batch, t_k, d_model)).astype("float32")
    weights = nlp.random_mha_weights(d_model, heads, key_dim, value_dim, seed=3)
    layer = _keras_mha(weights, d_model, heads, key_dim, value_dim)
    mask = np.ones((batch, t_q, t_k), bool)
    mask[1, :, 3:] = False
    keras_out, keras_w = layer(query, value, attention_mask=mask, return_attention_scores=True)
    out, w = nlp.multi_head_attention(query, value, weights, mask=mask)
    assert out.shape == (batch, t_q, d_model) and w.shape == (batch, heads, t_q, t_k)
    assert np.max(np.abs(np.asarray(keras_out) - out)) < 1e-5
    assert np.max(np.abs(np.asarray(keras_w) - w)) < 1e-6
    assert np.all(w[1, :, :, 3:] == 0)


def test_multi_head_attention_separate_key_matches_keras():
    import keras

    d_model, heads, key_dim = 6, 2, 3
    rng = np.random.default_rng(7)
    q, v, k = (rng.standard_normal((1, n, d_model)).astype("float32") for n in (3, 4, 4))
    weights = nlp.random_mha_weights(d_model, heads, key_dim, seed=9)
    layer = _keras_mha(weights, d_model, heads, key_dim)
    expected = np.asarray(layer(q, v, key=k))
    out, _ = nlp.multi_head_attention(q, v, weights, key=k)
    assert np.max(np.abs(expected - out)) < 1e-5
    # and a wrong weight would be noticed
    broken = list(weights)
    broken[7] = broken[7] + 1.0
    assert np.max(np.abs(expected - nlp.multi_head_attention(q, v, broken, key=k)[0])) > 0.5
    assert isinstance(layer, keras.layers.MultiHeadAttention)


def test_multi_head_attention_rejects_bad_weights():
    x = np.ones((1, 3, 4))
    good = nlp.random_mha_weights(4, 2, 3)
    with pytest.raises(TypeError, match="get_weights"):
        nlp.multi_head_attention(x, x, "weights")
    with pytest.raises(ValueError, match="8 arrays"):
        nlp.multi_head_attention(x, x, good[:6])
    with pytest.raises(ValueError, match="query kernel"):
        nlp.multi_head_attention(np.ones((1, 3, 5)), np.ones((1, 3, 5)), good)
    bad_out = list(good)
    bad_out[6] = np.ones((2, 3, 5))
    with pytest.raises(ValueError, match="output kernel"):
        nlp.multi_head_attention(x, x, bad_out)
    bad_key = list(good)
    bad_key[2] = np.ones((4, 2, 2))
    with pytest.raises(ValueError, match="disagree"):
        nlp.multi_head_attention(x, x, bad_key)
    bad_value = list(good)
    bad_value[4] = np.ones((4, 3, 3))
    with pytest.raises(ValueError, match="value kernel"):
        nlp.multi_head_attention(x, x, bad_value)
    with pytest.raises(ValueError, match="share"):
        nlp.multi_head_attention(x, np.ones((2, 3, 4)), good)


def test_random_mha_weights_shapes_and_errors():
    w = nlp.random_mha_weights(8, 2, 4, value_dim=5, seed=1)
    assert [a.shape for a in w] == [(8, 2, 4), (2, 4), (8, 2, 4), (2, 4), (8, 2, 5), (2, 5), (2, 5, 8), (8,)]
    assert all(a.dtype == np.float32 for a in w)
    assert np.array_equal(w[0], nlp.random_mha_weights(8, 2, 4, value_dim=5, seed=1)[0])
    with pytest.raises(ValueError, match="num_heads"):
        nlp.random_mha_weights(8, 0, 4)
    with pytest.raises(TypeError, match="d_model"):
        nlp.random_mha_weights(8.0, 2, 4)
    with pytest.raises(TypeError, match="key_dim"):
        nlp.random_mha_weights(8, 2, True)
    with pytest.raises(ValueError, match="scale"):
        nlp.random_mha_weights(8, 2, 4, scale=-1.0)


# --- pretrained BERT loading -----------------------------------------------------------------

def test_default_bert_folder_holds_a_checkpoint():
    folder = nlp.default_bert_folder()
    assert (folder / "config.json").is_file() and (folder / "vocab.txt").is_file()


def test_resolve_preset(tmp_path: Path):
    assert nlp.resolve_preset(None) == str(nlp.default_bert_folder())
    assert nlp.resolve_preset(tmp_path) == str(tmp_path.resolve())
    assert nlp.resolve_preset("bert_tiny_en_uncased") == "bert_tiny_en_uncased"
    assert nlp.resolve_preset("hf://google-bert/bert-base-uncased").startswith("hf://")
    with pytest.raises(ValueError, match="not a folder"):
        nlp.resolve_preset(tmp_path / "missing")
    with pytest.raises(ValueError, match="not a folder"):
        nlp.resolve_preset("./no/such/checkpoint")
    with pytest.raises(ValueError, match="empty"):
        nlp.resolve_preset("  ")
    with pytest.raises(TypeError, match="preset_or_folder"):
        nlp.resolve_preset(42)


def test_load_bert_classifier_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        nlp.load_bert_classifier(num_classes=1)
    with pytest.raises(TypeError, match="num_classes"):
        nlp.load_bert_classifier(num_classes=2.0)
    with pytest.raises(ValueError, match="sequence_length"):
        nlp.load_bert_classifier(sequence_length=1000)
    with pytest.raises(TypeError, match="preprocessor"):
        nlp.load_bert_classifier(preprocessor=None)
    with pytest.raises(ValueError, match="not a folder"):
        nlp.load_bert_classifier("/no/such/folder")


def test_tokenizer_is_wordpiece():
    tok = nlp.load_bert_tokenizer()
    pieces = [tok.id_to_token(int(i)) for i in tok("unbelievably good")]
    assert pieces[-1] == "good" and any(p.startswith("##") for p in pieces)
    assert tok.vocabulary_size() == 30522


def test_load_bert_classifier_offline_gives_logits_and_pretrained_weights():
    from safetensors import safe_open

    clf = nlp.load_bert_classifier(num_classes=3, sequence_length=16)
    logits = np.asarray(clf.predict(["a fine film", "a dreadful film"], verbose=0))
    assert logits.shape == (2, 3) and np.all(np.isfinite(logits))
    assert clf.backbone.num_layers == 6 and clf.backbone.hidden_dim == 384
    with safe_open(str(nlp.default_bert_folder() / "model.safetensors"), "np") as f:
        word_embeddings = f.get_tensor("embeddings.word_embeddings.weight")
    loaded = np.asarray(clf.backbone.token_embedding.embeddings)
    assert np.allclose(loaded, word_embeddings, atol=1e-6)  # really the pretrained checkpoint
    token_ids = np.asarray(clf.preprocessor(["a fine film"])["token_ids"])
    assert token_ids.shape == (1, 16)
