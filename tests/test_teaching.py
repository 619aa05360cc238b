"""The teaching kit in every chapter: title cell (Key terms, Time), 本章要点, Exercises, References.

The convention: the title cell has a ``**Key terms.**``
paragraph and a measured ``**Time.**`` paragraph (FAST, full mode, GPU); a chapter whose full mode takes
over about 30 minutes warns before its first long cell and says how to switch to FAST; a ``## 本章要点``
cell after the Summary; an ``## Exercises`` section of tagged cells; ``## References`` last.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from course_lib.glossary import key_terms
from course_lib.handout import EXERCISE_TAG, SOLUTION_TAG, parse_exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
LONG_FULL_RUN_MINUTES = 30

_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "half an": 0.5, "half a": 0.5, "an": 1, "a": 1}
_NUMBER = (r"(\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+(?:\.\d+)?|"
           + "|".join(sorted(_WORDS, key=len, reverse=True)) + ")")
_UNIT = r"(hours?|hrs?|h|minutes?|mins?|seconds?|secs?|s)\b"
_PLAIN = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_WORDS, key=len, reverse=True)) + ")"   # no digit groups
_DURATION_RE = re.compile(rf"(?<![\w.\-–]){_NUMBER}(?:\s*(?:-|–|to)\s*{_PLAIN})?\s*{_UNIT}", re.I)
_SWITCH_RE = re.compile(r"COURSE_FAST|FAST\s*=\s*True|--fast")


def _text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def paragraph(text: str, label: str) -> str | None:
    """The paragraph starting ``**<label>.**`` (up to a blank line), or None."""
    match = re.search(rf"\*\*{re.escape(label)}\.\*\*(.*?)(?:\n[ \t]*\n|\Z)", text, re.S)
    return None if match is None else " ".join(match.group(1).split())


def _minutes(number: str, unit: str) -> float:
    value = _WORDS.get(number.lower()) if number.lower() in _WORDS else float(re.sub(r"\s", "", number))
    unit = unit.lower()
    if unit.startswith("h"):
        return value * 60
    if unit.startswith("m"):
        return value
    return value / 60


def first_duration_minutes(text: str) -> float | None:
    """The first duration in ``text`` ("about 25 minutes", "2-3 hours", "1 h 40 min", "6 248 s"), in minutes.

    A range gives its upper end; "1 h 40 min" adds the parts. None when there is no duration.
    """
    match = _DURATION_RE.search(text)
    if match is None:
        return None
    total = _minutes(match.group(2) or match.group(1), match.group(3))
    rest = text[match.end():]
    more = re.match(rf"\s*(?:and\s+)?{_NUMBER}\s*{_UNIT}", rest, re.I)
    if more and _minutes(more.group(1), more.group(2)) < total:
        total += _minutes(more.group(1), more.group(2))
    return total


def full_mode_minutes(time_paragraph: str) -> float | None:
    """The full-mode figure of a Time paragraph in minutes; None when it says the full mode is not measured.

    ``ValueError`` when the paragraph names no full mode or gives it no figure.
    """
    match = re.search(r"full mode", time_paragraph, re.I)
    if match is None:
        raise ValueError("the Time paragraph does not mention the full mode")
    part = time_paragraph[match.end():]
    gpu = re.search(r"\bGPU\b", part)
    part = part[:gpu.start()] if gpu else part
    minutes = first_duration_minutes(part)
    if minutes is None:
        if "not measured" in part.lower():
            return None
        raise ValueError(f"no full-mode time found in {part.strip()!r}")
    return minutes


def test_duration_parser():
    assert first_duration_minutes("about 25 minutes on a 2-core CPU") == 25
    assert first_duration_minutes("2-core CPU: about 2-3 hours") == 180
    assert first_duration_minutes("1 h 40 min in all") == 100
    assert first_duration_minutes("6 248 s, of which 557 s per epoch") == pytest.approx(6248 / 60)
    assert first_duration_minutes("over three hours (sections 4-5 alone)") == 180
    assert first_duration_minutes("90 s") == 1.5
    assert first_duration_minutes("about an hour, by section: sections 1-4 590 s") == 60
    assert first_duration_minutes("sections 1-4 590 s") == pytest.approx(590 / 60)
    assert first_duration_minutes("4 sections, 2 hidden layers") is None
    text = "FAST: about 40 s on a 2-core CPU. Full mode (the default): about 15 minutes. GPU: 2 minutes."
    assert full_mode_minutes(text) == 15
    assert full_mode_minutes("FAST: 40 s. Full mode: not measured yet. GPU: 3 min.") is None
    with pytest.raises(ValueError, match="no full-mode time"):
        full_mode_minutes("FAST: 40 s. Full mode: long. GPU: not measured.")
    with pytest.raises(ValueError, match="does not mention the full mode"):
        full_mode_minutes("FAST: 40 s.")


@pytest.fixture(scope="module")
def load():
    cache: dict[Path, dict] = {}

    def get(path: Path) -> dict:
        if path not in cache:
            cache[path] = json.loads(path.read_text(encoding="utf-8"))
        return cache[path]

    return get


def _heading_index(cells: list[dict], pattern: str) -> list[int]:
    return [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and re.match(pattern, _text(c).lstrip())]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_title_cell_has_key_terms(path, load):
    title = _text(load(path)["cells"][0])
    assert paragraph(title, "Key terms") is not None, f"{path.name}: the title cell has no **Key terms.** paragraph"
    assert key_terms(title, path.stem), f"{path.name}: the **Key terms.** paragraph lists no terms"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_title_cell_has_measured_times(path, load):
    time = paragraph(_text(load(path)["cells"][0]), "Time")
    assert time is not None, f"{path.name}: the title cell has no **Time.** paragraph"
    for needed in ("FAST", "full mode", "GPU"):
        assert needed.lower() in time.lower(), f"{path.name}: the Time paragraph does not mention {needed}: {time!r}"
    fast = time[time.index("FAST"):]
    assert first_duration_minutes(fast) is not None, f"{path.name}: the Time paragraph gives no FAST time"
    gpu = time[time.index("GPU"):]
    assert first_duration_minutes(gpu) is not None or "not measured" in gpu.lower(), (
        f"{path.name}: the Time paragraph gives a GPU time or says \"not measured\": {gpu!r}")
    try:
        full_mode_minutes(time)
    except ValueError as err:
        pytest.fail(f"{path.name}: {err}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_long_full_mode_warns_before_the_first_long_cell(path, load):
    cells = load(path)["cells"]
    time = paragraph(_text(cells[0]), "Time")
    assert time is not None, f"{path.name}: the title cell has no **Time.** paragraph"
    try:
        minutes = full_mode_minutes(time)
    except ValueError as err:
        pytest.fail(f"{path.name}: {err}")
    if minutes is None or minutes <= LONG_FULL_RUN_MINUTES:
        return
    params = next(i for i, c in enumerate(cells) if "parameters" in _tags(c))
    first_code = next((i for i, c in enumerate(cells) if i > params and c["cell_type"] == "code"), len(cells))
    assert names_a_switch_to_fast(_text(cells[0]), cells[1:first_code]), (
        f"{path.name}: the full mode takes about {minutes:.0f} minutes; before cell {first_code} (the first code "
        "cell after the parameters cell) say so and how to switch to FAST (`COURSE_FAST=1`, `FAST = True` in the "
        "parameters cell, or `course run --fast`)")


def names_a_switch_to_fast(title: str, cells: list[dict]) -> bool:
    """Whether the title cell (outside the Time paragraph's FAST figure) or the Markdown ``cells`` say how
    to switch to FAST."""
    time = re.search(r"\*\*Time\.\*\*.*?(?:\n[ \t]*\n|\Z)", title, re.S)
    texts = [title]
    if time:
        full = re.search("full mode", time.group(0), re.I)
        texts = [title[:time.start()] + title[time.end():], time.group(0)[full.start():] if full else ""]
    texts += [_text(c) for c in cells if c["cell_type"] == "markdown"]
    return any(_SWITCH_RE.search(t) for t in texts)


def test_switch_to_fast_must_be_named_outside_the_fast_figure():
    title = "# 05\n\n**Time.** FAST: 40 s (`course run --fast`). Full mode: about 3 hours. GPU: not measured.\n"
    assert not names_a_switch_to_fast(title, [])
    assert names_a_switch_to_fast(title + "\n> Full mode takes hours: set `COURSE_FAST=1`.\n", [])
    assert names_a_switch_to_fast(title, [{"cell_type": "markdown", "source": "Set `FAST = True` above."}])
    assert not names_a_switch_to_fast(title, [{"cell_type": "code", "source": "# COURSE_FAST=1 turns FAST on"}])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chinese_summary_after_the_summary(path, load):
    cells = load(path)["cells"]
    found = _heading_index(cells, r"## 本章要点")
    assert len(found) == 1, f"{path.name}: needs one Markdown cell starting `## 本章要点` (found {len(found)})"
    text = _text(cells[found[0]])
    assert len(re.findall(r"[\u4e00-\u9fff]", text)) >= 20 and re.search(r"\d", text), (
        f"{path.name}: the 本章要点 cell should say in Chinese what was learned and the key numbers measured")
    summary = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
               and re.search(r"^## (\d+\.\s*)?Summary\b", _text(c), re.M)]
    exercises = _heading_index(cells, r"## Exercises")
    assert not summary or summary[-1] < found[0], f"{path.name}: 本章要点 belongs after the English Summary"
    assert not exercises or found[0] < exercises[0], f"{path.name}: 本章要点 belongs before ## Exercises"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_references_cell_is_last(path, load):
    last = load(path)["cells"][-1]
    text = _text(last)
    assert last["cell_type"] == "markdown" and text.lstrip().startswith("## References"), (
        f"{path.name}: the last cell must be a Markdown cell starting `## References`")
    entries = [line for line in text.splitlines() if re.match(r"\s*(- |\* |\d+\. )", line)]
    assert entries and re.search(r"\b(19|20)\d\d\b", text), f"{path.name}: References lists no dated citations"


def _is_check_cell(cell: dict) -> bool:
    try:
        tree = ast.parse(_text(cell))
    except SyntaxError:
        return False
    return any(isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == "check_exercise"
               for n in ast.walk(tree))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_are_tagged_per_the_convention(path, load):
    cells = load(path)["cells"]
    heading = _heading_index(cells, r"## Exercises")
    assert len(heading) == 1, f"{path.name}: needs one Markdown cell starting `## Exercises` (found {len(heading)})"
    end = len(cells) - 1 if _text(cells[-1]).lstrip().startswith("## References") else len(cells)
    exercises = parse_exercises(load(path), path.stem)              # raises for a malformed tag or metadata
    assert exercises.numbers == list(range(1, len(exercises.numbers) + 1)) and exercises.numbers, (
        f"{path.name}: exercises must be numbered 1, 2, ... in order (found {exercises.numbers})")
    tagged = [i for i, c in enumerate(cells) if {EXERCISE_TAG, SOLUTION_TAG} & set(_tags(c))]
    assert all(heading[0] < i < end for i in tagged), (
        f"{path.name}: exercise and solution cells belong between ## Exercises and ## References")
    assert exercises.code, f"{path.name}: no code exercise (a code cell tagged 'solution' with exercise metadata)"
    problems = []
    for i in range(heading[0] + 1, end):
        cell = cells[i]
        if _tags(cell):
            continue
        if cell["cell_type"] == "code" and not _is_check_cell(cell):
            problems.append(f"cell {i} is an untagged code cell that is not a check: tag it 'solution' (with "
                            "exercise metadata) or move it before ## Exercises")
        if cell["cell_type"] == "markdown" and re.search(r"\*\*(Exercise|Solution) \d+\.|^#+ Solutions",
                                                         _text(cell), re.M):
            problems.append(f"cell {i} is an untagged exercise or solution: tag it")
    assert not problems, f"{path.name}: " + "; ".join(problems)
