"""course_lib.progress: who is watching, the live line, and silence where nobody watches."""

from __future__ import annotations

import io

import pytest

from course_lib.progress import PROGRESS_ENV, Progress, format_seconds, interactive, track


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


class Recorder:
    """A stand-in for the live line: remembers every text shown and every clear."""

    def __init__(self):
        self.shown: list[str] = []
        self.cleared = 0

    def show(self, text):
        self.shown.append(text)

    def clear(self):
        self.cleared += 1


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("env, in_kernel, tty, expected", [
    ({}, False, True, True),                                        # a script in a terminal
    ({}, False, False, False),                                      # output piped to a file or CI log
    ({"CI": "true"}, False, True, False),                           # CI, even with a terminal
    ({"JPY_SESSION_NAME": "05_cnn.ipynb"}, True, False, True),      # JupyterLab's kernel
    ({"VSCODE_PID": "123"}, True, False, True),                     # VS Code's kernel
    ({}, True, False, False),                                       # papermill / nbconvert kernel
    ({"JPY_SESSION_NAME": "x", PROGRESS_ENV: "epoch"}, True, False, False),   # course run's kernels
    ({"CI": "1", PROGRESS_ENV: "live"}, False, False, True),        # forced on
    ({PROGRESS_ENV: "0"}, False, True, False),                      # forced off
    ({"CI": "false"}, False, True, True),
])
def test_interactive_detection(env, in_kernel, tty, expected):
    stream = FakeTTY() if tty else io.StringIO()
    assert interactive(stream, env=env, in_kernel=in_kernel) is expected


def test_interactive_rejects_an_unknown_setting():
    with pytest.raises(ValueError, match="COURSE_PROGRESS='sometimes'.*'live'.*'epoch'"):
        interactive(io.StringIO(), env={PROGRESS_ENV: "sometimes"}, in_kernel=False)


def test_this_test_run_is_not_interactive():
    # pytest captures stdout (no terminal) and course run sets nothing live: the default is off here
    assert interactive() is False


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 5.4, 65, 3600, 3725)] == ["0:00", "0:05", "1:05", "1:00:00", "1:02:05"]


def test_live_line_shows_steps_rate_and_time_left():
    clock, line = Clock(), Recorder()
    bar = Progress(10, label="epoch 1/2", examples_per_step=32, live=True, line=line, clock=clock, min_interval=0)
    bar.later_steps = 10
    bar.update()                                   # first step: includes tracing, no rate yet
    assert line.shown[-1].startswith("epoch 1/2 [##..................] 1/10 - timing...")
    clock.now = 2.0
    bar.update(4, values={"loss": 0.5, "learning_rate": 0.1})   # 4 steps in 2 s after the first
    text = line.shown[-1]
    assert "5/10" in text and "64 examples/s" in text and "loss 0.5000" in text and "learning_rate" not in text
    assert "0:02 left (0:08 in all)" in text       # 5 steps at 2 steps/s, then 10 more steps
    bar.close()
    assert line.cleared == 1


def test_live_line_is_throttled_but_always_drawn_at_the_end():
    clock, line = Clock(), Recorder()
    bar = Progress(100, live=True, line=line, clock=clock, min_interval=0.5)
    for step in range(100):
        clock.now = step * 0.01                    # 100 steps in one second
        bar.update()
    assert 2 <= len(line.shown) <= 4               # first draw, about two more, and the last step
    assert "100/100" in line.shown[-1]


def test_unknown_length_and_steps_per_second():
    clock, line = Clock(), Recorder()
    bar = Progress(None, unit="round", live=True, line=line, clock=clock, min_interval=0)
    bar.update()
    clock.now = 4.0
    bar.update(2)
    assert line.shown[-1] == "3 rounds - 0.50 rounds/s"


def test_an_older_count_is_ignored():
    line = Recorder()
    bar = Progress(10, live=True, line=line, min_interval=0)
    bar.set(5)
    bar.set(3)                                     # a late batch hook from another thread
    assert bar.done == 5


def test_terminal_stream_is_rewritten_in_place(monkeypatch):
    monkeypatch.delenv("CI", raising=False)        # CI services set it, and it turns the live line off
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    stream = FakeTTY()
    clock = Clock()
    with Progress(4, label="work", live=None, stream=stream, clock=clock, min_interval=0) as bar:
        assert bar.live                            # a terminal: live by default
        for _ in range(4):
            clock.now += 1
            bar.update()
        bar.log("a permanent line")
    out = stream.getvalue()
    assert out.count("\r") >= 5 and "4/4" in out and "a permanent line\n" not in out  # print() went to stdout
    assert out.endswith("\r")                      # the live line is wiped at the end


def test_not_interactive_prints_nothing(capsys):
    stream = io.StringIO()
    items = list(track(range(5), label="round", stream=stream))
    assert items == [0, 1, 2, 3, 4]
    assert stream.getvalue() == "" and capsys.readouterr().out == ""


def test_track_counts_each_item_after_its_body():
    line = Recorder()
    seen = []
    for item in track(["a", "b", "c"], live=True, line=line, min_interval=0):
        seen.append((item, len(line.shown)))
    assert seen == [("a", 0), ("b", 1), ("c", 2)] and "3/3" in line.shown[-1] and line.cleared == 1


def test_track_without_a_length():
    line = Recorder()
    assert list(track((i for i in range(3)), live=True, line=line, min_interval=0)) == [0, 1, 2]
    assert line.shown[-1].startswith("3 steps")


@pytest.mark.parametrize("kwargs, message", [
    (dict(total=-1), "total must be None or an integer >= 0"),
    (dict(total=2.5), "total must be None or an integer >= 0"),
    (dict(total=3, min_interval=-1), "min_interval must be >= 0"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Progress(live=False, **kwargs)


def _run_in_kernel(code: str, env: dict) -> list[dict]:
    """Run ``code`` in a fresh IPython kernel with ``env``; the iopub messages of that execution."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        messages = []
        msg_id = client.execute(code)
        while True:
            msg = client.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return messages
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


KERNEL_CODE = """
from course_lib.progress import Progress
bar = Progress(3, label="round", min_interval=0)
for _ in range(3):
    bar.update()
bar.close()
print("live:", bar.live)
"""


@pytest.mark.parametrize("frontend", [True, False], ids=["jupyterlab_kernel", "papermill_kernel"])
def test_in_a_real_kernel_the_line_updates_in_place_only_for_a_frontend(frontend):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("CI", PROGRESS_ENV, "JPY_SESSION_NAME", "VSCODE_PID")}
    if frontend:
        env["JPY_SESSION_NAME"] = "notebooks/05_cnn.ipynb"      # what Jupyter Server sets for a notebook
    messages = _run_in_kernel(KERNEL_CODE, env)
    kinds = [m["msg_type"] for m in messages]
    stdout = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
    assert stdout == f"live: {frontend}\n"
    if frontend:   # one output, created once and then replaced: no carriage returns in the notebook
        assert kinds.count("display_data") == 1 and kinds.count("update_display_data") >= 3
        texts = [m["content"]["data"]["text/plain"] for m in messages if m["msg_type"].endswith("display_data")]
        assert texts[0].startswith("round [") and "3/3" in texts[-2] and texts[-1] == ""
    else:
        assert "display_data" not in kinds and "update_display_data" not in kinds


FIT_CODE = """
import course_lib
import keras
import numpy as np
from course_lib.train import fit
x = np.random.default_rng(0).normal(size=(1024, 8)).astype("float32")
y = (x[:, 0] > 0).astype("int32")
result = fit(lambda: keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")]), x, y,
             epochs=2, batch_size=16, seed=0,
             compile_kwargs=dict(optimizer="sgd", loss="sparse_categorical_crossentropy"))
"""


def test_fit_in_a_jupyterlab_kernel_updates_one_output_and_keeps_the_epoch_lines():
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("CI", PROGRESS_ENV, "VSCODE_PID")}
    env["JPY_SESSION_NAME"] = "notebooks/05_cnn.ipynb"
    messages = _run_in_kernel(FIT_CODE, env)
    kinds = [m["msg_type"] for m in messages]
    assert "error" not in kinds, [m["content"] for m in messages if m["msg_type"] == "error"]
    stdout = "".join(m["content"]["text"] for m in messages
                     if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")
    lines = stdout.splitlines()
    assert [line.split(" - ")[0] for line in lines[:2]] == ["epoch 1/2", "epoch 2/2"] and "\r" not in stdout
    assert lines[2].startswith("trained 2 epoch(s)") and len(lines) == 3
    assert kinds.count("display_data") == 1                 # one output for the whole run, updated in place
    texts = [m["content"]["data"]["text/plain"] for m in messages if m["msg_type"] == "update_display_data"]
    assert any(t.startswith("epoch 1/2 [") for t in texts) and any(t.startswith("epoch 2/2 [") for t in texts)
    assert any("64/64" in t and " left" in t for t in texts) and texts[-1] == ""
