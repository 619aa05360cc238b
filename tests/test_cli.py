"""The `course` command: doctor, and run on small real notebooks (one passing, one failing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_lib import cli

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("from course_lib.config import fast_from_env\nFAST = fast_from_env()\nSEED = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_parser_knows_the_commands():
    parser = cli.build_parser()
    assert parser.parse_args(["run", "--fast", "a.ipynb"]).fast is True
    assert parser.parse_args(["serve", "m.keras"]).host == "127.0.0.1"
    with pytest.raises(SystemExit):
        parser.parse_args(["fly"])


def test_doctor_reports_versions_devices_and_datasets(capsys):
    status = cli.doctor()
    out = capsys.readouterr().out
    assert status == 0
    for heading in ("== versions", "== devices", "== datasets", "tensorflow", "precision policy", "mnist"):
        assert heading in out


ONEDNN = (b"E0000 00:00:1796239797.526384   22374 util.cc:131] oneDNN supports DT_INT64 only on platforms with "
          b"AVX-512. Falling back to the default Eigen-based implementation if present.\n")


def test_run_summarises_and_fails_with_cell_number(tmp_path: Path):
    ok = _notebook(tmp_path / "01_ok.ipynb",
                   "from course_lib.notebook import start\nfrom course_lib.report import record\n"
                   "start('01_ok', fast=FAST, seed=SEED)\nrecord('answer', 42)\n"
                   "import os, time\n"       # C++ code writing to stderr after start(): the noise is dropped
                   f"os.write(2, {ONEDNN!r})\nos.write(2, b'E0000 00:00:1.0 1 op.cc:1] a real error\\n')\n"
                   "time.sleep(1)")
    bad = _notebook(tmp_path / "02_bad.ipynb", "raise ValueError('broken on purpose')")
    out_dir = tmp_path / "build"
    proc = subprocess.run([sys.executable, "-m", "course_lib.cli", "run", "--fast", "--output", str(out_dir),
                           str(ok), str(bad)], capture_output=True, text=True, timeout=300,
                          env={**{k: v for k, v in __import__("os").environ.items()
                                  if k != "PYTEST_CURRENT_TEST"},   # with it, ipykernel leaves fd 2 alone
                               "COURSE_METRICS_DIR": str(out_dir / "metrics")})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "answer=42" in proc.stdout
    assert "without encryption" not in proc.stderr          # ipykernel's own start-up warning stays off
    cells = json.loads((out_dir / "notebooks" / "01_ok.ipynb").read_text())["cells"]
    shown = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    assert "a real error" in shown and "oneDNN" not in shown and "oneDNN" not in proc.stderr
    assert "02_bad" in proc.stderr and "cell 1" in proc.stderr and "broken on purpose" in proc.stderr
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["fast"] is True
    statuses = {r["notebook"]: r["status"] for r in summary["results"]}
    assert statuses == {"01_ok": "ok", "02_bad": "failed"}
    assert (out_dir / "summary.md").read_text().count("|") > 8


def test_run_rejects_unknown_notebook(capsys):
    assert cli.main(["run", "no_such_notebook"]) == 2
    assert "no such notebook" in capsys.readouterr().err


def test_store_strips_only_tensorflow_startup_noise():
    from course_lib.runner import strip_startup_noise

    noise = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
             "I0000 00:00:1795392620.023670   12557 cudart_stub.cc:31] Could not find cuda drivers on your machine.\n"
             "E0000 00:00:1795392683.929758   12557 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n"
             "I0000 00:00:1796221560.613973    6726 generator_dataset_op.cc:213] Memory patch applied: "
             "M_TRIM_THRESHOLD=128 kb was set.\n"
             "I0000 00:00:1796221589.604340    6761 device_compiler.h:208] Compiled cluster using XLA!  "
             "This line is logged "
             "at most once for the lifetime of the process.\n"
             "E0000 00:00:1796221635.718471    6726 util.cc:131] oneDNN supports DT_INT64 only on platforms with "
             "AVX-512. Falling back to the default Eigen-based implementation if present.\n")
    real = "UserWarning: something the learner should see\n"
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stderr", "text": noise},
        {"output_type": "stream", "name": "stderr", "text": noise + real},
        {"output_type": "stream", "name": "stdout", "text": noise}]}]}
    assert strip_startup_noise(nb) == 12
    outputs = nb["cells"][0]["outputs"]
    assert [o["text"] for o in outputs] == [real, noise]  # stdout is never touched
