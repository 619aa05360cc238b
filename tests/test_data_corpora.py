"""course_lib.data.corpora: Tiny Shakespeare, the Tang poems (mirror tarball or 58 downloaded JSON files),
the quatrain filter; fake mirrors and caches, and the real mirror when COURSE_DATA_DIR is set."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import tarfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from mirror import need, private_cache
from course_lib.data import corpora, fetch
from course_lib.data.corpora import load_tang_poems, load_tiny_shakespeare, quatrain_form_ok, tang_quatrains
from course_lib.data.fetch import ChecksumMismatchError, DatasetNotAvailableError, locate
from course_lib.data.registry import REGISTRY, DatasetSpec, FileSpec
from course_lib.data.status import dataset_status

data_env = private_cache("course_cache_corpora")

TANG = REGISTRY["tang_poems"]
TANG_NAMES = [f"poet.tang.{n}.json" for n in range(0, 58_000, 1000)]
JING_YE_SI = "牀前看月光，疑是地上霜。舉頭望山月，低頭思故鄉。"  # Li Bai, as in 全唐诗 (poem 8125)
ZAO_FA = "朝辭白帝彩雲間，千里江陵一日還。兩岸猨聲啼不盡，輕舟已過萬重山。"  # Li Bai, as in 全唐诗 (poem 8680)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def poem(paragraphs: list[str], title: str = "題", **extra) -> dict:
    return {"author": "無名氏", "paragraphs": paragraphs, "title": title, "id": f"id-{title}", **extra}


# ------------------------------------------------------------------ fake Tang poems

# Where the poems sit is chosen so that reading the files in name order (0, 1000, 10000, ..., 2000)
# or in tarball order (written reversed below) gives a different list than N order.
FAKE_CONTENT = {
    "poet.tang.0.json": [poem(["秦川雄帝宅，函谷壯皇居。", "綺殿千尋起，離宮百雉餘。"], "帝京篇")],
    "poet.tang.2000.json": [poem([JING_YE_SI[:12], JING_YE_SI[12:]], "靜夜思", tags=["五言绝句"]),
                            poem(["長生藥，本是五行作。"], "望江南")],
    "poet.tang.10000.json": [poem([ZAO_FA[:16], ZAO_FA[16:]], "早發白帝城")],
    "poet.tang.57000.json": [poem(["□□看月光，疑是地上霜。", "舉頭望山月，低頭思故鄉。"], "殘")],
}
FAKE_ORDER = ["帝京篇", "靜夜思", "望江南", "早發白帝城", "殘"]


def fake_files(content: dict[str, list] | None = None) -> dict[str, bytes]:
    content = FAKE_CONTENT if content is None else content
    return {name: json.dumps(content.get(name, []), ensure_ascii=False).encode("utf-8") for name in TANG_NAMES}


def fake_tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in [("LICENSE", b"MIT")] + list(reversed(files.items())):
            info = tarfile.TarInfo(f"tang-poems/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def fake_spec(files: dict[str, bytes], tarball: bytes, url_root: Path | None = None) -> DatasetSpec:
    """The real tang_poems spec with the fake files' hashes (and file:// URLs into ``url_root``)."""
    downloads = tuple(dataclasses.replace(d, sha256=sha(files[d.filename]), size=len(files[d.filename]),
                                          urls=((url_root / d.filename).as_uri(),) if url_root else d.urls)
                      for d in TANG.downloads)
    return dataclasses.replace(TANG, files=(FileSpec(TANG.files[0].name, sha(tarball), len(tarball)),),
                               downloads=downloads)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty mirror (COURSE_DATA_DIR) and an empty cache, downloads forbidden."""
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    mirror.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(cache))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    return mirror, cache


def use_spec(monkeypatch, spec: DatasetSpec) -> None:
    """Make the loaders look up ``spec`` instead of the registry's entry of the same name."""
    monkeypatch.setattr(corpora, "locate", lambda name, **kw: fetch.locate(spec if name == spec.name else name, **kw))


def test_fake_mirror_tarball_gives_the_poems_in_file_number_order(env, monkeypatch):
    mirror, cache = env
    files = fake_files()
    tarball = fake_tarball(files)
    (mirror / TANG.folder).mkdir()
    (mirror / TANG.folder / TANG.files[0].name).write_bytes(tarball)
    use_spec(monkeypatch, fake_spec(files, tarball))
    poems = load_tang_poems()
    assert [p["title"] for p in poems] == FAKE_ORDER
    assert poems[1] == FAKE_CONTENT["poet.tang.2000.json"][0]  # every key kept, tags included
    assert not (cache / "tang_poems").exists(), "a mirror hit must not write to the cache"


def test_fake_download_layout_gives_the_same_poems_as_the_tarball(env, monkeypatch):
    mirror, cache = env
    files = fake_files()
    tarball = fake_tarball(files)
    spec = fake_spec(files, tarball)
    use_spec(monkeypatch, spec)
    (mirror / TANG.folder).mkdir()
    (mirror / TANG.folder / TANG.files[0].name).write_bytes(tarball)
    from_tarball = load_tang_poems()
    (mirror / TANG.folder / TANG.files[0].name).unlink()
    (cache / "tang_poems").mkdir(parents=True)
    for name, data in files.items():
        (cache / "tang_poems" / name).write_bytes(data)
    assert locate(spec).layout == "download"
    from_files = load_tang_poems()
    assert from_files == from_tarball
    assert [p["title"] for p in from_files] == FAKE_ORDER


def test_fake_download_fetches_the_58_files_and_verifies_them(env, monkeypatch, tmp_path):
    mirror, cache = env
    monkeypatch.delenv("COURSE_OFFLINE")
    files = fake_files()
    www = tmp_path / "www"
    www.mkdir()
    for name, data in files.items():
        (www / name).write_bytes(data)
    use_spec(monkeypatch, fake_spec(files, fake_tarball(files), url_root=www))
    poems = load_tang_poems()
    assert [p["title"] for p in poems] == FAKE_ORDER
    assert sorted(p.name for p in (cache / "tang_poems").iterdir()) == sorted(TANG_NAMES)
    (www / "poet.tang.57000.json").write_bytes(b"[]")  # changed upstream: refused, nothing kept
    (cache / "tang_poems" / "poet.tang.57000.json").unlink()
    with pytest.raises(ChecksumMismatchError, match="poet.tang.57000.json"):
        load_tang_poems()
    assert not (cache / "tang_poems" / "poet.tang.57000.json").exists()


def test_a_tarball_without_a_file_or_with_a_bad_file_is_rejected(env, monkeypatch):
    mirror, _ = env
    (mirror / TANG.folder).mkdir()
    files = fake_files()
    short = fake_tarball({k: v for k, v in files.items() if k != "poet.tang.31000.json"})
    (mirror / TANG.folder / TANG.files[0].name).write_bytes(short)
    use_spec(monkeypatch, fake_spec(files, short))
    with pytest.raises(ValueError, match=r"missing under tang-poems/: poet\.tang\.31000\.json"):
        load_tang_poems()
    bad = fake_tarball({**files, "poet.tang.5000.json": b'{"not": "a list"}'})
    (mirror / TANG.folder / TANG.files[0].name).write_bytes(bad)
    use_spec(monkeypatch, fake_spec(files, bad))
    with pytest.raises(ValueError, match=r"poet\.tang\.5000\.json: expected a JSON list"):
        load_tang_poems()


# ------------------------------------------------------------------ checksums and missing data (real specs)

def test_a_mirror_file_with_the_wrong_bytes_is_refused(env):
    mirror, _ = env
    (mirror / "chinese-poetry").mkdir()
    (mirror / "chinese-poetry" / "quantangshi_tang.tar.gz").write_bytes(fake_tarball(fake_files()))
    (mirror / "tinyshakespeare").mkdir()
    (mirror / "tinyshakespeare" / "input.txt").write_text("First Citizen:\nBefore we proceed any further\n")
    with pytest.raises(ChecksumMismatchError, match=TANG.files[0].sha256):
        load_tang_poems()
    with pytest.raises(ChecksumMismatchError, match=REGISTRY["tiny_shakespeare"].files[0].sha256):
        load_tiny_shakespeare()


def test_cached_downloads_with_the_wrong_bytes_are_not_used(env):
    _, cache = env
    (cache / "tang_poems").mkdir(parents=True)
    for name, data in fake_files().items():
        (cache / "tang_poems" / name).write_bytes(data)
    with pytest.raises(DatasetNotAvailableError, match="wrong or unknown sha256 for poet.tang.0.json"):
        load_tang_poems()


def test_missing_datasets_name_the_variable_and_the_urls(env):
    mirror, cache = env
    with pytest.raises(DatasetNotAvailableError) as info:
        load_tiny_shakespeare()
    message = str(info.value)
    for needle in (f"COURSE_DATA_DIR={mirror}", "tinyshakespeare/ with input.txt", "COURSE_OFFLINE=1",
                   "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
                   str(cache / "tiny_shakespeare")):
        assert needle in message, f"{needle!r} missing from:\n{message}"
    with pytest.raises(DatasetNotAvailableError) as info:
        load_tang_poems()
    message = str(info.value)
    root = ("https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/"
            f"99ebbef7e1345c0985c44b9fd96a3f9e776f117b/{quote('全唐诗')}/")
    for needle in (f"COURSE_DATA_DIR={mirror}", "chinese-poetry/ with quantangshi_tang.tar.gz",
                   root + "poet.tang.0.json", root + "poet.tang.57000.json"):
        assert needle in message, f"{needle!r} missing from:\n{message}"


def test_status_lists_the_corpora_and_checks_cached_downloads(env):
    _, cache = env
    (cache / "tang_poems").mkdir(parents=True)
    for name, data in fake_files().items():
        (cache / "tang_poems" / name).write_bytes(data)
    rows = {r["name"]: r for r in dataset_status(verify=True)}
    assert rows["tiny_shakespeare"]["where"] == "missing"
    assert rows["tang_poems"]["where"] == f"cache {cache / 'tang_poems'}"
    assert rows["tang_poems"]["verified"] is False


# ------------------------------------------------------------------ quatrain form

@pytest.mark.parametrize("text", [
    JING_YE_SI, ZAO_FA,
    "𠀀前看月光，疑是地上霜。舉頭望山月，低頭思故﨑。",  # Extension B and a compatibility ideograph
])
def test_quatrain_form_accepts(text):
    assert quatrain_form_ok(text)
    assert tang_quatrains([poem([text])]) == [text]


@pytest.mark.parametrize("text, why", [
    ("牀前看月光。疑是地上霜，舉頭望山月。低頭思故鄉，", "。，。， order"),
    ("牀前看月光，疑是地上霜，舉頭望山月，低頭思故鄉。", "，，，。"),
    ("牀前看月光，疑是地上霜。舉頭望山月，低頭思故鄉？", "？ line end"),
    ("牀前看月光,疑是地上霜.舉頭望山月,低頭思故鄉.", "half-width punctuation"),
    ("牀前看月光，疑是地上霜。舉頭望山月，低頭思故鄉。。", "doubled 。"),
    ("牀前看月光，疑是地上霜。舉頭望山月，", "3 lines"),
    ("牀前看月光，疑是地上霜。", "2 lines"),
    (JING_YE_SI * 2, "8 lines (a regulated verse)"),
    ("牀前看月，疑是地上霜。舉頭望山月，低頭思故鄉。", "4-5-5-5 characters"),
    ("牀前看月光，疑是地上霜。舉頭望山月明，低頭思故鄉月。", "5-5-6-6 characters"),
    ("牀前看月，疑是地上霜月。舉頭望山月，低頭思故鄉。", "4-6-5-5 characters, right total length"),
    ("□前看月光，疑是地上霜。舉頭望山月，低頭思故鄉。", "□ (lost character)"),
    ("牀前看月光，疑是地上霜。舉頭望山月，低頭思故A。", "Latin letter"),
    ("牀前看月光，疑是地上霜。舉頭望山月，低頭思故1。", "digit"),
    ("牀前看月光，疑是地上〇。舉頭望山月，低頭思故鄉。", "〇 is not a CJK ideograph"),
    ("牀前（一作看）月光，疑是地上霜。舉頭望山月，低頭思故鄉。", "note in brackets"),
    ("牀前看月光，疑是地上霜。\n舉頭望山月，低頭思故鄉。", "newline"),
    (JING_YE_SI + " ", "trailing space"),
    ("", "empty"),
])
def test_quatrain_form_rejects(text, why):
    assert not quatrain_form_ok(text), why
    assert tang_quatrains([poem([text])]) == [], why


def test_quatrain_line_lengths():
    four = "春眠不覺，處處聞鳥。夜來風雨，花落多少。"
    assert not quatrain_form_ok(four) and quatrain_form_ok(four, (4,)) and quatrain_form_ok(four, [4, 5])
    assert quatrain_form_ok(ZAO_FA, (7,)) and not quatrain_form_ok(ZAO_FA, (5,))
    assert quatrain_form_ok(JING_YE_SI, (5,)) and not quatrain_form_ok(JING_YE_SI, (7,))
    poems = [poem([JING_YE_SI]), poem([ZAO_FA[:8], ZAO_FA[8:16], ZAO_FA[16:24], ZAO_FA[24:]]), poem([four])]
    assert tang_quatrains(poems) == [JING_YE_SI, ZAO_FA]  # paragraphs are joined, order kept
    assert tang_quatrains(poems, (7,)) == [ZAO_FA]
    assert tang_quatrains(poems, (4, 5)) == [JING_YE_SI, four]
    assert tang_quatrains(poems + poems, (5,)) == [JING_YE_SI, JING_YE_SI]  # duplicates kept


@pytest.mark.parametrize("line_lengths, error", [
    ((), ValueError), ([], ValueError), ((0,), ValueError), ((5, -7), ValueError),
    ((5.0,), TypeError), ((True,), TypeError), (5, TypeError), ("57", TypeError), (None, TypeError),
])
def test_bad_line_lengths_raise_before_any_data_is_read(env, line_lengths, error):
    with pytest.raises(error, match="line_lengths must be a non-empty tuple of positive integers"):
        tang_quatrains(None, line_lengths)  # no dataset in this env: the argument is checked first
    with pytest.raises(error, match="line_lengths"):
        quatrain_form_ok(JING_YE_SI, line_lengths)


@pytest.mark.parametrize("poems, match", [
    (JING_YE_SI, "poems must be a list of poem dicts"),
    (poem([JING_YE_SI]), "poems must be a list of poem dicts"),
    (42, "poems must be a list of poem dicts"),
    ([[JING_YE_SI]], "poems must hold poem dicts .* at index 0"),
    ([poem([JING_YE_SI]), {"title": "no text"}], "poem 1 must have 'paragraphs'"),
    ([poem(JING_YE_SI)], "poem 0 must have 'paragraphs', a list of str"),
    ([poem([JING_YE_SI, 3])], "poem 0 must have 'paragraphs', a list of str"),
])
def test_bad_poems_raise(poems, match):
    with pytest.raises(TypeError, match=match):
        tang_quatrains(poems)


@pytest.mark.parametrize("text", [None, 123, b"\xe7\x89\x80", [JING_YE_SI]])
def test_quatrain_form_needs_a_str(text):
    with pytest.raises(TypeError, match="text must be a str"):
        quatrain_form_ok(text)


# ------------------------------------------------------------------ the real mirror

def readme_quatrain_count(texts: list[str], n: int) -> int:
    """The rule behind the mirror README's 3 985 / 10 584: split at ，。？！；, four pieces of n characters."""
    def ok(text: str) -> bool:
        pieces = [p for p in re.split("[，。？！；]", text) if p]
        return len(pieces) == 4 and all(len(p) == n for p in pieces)
    return sum(ok(t) for t in texts)


@pytest.fixture(scope="module")
def tang_timed():
    need("tang_poems")
    start = time.perf_counter()
    poems = load_tang_poems()
    return poems, time.perf_counter() - start


def test_tiny_shakespeare():
    need("tiny_shakespeare")
    text = load_tiny_shakespeare()
    assert isinstance(text, str) and len(text) == 1_115_394
    assert len(set(text)) == 65 and text.isascii() and "\r" not in text
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert sha(text.encode("utf-8")) == REGISTRY["tiny_shakespeare"].files[0].sha256


def test_tang_poems(tang_timed):
    poems, seconds = tang_timed
    assert len(poems) == 57_607
    assert all({"author", "title", "paragraphs", "id"} <= set(p) for p in poems)
    assert sum("tags" in p for p in poems) == 4132 and sum("notes" in p for p in poems) == 21
    assert (poems[0]["author"], poems[0]["title"]) == ("太宗皇帝", "帝京篇十首 一")
    assert (poems[8125]["author"], poems[8125]["title"], "".join(poems[8125]["paragraphs"])) == \
        ("李白", "靜夜思", JING_YE_SI)
    assert poems[-1]["title"] == "陶隱居望江南 一"
    text = "".join("".join(p["paragraphs"]) for p in poems)
    assert (len(text), len(set(text))) == (3_668_082, 9_588)  # the figures in the mirror's README
    print(f"load_tang_poems cold: {seconds:.2f} s")
    assert seconds < 5, "the parse is not cached because it is fast; if it is not, cache it"


def test_tang_quatrain_counts(tang_timed):
    poems, _ = tang_timed
    five, seven, both = tang_quatrains(poems, (5,)), tang_quatrains(poems, (7,)), tang_quatrains(poems)
    assert (len(five), len(seven), len(both), len(set(both))) == (3903, 10_492, 14_395, 14_020)
    assert JING_YE_SI in five and ZAO_FA in seven
    assert all(quatrain_form_ok(q) for q in both)
    assert sorted(both) == sorted(five + seven)
    texts = ["".join(p["paragraphs"]) for p in poems]
    assert [t for t in texts if quatrain_form_ok(t)] == both
    # The README's looser count, and every strict quatrain among those it counts.
    assert (readme_quatrain_count(texts, 5), readme_quatrain_count(texts, 7)) == (3985, 10_584)
    assert readme_quatrain_count(five, 5) == len(five) and readme_quatrain_count(seven, 7) == len(seven)


def test_tang_quatrains_loads_the_poems_itself(tang_timed):
    poems, _ = tang_timed
    assert tang_quatrains(line_lengths=(5,)) == tang_quatrains(poems, (5,))


def test_real_download_layout_gives_the_same_poems(tang_timed, tmp_path, monkeypatch):
    """The 58 real JSON files in the cache (checked against the registry's table) read like the tarball."""
    poems, _ = tang_timed
    loc = locate("tang_poems")
    if loc.layout == "mirror":
        files = dict(zip(TANG_NAMES, corpora._read_tang_tarball(loc[TANG.files[0].name], TANG_NAMES), strict=True))
    else:
        files = {name: loc[name].read_bytes() for name in TANG_NAMES}
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    (tmp_path / "tang_poems").mkdir()
    for name, data in files.items():
        (tmp_path / "tang_poems" / name).write_bytes(data)
    again = locate("tang_poems")
    assert (again.where, again.layout) == ("cache", "download")
    assert load_tang_poems() == poems


def test_real_tiny_shakespeare_from_the_cache(tmp_path, monkeypatch):
    need("tiny_shakespeare")
    data = locate("tiny_shakespeare")["input.txt"].read_bytes()
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    (tmp_path / "tiny_shakespeare").mkdir()
    (tmp_path / "tiny_shakespeare" / "input.txt").write_bytes(data)
    assert locate("tiny_shakespeare").where == "cache"
    assert load_tiny_shakespeare() == data.decode("utf-8")
