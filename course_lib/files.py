"""Publishing files and folders atomically: a reader sees the old version or the new one, never half.

Everything is written under a temporary name next to its destination (the same file system,
so the final rename is one atomic step) and renamed into place only once it is complete:

- :func:`write_text_atomic` / :func:`write_bytes_atomic`: a whole file at once;
- :func:`temp_sibling` + :func:`publish_file`: a file written piece by piece (a download);
- :func:`staged_folder`: a folder of files (a cache), with a marker file that says it is complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["temp_sibling", "publish_file", "write_bytes_atomic", "write_text_atomic", "staged_folder"]


def temp_sibling(path: str | os.PathLike, suffix: str = ".tmp") -> Path:
    """``<path>.<process id><suffix>``: where to write ``path``'s next version.

    The name is in the destination's folder (so :func:`publish_file` is an atomic rename) and
    differs per process (so two processes writing the same file do not write into one another).
    """
    path = Path(path)
    return path.with_name(f"{path.name}.{os.getpid()}{suffix}")


def publish_file(tmp: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Rename the finished file ``tmp`` to ``path`` in one step, replacing any older ``path``."""
    os.replace(tmp, path)
    return Path(path)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, suffix: str = ".tmp") -> Path:
    """Write ``data`` to ``path`` through :func:`temp_sibling`; returns ``path``.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    tmp = temp_sibling(path, suffix)
    try:
        tmp.write_bytes(data)
        return publish_file(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str, *, encoding: str = "utf-8",
                      suffix: str = ".tmp") -> Path:
    """Write ``text`` to ``path`` through :func:`temp_sibling`; returns ``path``."""
    return write_bytes_atomic(path, text.encode(encoding), suffix=suffix)


@contextmanager
def staged_folder(folder: str | os.PathLike, marker: str = ".complete") -> Iterator[Path]:
    """Build ``folder`` in a temporary sibling folder and move it into place when the block ends.

    .. code-block:: python

        with staged_folder(cache / "arrays") as tmp:
            np.save(tmp / "x.npy", x)
            (tmp / ".complete").write_text("x\\n")     # the marker, written last

    The block fills the yielded folder and writes the file ``marker`` in it last. When the block
    finishes, the staged folder replaces ``folder``, unless ``folder/marker`` exists by then:
    another process finished the same folder first, and its copy is kept. A ``folder`` without
    the marker is an incomplete leftover and is removed. The temporary folder is always removed,
    also when the block raises (``folder`` is then left as it was).

    Raises:
        RuntimeError: the block did not write ``marker`` into the staged folder.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", suffix=".tmp", dir=folder.parent))
    try:
        yield tmp
        if not (tmp / marker).is_file():
            raise RuntimeError(f"the staged copy of {folder} has no {marker} file; write it last, "
                               "once every other file is complete")
        if (folder / marker).is_file():
            return  # another process finished the same folder first: keep theirs
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)  # an incomplete leftover
        try:
            os.replace(tmp, folder)
        except OSError:
            if not (folder / marker).is_file():  # else another process won the race just now
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
