"""check_exercise itself: chapter lookup, starters, wrong answers, messages."""

from __future__ import annotations

import pytest

from course_lib import exercises
from course_lib.exercises import ExerciseNotSolved, check_exercise


@pytest.fixture
def fake_chapter(monkeypatch):
    def check_1(answer):
        if answer(2) != 4:
            raise ExerciseNotSolved(f"square(2) should be 4, got {answer(2)!r}")
        return "well done"

    monkeypatch.setattr(exercises, "checks_for", lambda chapter: {1: check_1})


def test_right_answer_prints_correct(fake_chapter, capsys):
    assert check_exercise("99", 1, lambda x: x * x) is None
    assert "Exercise 1 (chapter 99): correct. well done" in capsys.readouterr().out


def test_wrong_answer_says_what_is_wrong(fake_chapter):
    with pytest.raises(ExerciseNotSolved, match="square\\(2\\) should be 4, got 5"):
        check_exercise(99, 1, lambda x: x + 3)


def test_starter_is_not_done(fake_chapter):
    def starter(x):
        raise NotImplementedError("Exercise 1: return x squared")

    with pytest.raises(ExerciseNotSolved, match="not done yet.*Exercise 1: return x squared"):
        check_exercise("99", 1, starter)
    with pytest.raises(ExerciseNotSolved, match="not done yet"):
        check_exercise("99", 1, None)


def test_unknown_exercise_number(fake_chapter):
    with pytest.raises(ValueError, match="no checked exercise 7 \\(checked exercises: 1\\)"):
        check_exercise("99", 7, 1)


def test_unknown_chapter_and_bad_chapter():
    with pytest.raises(ValueError, match="chapter 98 has no checked exercises"):
        exercises.checks_for("98")
    with pytest.raises(ValueError, match="chapter must be a chapter number"):
        exercises.checks_for("five")
