"""Model compression, measured: TFLite conversion and quantisation, magnitude pruning, distillation.

Three families of techniques make a trained network smaller or faster (模型压缩):

- **Post-training quantisation (量化)** with TensorFlow Lite: :func:`to_tflite` converts a Keras
  model to a ``.tflite`` flatbuffer in ``"float32"`` (no quantisation), ``"dynamic"`` (weights
  stored as int8, activations float) or ``"int8"`` (full-integer: weights *and* activations int8,
  calibrated on a representative dataset) mode. :class:`TFLiteModel` runs the result on NumPy
  arrays (batches of any size) and :func:`measure_latency` times one-example calls.
- **Magnitude pruning (剪枝)** on Keras 3 directly: :class:`MagnitudePruning` is a callback that
  raises each kernel's sparsity along the polynomial schedule of Zhu & Gupta (2017) while the
  model is fine-tuned, zeroing the smallest weights and keeping them at zero through a variable
  constraint that the optimizer applies after every update. ``tensorflow-model-optimization``
  (0.8.1) cannot be used here: it imports ``tf_keras`` (Keras 2) and fails with Keras 3.
- **Knowledge distillation (知识蒸馏)**: :class:`Distiller` trains a small student on a mix of the
  true labels and the teacher's softened predictions (Hinton, Vinyals & Dean, 2015).

Every function takes and returns plain Keras models / NumPy arrays, so a notebook can put the
measured size, latency and accuracy of each variant side by side.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import keras
import numpy as np
from keras import ops

from course_lib._validate import check_int, check_number, positive_int, positive_number
from course_lib.forward import forward_function

TFLITE_MODES = ("float32", "dynamic", "int8")


# --------------------------------------------------------------------------- sizes
def file_size(path: str | os.PathLike) -> int:
    """Size in bytes of a file, or of every file under a folder (a SavedModel is a folder)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    raise FileNotFoundError(f"{path} does not exist; save or export the model there first.")


def gzipped_size(data: bytes | str | os.PathLike) -> int:
    """Bytes after gzip (level 9) of ``data`` or of a file's content.

    Pruned weights are still stored densely; zeros only pay off once the file is compressed
    (or stored in a sparse format), which this number shows.
    """
    if not isinstance(data, (bytes, bytearray)):
        path = Path(data)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is not a file; gzipped_size takes bytes or a file path.")
        data = path.read_bytes()
    return len(gzip.compress(bytes(data), compresslevel=9, mtime=0))


# --------------------------------------------------------------------------- TFLite
@contextlib.contextmanager
def _native_stderr_captured() -> Iterator[None]:
    """Keep the converter's native (C++) log lines out of the notebook: file descriptor 2 goes to a
    temporary file while the block runs; on an error its text is attached to the exception."""
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no usable stderr
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except Exception as err:
            os.dup2(saved, 2)
            sink.seek(0)
            log = sink.read().decode("utf-8", "replace").strip()
            if log:
                err.add_note("converter log:\n" + log[-4000:])
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


quiet_native_stderr = _native_stderr_captured
"""The same context manager under a public name: chapter 09 converts with it in a cell of its own."""


def _check_mode(mode: str) -> None:
    if mode not in TFLITE_MODES:
        raise ValueError(f"mode must be one of {TFLITE_MODES}, got {mode!r}")


def representative_dataset(x: np.ndarray, n: int = 200, seed: int = 0) -> Callable[[], Iterator[list[np.ndarray]]]:
    """A TFLite representative dataset: ``n`` random examples of ``x``, one at a time, as float32.

    The int8 converter runs the model on these to pick each tensor's quantisation range, so they
    must look like real inputs (training data, not noise).
    """
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch of examples (ndim >= 2), got shape {x.shape}")
    n = positive_int("n", n)
    rng = np.random.default_rng(seed)
    index = rng.choice(len(x), size=min(n, len(x)), replace=False)
    sample = x[index].astype(np.float32)

    def generator() -> Iterator[list[np.ndarray]]:
        for row in sample:
            yield [row[None, ...]]

    return generator


def to_tflite(model: keras.Model | str | os.PathLike, mode: str = "float32",
              representative_data: np.ndarray | Callable[[], Iterable[Any]] | None = None,
              int8_io: bool = True) -> bytes:
    """Convert a Keras model to a TFLite flatbuffer.

    ``mode``:
      - ``"float32"``: no quantisation (the baseline);
      - ``"dynamic"``: dynamic-range quantisation: weights int8, activations quantised on the fly;
      - ``"int8"``: full-integer quantisation; needs ``representative_data`` (an array of training
        inputs, or a generator function as :func:`representative_dataset` returns). With
        ``int8_io`` the model's input and output tensors are int8 too (what a microcontroller or
        an NPU wants); :class:`TFLiteModel` quantises and dequantises for you.

    ``model`` is a Keras model, exported to a temporary SavedModel first (``model.export``, the
    path the TFLite converter supports for Keras 3), or the folder of a SavedModel already
    exported that way (saves the export when converting one model several times).
    """
    import tensorflow as tf

    _check_mode(mode)
    if isinstance(model, (str, os.PathLike)):
        if not (Path(model) / "saved_model.pb").is_file():
            raise FileNotFoundError(f"{model} is not a SavedModel folder (no saved_model.pb); "
                                    "create it with model.export(path)")
    elif not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model or a SavedModel folder, got {type(model).__name__}")
    if mode == "int8" and representative_data is None:
        raise ValueError("mode='int8' needs representative_data: pass a few hundred training inputs.")
    if mode != "int8" and representative_data is not None:
        raise ValueError(f"representative_data is only used by mode='int8', not mode={mode!r}")
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(model, keras.Model):
            export_dir = os.path.join(tmp, "saved_model")
            with contextlib.redirect_stdout(io.StringIO()), _native_stderr_captured():
                model.export(export_dir, format="tf_saved_model", verbose=False)
        else:
            export_dir = str(model)
        converter = tf.lite.TFLiteConverter.from_saved_model(export_dir)
        if mode in ("dynamic", "int8"):
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "int8":
            if callable(representative_data):
                converter.representative_dataset = representative_data
            else:
                converter.representative_dataset = representative_dataset(np.asarray(representative_data))
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if int8_io:
                converter.inference_input_type = tf.int8
                converter.inference_output_type = tf.int8
        with _native_stderr_captured():
            return converter.convert()


def _interpreter_class() -> Any:
    """LiteRT's interpreter when ``ai-edge-litert`` is installed, else TensorFlow's (deprecated)."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-not-found]

        return Interpreter
    except ImportError:
        import tensorflow as tf

        return tf.lite.Interpreter


class TFLiteModel:
    """Run a TFLite flatbuffer on NumPy batches, quantising int8 inputs and outputs as needed.

    >>> lite = TFLiteModel(to_tflite(model, "dynamic"))
    >>> probabilities = lite.predict(x_test)          # float32, any batch size
    """

    def __init__(self, model_content: bytes, num_threads: int | None = 1):
        if not isinstance(model_content, (bytes, bytearray)) or not model_content:
            raise TypeError("model_content must be the non-empty bytes of a .tflite model (to_tflite returns them)")
        cls = _interpreter_class()
        with warnings.catch_warnings(), _native_stderr_captured():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
            self._interpreter = cls(model_content=bytes(model_content), num_threads=num_threads)
            self._interpreter.allocate_tensors()  # prints an XNNPACK notice on native stderr
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"only single-input, single-output models are supported "
                             f"(this one has {len(inputs)} inputs, {len(outputs)} outputs)")
        self._input, self._output = inputs[0], outputs[0]
        self.size_bytes = len(model_content)
        self._batch = None

    @property
    def input_dtype(self) -> np.dtype:
        """The dtype of the flatbuffer's input tensor (float32, or int8 after full-integer quantisation)."""
        return np.dtype(self._input["dtype"])

    @property
    def example_shape(self) -> tuple[int, ...]:
        """Shape of one example (the input shape without the batch axis)."""
        return tuple(int(d) for d in self._input["shape"][1:])

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], [batch, *self.example_shape])
            with _native_stderr_captured():
                self._interpreter.allocate_tensors()
            self._input = self._interpreter.get_input_details()[0]
            self._output = self._interpreter.get_output_details()[0]
            self._batch = batch

    @property
    def input_quantization(self) -> tuple[float, int]:
        """``(scale, zero_point)`` of the input tensor: real value = scale * (q - zero_point); (0.0, 0) for float."""
        scale, zero_point = self._input["quantization"]
        return float(scale), int(zero_point)

    def quantise_input(self, x: np.ndarray) -> np.ndarray:
        """``x`` as the input tensor wants it: unchanged float32, or rounded and clipped to int8."""
        return self._quantise(np.asarray(x, dtype=np.float32))

    def _quantise(self, x: np.ndarray) -> np.ndarray:
        dtype = self.input_dtype
        if dtype == np.float32:
            return x.astype(np.float32, copy=False)
        scale, zero_point = self._input["quantization"]
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(dtype)

    def _dequantise(self, y: np.ndarray) -> np.ndarray:
        if y.dtype == np.float32:
            return y
        scale, zero_point = self._output["quantization"]
        return ((y.astype(np.float32) - zero_point) * scale).astype(np.float32)

    def invoke(self, x: np.ndarray) -> np.ndarray:
        """One call of the interpreter on the batch ``x`` (already the right shape)."""
        self._resize(len(x))
        self._interpreter.set_tensor(self._input["index"], self._quantise(x))
        self._interpreter.invoke()
        return self._dequantise(self._interpreter.get_tensor(self._output["index"]))

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Outputs for every example of ``x`` (float32), computed ``batch_size`` examples at a time."""
        x = np.asarray(x)
        if x.shape[1:] != self.example_shape:
            raise ValueError(f"each example must have shape {self.example_shape}, got a batch of shape {x.shape}")
        if len(x) == 0:
            raise ValueError("x is an empty batch")
        batch_size = positive_int("batch_size", batch_size)
        return np.concatenate([self.invoke(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


# --------------------------------------------------------------------------- latency
@dataclass(frozen=True)
class Latency:
    """Wall-clock time of repeated calls, in milliseconds."""

    median_ms: float
    p90_ms: float
    mean_ms: float
    calls: int

    def describe(self) -> str:
        return f"median {self.median_ms:.3f} ms, p90 {self.p90_ms:.3f} ms over {self.calls} calls"


def measure_latency(fn: Callable[[], Any], repeats: int = 200, warmup: int = 20) -> Latency:
    """Time ``repeats`` calls of ``fn()`` after ``warmup`` untimed ones.

    The median is the figure to quote: on a shared machine the mean is pulled up by the calls
    that had to wait for the CPU.
    """
    if not callable(fn):
        raise TypeError("fn must be a callable taking no arguments, e.g. lambda: lite.invoke(x[:1])")
    repeats = positive_int("repeats", repeats)
    warmup = check_int("warmup", warmup, minimum=0)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000.0)
    times.sort()
    return Latency(median_ms=statistics.median(times), p90_ms=times[min(len(times) - 1, int(0.9 * len(times)))],
                   mean_ms=statistics.fmean(times), calls=repeats)


def keras_predict_function(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """``model(x, training=False)`` compiled once as a ``tf.function`` (batch axis left free).

    ``model.predict`` sets up a data pipeline on every call (milliseconds), which would swamp the
    latency of one example; this is the fair Keras counterpart of a TFLite ``invoke``. Inputs are
    converted to float32 (see :func:`course_lib.forward.forward_function`).
    """
    return forward_function(model, dtype="float32")


# --------------------------------------------------------------------------- pruning
def prunable_weights(model: keras.Model) -> list[Any]:
    """The kernels of every Dense and Conv layer (biases and normalisation weights stay dense)."""
    kinds = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
             keras.layers.EinsumDense)
    found = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, kinds) and getattr(layer, "kernel", None) is not None:
            found.append(layer.kernel)
    if not found:
        raise ValueError("the model has no Dense or Conv kernels to prune")
    return found


def sparsity(weights: Sequence[Any] | keras.Model) -> float:
    """Share of exact zeros in the given weights (or in a model's prunable kernels)."""
    if isinstance(weights, keras.Model):
        weights = prunable_weights(weights)
    arrays = [np.asarray(keras.ops.convert_to_numpy(w)) for w in weights]
    total = sum(a.size for a in arrays)
    if total == 0:
        raise ValueError("no weights given")
    return float(sum(np.count_nonzero(a == 0) for a in arrays) / total)


def magnitude_mask(weights: np.ndarray, target_sparsity: float) -> np.ndarray:
    """A 0/1 float mask that zeros the ``target_sparsity`` share of ``weights`` with the smallest |w|.

    Ties at the threshold are broken by position, so the share of zeros is exact.
    """
    check_number("target_sparsity", target_sparsity, at_least=0, below=1)
    w = np.asarray(weights)
    k = int(round(target_sparsity * w.size))
    mask = np.ones(w.size, dtype=np.float32)
    if k:
        order = np.argsort(np.abs(w).ravel(), kind="stable")
        mask[order[:k]] = 0.0
    return mask.reshape(w.shape)


def polynomial_sparsity(step: int, target_sparsity: float, begin_step: int, end_step: int,
                        initial_sparsity: float = 0.0, power: float = 3.0) -> float:
    """Sparsity at ``step`` on Zhu & Gupta's schedule: fast at first, levelling off at the target."""
    if end_step <= begin_step:
        raise ValueError(f"end_step ({end_step}) must be after begin_step ({begin_step})")
    if step <= begin_step:
        return initial_sparsity
    progress = min(1.0, (step - begin_step) / (end_step - begin_step))
    return target_sparsity + (initial_sparsity - target_sparsity) * (1.0 - progress) ** power


class _MaskConstraint(keras.constraints.Constraint):
    """Multiplies a kernel by its mask after each optimizer update, so pruned weights stay zero."""

    def __init__(self, mask: Any):
        self.mask = mask

    def __call__(self, w):
        return w * ops.cast(self.mask, w.dtype)


class MagnitudePruning(keras.callbacks.Callback):
    """Prune a model's kernels to ``target_sparsity`` while it trains (fine-tuning).

    Every ``frequency`` steps between ``begin_step`` and ``end_step`` each kernel's mask is
    recomputed from the current magnitudes at the scheduled sparsity
    (:func:`polynomial_sparsity`); after ``end_step`` the masks stay fixed. The masks live in
    non-trainable variables read by a constraint that the optimizer applies after every update,
    so the work stays inside the compiled train step. Attach the callback, then compile (or
    recompile) the model so the train step sees the constraints; call :meth:`strip` afterwards
    to remove them before saving.

    >>> pruning = MagnitudePruning(target_sparsity=0.8, end_step=steps)
    >>> pruning.attach(model); model.compile(...); model.fit(..., callbacks=[pruning])
    >>> pruning.strip()
    """

    def __init__(self, target_sparsity: float, end_step: int, begin_step: int = 0, frequency: int = 50,
                 initial_sparsity: float = 0.0):
        super().__init__()
        check_number("target_sparsity", target_sparsity, above=0, below=1,
                     expected="a number between 0 and 1 (exclusive)")
        check_number("initial_sparsity", initial_sparsity, at_least=0, at_most=target_sparsity,
                     expected="a number in [0, target_sparsity]")
        positive_int("frequency", frequency, expected="a positive integer (steps)")
        check_int("begin_step", begin_step, minimum=0)
        check_int("end_step", end_step, minimum=begin_step + 1, expected=f"an integer after begin_step ({begin_step})")
        self.target_sparsity = float(target_sparsity)
        self.initial_sparsity = float(initial_sparsity)
        self.begin_step, self.end_step, self.frequency = begin_step, end_step, frequency
        self._kernels: list[Any] = []
        self._masks: list[Any] = []
        self._step = 0
        self.history: list[tuple[int, float]] = []  # (step, scheduled sparsity) at each mask update

    def attach(self, model: keras.Model) -> "MagnitudePruning":
        """Give each prunable kernel of ``model`` a mask and a constraint; returns ``self``."""
        if self._kernels:
            raise RuntimeError("this MagnitudePruning is already attached to a model; make a new one")
        self._kernels = prunable_weights(model)
        for kernel in self._kernels:
            if kernel.constraint is not None:
                raise ValueError(f"{kernel.path} already has a constraint; pruning would replace it")
            mask = keras.Variable(np.ones(kernel.shape, dtype="float32"), trainable=False, dtype="float32",
                                  name="prune_mask")
            self._masks.append(mask)
            kernel.constraint = _MaskConstraint(mask)
        self._update_masks(self.initial_sparsity)
        return self

    def _update_masks(self, level: float) -> None:
        for kernel, mask in zip(self._kernels, self._masks):
            new = magnitude_mask(keras.ops.convert_to_numpy(kernel), level)
            mask.assign(new)
            kernel.assign(keras.ops.convert_to_numpy(kernel) * new)
        self.history.append((self._step, level))

    def on_train_batch_begin(self, batch, logs=None):
        if not self._kernels:
            raise RuntimeError("call pruning.attach(model) (then compile) before fitting")
        step = self._step
        if step >= self.end_step:
            if self.history[-1][1] != self.target_sparsity:
                self._update_masks(self.target_sparsity)
        elif step >= self.begin_step and (step - self.begin_step) % self.frequency == 0:
            self._update_masks(polynomial_sparsity(step, self.target_sparsity, self.begin_step,
                                                   self.end_step, self.initial_sparsity))
        self._step += 1

    def strip(self) -> None:
        """Remove the constraints (the zeros stay), so the model saves and serves as a plain model."""
        for kernel in self._kernels:
            kernel.constraint = None


# --------------------------------------------------------------------------- distillation
class Distiller(keras.Model):
    """Knowledge distillation: a student learns from the true labels and a frozen teacher.

    Both ``teacher`` and ``student`` must output **logits** (no softmax). The loss is

    .. math:: L = \\alpha\\,\\mathrm{CE}(y, \\mathrm{softmax}(z_s))
              + (1-\\alpha)\\,T^2\\,\\mathrm{KL}\\big(\\mathrm{softmax}(z_t/T)\\,\\|\\,\\mathrm{softmax}(z_s/T)\\big)

    The factor :math:`T^2` keeps the soft term's gradients on the same scale as the hard term's
    when the temperature changes. Calling the distiller runs the student, so ``evaluate`` and
    ``predict`` report the student.
    """

    def __init__(self, teacher: keras.Model, student: keras.Model, temperature: float = 4.0,
                 alpha: float = 0.1, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(teacher, keras.Model) or not isinstance(student, keras.Model):
            raise TypeError("teacher and student must both be keras.Model instances")
        positive_number("temperature", temperature)
        check_number("alpha", alpha, at_least=0, at_most=1, expected="the weight of the hard-label loss, in [0, 1]")
        self.teacher = teacher
        self.student = student
        self.teacher.trainable = False
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.student_loss_tracker = keras.metrics.Mean(name="student_loss")
        self.distillation_loss_tracker = keras.metrics.Mean(name="distillation_loss")

    def call(self, x, training: bool = False):
        return self.student(x, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        teacher_logits = self.teacher(x, training=False)
        t = self.temperature
        hard = keras.losses.sparse_categorical_crossentropy(y, y_pred, from_logits=True)
        soft_teacher = ops.softmax(teacher_logits / t, axis=-1)
        log_soft_student = ops.log_softmax(y_pred / t, axis=-1)
        log_soft_teacher = ops.log_softmax(teacher_logits / t, axis=-1)
        kl = ops.sum(soft_teacher * (log_soft_teacher - log_soft_student), axis=-1) * (t * t)
        hard, kl = ops.mean(hard), ops.mean(kl)
        self.student_loss_tracker.update_state(hard)
        self.distillation_loss_tracker.update_state(kl)
        return self.alpha * hard + (1.0 - self.alpha) * kl

    @property
    def metrics(self):
        return [*super().metrics, self.student_loss_tracker, self.distillation_loss_tracker]
