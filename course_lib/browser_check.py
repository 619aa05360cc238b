"""Check that every stored notebook renders for a person: JupyterLab in headless Chromium.

``course browser-check`` starts JupyterLab on 127.0.0.1 (a random token, throw-away settings,
serving copies of the notebooks, so nothing it does can change them), opens each notebook in
headless Chromium (driven over the Chrome DevTools protocol, with the ``websocket-client``
package JupyterLab already needs) and checks, against the ``.ipynb`` file:

- the title: the first ``# `` heading of the first cell is shown as a heading;
- the maths: every Markdown cell with ``$...$`` maths shows MathJax output, and no maths error;
- the figures: each code cell shows as many loaded ``<img>`` elements as it stores image outputs.

It saves ``build/screenshots/NN_name.png`` (the top of the notebook: title, key terms) and, for a
notebook with figures, ``NN_name-figure.png`` (its first figure), and prints one line per
notebook. Then it checks the static HTML export (``course html``) the same way: each page opened
from files, as a learner without Python or a network would (screenshots in ``html/``). Without a
Chromium it says so and exits 0 (skipped); ``--require-browser`` makes that an error. Debian:
``apt-get install chromium fonts-noto-cjk`` (the fonts show the 中文 key terms).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from course_lib.ports import free_port

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: set to a browser executable to use that one
BROWSER_ENV = "COURSE_CHROMIUM"
MATH = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$(?!\s)[^$\n]+?(?<!\s)\$", re.DOTALL)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


@dataclass
class Expected:
    """What a notebook file says a reader must see."""

    title: str
    cells: int
    math_cells: list[int]
    images: dict[int, int]               # code cell index -> stored image outputs


@dataclass
class PageResult:
    """What the browser showed for one notebook, and the problems found."""

    notebook: str
    seconds: float = 0.0
    title: str = ""
    math_elements: int = 0
    images: int = 0
    expected_images: int = 0
    problems: list[str] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def find_browser() -> str | None:
    """The Chromium executable: ``COURSE_CHROMIUM`` if set, else the first of :data:`BROWSERS` on PATH."""
    chosen = os.environ.get(BROWSER_ENV)
    if chosen:
        return chosen if shutil.which(chosen) or Path(chosen).is_file() else None
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def _source(cell: dict) -> str:
    return "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")


def expected_from_notebook(notebook: dict) -> Expected:
    """Title, Markdown cells with maths, and stored images per code cell, read from the ``.ipynb``.

    Raises:
        ValueError: the notebook has no cells, or its first cell has no ``# `` title.
    """
    cells = notebook.get("cells", [])
    if not cells:
        raise ValueError("the notebook has no cells")
    title = next((line[2:].strip() for line in _source(cells[0]).splitlines() if line.startswith("# ")), None)
    if title is None:
        raise ValueError("the first cell has no '# ' title line")
    math_cells = [i for i, c in enumerate(cells) if c.get("cell_type") == "markdown"
                  and MATH.search(re.sub(r"`[^`]*`", "", _source(c)))]
    images = {}
    for index, cell in enumerate(cells):
        count = sum(1 for o in cell.get("outputs", []) if any(t in o.get("data", {}) for t in IMAGE_TYPES))
        if count:
            images[index] = count
    return Expected(title=title, cells=len(cells), math_cells=math_cells, images=images)


def compare(expected: Expected, shown: dict[str, Any]) -> list[str]:
    """Problems between what the file stores and what the page shows (``shown``: see ``_PAGE_STATE``)."""
    problems = []
    cells = shown.get("cells", [])
    if len(cells) != expected.cells:
        problems.append(f"{len(cells)} cells shown, the file has {expected.cells}")
    headings = [h.replace("¶", "").strip() for h in shown.get("h1", [])]
    if expected.title not in headings:
        problems.append(f"title {expected.title!r} not shown (headings: {headings[:3]})")
    no_math = [i for i in expected.math_cells if i < len(cells) and cells[i]["math"] == 0]
    if no_math:
        problems.append(f"maths not rendered in Markdown cells {no_math}")
    if shown.get("math_errors"):
        problems.append(f"{shown['math_errors']} maths error(s)")
    for index, count in expected.images.items():
        got = cells[index]["images"] if index < len(cells) else 0
        broken = cells[index]["broken"] if index < len(cells) else 0
        if got != count:
            problems.append(f"cell {index}: {got} figure(s) shown, {count} stored")
        elif broken:
            problems.append(f"cell {index}: {broken} figure(s) did not load")
    return problems


# One JSON snapshot of the rendered notebook, per cell in document order.
_PAGE_STATE = """
(() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook')
           || document.querySelector('.jp-Notebook');
  if (!nb) return JSON.stringify({ready: false});
  const cells = Array.from(nb.querySelectorAll('.jp-Cell')).map(c => {
    const imgs = Array.from(c.querySelectorAll('.jp-OutputArea-output img'));
    return {markdown: c.classList.contains('jp-MarkdownCell'),
            math: c.querySelectorAll('mjx-container').length,
            images: imgs.length,
            broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length};
  });
  const busy = Array.from(nb.querySelectorAll('.jp-MarkdownCell')).filter(c => {
    const out = c.querySelector('.jp-RenderedMarkdown');
    return !(c.classList.contains('jp-mod-rendered') && out && out.childElementCount > 0);
  }).length;
  return JSON.stringify({ready: true, cells, busy,
    h1: Array.from(nb.querySelectorAll('.jp-RenderedMarkdown h1')).map(h => h.textContent),
    math_errors: nb.querySelectorAll('mjx-merror').length,
    math_total: nb.querySelectorAll('mjx-container').length});
})()
"""


# The same snapshot for a page of the static HTML export (nbconvert's lab markup, MathJax 2).
_EXPORT_STATE = """
(() => {
  if (document.readyState !== 'complete' || !document.querySelector('.jp-Cell')) return JSON.stringify({ready: false});
  const hub = window.MathJax && window.MathJax.Hub;
  const busy = (hub && window.MathJax.isReady && hub.queue.pending === 0 && !hub.queue.running) ? 0 : 1;
  const math = 'span.MathJax, span.MathJax_SVG, span.MathJax_CHTML';
  const cells = Array.from(document.querySelectorAll('.jp-Cell')).map(c => {
    const imgs = Array.from(c.querySelectorAll('.jp-OutputArea-output img'));
    return {markdown: c.classList.contains('jp-MarkdownCell'),
            math: c.querySelectorAll(math).length,
            images: imgs.length,
            broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length};
  });
  return JSON.stringify({ready: true, cells, busy,
    h1: Array.from(document.querySelectorAll('.jp-RenderedMarkdown h1')).map(h => h.textContent),
    math_errors: document.querySelectorAll('.MathJax_Error').length,
    math_total: document.querySelectorAll(math).length});
})()
"""


class DevTools:
    """A minimal Chrome DevTools protocol client for one page (a websocket, one call at a time)."""

    def __init__(self, ws_url: str):
        import websocket

        self._ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self._next = 0

    def call(self, method: str, **params: Any) -> dict:
        self._next += 1
        self._ws.send(json.dumps({"id": self._next, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == self._next:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._ws.close()


def _wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with status {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.5)


@contextlib.contextmanager
def jupyterlab(root: Path, workdir: Path, log: Path) -> Iterator[str]:
    """JupyterLab serving ``root`` on 127.0.0.1 with throw-away settings; yields its base URL with token."""
    port, token = free_port(), secrets.token_hex(16)
    config_dir, settings = workdir / "config", workdir / "settings"
    (config_dir / "labconfig").mkdir(parents=True)
    # no "receive Jupyter news?" notification over the screenshots
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    # every cell in the page (JupyterLab 4 otherwise renders only the cells in view)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir), JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
               JUPYTER_DATA_DIR=str(workdir / "data"))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
               "--LabApp.news_url=", "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")      # containers and CI machines often run as root
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/api/status?token={token}", 120, proc)
        yield f"{base}|{token}"
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Terminate ``proc``, killing it if it has not exited after 15 s."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def chromium(browser: str, workdir: Path, size: tuple[int, int]) -> Iterator[DevTools]:
    """Headless Chromium with a fresh profile; yields a DevTools client for its page."""
    port = free_port()
    command = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", "--hide-scrollbars", f"--window-size={size[0]},{size[1]}",
               f"--remote-debugging-port={port}", "--remote-allow-origins=*",
               f"--user-data-dir={workdir / 'profile'}", "about:blank"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tools = None
    try:
        _wait_http(f"http://127.0.0.1:{port}/json/version", 60, proc)
        pages = json.loads(_wait_http(f"http://127.0.0.1:{port}/json/list", 10))
        page = next(p for p in pages if p.get("type") == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        tools.call("Page.enable")
        tools.call("Runtime.enable")
        yield tools
    finally:
        if tools is not None:
            tools.close()
        _stop(proc)


def _settle(tools: DevTools, expected: Expected, timeout: float, script: str = _PAGE_STATE) -> dict:
    """Poll the page until it shows everything the file stores (and nothing changed since the last
    poll), or until ``timeout``: then the last state is returned and :func:`compare` says what is missing.
    ``script`` reads the page's state: :data:`_PAGE_STATE` (JupyterLab) or :data:`_EXPORT_STATE`."""
    deadline, last = time.monotonic() + timeout, None
    state: dict = {}
    while time.monotonic() < deadline:
        state = json.loads(tools.evaluate(script) or '{"ready": false}')
        if state.get("ready") and not state.get("busy"):
            snapshot = (state["math_total"], [(c["math"], c["images"], c["broken"]) for c in state["cells"]])
            if snapshot == last and not compare(expected, state):
                return state
            last = snapshot
        time.sleep(1.0)
    return state


def _expected_for(path: Path, result: PageResult) -> Expected | None:
    """What ``path`` stores (and its image count in ``result``), or None with the reason in ``result``."""
    try:
        expected = expected_from_notebook(json.loads(path.read_text(encoding="utf-8")))
    except ValueError as err:
        result.problems.append(str(err))
        return None
    result.expected_images = sum(expected.images.values())
    return expected


def _record_shown(result: PageResult, expected: Expected, state: dict) -> None:
    """Put what a settled page shows, and its problems against ``expected``, into ``result``."""
    result.problems += compare(expected, state)
    result.title = next((h.replace("¶", "").strip() for h in state.get("h1", [])), "")
    result.math_elements = state.get("math_total", 0)
    result.images = sum(c["images"] for c in state["cells"])


def check_notebook(tools: DevTools, base: str, root: Path, path: Path, out_dir: Path,
                   timeout: float = 90) -> PageResult:
    """Open one notebook, compare what is shown with the file, save its screenshots."""
    started = time.monotonic()
    result = PageResult(notebook=path.stem)
    expected = _expected_for(path, result)
    if expected is None:
        return result
    url, token = base.split("|")
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    tools.call("Page.navigate", url=f"{url}/doc/tree/{relative}?token={token}")
    state = _settle(tools, expected, timeout)
    if not state.get("ready"):
        result.problems.append(f"the notebook was not shown within {timeout:.0f} s")
    else:
        _record_shown(result, expected, state)
    top = out_dir / f"{path.stem}.png"
    tools.evaluate("document.querySelector('.jp-WindowedPanel-outer, .jp-Notebook')?.scrollTo(0, 0)")
    time.sleep(0.3)
    tools.screenshot(top)
    result.screenshots.append(str(top))
    if expected.images and state.get("ready"):
        tools.evaluate("document.querySelector('.jp-OutputArea-output img')?.scrollIntoView({block: 'center'})")
        time.sleep(0.5)
        figure = out_dir / f"{path.stem}-figure.png"
        tools.screenshot(figure)
        result.screenshots.append(str(figure))
    result.seconds = round(time.monotonic() - started, 1)
    return result


def check_export_page(tools: DevTools, notebook: Path, page: Path, out_dir: Path,
                      timeout: float = 90) -> PageResult:
    """Open one page of the static HTML export from the file system (no server, no network) and
    compare it with its notebook as :func:`check_notebook` does; saves ``out_dir/NN_name.png``."""
    started = time.monotonic()
    result = PageResult(notebook=f"html/{page.name}")
    expected = _expected_for(notebook, result)
    if expected is None:
        return result
    tools.call("Page.navigate", url=page.resolve().as_uri())
    state = _settle(tools, expected, timeout, script=_EXPORT_STATE)
    if not state.get("ready"):
        result.problems.append(f"the page was not shown within {timeout:.0f} s")
    elif state.get("busy"):
        result.problems.append(f"MathJax had not finished within {timeout:.0f} s (did mathjax/ load?)")
    else:
        _record_shown(result, expected, state)
    out_dir.mkdir(parents=True, exist_ok=True)
    shot = out_dir / f"{notebook.stem}.png"
    tools.evaluate("window.scrollTo(0, 0)")
    tools.screenshot(shot)
    result.screenshots.append(str(shot))
    result.seconds = round(time.monotonic() - started, 1)
    return result


def run_browser_check(notebooks: list[Path], root: Path, out_dir: Path, browser: str,
                      size: tuple[int, int] = (1280, 1600), timeout: float = 90,
                      print_fn=print, html: bool = True) -> list[PageResult]:
    """Start JupyterLab and Chromium once, check each notebook, then (``html``) each page of the static
    HTML export opened from files; write ``out_dir/browser_check.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="course-browser-") as tmp:
        work = Path(tmp)
        # JupyterLab serves copies: nothing it does (kernel metadata, a save) can touch the notebooks
        served = work / "course"
        copies = []
        for path in notebooks:
            try:
                copy = served / path.resolve().relative_to(root.resolve())
            except ValueError:                      # a notebook outside the project
                copy = served / "notebooks" / path.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
            copies.append(copy)
        def report(result: PageResult) -> None:
            results.append(result)
            status = "ok" if result.ok else "FAILED: " + "; ".join(result.problems)
            print_fn(f"{result.notebook}: {status} - {result.images}/{result.expected_images} figures, "
                     f"{result.math_elements} maths elements, {result.seconds:.1f} s")

        with jupyterlab(served, work, out_dir / "jupyterlab.log") as base, chromium(browser, work, size) as tools:
            for path in copies:
                report(check_notebook(tools, base, served, path, out_dir, timeout=timeout))
            if html:
                # the static export too, opened from files as a learner without Python would
                from course_lib.html_export import export_html

                export_html(copies, work / "html", print_fn=lambda _: None)
                for path in copies:
                    report(check_export_page(tools, path, work / "html" / f"{path.stem}.html",
                                             out_dir / "html", timeout=timeout))
    (out_dir / "browser_check.json").write_text(json.dumps(
        [dict(vars(r), ok=r.ok) for r in results], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> int:
    """``course browser-check [NOTEBOOK ...] [--output DIR] [--require-browser]``."""
    from course_lib import config
    from course_lib.runner import discover

    parser = argparse.ArgumentParser(prog="course browser-check", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_from_args(args, config.project_root() or Path.cwd(), discover)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="*", help="notebook paths or names (default: every notebook)")
    parser.add_argument("--output", help="screenshot folder (default: build/screenshots/ in the project)")
    parser.add_argument("--require-browser", action="store_true",
                        help="fail (exit 2) instead of skipping when no Chromium is installed")
    parser.add_argument("--timeout", type=float, default=90, help="seconds allowed per notebook (default 90)")
    parser.add_argument("--no-html", action="store_true",
                        help="skip the pages of the static HTML export (checked by default, opened from files)")


def run_from_args(args: argparse.Namespace, root: Path, discover) -> int:
    browser = find_browser()
    if browser is None:
        message = ("browser check skipped: no Chromium found (install it with `apt-get install chromium "
                   f"fonts-noto-cjk`, or set {BROWSER_ENV} to a Chromium or Chrome executable)")
        print(message, file=sys.stderr)
        return 2 if args.require_browser else 0
    try:
        notebooks = discover(args.notebooks, root)
    except FileNotFoundError as err:
        print(f"course browser-check: {err}", file=sys.stderr)
        return 2
    out_dir = Path(args.output) if args.output else root / "build" / "screenshots"
    started = time.monotonic()
    results = run_browser_check(notebooks, root, out_dir, browser, timeout=args.timeout, html=not args.no_html)
    failed = [r for r in results if not r.ok]
    pages = "notebooks and HTML pages" if not args.no_html else "notebooks"
    print(f"{len(results) - len(failed)}/{len(results)} {pages} render, in {time.monotonic() - started:.0f} s; "
          f"screenshots in {out_dir}")
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
