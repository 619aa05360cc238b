"""Language-modelling corpora: Tiny Shakespeare and the Complete Tang Poems (全唐诗).

- :func:`load_tiny_shakespeare`: the whole of Tiny Shakespeare as one ``str``, for
  character-level language models (char-rnn, nanoGPT's ``shakespeare_char``).
- :func:`load_tang_poems`: the 57 607 poems of 全唐诗 as dicts, as in chinese-poetry's JSON files.
- :func:`tang_quatrains`, :func:`quatrain_form_ok`: the regular quatrains (绝句) among them, and
  the same form check on one string (to score generated poems).

Both datasets are plain files verified by :func:`~course_lib.data.fetch.locate`; parsing them takes
well under a second, so nothing derived is cached.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._validate import check_shape
from .fetch import Located, locate

__all__ = ["load_tiny_shakespeare", "load_tang_poems", "tang_quatrains", "quatrain_form_ok"]

_TANG_MEMBER_DIR = "tang-poems/"

# CJK ideographs: Unified (basic block and Extensions A to I) and Compatibility Ideographs.
# Not included: 〇 (U+3007), punctuation, □ and ○ placeholders, brackets, Latin letters, digits,
# Ideographic Description Characters (⿰...), radicals and private-use characters.
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F), (0x30000, 0x323AF))
_LINE_ENDS = ("，", "。", "，", "。")


# --------------------------------------------------------------------------- Tiny Shakespeare

def load_tiny_shakespeare() -> str:
    """Tiny Shakespeare (karpathy/char-rnn ``input.txt``): the whole text, decoded as UTF-8.

    The file's bytes are returned unchanged (no newline translation): 1 115 394 characters
    (all ASCII, 65 distinct, ``\\n`` line ends), starting with ``"First Citizen:"``. There is no
    train/validation split in the file; nanoGPT takes the first 90 % for training.
    """
    path = locate("tiny_shakespeare")["input.txt"]
    return path.read_bytes().decode("utf-8")


# --------------------------------------------------------------------------- Tang poems

def _parse_tang_json(data: bytes, where: str) -> list[dict[str, Any]]:
    """The poems of one ``poet.tang.<N>.json`` file, checked to be a list of poem objects."""
    try:
        poems = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{where}: not a UTF-8 JSON file ({exc})") from exc
    if not isinstance(poems, list):
        raise ValueError(f"{where}: expected a JSON list of poems, got {type(poems).__name__}")
    for i, poem in enumerate(poems):
        if not (isinstance(poem, dict) and isinstance(poem.get("paragraphs"), list)):
            raise ValueError(f"{where}: poem {i} is not an object with a 'paragraphs' list")
    return poems


def _read_tang_tarball(path: Path, filenames: list[str]) -> list[bytes]:
    """The bytes of ``tang-poems/<filename>`` for each name, in the order of ``filenames``."""
    wanted = {_TANG_MEMBER_DIR + name: name for name in filenames}
    found: dict[str, bytes] = {}
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            name = wanted.get(member.name.removeprefix("./"))
            if name is not None and member.isfile():
                found[name] = tar.extractfile(member).read()
    missing = [name for name in filenames if name not in found]
    if missing:
        raise ValueError(f"{path}: members missing under {_TANG_MEMBER_DIR}: {', '.join(missing)}")
    return [found[name] for name in filenames]


def _read_tang_poems(loc: Located) -> list[dict[str, Any]]:
    """Parse the poems from either layout: the mirror tarball or the downloaded JSON files."""
    filenames = [d.filename for d in loc.spec.downloads]  # poet.tang.0.json, ...1000..., in N order
    if loc.layout == "mirror":
        tarball = loc[loc.spec.files[0].name]
        blobs = _read_tang_tarball(tarball, filenames)
        wheres = [f"{tarball}:{_TANG_MEMBER_DIR}{name}" for name in filenames]
    else:
        blobs = [loc[name].read_bytes() for name in filenames]
        wheres = [str(loc[name]) for name in filenames]
    poems: list[dict[str, Any]] = []
    for data, where in zip(blobs, wheres, strict=True):
        poems.extend(_parse_tang_json(data, where))
    return poems


def load_tang_poems() -> list[dict[str, Any]]:
    """全唐诗, the Complete Tang Poems (chinese-poetry/chinese-poetry), in traditional script.

    Every poem exactly as in the JSON files ``poet.tang.<N>.json``, in file order (N = 0, 1000,
    ..., 57000, ascending) and within a file in list order: 57 607 dicts with the keys
    ``author``, ``title``, ``paragraphs`` (list of ``str``; usually one couplet each, every line
    ending in ，or 。) and ``id``; 4 132 also carry ``tags`` and 21 ``notes``. Joined, the paragraphs
    hold 3 668 082 characters (9 588 distinct). Read from the mirror's tarball or, after a
    download, from the 58 JSON files in ``cache_dir()/tang_poems/``; both give the same list.
    A cold load takes about 0.3 s, so the parse is not cached; each call returns new dicts.
    """
    return _read_tang_poems(locate("tang_poems"))


# --------------------------------------------------------------------------- quatrains (绝句)

def _is_cjk_ideograph(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def _line_lengths(line_lengths: Any) -> frozenset[int]:
    lengths = check_shape("line_lengths", line_lengths,
                          expected="a non-empty tuple of positive integers (characters per line), e.g. (5, 7)")
    if not lengths:
        raise ValueError("line_lengths must be a non-empty tuple of positive integers (characters per line), "
                         f"e.g. (5, 7), got {line_lengths!r}")
    return frozenset(lengths)  # type: ignore[arg-type]


def _quatrain_line_length(text: str) -> int | None:
    """n when ``text`` is four lines of n CJK ideographs ending in ，。，。; else None."""
    n, rest = divmod(len(text), 4)
    if rest or n < 2:
        return None
    line = n - 1
    for i, end in enumerate(_LINE_ENDS):
        start = i * n
        if text[start + line] != end or not all(_is_cjk_ideograph(c) for c in text[start:start + line]):
            return None
    return line


def quatrain_form_ok(text: str, line_lengths: tuple[int, ...] = (5, 7)) -> bool:
    """True when ``text`` has the form of a regular quatrain (绝句), as :func:`tang_quatrains` keeps.

    The form: exactly four lines, each a run of CJK ideographs followed by one punctuation mark,
    the marks being ，。，。 in that order; all four lines the same number of characters, that number
    in ``line_lengths``; nothing else (no spaces, newlines, other punctuation, □, brackets,
    Latin letters or digits). Tones and rhymes are not checked. Example:
    ``"床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。"`` is a five-character quatrain.

    Args:
        text: one poem, e.g. a generated one.
        line_lengths: the accepted characters per line (5: 五言绝句, 7: 七言绝句).

    Raises:
        TypeError: ``text`` is not a ``str``, or ``line_lengths`` is not a tuple/list of integers.
        ValueError: ``line_lengths`` is empty or holds a number below 1.
    """
    lengths = _line_lengths(line_lengths)
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__} {text!r:.60}")
    return _quatrain_line_length(text) in lengths


def _poem_text(poem: Any, index: int) -> str:
    if not isinstance(poem, Mapping):
        raise TypeError(f"poems must hold poem dicts (as load_tang_poems returns), got "
                        f"{type(poem).__name__} at index {index}")
    paragraphs = poem.get("paragraphs")
    if not isinstance(paragraphs, (list, tuple)) or not all(isinstance(p, str) for p in paragraphs):
        raise TypeError(f"poem {index} must have 'paragraphs', a list of str, got {paragraphs!r:.60}")
    return "".join(paragraphs)


def tang_quatrains(poems: Iterable[Mapping[str, Any]] | None = None,
                   line_lengths: tuple[int, ...] = (5, 7)) -> list[str]:
    """The regular quatrains (绝句) among the Tang poems, each as one string.

    A poem is kept when its text (``"".join(poem["paragraphs"])``) passes
    :func:`quatrain_form_ok`: four lines of the same length n in ``line_lengths``, each of CJK
    ideographs only and ending in ，。，。 in turn. Poems with □ (lost characters), brackets,
    notes, variant readings, ？！； line ends or mixed line lengths are dropped. The order is the
    order of ``poems``; duplicates are kept. E.g. Li Bai's 靜夜思 (poem 8125) is kept as
    ``"牀前看月光，疑是地上霜。舉頭望山月，低頭思故鄉。"``.

    On the 57 607 poems of :func:`load_tang_poems` this keeps **3 903** five-character and
    **10 492** seven-character quatrains (14 395 in all, 14 020 distinct texts). The mirror's
    README announces 3 985 and 10 584: those are the poems whose text, split at every ，。？！；
    with the empty pieces dropped, gives exactly four pieces of 5 (or 7) characters of any kind.
    Every poem kept here is among them; the 174 others (82 five-, 92 seven-character) are dropped
    because 69 end in a doubled 。。, 15 have their ， and 。 in another order, 63 have a line
    ending in ？ and 4 in ；, 21 hold a □ (a lost character) and 2 another non-ideograph
    (● and a private-use character).

    Args:
        poems: poem dicts with a ``paragraphs`` list (default: :func:`load_tang_poems`).
        line_lengths: the accepted characters per line (5: 五言绝句, 7: 七言绝句).

    Raises:
        TypeError: a poem is not a mapping with a ``paragraphs`` list of ``str``, or
            ``line_lengths`` is not a tuple/list of integers.
        ValueError: ``line_lengths`` is empty or holds a number below 1.
    """
    lengths = _line_lengths(line_lengths)
    if poems is None:
        poems = load_tang_poems()
    elif isinstance(poems, (str, bytes, Mapping)) or not isinstance(poems, Iterable):
        raise TypeError(f"poems must be a list of poem dicts (as load_tang_poems returns) or None, "
                        f"got {type(poems).__name__}")
    out = []
    for index, poem in enumerate(poems):
        text = _poem_text(poem, index)
        if _quatrain_line_length(text) in lengths:
            out.append(text)
    return out
