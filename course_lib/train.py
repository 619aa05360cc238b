"""A thin wrapper over ``model.fit`` for notebooks.

:func:`fit` builds and compiles the model inside the strategy's scope, sets the seed, adds the
usual callbacks (early stopping on request, ``BackupAndRestore`` so an interrupted run resumes
at the epoch where it stopped, TensorBoard on request), prints one compact line per epoch
(nothing that floods a stored notebook) and returns the history with the wall time and the
examples per second. When a person is watching (JupyterLab, a terminal: see
:func:`course_lib.progress.interactive`) a line inside each epoch also shows the steps done,
examples per second and the time left; in CI, papermill runs and stored notebooks it is not
added, and then the helper adds no per-batch work: everything else is ``model.fit`` itself.

.. code-block:: python

    result = fit(build_model, x_train, y_train, validation_data=(x_val, y_val), epochs=5,
                 compile_kwargs=dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                                     metrics=["accuracy"]), batch_size=128)
    result.history["val_accuracy"][-1], result.seconds, result.examples_per_second
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import keras

from course_lib import config
from course_lib._validate import positive_int
from course_lib.progress import Progress, interactive, live_line


class EpochLogger(keras.callbacks.Callback):
    """One line per epoch: ``epoch 3/10 - 2.1 s - loss 0.1234 - val_loss 0.1301 ...``."""

    def __init__(self, print_fn: Callable[[str], None] = print, every: int = 1):
        super().__init__()
        positive_int("every", every)
        self.print_fn = print_fn
        self.every = every
        self.epoch_seconds: list[float] = []
        self._started = 0.0
        self._epochs = 0

    def on_train_begin(self, logs=None):
        self._epochs = self.params.get("epochs", 0) if self.params else 0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        self.epoch_seconds.append(seconds)
        last = epoch + 1 == self._epochs
        if (epoch + 1) % self.every and not last:
            return
        parts = [f"epoch {epoch + 1}/{self._epochs}", f"{seconds:.1f} s"]
        for key, value in (logs or {}).items():
            if key == "learning_rate":
                continue
            parts.append(f"{key} {float(value):.4f}")
        self.print_fn(" - ".join(parts))


class LiveProgress(keras.callbacks.Callback):
    """A :class:`~course_lib.progress.Progress` line inside each epoch: steps, examples/s, time left.

    Meant for a person watching (``fit`` adds it only then); it prints no permanent line, so the
    :class:`EpochLogger` lines are the same with or without it. ``examples_per_step`` gives the
    examples/s figure (else steps/s); ``line`` is passed to ``Progress`` (tests use a recorder).
    """

    async_safe = True     # Keras may call the batch hook from a worker thread: Progress takes a lock

    def __init__(self, examples_per_step: float | None = None, line: Any = None, stream: Any = None,
                 min_interval: float = 0.5, examples_per_epoch: int | None = None):
        super().__init__()
        self.examples_per_step = examples_per_step
        self.examples_per_epoch = examples_per_epoch
        self.line = line
        self.stream = stream
        self.min_interval = min_interval
        self.bar: Progress | None = None
        self._epochs = 0
        self._steps: int | None = None
        self._epoch_seconds: list[float] = []
        self._started = 0.0

    def on_train_begin(self, logs=None):
        params = self.params or {}
        if self.line is None:            # one line for the whole run: in a notebook, one output updated in place
            self.line = live_line(self.stream)
        self._epochs = params.get("epochs", 0)
        steps = params.get("steps")
        self._steps = int(steps) if steps else None
        if self.examples_per_step is None and self.examples_per_epoch and self._steps:
            self.examples_per_step = self.examples_per_epoch / self._steps

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()
        self.bar = Progress(self._steps, label=f"epoch {epoch + 1}/{self._epochs}",
                            examples_per_step=self.examples_per_step, live=True, line=self.line,
                            stream=self.stream, min_interval=self.min_interval)
        remaining = max(0, self._epochs - epoch - 1)
        if self._epoch_seconds:
            self.bar.later_seconds = remaining * sum(self._epoch_seconds) / len(self._epoch_seconds)
        elif self._steps:
            self.bar.later_steps = remaining * self._steps

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.set(batch + 1, logs)

    def on_test_begin(self, logs=None):
        if self.bar is not None:
            self.bar.refresh("validating")

    def on_epoch_end(self, epoch, logs=None):
        self._epoch_seconds.append(time.perf_counter() - self._started)
        self.close()

    def on_train_end(self, logs=None):
        self.close()

    def close(self) -> None:
        """Remove the live line (also after an interrupted run)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class InterruptAfter(keras.callbacks.Callback):
    """Raise ``KeyboardInterrupt`` once ``epochs`` epochs have finished: simulates a crash.

    It fires when the next epoch begins, so every end-of-epoch callback (``BackupAndRestore``
    included) has already run, as after a real crash between epochs. The course uses it to
    show a run resuming; the tests use it too.
    """

    def __init__(self, epochs: int):
        super().__init__()
        positive_int("epochs", epochs)
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epochs:
            raise KeyboardInterrupt(f"training interrupted on purpose after epoch {self.epochs}")


@dataclass
class TrainResult:
    """What :func:`fit` returns."""

    model: Any = field(repr=False)
    history: dict[str, list[float]]
    seconds: float
    epochs_run: int
    examples_per_second: float | None
    epoch_seconds: list[float]

    def last(self, key: str) -> float:
        """The final value of a history entry, e.g. ``result.last("val_accuracy")``."""
        if key not in self.history:
            raise KeyError(f"{key!r} is not in the history; it has {sorted(self.history)}")
        return float(self.history[key][-1])


def _examples_per_epoch(x: Any, batch_size: int | None, steps_per_epoch: int | None) -> int | None:
    if hasattr(x, "shape") and getattr(x, "shape", None) is not None and len(x.shape) > 0 and x.shape[0] is not None:
        n = int(x.shape[0])
        if steps_per_epoch and batch_size:
            n = min(n, steps_per_epoch * batch_size)
        return n
    if isinstance(x, dict) and x:
        return _examples_per_epoch(next(iter(x.values())), batch_size, steps_per_epoch)
    if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        return _examples_per_epoch(x[0], batch_size, steps_per_epoch)
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover
        return None
    if isinstance(x, tf.data.Dataset):
        steps = steps_per_epoch or int(x.cardinality().numpy())
        first = x.element_spec[0] if isinstance(x.element_spec, tuple) else x.element_spec
        first = next(iter(first.values())) if isinstance(first, dict) else first
        batch = first.shape[0] if getattr(first, "shape", None) is not None and len(first.shape) else None
        if steps > 0 and batch:
            return steps * int(batch)
    return None


def _preprocessed_spec(preprocess: Callable[..., Any], data: Any) -> Any:
    """The element spec of ``data.map(preprocess)``, found cheaply where possible.

    Tracing a tokenizer inside ``Dataset.map`` takes seconds (3 s for keras-hub's masked-LM
    preprocessor), so the preprocessor is called eagerly on a one-example stand-in batch
    (zeros, or the string "a") and the batch dimension of its outputs set to None. Datasets
    whose elements are not batched tensors fall back to the traced ``map``.
    """
    import tensorflow as tf

    spec = data.element_spec
    leaves = tf.nest.flatten(spec)
    if not leaves or not all(type(s) is tf.TensorSpec and s.shape.rank for s in leaves):
        return data.map(preprocess).element_spec

    def stand_in(s: Any) -> Any:
        shape = [1 if d is None else d for d in s.shape]
        return tf.fill(shape, "a") if s.dtype == tf.string else tf.zeros(shape, s.dtype)

    sample = tf.nest.map_structure(stand_in, spec)
    out = preprocess(*sample) if isinstance(sample, tuple) else preprocess(sample)
    out_leaves = tf.nest.flatten(out)
    if not all(isinstance(t, tf.Tensor) and t.shape.rank for t in out_leaves):
        return data.map(preprocess).element_spec
    return tf.nest.map_structure(lambda t: tf.TensorSpec([None, *t.shape[1:]], t.dtype), out)


def build_before_training(model: keras.Model, x: Any, y: Any = None) -> bool:
    """Create the model's, loss's, metrics' and optimizer's variables before the first step.

    Without a distribution strategy, Keras 3 on TensorFlow creates these variables while it
    traces the training step, and ``tf.function`` then traces the whole step a second time
    (a function that created variables is always retraced). For a six-layer BERT on a CPU
    the trace takes about 15 s, so the second one is worth avoiding. This builds everything
    from the data's shapes alone (no batch is read, so cached or shuffled datasets are left
    untouched), the same way Keras does itself under a strategy.

    Returns True when it built something, False when there was nothing to do or it could
    not (a custom ``train_step``, a data type it does not know, or a Keras without the
    internal ``_symbolic_build``): then Keras builds during the first step, as usual.
    """
    import tensorflow as tf

    build = getattr(model, "_symbolic_build", None)
    if build is None or not getattr(model, "compiled", False):
        return False
    if getattr(model, "_distribute_strategy", None) is not None:
        return False                      # Keras builds symbolically itself under a strategy
    train_step = getattr(type(model), "train_step", None)
    if getattr(train_step, "__module__", "").split(".")[:2] != ["keras", "src"]:
        return False                      # a custom train_step may use other optimizers/metrics
    optimizer_built = model.optimizer is None or model.optimizer.built
    metrics = getattr(model, "_compile_metrics", None)
    loss = getattr(model, "_compile_loss", None)
    if optimizer_built and (metrics is None or metrics.built) and (loss is None or loss.built):
        return False
    try:
        if isinstance(x, tf.data.Dataset):
            data = x
        elif y is not None and hasattr(x, "__len__") and hasattr(y, "__len__") and len(x) > 0:
            data = tf.data.Dataset.from_tensor_slices((x[:2], y[:2])).batch(2)
        else:
            return False
        spec = data.element_spec
        preprocess = getattr(model, "preprocess_samples", None)   # keras-hub tasks map their preprocessor
        if preprocess is not None and getattr(model, "preprocessor", None) is not None:
            spec = _preprocessed_spec(preprocess, data)
        build(data_batch=spec)
    except Exception:  # noqa: BLE001 - only a speed-up: on any failure Keras builds as usual
        return False
    return True


def _check_fit_arguments(epochs: Any, early_stopping: Any, monitor: str, validation_data: Any,
                         fit_kwargs: dict[str, Any]) -> None:
    """The checks :func:`fit` makes before it builds anything."""
    positive_int("epochs", epochs)
    if early_stopping is not None:
        positive_int("early_stopping", early_stopping, expected="a patience in epochs (>= 1)")
    if early_stopping is not None and monitor.startswith("val_") and validation_data is None \
            and not fit_kwargs.get("validation_split"):
        raise ValueError(f"early_stopping monitors {monitor!r}, which needs validation_data.")


def _built_model(model: keras.Model | Callable[[], keras.Model], strategy: Any, compile_kwargs: dict[str, Any] | None,
                 jit_compile: bool, x: Any, y: Any) -> keras.Model:
    """The model built (a builder is called), compiled and given its variables inside ``strategy.scope()``."""
    with strategy.scope():
        if not isinstance(model, keras.Model):
            if not callable(model):
                raise TypeError("model must be a keras.Model or a function that returns one")
            model = model()
            if not isinstance(model, keras.Model):
                raise TypeError(f"the model builder returned {type(model).__name__}, not a keras.Model")
        if compile_kwargs is not None:
            model.compile(**{"jit_compile": jit_compile, **compile_kwargs})
    if not model.compiled:
        raise ValueError("the model is not compiled: pass compile_kwargs=dict(optimizer=..., loss=...)")
    with strategy.scope():
        build_before_training(model, x, y)
    return model


def _callbacks(callbacks: list[keras.callbacks.Callback] | tuple, early_stopping: int | None, monitor: str,
               backup_dir: str | Path | None, tensorboard_dir: str | Path | None,
               logger: EpochLogger | None, live: LiveProgress | None = None) -> list[keras.callbacks.Callback]:
    """The caller's callbacks, then early stopping, backup, TensorBoard, the live line and the epoch logger."""
    cbs = list(callbacks)
    if early_stopping is not None:
        cbs.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=early_stopping,
                                                 restore_best_weights=True))
    if backup_dir is not None:
        cbs.append(keras.callbacks.BackupAndRestore(str(backup_dir)))
    if tensorboard_dir is not None:
        cbs.append(keras.callbacks.TensorBoard(log_dir=str(tensorboard_dir)))
    if live is not None:
        cbs.append(live)           # before the logger: the live line is gone when the epoch line prints
    if logger is not None:
        cbs.append(logger)
    return cbs


def fit(
    model: keras.Model | Callable[[], keras.Model],
    x: Any,
    y: Any = None,
    *,
    epochs: int,
    validation_data: Any = None,
    batch_size: int | None = None,
    compile_kwargs: dict[str, Any] | None = None,
    strategy: Any = None,
    jit_compile: bool | None = None,
    seed: int | None = None,
    early_stopping: int | None = None,
    monitor: str = "val_loss",
    backup_dir: str | Path | None = None,
    tensorboard_dir: str | Path | None = None,
    callbacks: list[keras.callbacks.Callback] | tuple = (),
    log_every: int = 1,
    verbose: bool = True,
    examples_per_epoch: int | None = None,
    progress: bool | None = None,
    **fit_kwargs: Any,
) -> TrainResult:
    """Train ``model`` (a Keras model, or a function that builds one) and time it.

    - ``model`` as a builder function is called inside ``strategy.scope()`` (default: the
      current strategy), after seeding with ``seed`` when given.
    - ``compile_kwargs`` compiles the model inside the scope; ``jit_compile`` defaults to
      True only when a GPU is present (XLA slows CNNs down on a CPU).
    - ``early_stopping=N`` stops after N epochs without improvement of ``monitor`` and
      restores the best weights.
    - ``backup_dir`` adds ``BackupAndRestore``: rerunning the same call after an interruption
      continues from the last finished epoch.
    - ``tensorboard_dir`` adds a TensorBoard callback.
    - ``examples_per_epoch`` is only needed for the examples/s figure when ``x`` is a
      ``tf.data.Dataset`` whose batch size is not static (a final partial batch); arrays and
      datasets batched with ``drop_remainder=True`` are counted automatically.
    - ``progress``: a live line inside each epoch (steps, examples/s, time left). The default,
      None, shows it only when a person is watching (:func:`course_lib.progress.interactive`:
      JupyterLab or a terminal, never CI or papermill); it needs ``verbose``.
    Any other keyword goes to ``model.fit`` unchanged.
    """
    _check_fit_arguments(epochs, early_stopping, monitor, validation_data, fit_kwargs)
    if seed is not None:
        config.set_seed(seed)
    if strategy is None:
        import tensorflow as tf

        strategy = tf.distribute.get_strategy()
    if jit_compile is None:
        import tensorflow as tf

        jit_compile = bool(tf.config.list_physical_devices("GPU"))
    model = _built_model(model, strategy, compile_kwargs, jit_compile, x, y)

    logger = EpochLogger(every=log_every) if verbose else None
    live = None
    if verbose and (interactive() if progress is None else progress):
        per_epoch = examples_per_epoch or _examples_per_epoch(x, batch_size, fit_kwargs.get("steps_per_epoch"))
        if per_epoch and fit_kwargs.get("validation_split"):
            per_epoch = int(per_epoch * (1 - fit_kwargs["validation_split"]))
        live = LiveProgress(examples_per_step=batch_size if batch_size and not examples_per_epoch else None,
                            examples_per_epoch=per_epoch)
    cbs = _callbacks(callbacks, early_stopping, monitor, backup_dir, tensorboard_dir, logger, live)
    try:
        import tensorflow as tf

        if isinstance(x, tf.data.Dataset):
            # a dataset shuffles itself (make_dataset(shuffle=True)); Keras would warn that shuffle is ignored
            fit_kwargs.setdefault("shuffle", False)
    except ImportError:  # pragma: no cover
        pass
    started = time.perf_counter()
    try:
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                            callbacks=cbs, verbose=0, **fit_kwargs)
    finally:
        if live is not None:
            live.close()
    seconds = time.perf_counter() - started
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    epochs_run = len(next(iter(hist.values()))) if hist else 0
    per_epoch = examples_per_epoch or _examples_per_epoch(x, batch_size, fit_kwargs.get("steps_per_epoch"))
    rate = per_epoch * epochs_run / seconds if per_epoch and epochs_run and seconds > 0 else None
    if verbose and rate and math.isfinite(rate):
        print(f"trained {epochs_run} epoch(s) in {seconds:.1f} s ({rate:,.0f} examples/s)")
    return TrainResult(model=model, history=hist, seconds=seconds, epochs_run=epochs_run,
                       examples_per_second=rate, epoch_seconds=logger.epoch_seconds if logger else [])
