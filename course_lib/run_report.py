"""The report of a ``course run``: every chapter's recorded metrics and figures, in Markdown and HTML.

:func:`write_report` reads the executed notebooks (``build/notebooks/``), copies every image output
(PNG, JPEG, SVG) into ``build/report/figures/`` and writes ``build/report/index.md`` and
``build/report/index.html``: per chapter its status, time, metrics and figures, in run order.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

__all__ = ["Figure", "extract_figures", "write_report"]

_IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}


@dataclass(frozen=True)
class Figure:
    """One image output of an executed notebook, copied into the report folder."""

    path: Path      # the file written
    cell: int       # index of the cell that produced it


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def extract_figures(notebook_path: Path, folder: Path) -> list[Figure]:
    """Copy the image outputs of the notebook at ``notebook_path`` into ``folder``; [] when it is unreadable."""
    try:
        notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    name = Path(notebook_path).stem
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{name}_cell*"):
        old.unlink()
    figures = []
    for index, cell in enumerate(notebook.get("cells", [])):
        count = 0
        for output in cell.get("outputs", []) or []:
            data = output.get("data", {}) if isinstance(output, dict) else {}
            for mime, ext in _IMAGE_TYPES.items():
                if mime not in data:
                    continue
                count += 1
                path = folder / f"{name}_cell{index:02d}_{count}.{ext}"
                payload = _text(data[mime])
                if ext == "svg":
                    path.write_text(payload, encoding="utf-8")
                else:
                    path.write_bytes(base64.b64decode(payload))
                figures.append(Figure(path=path, cell=index))
                break           # one file per output: the first image type it carries
    return figures


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return f"{value:.4g}"
    return str(value)


def _results(results: Iterable[Any]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        row = r if isinstance(r, dict) else vars(r)
        rows.append({"notebook": row["notebook"], "status": row["status"], "seconds": float(row["seconds"]),
                     "metrics": dict(row.get("metrics") or {}), "error": row.get("error", ""),
                     "output": row.get("output", "")})
    return rows


def _markdown(rows: list[dict[str, Any]], figures: dict[str, list[Figure]], fast: bool, folder: Path) -> str:
    ok = sum(r["status"] == "ok" for r in rows)
    total = sum(r["seconds"] for r in rows)
    lines = [f"# Course run report ({'FAST' if fast else 'full'} mode)", "",
             f"{len(rows)} notebook{'' if len(rows) == 1 else 's'}: {ok} ok, {len(rows) - ok} failed; "
             f"{total:.0f} s in all. "
             "The executed notebooks are in `../notebooks/`.", ""]
    for r in rows:
        lines += [f"## {r['notebook']}: {r['status']}, {r['seconds']:.1f} s", ""]
        if r["error"]:
            lines += [f"Error: {r['error']}", ""]
        metrics = {k: v for k, v in sorted(r["metrics"].items()) if k != "fast_mode"}
        if metrics:
            lines += ["| metric | value |", "|---|---:|"]
            lines += [f"| {k} | {_value(v)} |" for k, v in metrics.items()]
            lines.append("")
        else:
            lines += ["No metrics recorded.", ""]
        for figure in figures.get(r["notebook"], []):
            lines += [f"![{r['notebook']}, cell {figure.cell}]({figure.path.relative_to(folder).as_posix()})", ""]
    return "\n".join(lines).rstrip() + "\n"


def _html(markdown: str) -> str:
    """A small HTML page for the report's Markdown (headings, tables, images, paragraphs)."""
    body: list[str] = []
    table: list[list[str]] = []

    def flush_table() -> None:
        if table:
            head, *rest = table
            body.append("<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                                  for row in rest) + "</table>")
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(re.fullmatch(r"-+:?", c) for c in cells):
                table.append(cells)
            continue
        flush_table()
        image = re.fullmatch(r"!\[(.*)\]\((.*)\)", line)
        if line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif image:
            body.append(f'<p><img src="{html.escape(image.group(2))}" alt="{html.escape(image.group(1))}"></p>')
        elif line.strip():
            body.append(f"<p>{html.escape(line).replace('`', '')}</p>")
    flush_table()
    style = ("body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}img{max-width:100%}")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Course run report</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_report(results: Iterable[Any], fast: bool, output_dir: Path) -> Path:
    """Write ``output_dir/report/index.md`` and ``index.html`` for ``results``; returns the Markdown file.

    ``results`` are :class:`course_lib.runner.NotebookResult` objects (or their dicts); each one's
    ``output`` is the executed notebook the figures are taken from.
    """
    rows = _results(results)
    folder = Path(output_dir) / "report"
    folder.mkdir(parents=True, exist_ok=True)
    figures = {r["notebook"]: extract_figures(Path(r["output"]), folder / "figures") if r["output"] else []
               for r in rows}
    markdown = _markdown(rows, figures, fast, folder)
    (folder / "index.md").write_text(markdown, encoding="utf-8")
    (folder / "index.html").write_text(_html(markdown), encoding="utf-8")
    return folder / "index.md"
