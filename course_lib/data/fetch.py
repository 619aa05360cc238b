"""Find a dataset's files: mirror folder, then user cache, then a verified download.

Look-up order for :func:`locate`:

1. the mirror folder ``$COURSE_DATA_DIR/<spec.folder>/`` holding every file in ``spec.files``;
   each file is checked against its sha256 once per process (the verdict is cached) and a
   mismatch raises :class:`ChecksumMismatchError`;
2. the user cache ``cache_dir()/<spec.name>/`` holding every file in ``spec.downloads`` (or a
   copy of the mirror files); mirror files stored inside a downloaded archive
   (``Download.members``: German credit CSV, MovieLens ``u.*``) are extracted next to it;
3. a download of the missing files from their canonical URL(s) into the cache, unless
   ``COURSE_OFFLINE=1``: several tries with exponential back-off, a timeout per request, a
   ``.part`` file renamed only once its sha256 matches (a mismatch deletes it and raises).

When nothing works, :class:`DatasetNotAvailableError` says what was tried and how to fix it.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.client
import logging
import os
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from collections.abc import Mapping

from .. import __version__
from .._validate import positive_int
from ..config import DATA_DIR_ENV, OFFLINE_ENV, cache_dir, data_dir, offline
from ..files import publish_file, temp_sibling, write_bytes_atomic
from .registry import DatasetSpec, Download, get_spec

__all__ = [
    "DatasetError", "DatasetNotAvailableError", "ChecksumMismatchError", "UnverifiedDownloadError",
    "Located", "locate", "download_file", "file_sha256", "verify_file", "mirror_folder",
    "cache_folder", "mirror_description",
]

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_USER_AGENT = f"course_lib-dataset-fetch/{__version__} (+python urllib)"
# Per-process verdicts: (path, size, mtime_ns, content) -> sha256 actually computed.
_HASHES: dict[tuple[str, int, int, str], str] = {}


class DatasetError(Exception):
    """Base class of the dataset errors."""


class DatasetNotAvailableError(DatasetError, FileNotFoundError):
    """No mirror, cache or download could supply the dataset; the message lists every place tried."""


class ChecksumMismatchError(DatasetError, ValueError):
    """A file's sha256 differs from the registry's (damaged or different file)."""


class UnverifiedDownloadError(DatasetError, RuntimeError):
    """A download has no published sha256 and ``verify=False`` was not given."""


@dataclass(frozen=True)
class Located:
    """Where a dataset's files were found.

    Attributes:
        spec: the dataset.
        where: ``"mirror"`` or ``"cache"`` (a fresh download lands in the cache).
        layout: ``"mirror"`` when ``paths`` holds the mirror files (``spec.files``),
            ``"download"`` when it holds the canonical downloads (``spec.downloads``).
        folder: the folder holding the files.
        paths: file name -> path of every file of that layout.
        downloaded: True when (some of) the files were downloaded by this call.
    """

    spec: DatasetSpec
    where: Literal["mirror", "cache"]
    layout: Literal["mirror", "download"]
    folder: Path
    paths: Mapping[str, Path]
    downloaded: bool = False

    def __getitem__(self, name: str) -> Path:
        return self.paths[name]

    def source_hash(self, name: str) -> str:
        """The verified sha256 identifying file ``name`` (registry hash, or computed when the
        registry has none); use it to key derived caches such as decoded arrays."""
        if self.layout == "mirror":
            fspec = self.spec.file(name)
            return fspec.sha256
        expected = self.spec.download(name).sha256
        return expected or file_sha256(self.paths[name])


def file_sha256(path: Path, content: Literal["raw", "gunzip"] = "raw") -> str:
    """sha256 of a file's bytes, or of its decompressed bytes with ``content="gunzip"``.

    The result is cached for the process, keyed by path, size and modification time.
    """
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, content)
    if key in _HASHES:
        return _HASHES[key]
    digest = hashlib.sha256()
    opener = gzip.open if content == "gunzip" else open
    try:
        with opener(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        what = "gzip" if content == "gunzip" else "a file"
        raise ChecksumMismatchError(f"{path} cannot be read as {what}: {exc}") from exc
    _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def verify_file(path: Path, sha256: str, content: Literal["raw", "gunzip"] = "raw") -> bool:
    """True when ``path`` (or its gunzipped content) has sha256 ``sha256`` (cached per process)."""
    try:
        return file_sha256(path, content) == sha256.lower()
    except ChecksumMismatchError:
        return False


def mirror_folder(spec: DatasetSpec | str) -> Path | None:
    """``$COURSE_DATA_DIR/<folder>`` or None when ``COURSE_DATA_DIR`` is not set."""
    root = data_dir()
    return None if root is None else root / get_spec(spec).folder


def cache_folder(spec: DatasetSpec | str, create: bool = False) -> Path:
    """``cache_dir()/<name>``, created when ``create`` is true."""
    folder = cache_dir() / get_spec(spec).name
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def mirror_description() -> str:
    """``COURSE_DATA_DIR=<value>`` or ``COURSE_DATA_DIR is not set``, for messages."""
    raw = os.environ.get(DATA_DIR_ENV, "").strip()
    return f"{DATA_DIR_ENV}={raw}" if raw else f"{DATA_DIR_ENV} is not set"


def _missing(folder: Path, names: tuple[str, ...]) -> list[str]:
    return [n for n in names if not (folder / n).is_file()]


def _check_mirror(spec: DatasetSpec, verify: bool, notes: list[str]) -> Located | None:
    folder = mirror_folder(spec)
    if folder is None:
        notes.append(f"mirror: {mirror_description()}")
        return None
    if not folder.is_dir():
        notes.append(f"mirror: {folder} ({mirror_description()}): folder does not exist")
        return None
    missing = _missing(folder, spec.file_names)
    if missing:
        notes.append(f"mirror: {folder} ({mirror_description()}): missing {', '.join(missing)}")
        return None
    if verify:
        for f in spec.files:
            path = folder / f.name
            try:
                actual = file_sha256(path, f.content)
            except ChecksumMismatchError as exc:
                raise ChecksumMismatchError(f"Mirror file for dataset {spec.name!r} is damaged: {exc}. "
                                            f"Fix the mirror or unset {DATA_DIR_ENV}.") from exc
            if actual != f.sha256:
                what = "decompressed content" if f.content == "gunzip" else "file"
                raise ChecksumMismatchError(
                    f"Mirror file {path} for dataset {spec.name!r} has the wrong sha256 ({what}): "
                    f"expected {f.sha256}, got {actual}. The mirror copy is damaged or a different "
                    f"version; restore it (sha256sum -c MANIFEST.sha256) or unset {DATA_DIR_ENV} "
                    f"to use the cache or a download instead.")
    return Located(spec, "mirror", "mirror", folder, {n: folder / n for n in spec.file_names})


def _read_member(archive: Path, member: str) -> bytes:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    with tarfile.open(archive) as tar:
        fh = tar.extractfile(member)
        if fh is None:
            raise ChecksumMismatchError(f"{archive}: member {member} is not a regular file")
        return fh.read()


def _extract_members(spec: DatasetSpec, folder: Path, verify: bool) -> Located:
    """Extract the mirror files held inside downloaded archives; return the mirror layout."""
    for d in spec.downloads:
        for name, member in d.members:
            target, fspec = folder / name, spec.file(name)
            if target.is_file() and (not verify or verify_file(target, fspec.sha256, fspec.content)):
                continue
            try:
                data = _read_member(folder / d.filename, member)
            except (KeyError, OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
                raise ChecksumMismatchError(f"{folder / d.filename}: cannot read {member}: {exc}") from exc
            if verify and fspec.content == "raw" and hashlib.sha256(data).hexdigest() != fspec.sha256:
                raise ChecksumMismatchError(f"{member} inside {folder / d.filename} does not have the "
                                            f"expected sha256 {fspec.sha256}")
            write_bytes_atomic(target, data, suffix=".part")
    return Located(spec, "cache", "mirror", folder, {n: folder / n for n in spec.file_names})


def _check_cache(spec: DatasetSpec, verify: bool, notes: list[str]) -> Located | None:
    folder = cache_folder(spec)
    download_names = tuple(d.filename for d in spec.downloads)
    if not folder.is_dir():
        notes.append(f"cache: {folder}: folder does not exist")
        return None
    missing = _missing(folder, download_names)
    if not missing:
        bad = [d.filename for d in spec.downloads
               if verify and not (d.sha256 and verify_file(folder / d.filename, d.sha256))]
        if not bad:
            if any(d.members for d in spec.downloads):
                return _extract_members(spec, folder, verify)
            return Located(spec, "cache", "download", folder, {n: folder / n for n in download_names})
        notes.append(f"cache: {folder}: wrong or unknown sha256 for {', '.join(bad)}")
    # A copy of the mirror files in the cache folder is accepted too.
    if spec.file_names and not _missing(folder, spec.file_names):
        if not verify or all(verify_file(folder / f.name, f.sha256, f.content) for f in spec.files):
            return Located(spec, "cache", "mirror", folder, {n: folder / n for n in spec.file_names})
    if missing:
        notes.append(f"cache: {folder}: missing {', '.join(missing)}")
    return None


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in (408, 425, 429) or exc.code >= 500
    return True


def download_file(url: str, dest: Path, sha256: str | None, *, size: int | None = None,
                  tries: int = 3, timeout: float = 30.0, backoff: float = 1.0,
                  verify: bool = True) -> Path:
    """Download ``url`` to ``dest`` through ``dest.<pid>.part``, with retries and a sha256 check.

    Args:
        url: what to fetch (http, https or file URL).
        dest: final path; written only when the download completed and matched ``sha256``.
        sha256: expected hex digest, or None when unknown (then ``verify`` must be False).
        size: expected size in bytes, checked when given.
        tries: attempts for transient failures (network errors, HTTP 5xx/408/429, short reads).
        timeout: seconds allowed for connecting and for each read.
        backoff: sleep ``backoff * 2**k`` seconds after failed attempt ``k`` (0-based).
        verify: refuse a download without a known sha256 unless False.

    Raises:
        UnverifiedDownloadError: ``sha256`` is None and ``verify`` is true.
        TypeError, ValueError: ``tries`` is not an integer >= 1.
        ChecksumMismatchError: the bytes do not match ``sha256`` (the partial file is deleted).
        OSError: the last network error after ``tries`` attempts (urllib.error.URLError,
            TimeoutError, ...).
    """
    if sha256 is None and verify:
        raise UnverifiedDownloadError(f"No published sha256 is known for {url}; refusing an unverified "
                                      f"download. Pass verify=False to accept it anyway.")
    tries = positive_int("tries", tries)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = temp_sibling(dest, ".part")  # per process: parallel runs do not clash
    last: BaseException | None = None
    for attempt in range(tries):
        digest, received = hashlib.sha256(), 0
        try:
            request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            with urllib.request.urlopen(request, timeout=timeout) as resp, open(part, "wb") as out:
                announced = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
            if announced is not None and received != int(announced):
                raise http.client.IncompleteRead(b"", int(announced) - received)
            break
        except (OSError, http.client.HTTPException) as exc:  # URLError, HTTPError, timeouts, resets
            part.unlink(missing_ok=True)
            last = exc
            log.warning("download %s: attempt %d/%d failed: %s", url, attempt + 1, tries, exc)
            if not _retryable(exc) or attempt == tries - 1:
                raise
            time.sleep(backoff * 2 ** attempt)
    else:  # pragma: no cover - the loop either breaks or raises
        raise OSError(f"download of {url} failed: {last}")
    actual = digest.hexdigest()
    if sha256 is not None and actual != sha256.lower():
        part.unlink(missing_ok=True)
        raise ChecksumMismatchError(f"Download {url} has sha256 {actual}, expected {sha256} "
                                    f"({received} bytes); the file was deleted.")
    if size is not None and received != size:
        part.unlink(missing_ok=True)
        raise ChecksumMismatchError(f"Download {url} has {received} bytes, expected {size}; the file was deleted.")
    publish_file(part, dest)
    st = dest.stat()
    _HASHES[(str(dest.resolve()), st.st_size, st.st_mtime_ns, "raw")] = actual
    return dest


def _fetch_one(spec: DatasetSpec, d: Download, folder: Path, *, verify: bool, tries: int,
               timeout: float, backoff: float, errors: list[str]) -> bool:
    """Try each URL of ``d``; record failures in ``errors``; True on success."""
    mismatch: ChecksumMismatchError | None = None
    for url in d.urls:
        try:
            log.info("downloading %s -> %s", url, folder / d.filename)
            download_file(url, folder / d.filename, d.sha256, size=d.size, tries=tries,
                          timeout=timeout, backoff=backoff, verify=verify)
            return True
        except ChecksumMismatchError as exc:
            mismatch = exc
            errors.append(f"{url}: {exc}")
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{url}: {type(exc).__name__}: {exc}")
    if mismatch is not None:
        if len(d.urls) == 1:
            raise mismatch
        raise ChecksumMismatchError(f"Dataset {spec.name!r}: no URL gave a file with the expected "
                                    f"sha256 for {d.filename}:\n" + "\n".join(errors))
    return False


def _not_available(spec: DatasetSpec, notes: list[str], errors: list[str]) -> DatasetNotAvailableError:
    lines = [f"Dataset {spec.name!r} ({spec.description}) is not available. Looked in:"]
    lines += [f"  {i}. {note}" for i, note in enumerate(notes, 1)]
    if errors:
        lines.append("  Download errors:")
        lines += [f"    - {err}" for err in errors]
    files = ", ".join(spec.file_names)
    lines.append(
        f"How to fix: set {DATA_DIR_ENV} to a mirror folder that holds {spec.folder}/ with {files} "
        f"(for example {DATA_DIR_ENV}=../shared/datasets), or connect to the internet"
        f"{f' and unset {OFFLINE_ENV}' if offline() else ''} so that {', '.join(spec.urls)} "
        f"can be downloaded into {cache_folder(spec)}.")
    return DatasetNotAvailableError("\n".join(lines))


def locate(name: str | DatasetSpec, *, download: bool = True, verify: bool = True, tries: int = 3,
           timeout: float = 30.0, backoff: float = 1.0) -> Located:
    """Find (or download) the files of dataset ``name``: mirror, then cache, then download.

    Args:
        name: a registry name (see :data:`~course_lib.data.registry.REGISTRY`) or a spec.
        download: allow step 3 (also disabled by ``COURSE_OFFLINE=1``).
        verify: check sha256 hashes; with False, files without a published hash are accepted.
        tries, timeout, backoff: passed to :func:`download_file`.

    Raises:
        DatasetNotAvailableError: nothing worked; the message lists each place and URL tried.
        ChecksumMismatchError: a mirror file, or the only download URL, has the wrong sha256.
        UnverifiedDownloadError: a needed download has no sha256 and ``verify`` is true.
    """
    spec = get_spec(name)
    notes: list[str] = []
    found = _check_mirror(spec, verify, notes) or _check_cache(spec, verify, notes)
    if found is not None:
        return found
    errors: list[str] = []
    if not spec.downloads:
        notes.append("download: this dataset has no download URL")
    elif offline():
        notes.append(f"download: not tried because {OFFLINE_ENV}=1 (would fetch {', '.join(spec.urls)})")
    elif not download:
        notes.append(f"download: not tried (download=False; would fetch {', '.join(spec.urls)})")
    else:
        folder = cache_folder(spec, create=True)
        ok = True
        for d in spec.downloads:
            target = folder / d.filename
            if target.is_file() and d.sha256 and verify_file(target, d.sha256):
                continue
            if verify and d.sha256 is None:
                raise UnverifiedDownloadError(
                    f"Dataset {spec.name!r}: no published sha256 is known for {', '.join(d.urls)}; "
                    f"refusing an unverified download. Pass verify=False to accept it anyway.")
            ok = _fetch_one(spec, d, folder, verify=verify, tries=tries, timeout=timeout,
                            backoff=backoff, errors=errors) and ok
            if not ok:
                break
        if ok:
            if any(d.members for d in spec.downloads):
                return dataclasses.replace(_extract_members(spec, folder, verify), downloaded=True)
            names = tuple(d.filename for d in spec.downloads)
            return Located(spec, "cache", "download", folder, {n: folder / n for n in names}, downloaded=True)
        notes.append(f"download: into {folder} from {', '.join(spec.urls)}: failed")
    raise _not_available(spec, notes, errors)
