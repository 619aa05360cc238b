"""The ``course`` command.

- ``course doctor``: versions, devices, precision policy, XLA, and where each dataset is.
- ``course run [--fast] [NOTEBOOK ...]``: execute notebooks with papermill into ``build/``
  and print a summary table; exits 1 when a notebook failed, naming the cell.
- ``course serve MODEL_PATH [--port 5000]``: serve a saved Keras model over HTTP.
- ``course browser-check [NOTEBOOK ...]``: each stored notebook rendered by JupyterLab in headless
  Chromium (title, maths, figures), with screenshots in ``build/screenshots/``.
- ``course html [NOTEBOOK ...]``: a static HTML copy of the course in ``build/html/``.
- ``course handout [CHAPTER ...] [--output DIR]``: write the student and instructor editions.
- ``course glossary [--check]``: write (or check) ``docs/glossary.md`` from the chapters' key terms.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
from pathlib import Path

from course_lib import config

PACKAGES = ["tensorflow", "keras", "keras_hub", "numpy", "pandas", "sklearn", "matplotlib",
            "papermill", "nbval", "jupyterlab"]


def package_versions() -> dict[str, str]:
    """Installed version of each package the course uses ("missing" when absent)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            module = importlib.import_module(name)
            versions[name] = getattr(module, "__version__", "?")
        except ImportError:
            versions[name] = "missing"
    return versions


def environment_settings() -> dict[str, str]:
    """The course's environment variables as this process sees them."""
    keys = [config.FAST_ENV, config.DATA_DIR_ENV, config.CACHE_DIR_ENV, config.OFFLINE_ENV, config.METRICS_DIR_ENV]
    return {k: os.environ.get(k, "(not set)") for k in keys}


def doctor(print_fn=print) -> int:
    """Print the environment report; returns the exit status (1 when a package is missing)."""
    from course_lib.data import dataset_status
    from course_lib.device import setup_device

    print_fn("== versions")
    versions = package_versions()
    for name, version in versions.items():
        print_fn(f"  {name:12s} {version}")
    print_fn("== settings")
    for key, value in environment_settings().items():
        print_fn(f"  {key:20s} {value}")
    print_fn("== devices")
    setup = setup_device(verbose=False)
    print_fn(f"  {setup.plan.summary()}")
    for line in setup.describe().splitlines():
        print_fn(f"  {line}")
    print_fn("== datasets")
    for row in dataset_status():
        print_fn(f"  {row['name']:16s} {row['where']}")
    missing = [n for n, v in versions.items() if v == "missing" and n != "nbval"]
    if missing:
        print_fn(f"missing packages: {', '.join(missing)} - run: pip install -e .")
        return 1
    return 0


def _run(args: argparse.Namespace) -> int:
    from course_lib.runner import discover, run_notebooks

    root = config.project_root() or Path.cwd()
    try:
        paths = discover(args.notebooks, root)
    except FileNotFoundError as err:
        print(f"course run: {err}", file=sys.stderr)
        return 2
    fast = args.fast or config.fast_from_env()
    output = Path(args.output) if args.output else root / "build"
    results = run_notebooks(paths, fast=fast, output_dir=output, timeout=args.timeout, store=args.store)
    failed = [r for r in results if r.status != "ok"]
    for r in failed:
        print(f"FAILED {r.notebook}: {r.error} (executed copy: {r.output})", file=sys.stderr)
    return 1 if failed else 0


def _handout(args: argparse.Namespace) -> int:
    from course_lib.handout import build_handouts, select_notebooks

    root = config.project_root() or Path.cwd()
    try:
        paths = select_notebooks(args.chapters, root)
    except FileNotFoundError as err:
        print(f"course handout: {err}", file=sys.stderr)
        return 2
    output = Path(args.output) if args.output else root / "build"
    try:
        handouts = build_handouts(paths, output)
    except ValueError as err:
        print(f"course handout: {err}", file=sys.stderr)
        return 1
    for h in handouts:
        print(f"{h.notebook}: {len(h.exercises.numbers)} exercises, {len(h.exercises.code)} with a code starter")
    print(f"student edition: {output / 'student'}  instructor edition: {output / 'instructor'}")
    return 0


def _glossary(args: argparse.Namespace) -> int:
    from course_lib.glossary import glossary_problems, write_glossary
    from course_lib.runner import discover

    root = config.project_root() or Path.cwd()
    output = Path(args.output) if args.output else root / "docs" / "glossary.md"
    try:
        paths = discover(None, root)
        if args.check:
            problems = glossary_problems(paths, output)
            for problem in problems:
                print(f"course glossary: {problem}", file=sys.stderr)
            return 1 if problems else 0
        entries = write_glossary(paths, output)
    except (FileNotFoundError, ValueError) as err:
        print(f"course glossary: {err}", file=sys.stderr)
        return 1
    print(f"{len(entries)} key terms written to {output}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        from course_lib import serving
    except ImportError as err:
        print(f"course serve: the serving module is not available ({err})", file=sys.stderr)
        return 2
    return serving.main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description="Run and check the deep-learning course.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="print versions, devices, precision policy and dataset locations")
    run = sub.add_parser("run", help="execute notebooks with papermill and summarise their metrics")
    run.add_argument("notebooks", nargs="*", help="notebook paths or names (default: every notebook)")
    run.add_argument("--fast", action="store_true", help="FAST mode: small data, few epochs (also COURSE_FAST=1)")
    run.add_argument("--output", help="output folder (default: build/ in the project)")
    run.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell")
    run.add_argument("--store", action="store_true",
                     help="copy each successfully executed notebook back over its source (to refresh stored outputs)")
    handout = sub.add_parser("handout", help="write the student edition (solutions replaced by starters) "
                             "and the instructor edition of the chapters")
    handout.add_argument("chapters", nargs="*", help="chapter numbers (05), names or paths (default: every chapter)")
    handout.add_argument("--output", help="folder for student/ and instructor/ (default: build/ in the project)")
    glossary = sub.add_parser("glossary", help="write docs/glossary.md from the chapters' Key terms")
    glossary.add_argument("--check", action="store_true", help="check that the glossary is current (exit 1 if not)")
    glossary.add_argument("--output", help="the glossary file (default: docs/glossary.md in the project)")
    from course_lib import browser_check, html_export

    browser_check.add_arguments(sub.add_parser(
        "browser-check", help="open each stored notebook in JupyterLab in headless Chromium, check that its "
        "title, maths and figures render, save screenshots in build/screenshots/"))
    html_export.add_arguments(sub.add_parser(
        "html", help="write a static HTML copy of the course (every chapter with its stored outputs) to build/html/"))
    serve = sub.add_parser("serve", help="serve a saved Keras model: POST /predict, GET /health")
    serve.add_argument("model_path", help="a .keras file")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--input-shape", help="warm-up shape for free dimensions: 28,28,1")
    serve.add_argument("--max-batch", type=int, default=256, help="examples per request (default 256)")
    serve.add_argument("--max-body-bytes", type=int, default=8 * 1024 * 1024, help="request body limit (default 8 MiB)")
    serve.add_argument("--max-concurrency", type=int, default=4, help="requests served at once (default 4)")
    serve.add_argument("--max-queue", type=int, default=64, help="requests waiting, then 503 (default 64)")
    serve.add_argument("--timeout", type=float, default=10.0, help="seconds for headers, body and a turn (default 10)")
    serve.add_argument("--allowed-host", action="append", help="Host to answer too (repeatable)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument("--no-access-log", dest="access_log", action="store_false", help="no log line per request")
    serve.add_argument("--docs", action="store_true", help="serve the Swagger page /docs (its scripts load from a CDN)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        return doctor()
    if args.command == "run":
        return _run(args)
    if args.command == "handout":
        return _handout(args)
    if args.command == "glossary":
        return _glossary(args)
    if args.command in ("browser-check", "html"):
        from course_lib import browser_check, html_export
        from course_lib.runner import discover

        module = browser_check if args.command == "browser-check" else html_export
        return module.run_from_args(args, config.project_root() or Path.cwd(), discover)
    return _serve(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
