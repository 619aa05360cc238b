"""The bilingual glossary: the Key terms parser, the generated table, and docs/glossary.md against the notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_lib import cli, glossary
from course_lib.glossary import KeyTerm, glossary_problems, key_terms, parse_key_terms, render_glossary

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
GLOSSARY = ROOT / "docs" / "glossary.md"


def test_parse_items_across_lines_with_final_full_stop():
    title = ("# 05 · CNNs\n\nIntro.\n\n**Key terms.** convolution (卷积), max\npooling (最大池化),\n"
             "top-k sampling (top-k 采样), stride (步幅).\n\n**Time.** FAST: 40 s.")
    assert key_terms(title, "05_cnn") == [
        KeyTerm("convolution", "卷积", "05_cnn"), KeyTerm("max pooling", "最大池化", "05_cnn"),
        KeyTerm("top-k sampling", "top-k 采样", "05_cnn"), KeyTerm("stride", "步幅", "05_cnn")]


def test_no_key_terms_paragraph_gives_no_terms():
    assert key_terms("# 00 · Set-up\n\nKey terms: softmax (归一化指数函数).", "00_setup") == []


@pytest.mark.parametrize("body, pattern", [
    ("convolution (卷积), softmax, stride (步幅).", "05_x: key term 2 'softmax' is not of the form"),
    ("recurrent neural network, RNN (循环神经网络).", "05_x: key term 1 'recurrent neural network' is not"),
    ("padding (填充) and mask (掩码).", "05_x: key term 1 'padding \\(填充\\) and mask \\(掩码\\)' is not"),
    ("attention (注意力 (机制)).", "05_x: key term 1 .* is not of the form"),
    ("cell (单元 | 格).", "05_x: key term 1 .* is not of the form"),
    ("(卷积), stride (步幅).", "05_x: key term 1 '\\(卷积\\)' has no English term"),
    ("stride (stride).", "05_x: key term 1 'stride \\(stride\\)': the part in parentheses must be the Chinese"),
    ("stride (步幅),, pooling (池化).", "05_x: key term 2 is empty"),
    ("stride (步幅), pooling (池化),", "05_x: key term 3 is empty"),
    (" .", "05_x: the \\*\\*Key terms.\\*\\* paragraph lists no terms"),
])
def test_malformed_items_name_the_notebook_and_item(body, pattern):
    with pytest.raises(ValueError, match=pattern):
        parse_key_terms(body, "05_x")


def _notebook(path: Path, title: str) -> Path:
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": title}], "metadata": {}, "nbformat": 4,
          "nbformat_minor": 5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def two_chapters(tmp_path):
    a = _notebook(tmp_path / "notebooks" / "02_a.ipynb",
                  "# 02\n\n**Key terms.** gradient (梯度), Softmax (归一化指数).")
    b = _notebook(tmp_path / "notebooks" / "04_b.ipynb",
                  "# 04\n\n**Key terms.** dropout (丢弃法), softmax (软最大), gradient (梯度).\n\nMore.")
    return [a, b], tmp_path / "docs" / "glossary.md"


def test_render_first_chapter_introduces_and_later_ones_are_listed(two_chapters):
    paths, out = two_chapters
    text = render_glossary(paths, out)
    assert "| dropout | 丢弃法 | [04_b](../notebooks/04_b.ipynb) |  |" in text
    assert "| gradient | 梯度 | [02_a](../notebooks/02_a.ipynb) | [04_b](../notebooks/04_b.ipynb) |" in text
    assert ("| Softmax | 归一化指数 / 软最大 | [02_a](../notebooks/02_a.ipynb) | [04_b](../notebooks/04_b.ipynb) |"
            in text)
    rows = [line.split(" | ")[0] for line in text.splitlines() if line.startswith("| ") and "[" in line]
    assert rows == ["| dropout", "| gradient", "| Softmax"]                     # alphabetical, case-insensitive
    assert "3 terms from 2 chapters." in text


def test_check_finds_missing_stale_and_absent_glossary(two_chapters, capsys):
    paths, out = two_chapters
    assert glossary_problems(paths, out) == ["glossary.md does not exist (run `course glossary`)"]
    glossary.write_glossary(paths, out)
    assert glossary_problems(paths, out) == []
    out.write_text(out.read_text(encoding="utf-8").replace("| dropout | 丢弃法 |", "| drop-out | 丢弃法 |"),
                   encoding="utf-8")
    problems = glossary_problems(paths, out)
    assert problems[0] == "04_b's key term dropout (丢弃法) is missing from glossary.md"
    assert "is not what `course glossary` makes" in problems[-1]
    glossary.write_glossary(paths, out)
    out.write_text(out.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    assert len(glossary_problems(paths, out)) == 1                                # stale, though no term is missing


def test_cli_glossary_writes_and_checks(tmp_path, capsys, monkeypatch):
    root = tmp_path / "proj"
    (root / "course_lib").mkdir(parents=True)
    (root / "pyproject.toml").write_text("", encoding="utf-8")
    _notebook(root / "notebooks" / "03_c.ipynb", "# 03\n\n**Key terms.** loss (损失).")
    monkeypatch.chdir(root)
    assert cli.main(["glossary", "--check"]) == 1
    assert "glossary.md does not exist" in capsys.readouterr().err
    assert cli.main(["glossary"]) == 0
    assert "1 key terms written to" in capsys.readouterr().out
    assert cli.main(["glossary", "--check"]) == 0
    _notebook(root / "notebooks" / "03_c.ipynb", "# 03\n\n**Key terms.** loss (损失), metric.")
    assert cli.main(["glossary", "--check"]) == 1
    assert "03_c: key term 2 'metric'" in capsys.readouterr().err


# ---------------------------------------------------------------- the course's glossary

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_key_term_of_the_notebook_is_in_the_glossary(path):
    terms = glossary.notebook_key_terms(path)
    assert GLOSSARY.is_file(), "docs/glossary.md does not exist (run `course glossary`)"
    rows = glossary.glossary_rows(GLOSSARY.read_text(encoding="utf-8"))
    missing = [f"{t.english} ({t.chinese})" for t in terms if t.chinese not in rows.get(t.english.casefold(), set())]
    assert not missing, f"{path.name}: key terms missing from docs/glossary.md (run `course glossary`): {missing}"


def test_glossary_is_current():
    problems = glossary_problems(NOTEBOOKS, GLOSSARY)
    assert not problems, "; ".join(problems)
