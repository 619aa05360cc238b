"""course html: a static HTML copy of the course, every chapter with its stored outputs, and an index."""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

import nbformat
import pytest

from course_lib import cli
from course_lib import html_export
from course_lib.html_export import MATHJAX_URL, export_html, notebook_title

ROOT = Path(__file__).resolve().parents[1]


def _png() -> str:
    """A valid 1x1 PNG, base64-encoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00") \
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
    return base64.b64encode(raw).decode()


def _notebook(path: Path, title: str, figures: int) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\n**Key terms.** loss (损失)."),
                nbformat.v4.new_markdown_cell("The loss $L = \\frac{1}{n}\\sum_i (y_i - \\hat y_i)^2$.")]
    code = nbformat.v4.new_code_cell("print('epoch 1/1 - loss 0.1234')\nplt.show()")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="epoch 1/1 - loss 0.1234\n")]
    code.outputs += [nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"})
                     for _ in range(figures)]
    nb.cells.append(code)
    nbformat.write(nb, str(path))
    return path


def test_export_writes_every_chapter_with_its_outputs_and_an_index(tmp_path):
    a = _notebook(tmp_path / "01_a.ipynb", "01 · First chapter", figures=2)
    b = _notebook(tmp_path / "02_b.ipynb", "02 · Second <chapter>", figures=0)
    index = export_html([a, b], tmp_path / "html", print_fn=lambda _: None)
    assert index == tmp_path / "html" / "index.html"
    page = (tmp_path / "html" / "01_a.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 2                # figures embedded in the page
    assert "epoch 1/1 - loss 0.1234" in page and "损失" in page      # stored outputs and 中文 kept
    assert "\\frac{1}{n}" in page and "MathJax" in page               # maths left for MathJax to typeset
    assert f'src="{MATHJAX_URL}"' in page                             # MathJax from beside the page, offline
    assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', page)   # nothing from a CDN
    assert (tmp_path / "html" / MATHJAX_URL.split("?")[0]).is_file()
    assert (tmp_path / "html" / "mathjax" / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    text = index.read_text(encoding="utf-8")
    assert text.index('href="01_a.html"') < text.index('href="02_b.html"')
    assert "01 · First chapter" in text and "02 · Second &lt;chapter&gt;" in text and "(2 figures)" in text
    chapters = json.loads((tmp_path / "html" / "chapters.json").read_text(encoding="utf-8"))
    assert [c["figures"] for c in chapters] == [2, 0]


def test_a_stored_chapter_exports_with_all_its_figures(tmp_path):
    path = ROOT / "notebooks" / "04_keras_mlp.ipynb"
    stored = sum(1 for c in json.loads(path.read_text(encoding="utf-8"))["cells"] for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {}))
    export_html([path], tmp_path, print_fn=lambda _: None)
    page = (tmp_path / "04_keras_mlp.html").read_text(encoding="utf-8")
    assert stored and page.count('src="data:image/png;base64,') == stored


def test_title_falls_back_to_the_file_name():
    assert notebook_title({"cells": [{"source": ["Intro\n", "# The title\n"]}]}, "x") == "The title"
    assert notebook_title({"cells": [{"source": "no heading"}]}, "05_cnn") == "05_cnn"
    assert notebook_title({"cells": []}, "empty") == "empty"


def test_bad_input_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no notebooks to export"):
        export_html([], tmp_path)
    file = tmp_path / "taken"
    file.write_text("x")
    with pytest.raises(ValueError, match="is a file: give a folder"):
        export_html([_notebook(tmp_path / "a.ipynb", "A", 0)], file)


def test_course_html_command(tmp_path, capsys):
    assert cli.main(["html", "03_linear_regression", "--output", str(tmp_path)]) == 0
    assert (tmp_path / "03_linear_regression.html").is_file() and (tmp_path / "index.html").is_file()
    assert "1 chapters exported: open" in capsys.readouterr().out
    assert cli.main(["html", "no_such_chapter", "--output", str(tmp_path)]) == 2
    assert "no such notebook" in capsys.readouterr().err


def test_missing_mathjax_names_the_package_to_install(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_mathjax(name, *args, **kwargs):
        if name == "jupyter_server_mathjax":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mathjax)
    with pytest.raises(ValueError, match="pip install jupyter-server-mathjax"):
        export_html([_notebook(tmp_path / "a.ipynb", "A", 0)], tmp_path / "html")
    assert not (tmp_path / "html").exists()                              # nothing half-written


def test_an_existing_mathjax_copy_is_kept(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "MathJax.js").write_text("new")
    target = html_export.copy_mathjax(tmp_path / "out", source)
    assert (target / "MathJax.js").read_text() == "new"
    (source / "MathJax.js").write_text("newer")
    html_export.copy_mathjax(tmp_path / "out", source)
    assert (target / "MathJax.js").read_text() == "new"                 # copied once, not on every export
