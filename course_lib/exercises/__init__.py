"""Checks for the chapters' code exercises.

Each code exercise in a chapter ends with a cell such as

.. code-block:: python

    from course_lib.exercises import check_exercise
    check_exercise("05", 1, conv2d_stride)

It prints ``Exercise 1 (chapter 05): correct.`` when the answer is right, and raises
:class:`ExerciseNotSolved` with a message saying what is wrong otherwise: the starter of the student
edition (which raises ``NotImplementedError``) and typical wrong answers both fail with a hint.

The checks of chapter ``NN`` live in ``course_lib/exercises/chNN.py`` as a dict ``CHECKS`` from the
exercise number to a function ``check(answer) -> str | None`` that raises :class:`ExerciseNotSolved`
(or lets :class:`NotImplementedError` through from a starter) for a wrong answer and returns an optional
note to print after "correct.".
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

__all__ = ["ExerciseNotSolved", "check_exercise", "checks_for", "not_done_message", "require_function"]


class ExerciseNotSolved(AssertionError):
    """The answer given to :func:`check_exercise` is not right yet; the message says why."""


def require_function(answer: Any, name: str) -> Callable:
    """``answer`` itself when it is callable; else :class:`ExerciseNotSolved` saying to pass the function."""
    if not callable(answer):
        raise ExerciseNotSolved(f"pass the function itself (`{name}`), not {type(answer).__name__} {answer!r:.60}")
    return answer


def _chapter_key(chapter: str | int) -> str:
    text = str(chapter).strip()
    if not text.isdigit():
        raise ValueError(f"chapter must be a chapter number such as \"05\" or 5, got {chapter!r}")
    return f"{int(text):02d}"


def checks_for(chapter: str | int) -> dict[int, Callable[[Any], str | None]]:
    """The ``CHECKS`` dict of one chapter; ``ValueError`` if the chapter has no checked exercises."""
    key = _chapter_key(chapter)
    try:
        module = importlib.import_module(f"course_lib.exercises.ch{key}")
    except ModuleNotFoundError as err:
        if err.name != f"course_lib.exercises.ch{key}":
            raise
        raise ValueError(f"chapter {key} has no checked exercises "
                         f"(course_lib/exercises/ch{key}.py does not exist)") from None
    return dict(module.CHECKS)


def not_done_message(chapter: str, number: int, detail: str = "") -> str:
    """The message for an answer that is still the student edition's starter."""
    message = (f"Exercise {number} (chapter {chapter}) is not done yet: the starter still raises "
               "NotImplementedError. Replace the `raise NotImplementedError(...)` line with your code, "
               "run that cell, then run this check again.")
    return f"{message} {detail}".rstrip()


def check_exercise(chapter: str | int, number: int, answer: Any) -> None:
    """Check ``answer`` for exercise ``number`` of ``chapter``; print "correct" or raise with a hint.

    It returns nothing, so a check cell shows only the verdict.

    Raises :class:`ExerciseNotSolved` (an ``AssertionError``) for a wrong or unfinished answer and
    ``ValueError`` for a chapter or exercise number that has no check.
    """
    key = _chapter_key(chapter)
    checks = checks_for(key)
    if number not in checks:
        known = ", ".join(str(n) for n in sorted(checks)) or "none"
        raise ValueError(f"chapter {key} has no checked exercise {number!r} (checked exercises: {known})")
    if answer is None or answer is Ellipsis or answer is NotImplemented:
        raise ExerciseNotSolved(not_done_message(key, number, f"(the answer given was {answer!r})"))
    try:
        note = checks[number](answer)
    except NotImplementedError as err:
        raise ExerciseNotSolved(not_done_message(key, number, str(err))) from None
    print(f"Exercise {number} (chapter {key}): correct." + (f" {note}" if note else ""))
