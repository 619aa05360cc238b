"""course_lib.files: atomic publishing of files and folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from course_lib.files import publish_file, staged_folder, temp_sibling, write_bytes_atomic, write_text_atomic


def test_temp_sibling_is_per_process_and_in_the_same_folder(tmp_path: Path):
    tmp = temp_sibling(tmp_path / "a.json", ".part")
    assert tmp.parent == tmp_path and tmp.name == f"a.json.{os.getpid()}.part"


def test_writes_replace_the_file_and_leave_no_temporary(tmp_path: Path):
    target = tmp_path / "m.json"
    target.write_text("old")
    assert write_text_atomic(target, "new ünïcode\n") == target
    assert target.read_text(encoding="utf-8") == "new ünïcode\n"
    write_bytes_atomic(target, b"\x00\x01", suffix=".part")
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path):
    target = tmp_path / "m.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_bytes_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_publish_file(tmp_path: Path):
    part = temp_sibling(tmp_path / "x.bin", ".part")
    part.write_bytes(b"done")
    assert publish_file(part, tmp_path / "x.bin").read_bytes() == b"done" and not part.exists()


def test_staged_folder_publishes_a_complete_folder(tmp_path: Path):
    folder = tmp_path / "cache" / "arrays"
    with staged_folder(folder) as tmp:
        assert tmp.parent == folder.parent and not folder.exists()
        (tmp / "x.npy").write_bytes(b"x")
        (tmp / ".complete").write_text("x\n")
    assert (folder / "x.npy").read_bytes() == b"x" and (folder / ".complete").is_file()
    assert [p.name for p in folder.parent.iterdir()] == ["arrays"]


def test_staged_folder_keeps_a_copy_another_process_finished_first(tmp_path: Path):
    folder = tmp_path / "arrays"
    with staged_folder(folder) as tmp:
        (tmp / "mine").write_text("mine")
        (tmp / ".complete").write_text("")
        folder.mkdir()                       # another process publishes while this one works
        (folder / "theirs").write_text("theirs")
        (folder / ".complete").write_text("")
    assert sorted(p.name for p in folder.iterdir()) == [".complete", "theirs"]
    assert [p.name for p in tmp_path.iterdir()] == ["arrays"]


def test_staged_folder_replaces_an_incomplete_leftover(tmp_path: Path):
    folder = tmp_path / "arrays"
    folder.mkdir()
    (folder / "half").write_text("")
    with staged_folder(folder) as tmp:
        (tmp / ".complete").write_text("")
    assert sorted(p.name for p in folder.iterdir()) == [".complete"]


def test_staged_folder_cleans_up_after_an_error_or_a_missing_marker(tmp_path: Path):
    folder = tmp_path / "arrays"
    with pytest.raises(KeyError):
        with staged_folder(folder) as tmp:
            (tmp / "x").write_text("")
            raise KeyError("failed half way")
    with pytest.raises(RuntimeError, match=r"no \.complete file"):
        with staged_folder(folder):
            pass
    assert list(tmp_path.iterdir()) == []
