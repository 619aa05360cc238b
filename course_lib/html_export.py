"""A static HTML copy of the course: every chapter with its stored outputs, and an index page.

``course html`` writes ``build/html/index.html`` and one page per notebook (nbconvert's ``lab``
template: the same look as JupyterLab, figures embedded in the page), so a learner without
Python can read the chapters in any browser. Nothing is executed: the pages show the outputs
stored in the notebooks. The maths is typeset by MathJax, which the pages load from a CDN (without
a network connection the formulas show as TeX source).
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

INDEX_TITLE = "Deep learning with TensorFlow 2 and Keras 3: the course"


@dataclass(frozen=True)
class Chapter:
    """One exported notebook."""

    stem: str
    title: str
    page: str
    figures: int


def notebook_title(notebook: dict, fallback: str) -> str:
    """The first ``# `` heading of the first cell, else ``fallback``."""
    cells = notebook.get("cells") or [{}]
    source = cells[0].get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    return next((line[2:].strip() for line in source.splitlines() if line.startswith("# ")), fallback)


def _figures(notebook: dict) -> int:
    return sum(1 for cell in notebook.get("cells", []) for output in cell.get("outputs", [])
               if any(key.startswith("image/") for key in output.get("data", {})))


def export_notebook(path: Path, out_dir: Path) -> Chapter:
    """Write ``out_dir/<stem>.html`` for one notebook; returns what the index needs."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(str(path), as_version=4)
    title = notebook_title(notebook, path.stem)
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    page = f"{path.stem}.html"
    (out_dir / page).write_text(body, encoding="utf-8")
    return Chapter(stem=path.stem, title=title, page=page, figures=_figures(notebook))


def index_page(chapters: list[Chapter]) -> str:
    """The index: one link per chapter, in order."""
    items = "\n".join(f'    <li><a href="{html.escape(c.page)}">{html.escape(c.title)}</a>'
                      f' <span class="meta">({c.figures} figure{"s" if c.figures != 1 else ""})</span></li>'
                      for c in chapters)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(INDEX_TITLE)}</title>
  <style>
    body {{ font-family: system-ui, "Noto Sans", "Noto Sans CJK SC", sans-serif; max-width: 52rem;
           margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }}
    li {{ margin: 0.4rem 0; }}
    .meta {{ color: #666; font-size: 0.9em; }}
  </style>
</head>
<body>
  <h1>{html.escape(INDEX_TITLE)}</h1>
  <p>Every chapter with the outputs stored in its notebook (FAST mode: small data, few epochs).
  To run the chapters yourself, see the project's README.</p>
  <ol start="0">
{items}
  </ol>
</body>
</html>
"""


def export_html(notebooks: list[Path], out_dir: Path, print_fn=print) -> Path:
    """Export ``notebooks`` and the index into ``out_dir``; returns the index's path.

    Raises:
        ValueError: no notebooks were given, or ``out_dir`` is an existing file.
    """
    if not notebooks:
        raise ValueError("no notebooks to export")
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir} is a file: give a folder for the HTML pages")
    out_dir.mkdir(parents=True, exist_ok=True)
    chapters = []
    for path in notebooks:
        started = time.perf_counter()
        chapters.append(export_notebook(path, out_dir))
        print_fn(f"{chapters[-1].page}: {chapters[-1].figures} figure(s), {time.perf_counter() - started:.1f} s")
    index = out_dir / "index.html"
    index.write_text(index_page(chapters), encoding="utf-8")
    (out_dir / "chapters.json").write_text(json.dumps([vars(c) for c in chapters], indent=2, ensure_ascii=False)
                                           + "\n", encoding="utf-8")
    return index


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="*", help="notebook paths or names (default: every notebook)")
    parser.add_argument("--output", help="output folder (default: build/html/ in the project)")


def run_from_args(args: argparse.Namespace, root: Path, discover) -> int:
    try:
        notebooks = discover(args.notebooks, root)
    except FileNotFoundError as err:
        print(f"course html: {err}", file=sys.stderr)
        return 2
    out_dir = Path(args.output) if args.output else root / "build" / "html"
    try:
        index = export_html(notebooks, out_dir)
    except ValueError as err:
        print(f"course html: {err}", file=sys.stderr)
        return 2
    print(f"{len(notebooks)} chapters exported: open {index}")
    return 0
