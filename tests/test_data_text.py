"""course_lib.data.text against the mirror: IMDB, SST-2, rt-polarity, ChnSentiCorp, waimai_10k."""

from __future__ import annotations

import io
import tarfile
import time

import numpy as np
import pytest

from mirror import need, private_cache
from course_lib.data import text as text_mod
from course_lib.data.text import (load_chnsenticorp, load_imdb, load_rt_polarity, load_sst2,
                                  load_waimai)


data_env = private_cache("course_cache_text")


def check_texts(texts: np.ndarray, labels: np.ndarray, n: int) -> None:
    assert isinstance(texts, np.ndarray) and texts.dtype == object and texts.shape == (n,)
    assert all(isinstance(t, str) and t for t in texts)
    assert labels.dtype == np.int64 and labels.shape == (n,)
    assert set(np.unique(labels)) <= {0, 1}


@pytest.fixture(scope="module")
def imdb_timed():
    need("imdb")
    start = time.perf_counter()
    first = load_imdb()
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    second = load_imdb()
    return first, second, first_s, time.perf_counter() - start


def test_imdb_splits_and_balance(imdb_timed):
    ((x_train, y_train), (x_test, y_test)), _, _, _ = imdb_timed
    check_texts(x_train, y_train, 25_000)
    check_texts(x_test, y_test, 25_000)
    assert np.bincount(y_train).tolist() == [12_500, 12_500]
    assert np.bincount(y_test).tolist() == [12_500, 12_500]
    assert 0.3 < y_train[:100].mean() < 0.7, "classes should be mixed, not sorted"
    assert len(set(x_train) & set(x_test)) < 200  # a few duplicate reviews exist across splits
    assert any("<br />" in t for t in x_train[:200])  # raw text, tags kept


def test_imdb_second_load_is_cached_and_identical(imdb_timed):
    first, second, first_s, second_s = imdb_timed
    for (xa, ya), (xb, yb) in zip(first, second, strict=True):
        assert np.array_equal(ya, yb) and (xa == xb).all()
    assert second_s < first_s
    print(f"IMDB first load {first_s:.1f}s, cached {second_s:.2f}s")


def test_imdb_parser_skips_unlabelled_reviews(tmp_path):
    path = tmp_path / "aclImdb_v1.tar.gz"
    members = {"aclImdb/train/pos/1_9.txt": "great", "aclImdb/train/neg/2_1.txt": "awful",
               "aclImdb/train/unsup/3_0.txt": "no label", "aclImdb/test/pos/4_8.txt": "fine é",
               "aclImdb/test/neg/5_2.txt": "bad", "aclImdb/imdb.vocab": "the"}
    with tarfile.open(path, "w:gz") as tar:
        for name, body in members.items():
            data = body.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    arrays = text_mod._parse_imdb_tar(path)
    assert sorted(text_mod._unpack(arrays["train_text"], 2)) == ["awful", "great"]
    assert sorted(arrays["train_label"].tolist()) == [0, 1]
    assert sorted(text_mod._unpack(arrays["test_text"], 2)) == ["bad", "fine é"]


def test_sst2():
    need("sst2")
    splits = load_sst2()
    for (texts, labels), n, pos in zip(splits, (6920, 872, 1821), (3610, 444, 909), strict=True):
        check_texts(texts, labels, n)
        assert int(labels.sum()) == pos
    assert splits[1][0][0] == "one long string of cliches ."


def test_rt_polarity():
    need("rt_polarity")
    texts, labels = load_rt_polarity()
    check_texts(texts, labels, 10_662)
    assert np.bincount(labels).tolist() == [5331, 5331]
    assert not any("\n" in t for t in texts)
    assert any("é" in t for t in texts)  # latin-1 decoded
    assert any("\x97" in t for t in texts), "control characters stay inside their sentence"
    assert 0.3 < labels[:100].mean() < 0.7


def test_chnsenticorp_drops_the_empty_review():
    need("chnsenticorp")
    texts, labels = load_chnsenticorp()
    check_texts(texts, labels, 7765)  # the CSV has 7 766 rows, one without a review
    assert text_mod.LAST_DROPPED["chnsenticorp"] == 1
    assert np.bincount(labels).tolist() == [2443, 5322]
    all_texts, all_labels = load_chnsenticorp(drop_empty=False)
    assert len(all_texts) == 7766 and (all_texts == "").sum() == 1
    assert text_mod.LAST_DROPPED["chnsenticorp"] == 0
    assert any("酒店" in t for t in texts)


def test_waimai():
    need("waimai_10k")
    texts, labels = load_waimai()
    check_texts(texts, labels, 11_987)
    assert np.bincount(labels).tolist() == [7987, 4000]
    assert text_mod.LAST_DROPPED["waimai_10k"] == 0
