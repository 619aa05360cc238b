"""What a stored notebook must not show a learner, as detectors the hygiene tests share.

Each detector takes a text and returns the offending matches (an empty list for a clean text).
:func:`output_texts` gives every text of one cell output (streams, and each text-like MIME type
of a rich output; never the base64 of an image); :func:`metadata_findings` looks at the metadata.
"""

from __future__ import annotations

import json
import re
from typing import Callable, Iterator

# an absolute path under a machine's usual top folders (or a Windows profile), not inside a URL or a
# relative path: "/home/ann/x", "/tmp/tmpab12/", "C:\\Users\\ann"; not "https://x.org/home/", "data/tmp/"
MACHINE_PATH = re.compile(r"(?<![\w.:/~-])/(home|root|tmp|work|Users|var|opt|srv|mnt|usr|private|Volumes)/"
                          r"|\b[A-Za-z]:\\\\?(Users|Windows|Program Files)\\")

# log lines: absl/glog ("I0000 00:00:1796228958.979344   17322 port.cc:153] ..."), Python's logging and
# absl's Python logging ("WARNING:tensorflow:...", "INFO:absl:..."), Python warnings
# ("/x/y.py:12: UserWarning: ..."), traitlets apps ("[IPKernelApp] WARNING | ...")
LOG_LINE = re.compile(
    r"^[IWEF]\d{4} [\d:.]+ +\d+ [\w./+-]+:\d+\] "
    r"|^(WARNING|INFO|DEBUG)(:|\s+-\s)"
    r"|(^|:\d+: |\s)[A-Z]\w*Warning: "
    r"|^\[\w+\] (WARNING|INFO|DEBUG) \| ",
    re.MULTILINE)

ANSI_ESCAPE = re.compile(r"\x1b[\[\]()#;?]*[0-9;]*[A-Za-z@-~]?")

# what Keras' get_file, TFDS, Hugging Face and friends print when they fetch something
DOWNLOAD = re.compile(r"Downloading data from|Downloading and preparing dataset|^Downloading\b"
                      r"|^Fetching \d+ files", re.MULTILINE)

# an ISO timestamp (papermill's start_time/end_time, nbclient's execution timings)
TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")

TEXT_MIME_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json",
                   "application/javascript", "image/svg+xml")


def _findall(pattern: re.Pattern[str], text: str) -> list[str]:
    return [m.group(0) if m.group(0).strip() else repr(m.group(0)) for m in pattern.finditer(text)]


def _lines_matching(pattern: re.Pattern[str], text: str) -> list[str]:
    return [line.strip()[:120] for line in text.splitlines() if pattern.search(line)]


def machine_paths(text: str) -> list[str]:
    return _findall(MACHINE_PATH, text)


def log_lines(text: str) -> list[str]:
    return _lines_matching(LOG_LINE, text)


def ansi_escapes(text: str) -> list[str]:
    return [repr(m) for m in _findall(ANSI_ESCAPE, text)]


def downloads(text: str) -> list[str]:
    return _lines_matching(DOWNLOAD, text)


DETECTORS: dict[str, Callable[[str], list[str]]] = {
    "absolute machine paths": machine_paths,
    "warning or INFO lines": log_lines,
    "ANSI escape codes": ansi_escapes,
    "attempted downloads": downloads,
}


def output_texts(output: dict) -> Iterator[str]:
    """Every text of one cell output: stream text, traceback lines, text-like MIME bundles."""
    text = output.get("text")
    if text is not None:
        yield "".join(text) if isinstance(text, list) else text
    if output.get("traceback"):
        yield "\n".join(output["traceback"])
    for mime, value in (output.get("data") or {}).items():
        if mime in TEXT_MIME_TYPES or mime.endswith("+json"):
            yield "".join(value) if isinstance(value, list) else (value if isinstance(value, str)
                                                                   else json.dumps(value))


def output_findings(notebook: dict, detector: Callable[[str], list[str]]) -> list[str]:
    """``"cell N: match"`` for each match of ``detector`` in the notebook's stored outputs."""
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []):
            for text in output_texts(output):
                found += [f"cell {index}: {match}" for match in detector(text)]
    return found


def metadata_findings(notebook: dict) -> list[str]:
    """papermill or execution records, timestamps and machine paths anywhere in the metadata."""
    found = []
    places = [("notebook", notebook.get("metadata", {}))]
    places += [(f"cell {i}", c.get("metadata", {})) for i, c in enumerate(notebook.get("cells", []))]
    for where, metadata in places:
        for key in ("papermill", "execution", "ExecuteTime"):
            if key in metadata:
                found.append(f"{where} metadata has {key!r}")
        text = json.dumps(metadata, ensure_ascii=False)
        found += [f"{where} metadata: timestamp {t}" for t in TIMESTAMP.findall(text)]
        found += [f"{where} metadata: path {p}" for p in machine_paths(text.replace("\\\\", "\\"))]
    return found
