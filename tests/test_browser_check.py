"""course browser-check: what a notebook file says must be seen, compared with what the page shows.

The real run (JupyterLab in headless Chromium) is `course browser-check`, an optional step of .ci/run;
here: the comparison, the reading of the file, and the clear skip without a browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_lib import browser_check, cli
from course_lib.browser_check import Expected, compare, expected_from_notebook, find_browser

ROOT = Path(__file__).resolve().parents[1]


def _md(text):
    return {"cell_type": "markdown", "source": text, "metadata": {}}


def _code(images=0, text=False):
    outputs = [{"output_type": "stream", "name": "stdout", "text": "x\n"}] if text else []
    outputs += [{"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"},
                 "metadata": {}} for _ in range(images)]
    return {"cell_type": "code", "source": "plt.show()", "outputs": outputs, "metadata": {}}


NOTEBOOK = {"cells": [_md("# 05 · Convolutional networks\n\n**Key terms.** stride (步幅)."),
                      _md("A convolution $y = w * x$ and $$\\sum_i w_i x_i$$"),
                      _code(images=2, text=True),
                      _md("Costs `$5` and `$6`: code, not maths."),
                      _code(text=True),
                      _md("A price of 5 $ is not maths either."),
                      _code(images=1)]}


def test_expected_from_notebook():
    expected = expected_from_notebook(NOTEBOOK)
    assert expected == Expected(title="05 · Convolutional networks", cells=7, math_cells=[1], images={2: 2, 6: 1})


@pytest.mark.parametrize("notebook, message", [
    ({"cells": []}, "no cells"),
    ({"cells": [_md("Intro without a title")]}, "no '# ' title"),
])
def test_expected_from_notebook_bad_input(notebook, message):
    with pytest.raises(ValueError, match=message):
        expected_from_notebook(notebook)


def _shown(math=(0, 3, 0, 0, 0, 0, 0), images=(0, 0, 2, 0, 0, 0, 1), broken=(0,) * 7,
           h1=("05 · Convolutional networks¶",), errors=0):
    cells = [{"math": m, "images": i, "broken": b} for m, i, b in zip(math, images, broken)]
    return {"ready": True, "cells": cells, "h1": list(h1), "math_errors": errors, "math_total": sum(math)}


def test_a_page_that_shows_everything_passes():
    assert compare(expected_from_notebook(NOTEBOOK), _shown()) == []


@pytest.mark.parametrize("shown, problem", [
    (_shown(h1=("Untitled",)), "title '05 · Convolutional networks' not shown"),
    (_shown(math=(0,) * 7), "maths not rendered in Markdown cells [1]"),
    (_shown(errors=1), "1 maths error(s)"),
    (_shown(images=(0, 0, 1, 0, 0, 0, 1)), "cell 2: 1 figure(s) shown, 2 stored"),
    (_shown(images=(0, 0, 2, 0, 0, 0, 0)), "cell 6: 0 figure(s) shown, 1 stored"),
    (_shown(broken=(0, 0, 0, 0, 0, 0, 1)), "cell 6: 1 figure(s) did not load"),
    (dict(_shown(), cells=_shown()["cells"][:5]), "5 cells shown, the file has 7"),
])
def test_each_rendering_problem_is_found(shown, problem):
    problems = compare(expected_from_notebook(NOTEBOOK), shown)
    assert any(p.startswith(problem) for p in problems), problems


def test_every_stored_notebook_has_a_title_the_check_can_find():
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        expected = expected_from_notebook(json.loads(path.read_text(encoding="utf-8")))
        assert path.stem[:2] in expected.title, (path.name, expected.title)


def test_no_browser_is_a_clear_skip_or_with_require_browser_an_error(monkeypatch, capsys):
    monkeypatch.setenv(browser_check.BROWSER_ENV, "/nonexistent/chromium")
    assert find_browser() is None
    assert cli.main(["browser-check"]) == 0
    err = capsys.readouterr().err
    assert "browser check skipped: no Chromium found" in err and "apt-get install chromium fonts-noto-cjk" in err
    assert cli.main(["browser-check", "--require-browser"]) == 2


def test_find_browser_takes_the_setting(monkeypatch, tmp_path):
    fake = tmp_path / "my-chrome"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv(browser_check.BROWSER_ENV, str(fake))
    assert find_browser() == str(fake)
