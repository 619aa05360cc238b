"""The report of `course run`: metrics and figures of every chapter, from small synthetic notebooks."""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from pathlib import Path

from course_lib.run_report import extract_figures, write_report
from course_lib.runner import NotebookResult, run_notebooks


def _png() -> bytes:
    """A valid 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


PNG = _png()


def _executed(path: Path) -> Path:
    image = {"output_type": "display_data", "metadata": {},
             "data": {"image/png": base64.b64encode(PNG).decode(), "text/plain": "<Figure>"}}
    svg = {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": ["<svg>", "</svg>"]}}
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# 99"},
                    {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "plot()",
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi\n"}, image, svg]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_extract_figures_writes_each_image(tmp_path):
    executed = _executed(tmp_path / "notebooks" / "99_x.ipynb")
    folder = tmp_path / "figures"
    (folder).mkdir()
    (folder / "99_x_cell07_1.png").write_bytes(b"old")                 # from an earlier run: removed
    figures = extract_figures(executed, folder)
    assert [(f.path.name, f.cell) for f in figures] == [("99_x_cell01_1.png", 1), ("99_x_cell01_2.svg", 1)]
    assert figures[0].path.read_bytes() == PNG
    assert figures[1].path.read_text() == "<svg></svg>"
    assert sorted(p.name for p in folder.iterdir()) == ["99_x_cell01_1.png", "99_x_cell01_2.svg"]
    assert extract_figures(tmp_path / "missing.ipynb", folder) == []


def test_report_lists_metrics_figures_and_failures(tmp_path):
    executed = _executed(tmp_path / "notebooks" / "99_x.ipynb")
    results = [NotebookResult("99_x", "ok", 12.34, {"test_accuracy": 0.98123, "fast_mode": 1.0}, "", str(executed)),
               NotebookResult("98_y", "failed", 3.0, {}, "cell 4 raised ValueError: no", str(tmp_path / "gone"))]
    report = write_report(results, fast=True, output_dir=tmp_path)
    text = report.read_text(encoding="utf-8")
    assert report == tmp_path / "report" / "index.md"
    assert text.startswith("# Course run report (FAST mode)\n\n2 notebooks: 1 ok, 1 failed; 15 s in all.")
    assert "## 99_x: ok, 12.3 s" in text and "| test_accuracy | 0.9812 |" in text and "fast_mode" not in text
    assert "![99_x, cell 1](figures/99_x_cell01_1.png)" in text
    assert "## 98_y: failed, 3.0 s\n\nError: cell 4 raised ValueError: no\n\nNo metrics recorded." in text
    assert str(tmp_path) not in text                                   # relative links only
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert '<img src="figures/99_x_cell01_1.png"' in page and "<td>0.9812</td>" in page
    assert "<h2>98_y: failed, 3.0 s</h2>" in page


def test_run_notebooks_writes_the_report(tmp_path, monkeypatch):
    source = tmp_path / "src" / "01_fig.ipynb"
    cell = ("import base64\nfrom IPython.display import Image, display\n"
            "from course_lib.report import record\nrecord('answer', 42, notebook='01_fig')\n"
            f"display(Image(data=base64.b64decode({base64.b64encode(PNG).decode()!r})))\n"
            "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")
    nb = {"cells": [{"cell_type": "code", "id": "fig", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": cell}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    source.parent.mkdir(parents=True)
    source.write_text(json.dumps(nb), encoding="utf-8")
    monkeypatch.setenv("COURSE_METRICS_DIR", str(tmp_path / "build" / "metrics"))
    monkeypatch.setenv("MPLBACKEND", "Agg")                  # as in CI: the run still keeps the figure
    lines: list[str] = []
    [result] = run_notebooks([source], fast=True, output_dir=tmp_path / "build", print_fn=lines.append)
    assert result.status == "ok", result.error
    assert lines[0] == "[1/1] 01_fig (FAST mode) ..."
    assert any(line.startswith("report with every chapter's metrics and figures:") for line in lines)
    text = (tmp_path / "build" / "report" / "index.md").read_text(encoding="utf-8")
    assert "| answer | 42 |" in text and "![01_fig, cell 0](figures/01_fig_cell00_1.png)" in text
    assert (tmp_path / "build" / "report" / "figures" / "01_fig_cell00_1.png").read_bytes() == PNG
    assert "![01_fig, cell 0](figures/01_fig_cell00_2.png)" in text            # the matplotlib figure
    assert os.environ["MPLBACKEND"] == "Agg"                      # restored after the run
