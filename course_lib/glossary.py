"""The bilingual glossary ``docs/glossary.md``, generated from the chapters' key terms (``course glossary``).

Each chapter's title cell (its first cell) has a paragraph such as::

    **Key terms.** convolution (卷积), max pooling (最大池化), stride (步幅).

:func:`key_terms` reads it: comma-separated items, each exactly ``english term (中文)``, the paragraph
ending at a blank line. :func:`render_glossary` makes the Markdown table (English, 中文, the chapter that
introduces the term, i.e. the first chapter listing it, and the later chapters listing it);
:func:`glossary_problems` says whether the file on disk is missing, stale or lacks a notebook's term.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["KeyTerm", "GlossaryEntry", "key_terms_paragraph", "parse_key_terms", "key_terms",
           "notebook_key_terms", "collect", "render_glossary", "glossary_rows", "glossary_problems",
           "write_glossary"]

KEY_TERMS = "**Key terms.**"
_PARAGRAPH_RE = re.compile(r"\*\*Key terms\.\*\*(?P<body>.*?)(?:\n[ \t]*\n|\Z)", re.S)
_ITEM_RE = re.compile(r"(?P<english>[^()]*?)\s*\((?P<chinese>[^()]*)\)")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ROW_RE = re.compile(r"^\|\s*(?P<english>[^|]+?)\s*\|\s*(?P<chinese>[^|]+?)\s*\|")


@dataclass(frozen=True)
class KeyTerm:
    """One key term of one notebook."""

    english: str
    chinese: str
    notebook: str


@dataclass
class GlossaryEntry:
    """One row of the glossary: the first chapter listing the term, and the others."""

    english: str
    chinese: str
    notebook: str
    also: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)   # other Chinese renderings used by later chapters


def key_terms_paragraph(text: str) -> str | None:
    """The text after ``**Key terms.**`` up to the next blank line, or None when there is none."""
    match = _PARAGRAPH_RE.search(text)
    return None if match is None else match.group("body")


def parse_key_terms(paragraph: str, notebook: str) -> list[KeyTerm]:
    """The items of a Key terms paragraph; ``ValueError`` naming the notebook and the malformed item."""
    body = " ".join(paragraph.split())
    if body.endswith("."):
        body = body[:-1].rstrip()
    if not body:
        raise ValueError(f"{notebook}: the **Key terms.** paragraph lists no terms")
    terms = []
    for position, raw in enumerate(body.split(","), 1):
        item = raw.strip()
        where = f"{notebook}: key term {position} {item!r}"
        if not item:
            raise ValueError(f"{notebook}: key term {position} is empty (two commas in a row, or a comma at the end)")
        match = _ITEM_RE.fullmatch(item)
        if match is None or "|" in item:
            raise ValueError(f"{where} is not of the form `english term (中文)` (one pair of parentheses at the "
                             "end, no nested parentheses, no comma inside an item)")
        english, chinese = match.group("english").strip(), match.group("chinese").strip()
        if not english:
            raise ValueError(f"{where} has no English term before the parentheses")
        if not _CJK_RE.search(chinese):
            raise ValueError(f"{where}: the part in parentheses must be the Chinese term "
                             "(it has no Chinese characters)")
        terms.append(KeyTerm(english=english, chinese=chinese, notebook=notebook))
    return terms


def key_terms(title: str, notebook: str) -> list[KeyTerm]:
    """The key terms of a title cell's text; [] when it has no ``**Key terms.**`` paragraph."""
    paragraph = key_terms_paragraph(title)
    return [] if paragraph is None else parse_key_terms(paragraph, notebook)


def notebook_key_terms(path: Path) -> list[KeyTerm]:
    """The key terms in the title cell (first cell) of the notebook at ``path``."""
    from course_lib.handout import read_notebook

    cells = read_notebook(Path(path))["cells"]
    if not cells:
        return []
    source = cells[0].get("source", "")
    return key_terms("".join(source) if isinstance(source, list) else source, Path(path).stem)


def collect(paths: list[Path]) -> list[GlossaryEntry]:
    """One entry per term (compared case-insensitively), in the order the notebooks are given."""
    entries: dict[str, GlossaryEntry] = {}
    for path in paths:
        for term in notebook_key_terms(Path(path)):
            key = term.english.casefold()
            entry = entries.get(key)
            if entry is None:
                entries[key] = GlossaryEntry(term.english, term.chinese, term.notebook)
                continue
            if term.notebook != entry.notebook and term.notebook not in entry.also:
                entry.also.append(term.notebook)
            if term.chinese != entry.chinese and term.chinese not in entry.variants:
                entry.variants.append(term.chinese)
    return sorted(entries.values(), key=lambda e: (e.english.casefold(), e.english))


def _link(notebook: str, links: dict[str, str]) -> str:
    return f"[{notebook}]({links[notebook]})" if notebook in links else notebook


def render_glossary(paths: list[Path], output: Path) -> str:
    """The glossary's Markdown, links to the notebooks relative to the folder of ``output``."""
    paths = [Path(p) for p in paths]
    links = {p.stem: Path(os.path.relpath(p.resolve(), Path(output).resolve().parent)).as_posix() for p in paths}
    entries = collect(paths)
    chapters = sorted({e.notebook for e in entries} | {n for e in entries for n in e.also})
    lines = [
        "# Glossary · 术语表",
        "",
        "Every key term of the course in English and Chinese, with the chapter that introduces it (the first",
        "chapter whose title cell lists it) and the later chapters that list it again. This file is generated",
        "from the **Key terms.** paragraph of each notebook's title cell by `course glossary`: edit the",
        "notebooks, not this file. `course glossary --check` says whether it is current.",
        "",
        f"{len(entries)} terms from {len(chapters)} chapters.",
        "",
        "| English | 中文 | introduced in | also in |",
        "|---|---|---|---|",
    ]
    for entry in entries:
        chinese = " / ".join([entry.chinese, *entry.variants])
        also = ", ".join(_link(n, links) for n in entry.also)
        lines.append(f"| {entry.english} | {chinese} | {_link(entry.notebook, links)} | {also} |")
    return "\n".join(lines) + "\n"


def glossary_rows(text: str) -> dict[str, set[str]]:
    """English term (case-folded) -> the Chinese renderings, read back from a glossary's table."""
    rows: dict[str, set[str]] = {}
    for line in text.splitlines():
        match = _ROW_RE.match(line)
        if match is None or set(match.group("english")) <= {"-", " "} or match.group("english") == "English":
            continue
        rows.setdefault(match.group("english").casefold(), set()).update(
            part.strip() for part in match.group("chinese").split(" / "))
    return rows


def glossary_problems(paths: list[Path], output: Path) -> list[str]:
    """Why the glossary at ``output`` is not current for ``paths``; [] when it is."""
    output = Path(output)
    if not output.is_file():
        return [f"{output.name} does not exist (run `course glossary`)"]
    text = output.read_text(encoding="utf-8")
    rows = glossary_rows(text)
    problems = []
    for path in paths:
        for term in notebook_key_terms(Path(path)):
            if term.chinese not in rows.get(term.english.casefold(), set()):
                problems.append(f"{term.notebook}'s key term {term.english} ({term.chinese}) is missing "
                                f"from {output.name}")
    if text != render_glossary(paths, output):
        problems.append(f"{output.name} is not what `course glossary` makes from the notebooks now "
                        "(run `course glossary`)")
    return problems


def write_glossary(paths: list[Path], output: Path) -> list[GlossaryEntry]:
    """Write the glossary to ``output``; returns its entries."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_glossary(paths, output), encoding="utf-8")
    return collect(paths)
