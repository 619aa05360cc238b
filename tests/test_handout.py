"""Student and instructor editions (`course handout`): the builder on small notebooks, then every chapter.

The chapters' editions are checked statically: no chapter is executed here. The test-suite already runs
every instructor notebook once in FAST mode (tests/test_notebooks.py), which runs each solution and its
check; the student edition's cells up to the first starter are the instructor notebook's, so that run
also proves they execute.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from pathlib import Path

import pytest

from course_lib import cli, handout
from course_lib.exercises import checks_for
from course_lib.handout import (
    STARTER_TAG,
    build_handouts,
    parse_exercises,
    select_notebooks,
    solution_leaks,
    starter_source,
    student_edition,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


# ---------------------------------------------------------------- small synthetic notebooks

def md(text: str, *tags: str) -> dict:
    return {"cell_type": "markdown", "metadata": {"tags": list(tags)} if tags else {}, "source": text}


def code(text: str, *tags: str, exercise: dict | None = None, outputs: list | None = None) -> dict:
    metadata: dict = {"tags": list(tags)} if tags else {}
    if exercise is not None:
        metadata["exercise"] = exercise
    return {"cell_type": "code", "execution_count": 3 if outputs else None, "metadata": metadata,
            "outputs": outputs or [], "source": text}


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4,
            "nbformat_minor": 5}


STREAM = [{"output_type": "stream", "name": "stdout", "text": "16\n"}]


def good_notebook() -> dict:
    return notebook(
        md("# 99 · A chapter"),
        code("FAST = False", "parameters"),
        code("x = 4\nprint(x * x)", outputs=STREAM),
        md("## Exercises"),
        md("**Exercise 1.** Why is the sky blue?", "exercise"),
        md("**Solution 1.** Rayleigh scattering goes as the inverse fourth power of wavelength.", "solution"),
        md("**Exercise 2.** Square x.", "exercise"),
        code("answer = x ** 2", "solution", exercise={"number": 2, "hint": "use ** 2", "starter": "answer = None"},
             outputs=STREAM),
        code('from course_lib.exercises import check_exercise\ncheck_exercise("99", 2, answer)', outputs=STREAM),
        md("**Exercise 3. Cubes.** Write cube(v).", "exercise"),
        code("def cube(v):\n    \"\"\"v cubed.\"\"\"\n    return v * v * v", "solution",
             exercise={"number": 3, "hint": "multiply three times",
                       "starter": 'def cube(v):\n    """v cubed."""\n    raise NotImplementedError("Exercise 3: '
                                  'multiply three times")'}),
        code('check_exercise("99", 3, cube)'),
        md("**Exercise 4.** Print x.", "exercise"),
        code("print(x)", "solution", exercise={"number": 4, "hint": 'call "print"'}),
        code('check_exercise("99", 4, x)'),
        md("## References"),
    )


def test_student_edition_replaces_solutions_and_clears_outputs():
    source = good_notebook()
    student = student_edition(source, "99_x")
    texts = ["".join(c["source"]) for c in student["cells"]]
    assert not any("Rayleigh" in t for t in texts)                                  # Markdown solution gone
    assert 'answer = None\nraise NotImplementedError("Exercise 2: use ** 2")' in texts   # starter + raise
    assert texts.count('check_exercise("99", 3, cube)') == 1                         # check cells kept
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
               for c in student["cells"] if c["cell_type"] == "code")
    starters = [c for c in student["cells"] if STARTER_TAG in c["metadata"].get("tags", [])]
    assert [c["metadata"]["exercise"] for c in starters] == [
        {"number": 2, "hint": "use ** 2"}, {"number": 3, "hint": "multiply three times"},
        {"number": 4, "hint": 'call "print"'}]
    assert solution_leaks(source, student) == []
    assert source == good_notebook()                                                 # the source is untouched


def test_starter_is_used_as_is_when_it_already_raises():
    exercises = parse_exercises(good_notebook(), "99_x")
    assert starter_source(exercises.code[3]) == exercises.code[3].starter
    namespace: dict = {}
    exec(starter_source(exercises.code[3]), namespace)
    with pytest.raises(NotImplementedError, match="Exercise 3: multiply three times"):
        namespace["cube"](2)


def test_default_starter_is_a_raise_with_the_hint_quoted_safely():
    source = starter_source(parse_exercises(good_notebook(), "99_x").code[4])
    assert source == 'raise NotImplementedError("Exercise 4: call \\"print\\"")'
    with pytest.raises(NotImplementedError) as err:
        exec(source, {})
    assert str(err.value) == 'Exercise 4: call "print"'


def test_parse_reads_numbers_cells_and_solutions():
    found = parse_exercises(good_notebook(), "99_x")
    assert found.numbers == [1, 2, 3, 4]
    assert found.cells == {1: 4, 2: 6, 3: 9, 4: 12}
    assert sorted(found.code) == [2, 3, 4] and found.code[2].cell == 7
    assert found.written == {1: [5]}


def _broken(cells_after_params: list[dict]) -> dict:
    return notebook(md("# 99"), code("FAST = False", "parameters"), *cells_after_params)


EX1 = md("**Exercise 1.** Do it.", "exercise")
HINT = {"number": 1, "hint": "a hint"}

MALFORMED = {
    "no exercise number": ([EX1, code("a = 1", "solution", exercise={"hint": "h"})], "cell 3.*no exercise number"),
    "no exercise metadata": ([EX1, code("a = 1", "solution")], "cell 3.*no exercise number"),
    "number not an integer": ([EX1, code("a = 1", "solution", exercise={"number": "1", "hint": "h"})],
                              "cell 3.*must be an integer"),
    "code number mismatch": ([EX1, code("a = 1", "solution", exercise={"number": 2, "hint": "h"})],
                             "cell 3.*exercise 2 but the exercise cell before it is exercise 1"),
    "markdown number mismatch": ([EX1, md("**Solution 2.** No.", "solution")], "cell 3.*Solution 2 follows exercise 1"),
    "duplicate exercise": ([EX1, md("**Exercise 1.** Again.", "exercise")],
                           "cell 3.*duplicate exercise number 1.*also cell 2"),
    "solution before exercise": ([md("**Solution 1.** Early.", "solution"), EX1],
                                 "cell 2.*comes before any cell tagged 'exercise'"),
    "code solution before exercise": ([code("a = 1", "solution", exercise=HINT), EX1], "cell 2.*before any"),
    "exercise not markdown": ([code("a = 1", "exercise")], "cell 2.*must be a Markdown cell"),
    "exercise without heading": ([md("Exercise 1. Do it.", "exercise")], r"cell 2.*\*\*Exercise N\.\*\*"),
    "exercise heading not bold": ([md("**Exercise 1** Do it.", "exercise")], r"cell 2.*\*\*Exercise N\.\*\*"),
    "solution without heading": ([EX1, md("The answer is 4.", "solution")], r"cell 3.*\*\*Solution N\.\*\*"),
    "both tags": ([md("**Exercise 1.** x", "exercise", "solution")], "cell 2.*tagged both"),
    "no hint": ([EX1, code("a = 1", "solution", exercise={"number": 1})], "cell 3.*hint"),
    "blank hint": ([EX1, code("a = 1", "solution", exercise={"number": 1, "hint": "  "})], "cell 3.*hint"),
    "starter not a string": ([EX1, code("a = 1", "solution", exercise={**HINT, "starter": 5})],
                             "cell 3.*starter.*must be a string"),
    "starter not python": ([EX1, code("a = 1", "solution", exercise={**HINT, "starter": "a = ("})],
                           "cell 3.*starter of exercise 1 is not valid Python"),
    "function starter without raise": ([EX1, code("def f(): return 1", "solution",
                                                  exercise={**HINT, "starter": "def f():\n    pass"})],
                                       "cell 3.*defines a function.*must raise"),
    "starter for another exercise": ([EX1, code("a = 1", "solution", exercise={
        **HINT, "starter": 'def f():\n    raise NotImplementedError("Exercise 2: x")'})], "cell 3.*for exercise 2"),
    "two code solutions": ([EX1, code("a = 1", "solution", exercise=HINT), code("b = 1", "solution", exercise=HINT)],
                           "cell 4.*already has a code solution \\(cell 3\\)"),
    "exercise metadata untagged": ([EX1, code("a = 1", exercise=HINT)], "cell 3.*not tagged 'solution'"),
    "raw solution": ([EX1, {"cell_type": "raw", "metadata": {"tags": ["solution"]}, "source": "x"}],
                     "cell 3.*raw cell cannot be tagged"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_tags_and_metadata_name_notebook_and_cell(case):
    cells, pattern = MALFORMED[case]
    with pytest.raises(ValueError, match=f"^99_bad, {pattern}"):
        student_edition(_broken(cells), "99_bad")


def _write(path: Path, nb: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_build_writes_both_editions(tmp_path):
    path = _write(tmp_path / "notebooks" / "99_x.ipynb", good_notebook())
    [made] = build_handouts([path], tmp_path / "out")
    assert made.instructor.read_bytes() == path.read_bytes()                       # as the source, outputs kept
    student = json.loads(made.student.read_text(encoding="utf-8"))
    assert student == json.loads(json.dumps(student_edition(good_notebook(), "99_x")))
    assert made.student.read_text(encoding="utf-8").endswith("}\n")
    assert made.exercises.numbers == [1, 2, 3, 4]


def test_build_writes_nothing_when_a_notebook_is_malformed(tmp_path):
    good = _write(tmp_path / "01_good.ipynb", good_notebook())
    bad = _write(tmp_path / "02_bad.ipynb", _broken(MALFORMED["duplicate exercise"][0]))
    with pytest.raises(ValueError, match="02_bad, cell 3"):
        build_handouts([good, bad], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_build_rejects_a_file_that_is_not_a_notebook(tmp_path):
    path = tmp_path / "03_x.ipynb"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="03_x.ipynb: not a notebook"):
        build_handouts([path], tmp_path / "out")


def test_select_by_number_name_or_path(tmp_path):
    for name in ("03_a", "05_b", "11_c"):
        _write(tmp_path / "notebooks" / f"{name}.ipynb", good_notebook())
    names = [p.stem for p in select_notebooks(["5", "03", "11_c", "05_b"], tmp_path)]
    assert names == ["05_b", "03_a", "11_c"]                                        # each once, in the order asked
    assert [p.stem for p in select_notebooks(None, tmp_path)] == ["03_a", "05_b", "11_c"]
    with pytest.raises(FileNotFoundError, match="no chapter 07"):
        select_notebooks(["7"], tmp_path)
    with pytest.raises(FileNotFoundError, match="nope: no such notebook"):
        select_notebooks(["nope"], tmp_path)


def test_cli_handout(tmp_path, capsys):
    path = _write(tmp_path / "99_x.ipynb", good_notebook())
    assert cli.main(["handout", "--output", str(tmp_path / "out"), str(path)]) == 0
    assert "99_x: 4 exercises, 3 with a code starter" in capsys.readouterr().out
    assert (tmp_path / "out" / "student" / "99_x.ipynb").is_file()
    assert (tmp_path / "out" / "instructor" / "99_x.ipynb").is_file()
    bad = _write(tmp_path / "98_bad.ipynb", _broken(MALFORMED["no hint"][0]))
    assert cli.main(["handout", "--output", str(tmp_path / "out"), str(bad)]) == 1
    assert "course handout: 98_bad, cell 3" in capsys.readouterr().err
    assert cli.main(["handout", "no_such_chapter"]) == 2
    assert "no such notebook" in capsys.readouterr().err


def test_leak_check_finds_a_solution_line_in_the_student_edition():
    source = good_notebook()
    student = student_edition(source, "99_x")
    student["cells"].append(code("answer = x ** 2"))
    starter = next(c for c in student["cells"] if c["metadata"].get("exercise", {}).get("number") == 3)
    starter["metadata"]["exercise"]["starter"] = "leaked"
    leaks = solution_leaks(source, student)
    assert any("'answer = x ** 2' of solution cell 7" in leak for leak in leaks)
    assert any("still carries solution metadata" in leak for leak in leaks)
    # a starter may repeat set-up lines of its solution, not the solution itself
    source = good_notebook()
    source["cells"][7]["metadata"]["exercise"]["starter"] = "answer = x ** 2"
    assert solution_leaks(source, student_edition(source, "99_x")) == [
        "the starter of exercise 2 (cell 6 of the student edition) repeats 1 of the 1 significant lines of its "
        "solution (cell 7)"]
    source["cells"][7]["source"] = "y = x\nanswer = y ** 2"
    source["cells"][7]["metadata"]["exercise"]["starter"] = "y = x\nanswer = None"
    assert solution_leaks(source, student_edition(source, "99_x")) == []
    # a line the chapter shows outside its solutions is not a leak
    source["cells"].insert(2, code("answer = x ** 2"))
    assert not any("answer = x ** 2" in leak for leak in solution_leaks(source, student_edition(source, "99_x")))


def test_leak_check_ignores_headers_docstrings_and_imports():
    cell = code('import numpy as np\n\n@staticmethod\ndef cube(v,\n         w):\n    """Cube.\n\n    More."""\n'
                "    # cube it\n    return v ** 3\n")
    assert handout.significant_lines(cell) == ["return v ** 3"]
    assert handout.significant_lines(md("**Solution 1.** Four.\n\n$$\n\n")) == ["**Solution 1.** Four."]


# ---------------------------------------------------------------- static checks, reused on the chapters

def _text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _chapter(path: Path) -> str:
    return path.name[:2]


def starter_problems(cell: dict, number: int, answers: set[str] = frozenset()) -> list[str]:
    """Why a starter cell does not raise NotImplementedError("Exercise N: <hint>"); [] when it does.

    ``answers`` are the names its check cell passes to check_exercise: a function among them that the
    starter defines must raise inside its body (the check calls it); otherwise the raise may be anywhere.
    """
    source = _text(cell)
    tree = ast.parse(source)
    prefix = f"Exercise {number}: "

    def raises_in(node: ast.AST) -> bool:
        return any(isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call)
                   and getattr(n.exc.func, "id", None) == "NotImplementedError" and n.exc.args
                   and isinstance(n.exc.args[0], ast.Constant) and isinstance(n.exc.args[0].value, str)
                   and n.exc.args[0].value.startswith(prefix) and n.exc.args[0].value[len(prefix):].strip()
                   for n in ast.walk(node))

    if not raises_in(tree):
        return [f'no raise NotImplementedError("{prefix}<hint>")']
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in answers and not raises_in(node):
            return [f"the check is given {node.name}(), which the starter defines without raising in its body"]
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Raise):    # a plain raise: run it
        try:
            exec(compile(source, "<starter>", "exec"), {})
        except NotImplementedError as err:
            return [] if str(err).startswith(prefix) else [f"it raised NotImplementedError({str(err)!r})"]
        return ["running it raised nothing"]
    return []


def answer_names(cell: dict | None) -> set[str]:
    """The names in the answer argument of the check_exercise(...) call in ``cell``."""
    if cell is None or cell["cell_type"] != "code":
        return set()
    names: set[str] = set()
    for node in ast.walk(ast.parse(_text(cell))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_exercise":
            answer = node.args[2] if len(node.args) > 2 else next(
                (k.value for k in node.keywords if k.arg == "answer"), None)
            names |= {n.id for n in ast.walk(answer) if isinstance(n, ast.Name)} if answer is not None else set()
    return names


def check_call(cell: dict | None) -> tuple | None:
    """(chapter, number) of the check_exercise(...) call in a code cell, or None."""
    if cell is None or cell["cell_type"] != "code":
        return None
    for node in ast.walk(ast.parse(_text(cell))):
        name = getattr(node.func, "id", getattr(node.func, "attr", None)) if isinstance(node, ast.Call) else None
        if name == "check_exercise":
            args = list(node.args) + [None] * 2
            kw = {k.arg: k.value for k in node.keywords}
            chapter, number = args[0] or kw.get("chapter"), args[1] or kw.get("number")
            values = tuple(getattr(v, "value", None) for v in (chapter, number))
            return (f"{int(values[0]):02d}" if str(values[0]).isdigit() else values[0], values[1])
    return None


def _defined_names(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def undefined_answer_names(student: dict) -> list[str]:
    """Names a check cell passes to check_exercise that no earlier student cell defines."""
    defined = set(dir(builtins))
    problems = []
    for index, cell in enumerate(student["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = _text(cell)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_exercise":
                answer = node.args[2] if len(node.args) > 2 else next(
                    (k.value for k in node.keywords if k.arg == "answer"), None)
                names = {n.id for n in ast.walk(answer) if isinstance(n, ast.Name)} if answer is not None else set()
                for name in sorted(names):
                    if name not in defined:
                        problems.append(f"cell {index} checks {name!r}, which no earlier cell of the student "
                                        "edition defines (define it in the starter, e.g. `answer = None`)")
        defined |= _defined_names(source)
    return problems


def test_static_checks_fail_on_broken_editions():
    assert starter_problems(code('raise NotImplementedError("Exercise 2: square it")'), 2) == []
    assert starter_problems(code('raise NotImplementedError("Exercise 3: square it")'), 2)
    assert starter_problems(code("answer = None"), 2)
    assert starter_problems(code('raise NotImplementedError("Exercise 2: ")'), 2)
    given = code('def f():\n    return 1\nraise NotImplementedError("Exercise 2: h")')
    assert starter_problems(given, 2, {"f"})                     # the check calls f, which does not raise
    assert starter_problems(given, 2, {"answer"}) == []          # f is a helper; the check gets a value
    assert starter_problems(code('def f():\n    raise NotImplementedError("Exercise 2: h")'), 2, {"f"}) == []
    assert answer_names(code('check_exercise("05", 2, (f, g.h))')) == {"f", "g"}
    assert check_call(code('check_exercise("05", 2, f)')) == ("05", 2)
    assert check_call(code("check_exercise(5, number=2, answer=f)")) == ("05", 2)
    assert check_call(code("print(1)")) is None
    student = notebook(code("x = 1"), code('check_exercise("99", 1, (x, y))'))
    assert undefined_answer_names(student) == [
        "cell 1 checks 'y', which no earlier cell of the student edition defines "
        "(define it in the starter, e.g. `answer = None`)"]
    assert undefined_answer_names(student_edition(good_notebook(), "99_x")) == []


# ---------------------------------------------------------------- every chapter

@pytest.fixture(scope="module")
def editions():
    cache = {}

    def get(path: Path):
        if path not in cache:
            source = json.loads(path.read_text(encoding="utf-8"))
            cache[path] = (source, student_edition(source, path.stem), parse_exercises(source, path.stem))
        return cache[path]

    return get


def test_course_handout_builds_every_chapter(tmp_path):
    assert cli.main(["handout", "--output", str(tmp_path)]) == 0
    assert sorted(p.name for p in (tmp_path / "student").iterdir()) == [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        assert (tmp_path / "instructor" / path.name).read_bytes() == path.read_bytes()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_solution_leaks_into_the_student_edition(path, editions):
    source, student, _ = editions(path)
    leaks = solution_leaks(source, student)
    assert not leaks, f"{path.name}: " + "; ".join(leaks)
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
               for c in student["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_cells_up_to_the_first_starter_are_the_instructor_notebooks(path, editions):
    source, student, _ = editions(path)
    starters = [i for i, c in enumerate(student["cells"]) if STARTER_TAG in _tags(c)]
    before = student["cells"][:starters[0]] if starters else student["cells"]
    instructor = [c for c in source["cells"] if "solution" not in _tags(c) or "exercise" in c["metadata"]]
    instructor = instructor[:len(before)]
    assert [(c["cell_type"], _text(c)) for c in before] == [(c["cell_type"], _text(c)) for c in instructor]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_starter_raises_not_implemented(path, editions):
    _, student, exercises = editions(path)
    cells = student["cells"]
    starters = [i for i, c in enumerate(cells) if STARTER_TAG in _tags(c)]
    assert [cells[i]["metadata"]["exercise"]["number"] for i in starters] == sorted(exercises.code)
    problems = []
    for i in starters:
        number = cells[i]["metadata"]["exercise"]["number"]
        check = cells[i + 1] if i + 1 < len(cells) else None
        problems += [f"exercise {number}: {p}" for p in starter_problems(cells[i], number, answer_names(check))]
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_solution_is_followed_by_its_check(path, editions):
    source, student, exercises = editions(path)
    chapter = _chapter(path)
    for number, exercise in sorted(exercises.code.items()):
        after = source["cells"][exercise.cell + 1] if exercise.cell + 1 < len(source["cells"]) else None
        assert after is not None and not _tags(after) and check_call(after) == (chapter, number), (
            f"{path.name}: the cell after exercise {number}'s solution (cell {exercise.cell}) must be an untagged "
            f'code cell calling check_exercise("{chapter}", {number}, ...)')
    problems = undefined_answer_names(student)
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_checks_registered_for_exactly_the_code_exercises(path, editions):
    _, _, exercises = editions(path)
    try:
        checked = set(checks_for(_chapter(path)))
    except ValueError as err:
        checked = set()
        assert not exercises.code, f"{path.name}: {err}"
    assert checked == set(exercises.code), (
        f"{path.name}: code exercises {sorted(exercises.code)} but course_lib/exercises/ch{_chapter(path)}.py "
        f"checks {sorted(checked)}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_has_a_checked_exercise(path, editions):
    _, _, exercises = editions(path)
    assert exercises.code, (f"{path.name} has no code exercise (a code cell tagged 'solution' with "
                            '"exercise": {"number": N, "hint": ...} metadata, followed by its check)')
    assert re.fullmatch(r"\d\d", _chapter(path))
