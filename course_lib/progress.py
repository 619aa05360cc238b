"""Progress you can see inside a long loop, and nothing extra where nobody watches.

A person watching a notebook in JupyterLab (or a script in a terminal) sees one line that
updates in place: steps done, examples per second and the time left. In CI, under papermill
(``course run``) and in stored notebooks the reporter prints nothing at all, so a loop's own
lines (one per epoch, one per round) are exactly what they were without it.

.. code-block:: python

    from course_lib.progress import track

    for round_ in track(range(ROUNDS), label="FedAvg round"):   # a live line while a person watches
        ...
        print(f"round {round_ + 1}: accuracy {acc:.3f}")       # printed as before, in every mode

:func:`course_lib.train.fit` uses the same reporter inside each Keras epoch.

Who is watching is decided by :func:`interactive`, in this order:

1. ``COURSE_PROGRESS=live`` (or 1/yes/on/true) forces the live line, ``COURSE_PROGRESS=epoch``
   (or 0/no/off/false) turns it off; ``course run`` sets ``epoch`` for the kernels it starts.
2. ``CI`` set to a yes value (as CI services do): off.
3. Inside a Jupyter kernel: on only when the kernel was started by a Jupyter server for a
   frontend (JupyterLab, Notebook: they set ``JPY_SESSION_NAME``) or by VS Code; papermill and
   nbconvert start kernels without either, so executed notebooks keep one line per epoch.
4. Anywhere else (a script, a terminal IPython): on when the output stream is a terminal.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Mapping, TextIO, TypeVar

__all__ = ["PROGRESS_ENV", "interactive", "Progress", "track", "format_seconds", "live_line"]

#: The environment variable that forces the live line on (``live``) or off (``epoch``).
PROGRESS_ENV = "COURSE_PROGRESS"
_ON = {"live", "1", "yes", "on", "true", "bar"}
_OFF = {"epoch", "0", "no", "off", "false", "none"}

T = TypeVar("T")


def _in_kernel() -> bool:
    """True inside a Jupyter (ipykernel) kernel."""
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def interactive(stream: TextIO | None = None, env: Mapping[str, str] | None = None,
                in_kernel: bool | None = None) -> bool:
    """Whether a person is (probably) watching: the rules are in the module docstring.

    ``stream`` is the output a terminal check looks at (default ``sys.stdout``); ``env`` the
    environment (default ``os.environ``); ``in_kernel`` overrides the kernel detection (tests).

    Raises:
        ValueError: ``COURSE_PROGRESS`` holds a value that is neither on nor off.
    """
    env = os.environ if env is None else env
    forced = env.get(PROGRESS_ENV, "").strip().lower()
    if forced in _ON:
        return True
    if forced in _OFF:
        return False
    if forced:
        raise ValueError(f"{PROGRESS_ENV}={env[PROGRESS_ENV]!r}: use 'live' (a line that updates) or 'epoch' "
                         "(one line per epoch, nothing in between)")
    if env.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off"):
        return False
    if _in_kernel() if in_kernel is None else in_kernel:
        return bool(env.get("JPY_SESSION_NAME") or env.get("VSCODE_PID"))
    stream = sys.stdout if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):   # no isatty, or a closed stream
        return False


def format_seconds(seconds: float) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` above: ``format_seconds(65) == '1:05'``."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _TerminalLine:
    """One line of a terminal, rewritten in place with a carriage return."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.width = 0

    def show(self, text: str) -> None:
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
        self.width = 0


class _NotebookLine:
    """One output of a notebook cell, replaced in place (``display(..., display_id=True)``)."""

    def __init__(self) -> None:
        self.handle: Any = None

    def show(self, text: str) -> None:
        from IPython.display import display

        if self.handle is None:
            self.handle = display({"text/plain": text}, raw=True, display_id=True)
        else:
            self.handle.update({"text/plain": text}, raw=True)

    def clear(self) -> None:
        # the output stays (empty) and is reused by the next show(): one output for a whole fit
        if self.handle is not None:
            self.handle.update({"text/plain": ""}, raw=True)


def live_line(stream: TextIO | None = None) -> Any:
    """Where a live line is drawn: the cell's output in a Jupyter kernel (when ``stream`` is None),
    else ``stream`` (default ``sys.stdout``) rewritten with carriage returns."""
    if stream is None and _in_kernel():
        return _NotebookLine()
    return _TerminalLine(sys.stdout if stream is None else stream)


class Progress:
    """A live progress line for a loop of ``total`` steps (``None``: length unknown).

    ``update()`` after each step (or ``set(done)``); the line is redrawn at most every
    ``min_interval`` seconds and shows ``label``, a bar, steps done, examples per second (when
    ``examples_per_step`` is known, else steps per second), the time left, and the latest
    ``values`` (a mapping of names to numbers, e.g. Keras' batch logs). ``later_steps`` or
    ``later_seconds`` (work that follows this loop, e.g. the remaining epochs) add a
    "... in all" estimate. ``close()`` removes the line; use the object as a context manager.

    With ``live=False`` (the default where :func:`interactive` says nobody watches) every
    method does nothing and nothing is printed. ``line=`` takes any object with ``show(text)``
    and ``clear()`` (the tests pass a recorder).
    """

    def __init__(self, total: int | None, *, label: str = "", unit: str = "step",
                 examples_per_step: float | None = None, live: bool | None = None,
                 stream: TextIO | None = None, min_interval: float = 0.5,
                 clock: Callable[[], float] = time.perf_counter, width: int = 20, line: Any = None):
        if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
            raise ValueError(f"total must be None or an integer >= 0, got {total!r}")
        if min_interval < 0:
            raise ValueError(f"min_interval must be >= 0 seconds, got {min_interval!r}")
        self.total = total
        self.label = label
        self.unit = unit
        self.examples_per_step = examples_per_step
        self.live = interactive(stream) if live is None else bool(live)
        self.min_interval = min_interval
        self.clock = clock
        self.width = width
        self.values: Mapping[str, Any] = {}
        self.status = ""
        self.later_steps = 0
        self.later_seconds: float | None = None
        self.done = 0
        self._first: tuple[int, float] | None = None     # (done, time) at the first update
        self._last_draw = float("-inf")
        self._lock = threading.Lock()
        self._line = None if not self.live else line if line is not None else live_line(stream)

    # -- counting --------------------------------------------------------------------------
    def update(self, n: int = 1, values: Mapping[str, Any] | None = None) -> None:
        """``n`` more steps done (``values``: the latest numbers to show)."""
        self.set(self.done + n, values)

    def set(self, done: int, values: Mapping[str, Any] | None = None) -> None:
        """``done`` steps done in all (a step count never goes back: an older count is ignored)."""
        if self._line is None:
            return
        with self._lock:
            now = self.clock()
            if values is not None:
                self.values = values
            if done <= self.done and self._first is not None:
                return
            self.done = done
            if self._first is None:
                self._first = (done, now)   # the first step includes tracing: rates count from here
            finished = self.total is not None and done >= self.total
            if finished or now - self._last_draw >= self.min_interval:
                self._draw(now)

    def steps_per_second(self, now: float | None = None) -> float | None:
        """Steps per second since the first update (None until a second update)."""
        if self._first is None:
            return None
        now = self.clock() if now is None else now
        steps, elapsed = self.done - self._first[0], now - self._first[1]
        return steps / elapsed if steps > 0 and elapsed > 0 else None

    # -- drawing ---------------------------------------------------------------------------
    def text(self, now: float | None = None) -> str:
        """The line as it would be drawn now."""
        now = self.clock() if now is None else now
        parts = [self.label] if self.label else []
        if self.total:
            filled = min(self.width, int(self.width * self.done / self.total))
            parts.append(f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}")
        else:
            parts.append(f"{self.done} {self.unit}s")
        head = " ".join(parts)
        fields = []
        rate = self.steps_per_second(now)
        if rate is None:
            fields.append("timing...")
        else:
            if self.examples_per_step:
                fields.append(f"{rate * self.examples_per_step:,.0f} examples/s")
            else:
                fields.append(f"{rate:,.2f} {self.unit}s/s")
            if self.total:
                left = max(0, self.total - self.done) / rate
                later = self.later_seconds if self.later_seconds is not None else self.later_steps / rate
                fields.append(f"{format_seconds(left)} left" + (f" ({format_seconds(left + later)} in all)"
                                                                if later > 0 else ""))
        for key, value in self.values.items():
            if key == "learning_rate":
                continue
            try:
                fields.append(f"{key} {float(value):.4f}")
            except (TypeError, ValueError):
                continue
        if self.status:
            fields.append(self.status)
        return " - ".join([head, *fields])

    def _draw(self, now: float) -> None:
        self._last_draw = now
        self._line.show(self.text(now))

    def refresh(self, status: str | None = None) -> None:
        """Redraw now (optionally with a status word such as "validating")."""
        if self._line is None:
            return
        with self._lock:
            if status is not None:
                self.status = status
            self._draw(self.clock())

    def log(self, message: str, file: TextIO | None = None) -> None:
        """Print a permanent line (in every mode), keeping the live line below it."""
        if self._line is not None:
            with self._lock:
                self._line.clear()
        print(message, file=file)
        if self._line is not None and self._first is not None:
            self.refresh()

    def close(self) -> None:
        """Remove the live line (the loop's own printed lines stay)."""
        if self._line is not None:
            with self._lock:
                self._line.clear()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def track(iterable: Iterable[T], total: int | None = None, *, label: str = "", unit: str = "step",
          examples_per_step: float | None = None, live: bool | None = None,
          stream: TextIO | None = None, **kwargs: Any) -> Iterator[T]:
    """Yield the items of ``iterable`` and count each one done when the loop body ends.

    ``total`` defaults to ``len(iterable)`` where it has one. Other keywords go to :class:`Progress`.
    """
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with Progress(total, label=label, unit=unit, examples_per_step=examples_per_step, live=live,
                  stream=stream, **kwargs) as progress:
        for item in iterable:
            yield item
            progress.update()
