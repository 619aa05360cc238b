"""Student and instructor editions of the chapters, from one source (``course handout``).

Each chapter notebook marks its exercises with cell tags:

- a Markdown cell tagged ``exercise`` starting ``**Exercise N.**`` (or ``**Exercise N. Title.**``) states
  exercise N;
- a Markdown cell tagged ``solution`` starting ``**Solution N.**`` holds a worked answer;
- a code cell tagged ``solution`` holds a code answer, with cell metadata
  ``"exercise": {"number": N, "hint": "one-sentence hint", "starter": "optional code"}``;
  the untagged cell after it calls ``check_exercise("NN", N, answer)``.

:func:`student_edition` removes every ``solution`` cell and puts a starter cell in place of each code
solution: the starter code followed by ``raise NotImplementedError("Exercise N: <hint>")``, or the
starter as it is when it already raises ``NotImplementedError("Exercise N: ...")`` (a starter that
defines a function raises inside the function). Outputs and execution counts are cleared. The
instructor edition is the source notebook itself, outputs included. :func:`build_handouts` writes
both editions, ``<output>/student/`` and ``<output>/instructor/``.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["EXERCISE_TAG", "SOLUTION_TAG", "STARTER_TAG", "CodeExercise", "Exercises", "Handout",
           "parse_exercises", "starter_source", "student_edition", "build_handouts", "select_notebooks",
           "read_notebook", "write_notebook", "significant_lines", "solution_leaks", "STARTER_SHARE"]

EXERCISE_TAG = "exercise"
SOLUTION_TAG = "solution"
STARTER_TAG = "starter"      # the tag a starter cell carries in the student edition

# **Exercise 3.** or **Exercise 3. Title.**
_EXERCISE_RE = re.compile(r"\s*\*\*Exercise (\d+)\.(?:\*\*|\s[^*\n]*\*\*)")
_SOLUTION_RE = re.compile(r"\s*\*\*Solution (\d+)\.(?:\*\*|\s[^*\n]*\*\*)")
_ANY_MARKER_RE = re.compile(r"NotImplementedError\(\s*[\"']Exercise (\d+):")


@dataclass(frozen=True)
class CodeExercise:
    """A code exercise: its number, hint, starter code and the index of its solution cell."""

    number: int
    hint: str
    starter: str
    cell: int


@dataclass
class Exercises:
    """The exercises of one notebook, as its tags and metadata declare them."""

    notebook: str
    numbers: list[int] = field(default_factory=list)             # exercise cells, in order
    cells: dict[int, int] = field(default_factory=dict)          # exercise number -> its exercise cell
    code: dict[int, CodeExercise] = field(default_factory=dict)  # exercise number -> its code solution
    written: dict[int, list[int]] = field(default_factory=dict)  # exercise number -> Markdown solution cells


@dataclass(frozen=True)
class Handout:
    """What :func:`build_handouts` wrote for one notebook."""

    notebook: str
    student: Path
    instructor: Path
    exercises: Exercises


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tags(cell: dict) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return list(tags) if isinstance(tags, list) else []


def _marker(number: int) -> str:
    return f'NotImplementedError("Exercise {number}:'


def _check_starter(starter: str, number: int, where: str) -> None:
    try:
        tree = ast.parse(starter)
    except SyntaxError as err:
        raise ValueError(f"{where}: the starter of exercise {number} is not valid Python "
                         f"(line {err.lineno}: {err.msg})") from None
    others = sorted({int(n) for n in _ANY_MARKER_RE.findall(starter)} - {number})
    if others:
        raise ValueError(f"{where}: the starter of exercise {number} raises NotImplementedError for "
                         f"exercise {others[0]}; write NotImplementedError(\"Exercise {number}: ...\")")
    defines = any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in tree.body)
    if defines and _marker(number) not in starter:
        raise ValueError(f"{where}: the starter of exercise {number} defines a function, so its body must "
                         f"raise {_marker(number)} <hint>\") itself")


def _code_exercise(cell: dict, index: int, current: int, where: str) -> CodeExercise:
    meta = cell.get("metadata", {}).get("exercise")
    if not isinstance(meta, dict) or "number" not in meta:
        raise ValueError(f"{where}: a code cell tagged {SOLUTION_TAG!r} needs cell metadata "
                         '"exercise": {"number": N, "hint": "..."} (no exercise number found)')
    number = meta["number"]
    if isinstance(number, bool) or not isinstance(number, int):
        raise ValueError(f"{where}: the exercise number in the cell metadata must be an integer, got {number!r}")
    if number != current:
        raise ValueError(f"{where}: the code solution is for exercise {number} but the exercise cell "
                         f"before it is exercise {current}")
    hint = meta.get("hint")
    if not isinstance(hint, str) or not hint.strip():
        raise ValueError(f"{where}: exercise {number} needs a one-sentence \"hint\" (a non-empty string) "
                         "in its cell metadata")
    starter = meta.get("starter", "")
    if isinstance(starter, list):
        starter = "".join(starter)
    if not isinstance(starter, str):
        raise ValueError(f"{where}: the \"starter\" of exercise {number} must be a string of code, "
                         f"got {type(starter).__name__}")
    _check_starter(starter, number, where)
    return CodeExercise(number=number, hint=hint.strip(), starter=starter, cell=index)


def _check_exercise_cell(cell: dict, where: str, found: Exercises) -> int:
    if cell.get("cell_type") != "markdown":
        raise ValueError(f"{where}: a cell tagged {EXERCISE_TAG!r} must be a Markdown cell "
                         f"(it is a {cell.get('cell_type')} cell)")
    match = _EXERCISE_RE.match(_source(cell))
    if not match:
        raise ValueError(f"{where}: a cell tagged {EXERCISE_TAG!r} must start with **Exercise N.**")
    number = int(match.group(1))
    if number in found.cells:
        raise ValueError(f"{where}: duplicate exercise number {number} (exercise {number} is also cell "
                         f"{found.cells[number]})")
    return number


def parse_exercises(notebook: dict, name: str) -> Exercises:
    """Read and check the exercise and solution cells of ``notebook`` (``name`` is used in messages).

    Raises ``ValueError`` naming the notebook and cell for a malformed tag or metadata: a cell tagged
    both ways, an exercise cell that is not Markdown or does not start with ``**Exercise N.**``, a
    duplicate exercise number, a solution before any exercise, a solution whose number is not that of
    the exercise before it, a code solution without an exercise number or hint, two code solutions for
    one exercise, and a starter that is not valid Python or that defines a function without raising
    ``NotImplementedError("Exercise N: ...")`` in it.
    """
    found = Exercises(notebook=name)
    current: int | None = None
    for index, cell in enumerate(notebook.get("cells", [])):
        tags = _tags(cell)
        where = f"{name}, cell {index}"
        if EXERCISE_TAG in tags and SOLUTION_TAG in tags:
            raise ValueError(f"{where}: a cell is tagged both {EXERCISE_TAG!r} and {SOLUTION_TAG!r}")
        if EXERCISE_TAG in tags:
            current = _check_exercise_cell(cell, where, found)
            found.cells[current] = index
            found.numbers.append(current)
            continue
        if SOLUTION_TAG not in tags:
            if "exercise" in cell.get("metadata", {}):
                raise ValueError(f"{where}: the cell has \"exercise\" metadata but is not tagged {SOLUTION_TAG!r}")
            continue
        if current is None:
            raise ValueError(f"{where}: a cell tagged {SOLUTION_TAG!r} comes before any cell tagged "
                             f"{EXERCISE_TAG!r}")
        kind = cell.get("cell_type")
        if kind == "markdown":
            match = _SOLUTION_RE.match(_source(cell))
            if not match:
                raise ValueError(f"{where}: a Markdown cell tagged {SOLUTION_TAG!r} must start with **Solution N.**")
            if int(match.group(1)) != current:
                raise ValueError(f"{where}: Solution {match.group(1)} follows exercise {current}; "
                                 "a solution must come after its own exercise")
            found.written.setdefault(current, []).append(index)
        elif kind == "code":
            exercise = _code_exercise(cell, index, current, where)
            if exercise.number in found.code:
                raise ValueError(f"{where}: exercise {exercise.number} already has a code solution (cell "
                                 f"{found.code[exercise.number].cell}); put its solution in one code cell")
            found.code[exercise.number] = exercise
        else:
            raise ValueError(f"{where}: a {kind} cell cannot be tagged {SOLUTION_TAG!r}")
    return found


def starter_source(exercise: CodeExercise) -> str:
    """The source of the starter cell that replaces a code solution in the student edition."""
    starter = exercise.starter.rstrip()
    if _marker(exercise.number) in starter:
        return starter
    message = json.dumps(f"Exercise {exercise.number}: {exercise.hint}", ensure_ascii=False)
    raise_line = f"raise NotImplementedError({message})"
    return f"{starter}\n{raise_line}" if starter.strip() else raise_line


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _starter_cell(cell: dict, exercise: CodeExercise) -> dict:
    metadata = {k: copy.deepcopy(v) for k, v in cell.get("metadata", {}).items() if k not in ("exercise", "tags")}
    tags = [t for t in _tags(cell) if t != SOLUTION_TAG] + [STARTER_TAG]
    metadata["tags"] = tags
    metadata["exercise"] = {"number": exercise.number, "hint": exercise.hint}
    starter = {"cell_type": "code", "execution_count": None, "metadata": metadata, "outputs": [],
               "source": _lines(starter_source(exercise))}
    if "id" in cell:
        starter = {"id": cell["id"], **starter}
    return starter


def student_edition(notebook: dict, name: str) -> dict:
    """The student edition of ``notebook``: solutions removed, starters in place, outputs cleared."""
    exercises = parse_exercises(notebook, name)
    by_cell = {exercise.cell: exercise for exercise in exercises.code.values()}
    student = {k: copy.deepcopy(v) for k, v in notebook.items() if k != "cells"}
    cells = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if index in by_cell:
            cells.append(_starter_cell(cell, by_cell[index]))
            continue
        if SOLUTION_TAG in _tags(cell):
            continue
        kept = copy.deepcopy(cell)
        if kept.get("cell_type") == "code":
            kept["outputs"] = []
            kept["execution_count"] = None
        cells.append(kept)
    student["cells"] = cells
    return student


_TRIVIAL_RE = re.compile(r"(#.*|import .*|from \S+ import .*|pass|\.\.\.|return|else:|try:|finally:)")


def _structural_lines(source: str) -> set[int]:
    """Line numbers (1-based) of def/class headers, decorators and docstrings in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines.update(range(first, node.body[0].lineno))
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            head = node.body[0]
            value = head.value if isinstance(head, ast.Expr) else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines.update(range(head.lineno, (head.end_lineno or head.lineno) + 1))
    return lines


def significant_lines(cell: dict) -> list[str]:
    """The lines of a cell that would give its answer away, stripped.

    Left out: blank lines, lines without a letter or digit, comments, imports, ``pass``/``return``-like
    keywords and, in code, function and class headers, decorators and docstrings (a starter may repeat
    those).
    """
    source = _source(cell)
    skip = _structural_lines(source) if cell.get("cell_type") == "code" else set()
    kept = []
    for number, line in enumerate(source.splitlines(), 1):
        text = line.strip()
        if number in skip or not re.search(r"\w", text) or _TRIVIAL_RE.fullmatch(text):
            continue
        kept.append(text)
    return kept


STARTER_SHARE = 0.5   # the most of a solution's significant lines its starter may repeat (set-up, not the answer)


def solution_leaks(notebook: dict, student: dict) -> list[str]:
    """Where the solutions of ``notebook`` show through in its ``student`` edition, as messages; [] when not.

    A significant line (:func:`significant_lines`) of a solution cell leaks when it appears in a cell of the
    student edition other than a starter, unless the notebook also shows it outside its solutions. A starter
    is written by the chapter's author and may repeat set-up lines of its solution, but no more than
    ``STARTER_SHARE`` of them: the rest is the exercise. Solution tags or starter metadata left in the
    student edition are reported too.
    """
    shared = {line.strip() for cell in notebook.get("cells", []) if SOLUTION_TAG not in _tags(cell)
              for line in _source(cell).splitlines()}
    in_student: dict[str, int] = {}
    starters: dict[int, tuple[int, set[str]]] = {}
    for index, cell in enumerate(student.get("cells", [])):
        number = cell.get("metadata", {}).get("exercise", {}).get("number")
        if STARTER_TAG in _tags(cell) and isinstance(number, int):
            starters[number] = (index, {line.strip() for line in _source(cell).splitlines()})
            continue
        for line in _source(cell).splitlines():
            in_student.setdefault(line.strip(), index)
    leaks = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if SOLUTION_TAG not in _tags(cell):
            continue
        lines = [line for line in significant_lines(cell) if line not in shared]
        for line in lines:
            if line in in_student:
                leaks.append(f"line {line!r} of solution cell {index} appears in cell {in_student[line]} "
                             "of the student edition")
        number = cell.get("metadata", {}).get("exercise", {}).get("number")
        if cell.get("cell_type") == "code" and number in starters and lines:
            where, starter = starters[number]
            repeated = [line for line in lines if line in starter]
            if len(repeated) > STARTER_SHARE * len(lines):
                leaks.append(f"the starter of exercise {number} (cell {where} of the student edition) repeats "
                             f"{len(repeated)} of the {len(lines)} significant lines of its solution (cell {index})")
    for index, cell in enumerate(student.get("cells", [])):
        meta = cell.get("metadata", {})
        if SOLUTION_TAG in _tags(cell) or "starter" in meta.get("exercise", {}):
            leaks.append(f"cell {index} of the student edition still carries solution metadata")
    return leaks


def read_notebook(path: Path) -> dict:
    """A notebook file as a dict (``ValueError`` naming the file when it is not notebook JSON)."""
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{Path(path).name}: not a notebook ({err})") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError(f"{Path(path).name}: not a notebook (no list of cells)")
    return notebook


def write_notebook(notebook: dict, path: Path) -> None:
    """Write ``notebook`` as Jupyter does: indent 1, UTF-8 as is, a final newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def select_notebooks(selection: list[str] | None, root: Path) -> list[Path]:
    """The notebooks named by ``selection`` (paths, names, or chapter numbers such as ``05``), or all.

    ``FileNotFoundError`` names an entry that matches no notebook.
    """
    from course_lib.runner import discover

    if not selection:
        return discover(None, root)
    found: list[Path] = []
    for raw in selection:
        text = str(raw).strip()
        if text.isdigit():
            matches = sorted((root / "notebooks").glob(f"{int(text):02d}_*.ipynb"))
            if not matches:
                raise FileNotFoundError(f"{raw}: no chapter {int(text):02d} in {root / 'notebooks'}")
            found.extend(path.resolve() for path in matches)
        else:
            found.extend(discover([text], root))
    return list(dict.fromkeys(found))


def build_handouts(paths: list[Path], output_dir: Path) -> list[Handout]:
    """Write ``output_dir/student/`` and ``output_dir/instructor/`` for the notebooks ``paths``.

    Every notebook is checked before anything is written, so a malformed one (``ValueError``) leaves
    the editions as they were.
    """
    planned = []
    for path in paths:
        path = Path(path)
        notebook = read_notebook(path)
        planned.append((path, student_edition(notebook, path.stem), parse_exercises(notebook, path.stem)))
    handouts = []
    for path, student, exercises in planned:
        student_path = output_dir / "student" / path.name
        instructor_path = output_dir / "instructor" / path.name
        write_notebook(student, student_path)
        instructor_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, instructor_path)
        handouts.append(Handout(notebook=path.stem, student=student_path, instructor=instructor_path,
                                exercises=exercises))
    return handouts
