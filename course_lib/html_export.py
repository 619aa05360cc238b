"""A static HTML copy of the course: every chapter with its stored outputs, and an index page.

``course html`` writes ``build/html/index.html`` and one page per notebook (nbconvert's ``lab``
template: the same look as JupyterLab, figures embedded in the page), so a learner without
Python can read the chapters in any browser. Nothing is executed: the pages show the outputs
stored in the notebooks. The maths is typeset by MathJax 2, copied beside the pages from the
``jupyter-server-mathjax`` package into ``build/html/mathjax/``, so the pages need no network
connection: the folder can be copied to a USB stick or a classroom server as it is.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

INDEX_TITLE = "Deep learning with TensorFlow 2 and Keras 3: the course"

#: Where the pages look for MathJax, relative to themselves, and the configuration they ask for
#: (TeX input, HTML-CSS or SVG output, the "Safe" extension nbconvert's own default URL uses).
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"

#: nbconvert's ``lab`` template without its ``<script>`` for require.js, which it loads from a CDN for
#: widgets and JavaScript outputs: the chapters store neither, and an offline page must not wait for it.
#: (Its Mermaid script stays: it fetches anything only when a page holds a Mermaid diagram.)
#: MathJax is told to use the STIX-Web fonts, the only ones the package ships (its default, the TeX
#: fonts, would come from the network, and without them primes and some symbols fail to typeset).
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {
  "HTML-CSS": {availableFonts: ["STIX-Web"], preferredFont: "STIX-Web", webFont: "STIX-Web", imageFont: null},
  SVG: {font: "STIX-Web"}
};
</script>
{{ super() }}
{%- endblock html_head_js_mathjax -%}
"""


def mathjax_source() -> Path:
    """The folder holding ``MathJax.js`` in the installed ``jupyter-server-mathjax`` package.

    Raises:
        ValueError: the package is missing (``pip install jupyter-server-mathjax``, or reinstall the course).
    """
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise ValueError("the HTML export needs MathJax from the package jupyter-server-mathjax: "
                         "pip install jupyter-server-mathjax (or pip install -e . in the project)") from None
    folder = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (folder / "MathJax.js").is_file():
        raise ValueError(f"{folder} has no MathJax.js: reinstall it with "
                         "pip install --force-reinstall jupyter-server-mathjax")
    return folder


def copy_mathjax(out_dir: Path, source: Path | None = None) -> Path:
    """Copy MathJax into ``out_dir/mathjax`` (once: an existing copy is kept); returns that folder."""
    source = mathjax_source() if source is None else source
    target = out_dir / "mathjax"
    if not (target / "MathJax.js").is_file():
        shutil.copytree(source, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


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
    from jinja2 import DictLoader

    exporter = HTMLExporter(template_name="lab", mathjax_url=MATHJAX_URL, template_file="offline.html.j2",
                            extra_loaders=[DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})])
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
        ValueError: no notebooks were given, ``out_dir`` is an existing file, or MathJax is missing.
    """
    if not notebooks:
        raise ValueError("no notebooks to export")
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir} is a file: give a folder for the HTML pages")
    source = mathjax_source()
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_mathjax(out_dir, source)
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
