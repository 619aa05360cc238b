"""Text classification datasets as NumPy arrays of strings and ``int64`` labels.

Every loader returns texts as a 1-D NumPy array of dtype ``object`` holding Python ``str``
(fixed-width ``<U`` arrays would take gigabytes for IMDB) and labels as ``int64`` with
0 = negative, 1 = positive. ``tf.constant`` and ``keras.layers.TextVectorization`` accept them.
"""

from __future__ import annotations

import logging
import re
import tarfile
from pathlib import Path

import numpy as np

from ._util import SHUFFLE_SEED, fixed_permutation, load_arrays, save_arrays
from .fetch import cache_folder, locate

__all__ = ["load_imdb", "load_sst2", "load_rt_polarity", "load_chnsenticorp", "load_waimai",
           "LAST_DROPPED"]

log = logging.getLogger(__name__)

TextLabels = tuple[np.ndarray, np.ndarray]

#: Rows dropped by the last CSV load, by dataset name (ChnSentiCorp drops 1 empty review).
LAST_DROPPED: dict[str, int] = {}

_SEP = "\x00"
_IMDB_NAME = re.compile(r"^(?:\./)?aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def _texts(items: list[str]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _pack(texts: list[str]) -> np.ndarray:
    """Texts as one UTF-8 byte array joined by NUL (so the cache needs no pickle)."""
    if any(_SEP in t for t in texts):
        raise ValueError("a text contains a NUL character; cannot pack it")
    return np.frombuffer(_SEP.join(texts).encode("utf-8"), dtype=np.uint8)


def _unpack(blob: np.ndarray, count: int) -> np.ndarray:
    texts = blob.tobytes().decode("utf-8").split(_SEP) if count else []
    if len(texts) != count:
        raise ValueError(f"cached text blob holds {len(texts)} texts, expected {count}")
    return _texts(texts)


def _parse_imdb_tar(path: Path) -> dict[str, np.ndarray]:
    """Stream ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`` out of the tarball.

    Other members (``unsup``, vocabularies, URL lists) are skipped. Per split the reviews are
    sorted by label and id, then shuffled with a fixed seed so the classes are mixed.
    """
    found: dict[str, list[tuple[int, int, str]]] = {"train": [], "test": []}
    with tarfile.open(path, "r|*") as tar:
        for member in tar:
            match = _IMDB_NAME.match(member.name)
            if member.isfile() and match:
                split, polarity, review_id, _rating = match.groups()
                text = tar.extractfile(member).read().decode("utf-8")
                found[split].append((int(polarity == "pos"), int(review_id), text))
    arrays: dict[str, np.ndarray] = {}
    for split, items in found.items():
        items.sort(key=lambda t: (t[0], t[1]))
        order = fixed_permutation(len(items), SHUFFLE_SEED)
        arrays[f"{split}_text"] = _pack([items[i][2] for i in order])
        arrays[f"{split}_label"] = np.array([items[i][0] for i in order], dtype=np.int64)
    return arrays


def load_imdb() -> tuple[TextLabels, TextLabels]:
    """The IMDB Large Movie Review Dataset (Maas et al. 2011), raw review texts.

    Texts are as in the files (UTF-8, with the ``<br />`` tags left in). The parsed result is
    cached in ``cache_dir()/imdb/`` keyed by the tarball's sha256, so later loads are fast.

    Returns:
        ``(texts_train, y_train), (texts_test, y_test)``: 25 000 reviews per split (12 500 per
        class), labels ``int64`` 0 = negative, 1 = positive, classes mixed in a fixed order.
    """
    loc = locate("imdb")
    source = next(iter(loc.paths))
    folder = cache_folder(loc.spec, create=True) / f"parsed-{loc.layout}-{loc.source_hash(source)[:16]}"
    arrays = load_arrays(folder)
    if arrays is None:
        log.info("parsing IMDB reviews from %s (first time only)", loc[source])
        arrays = _parse_imdb_tar(loc[source])
        save_arrays(folder, arrays)
    out = []
    for split in ("train", "test"):
        labels = arrays[f"{split}_label"]
        out.append((_unpack(arrays[f"{split}_text"], len(labels)), labels))
    return out[0], out[1]


def _read_sst(path: Path) -> TextLabels:
    texts, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        label, _, sentence = line.partition(" ")
        if label not in ("0", "1") or not sentence:
            raise ValueError(f"{path}:{number}: expected '<0|1> <sentence>', got {line[:60]!r}")
        texts.append(sentence.strip())
        labels.append(int(label))
    return _texts(texts), np.array(labels, dtype=np.int64)


def load_sst2() -> tuple[TextLabels, TextLabels, TextLabels]:
    """SST-2, the binary sentence-level Stanford Sentiment Treebank (harvardnlp preprocessing:
    lower-cased, tokenised). Order as in the files.

    Returns:
        ``(train, dev, test)``, each ``(texts, labels)``: 6 920, 872 and 1 821 sentences,
        labels ``int64`` 0 = negative, 1 = positive.
    """
    loc = locate("sst2")
    train, dev, test = (_read_sst(loc[f"stsa.binary.{split}"]) for split in ("train", "dev", "test"))
    return train, dev, test


def _read_lines_latin1(path: Path) -> list[str]:
    # Split on "\n" only: some sentences hold other control characters (\x0b, \x0c, \x85...)
    # that str.splitlines() would treat as line breaks.
    text = path.read_bytes().decode("latin-1")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.strip() for line in lines]


def load_rt_polarity() -> TextLabels:
    """Movie review polarity sentences v1.0 (Pang and Lee 2005), decoded as latin-1.

    Returns:
        ``(texts, labels)``: 5 331 positive and 5 331 negative sentences, labels ``int64``
        0 = negative, 1 = positive, mixed with a fixed shuffle (there is no train/test split).
    """
    loc = locate("rt_polarity")
    neg = _read_lines_latin1(loc["rt-polarity.neg"])
    pos = _read_lines_latin1(loc["rt-polarity.pos"])
    texts = neg + pos
    labels = np.array([0] * len(neg) + [1] * len(pos), dtype=np.int64)
    order = fixed_permutation(len(texts), SHUFFLE_SEED)
    return _texts([texts[i] for i in order]), labels[order]


def _read_label_review_csv(name: str, filename: str, drop_empty: bool) -> TextLabels:
    import pandas as pd

    path = locate(name)[filename]
    frame = pd.read_csv(path, dtype={"label": "int64", "review": str}, keep_default_na=False,
                        encoding="utf-8")
    if list(frame.columns) != ["label", "review"]:
        raise ValueError(f"{path}: expected columns label,review, got {list(frame.columns)}")
    empty = frame["review"].str.strip() == ""
    LAST_DROPPED[name] = int(empty.sum()) if drop_empty else 0
    if drop_empty and empty.any():
        log.info("%s: dropped %d row(s) with an empty review", name, int(empty.sum()))
        frame = frame[~empty]
    return _texts(frame["review"].tolist()), frame["label"].to_numpy(dtype=np.int64)


def load_chnsenticorp(drop_empty: bool = True) -> TextLabels:
    """ChnSentiCorp hotel reviews (Chinese), from ``ChnSentiCorp_htl_all.csv``, in file order
    (the file lists the positive reviews first: shuffle before splitting).

    The CSV has 7 766 rows (5 322 positive, 2 444 negative); one has an empty review and is
    dropped unless ``drop_empty=False`` (then it is returned as ``""``), leaving 7 765. The number
    dropped is stored in ``LAST_DROPPED["chnsenticorp"]``.

    Returns:
        ``(texts, labels)``, labels ``int64`` 1 = positive, 0 = negative.
    """
    return _read_label_review_csv("chnsenticorp", "ChnSentiCorp_htl_all.csv", drop_empty)


def load_waimai(drop_empty: bool = True) -> TextLabels:
    """waimai_10k food-delivery reviews (Chinese), from ``waimai_10k.csv``, in file order
    (positives first: shuffle before splitting).

    11 987 rows (4 000 positive, 7 987 negative); none has an empty review, so none is dropped
    (``LAST_DROPPED["waimai_10k"] == 0``).

    Returns:
        ``(texts, labels)``, labels ``int64`` 1 = positive, 0 = negative.
    """
    return _read_label_review_csv("waimai_10k", "waimai_10k.csv", drop_empty)
