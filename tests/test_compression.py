"""course_lib.compression on tiny models and synthetic data (seconds, CPU only)."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from course_lib import compression  # noqa: E402
from course_lib.compression import (  # noqa: E402
    Distiller, MagnitudePruning, TFLiteModel, magnitude_mask, measure_latency, polynomial_sparsity, sparsity,
    to_tflite)


def tiny_classifier(seed: int = 0, hidden: int = 64, logits: bool = False) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((32,))
    x = keras.layers.Dense(hidden, activation="relu")(inputs)
    outputs = keras.layers.Dense(3, activation=None if logits else "softmax")(x)
    return keras.Model(inputs, outputs)


def blobs(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (3, 32))
    y = rng.integers(0, 3, n)
    return (centres[y] + rng.normal(0, 1, (n, 32))).astype("float32"), y.astype("int32")


@pytest.fixture(scope="module")
def trained():
    x, y = blobs()
    model = tiny_classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)
    return model, x, y


@pytest.fixture(scope="module")
def saved_model_dir(trained, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export") / "saved_model"
    trained[0].export(folder, verbose=False)
    return folder


# --------------------------------------------------------------------------- TFLite
def test_three_conversions_agree_with_keras_and_shrink(trained, saved_model_dir):
    model, x, y = trained
    reference = model.predict(x, verbose=0)
    flat = {mode: to_tflite(saved_model_dir, mode, x[:100] if mode == "int8" else None)
            for mode in compression.TFLITE_MODES}
    lite = {mode: TFLiteModel(data) for mode, data in flat.items()}
    np.testing.assert_allclose(lite["float32"].predict(x), reference, atol=1e-5)
    assert np.abs(lite["dynamic"].predict(x) - reference).max() < 0.05
    int8 = lite["int8"].predict(x, batch_size=7)          # batches of odd sizes resize the interpreter
    assert lite["int8"].input_dtype == np.int8 and int8.dtype == np.float32
    assert np.abs(int8 - reference).max() < 0.1
    assert np.mean(int8.argmax(1) == reference.argmax(1)) > 0.95
    # dynamic range quantises tensors of at least 1024 weights (the 32x64 kernel here), int8 all of them
    assert len(flat["int8"]) < 0.75 * len(flat["float32"]) and len(flat["dynamic"]) < 0.75 * len(flat["float32"])
    scale, zero_point = lite["int8"].input_quantization
    assert scale > 0 and -128 <= zero_point <= 127
    q = lite["int8"].quantise_input(np.array([[1e9, -1e9]]))
    assert q.dtype == np.int8 and q.tolist() == [[127, -128]]


def test_to_tflite_from_a_keras_model(trained):
    model, x, _ = trained
    np.testing.assert_allclose(TFLiteModel(to_tflite(model)).predict(x[:5]), model.predict(x[:5], verbose=0),
                               atol=1e-5)


def test_to_tflite_bad_arguments(trained, tmp_path):
    model, x, _ = trained
    with pytest.raises(ValueError, match="mode must be one of"):
        to_tflite(model, "int4")
    with pytest.raises(ValueError, match="needs representative_data"):
        to_tflite(model, "int8")
    with pytest.raises(ValueError, match="only used by mode='int8'"):
        to_tflite(model, "dynamic", x[:10])
    with pytest.raises(TypeError, match="keras.Model or a SavedModel"):
        to_tflite(object())
    with pytest.raises(FileNotFoundError, match="not a SavedModel"):
        to_tflite(tmp_path)


def test_tflite_model_bad_input(trained, saved_model_dir):
    _, x, _ = trained
    with pytest.raises(TypeError, match="non-empty bytes"):
        TFLiteModel(b"")
    lite = TFLiteModel(to_tflite(saved_model_dir))
    assert lite.example_shape == (32,) and lite.input_quantization == (0.0, 0)
    with pytest.raises(ValueError, match=r"shape \(32,\)"):
        lite.predict(x[:, :5])
    with pytest.raises(ValueError, match="empty"):
        lite.predict(x[:0])
    with pytest.raises(ValueError, match="batch_size"):
        lite.predict(x, batch_size=0)


def test_representative_dataset():
    x = np.arange(50 * 4, dtype=np.uint8).reshape(50, 4)
    batches = list(compression.representative_dataset(x, n=10)())
    assert len(batches) == 10 and all(b[0].shape == (1, 4) and b[0].dtype == np.float32 for b in batches)
    assert len(list(compression.representative_dataset(x, n=500)())) == 50
    with pytest.raises(ValueError, match="non-empty batch"):
        compression.representative_dataset(np.zeros(3))
    with pytest.raises(ValueError, match="positive integer"):
        compression.representative_dataset(x, n=0)


def test_latency_and_sizes(tmp_path, trained):
    latency = measure_latency(lambda: sum(range(1000)), repeats=20, warmup=2)
    assert 0 < latency.median_ms <= latency.p90_ms and latency.calls == 20 and "median" in latency.describe()
    with pytest.raises(TypeError):
        measure_latency(42)
    with pytest.raises(ValueError):
        measure_latency(lambda: None, repeats=0)
    with pytest.raises(ValueError):
        measure_latency(lambda: None, warmup=-1)
    fn = compression.keras_predict_function(trained[0])
    np.testing.assert_allclose(fn(trained[1][:3]), trained[0].predict(trained[1][:3], verbose=0), atol=1e-6)
    (tmp_path / "a").write_bytes(b"x" * 100)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 50)
    assert compression.file_size(tmp_path / "a") == 100 and compression.file_size(tmp_path) == 150
    with pytest.raises(FileNotFoundError):
        compression.file_size(tmp_path / "missing")
    zeros, noise = bytes(10_000), np.random.default_rng(0).bytes(10_000)
    assert compression.gzipped_size(zeros) < 100 < 9_000 < compression.gzipped_size(noise)
    assert compression.gzipped_size(tmp_path / "a") == compression.gzipped_size(b"x" * 100)
    with pytest.raises(FileNotFoundError):
        compression.gzipped_size(tmp_path / "missing")


# --------------------------------------------------------------------------- pruning
def test_magnitude_mask_is_exact():
    w = np.array([[0.1, -3.0, 0.2], [5.0, -0.05, 0.0]])
    np.testing.assert_array_equal(magnitude_mask(w, 0.5), [[0, 1, 1], [1, 0, 0]])
    ties = np.ones(10)
    assert magnitude_mask(ties, 0.3).sum() == 7
    assert magnitude_mask(w, 0.0).all()
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        magnitude_mask(w, 1.0)


def test_polynomial_schedule():
    values = [polynomial_sparsity(t, 0.8, 10, 110) for t in range(0, 130, 10)]
    assert values[0] == values[1] == 0.0 and values[-3] < 0.8
    assert values[-2] == pytest.approx(0.8) and values[-1] == pytest.approx(0.8)
    assert all(a <= b for a, b in zip(values, values[1:]))
    assert values[2] - values[1] > values[10] - values[9]   # fast at first, then levelling off
    with pytest.raises(ValueError, match="after begin_step"):
        polynomial_sparsity(5, 0.8, 10, 10)


def test_pruning_reaches_the_target_and_keeps_zeros(tmp_path):
    x, y = blobs()
    model = tiny_classifier()
    pruning = MagnitudePruning(0.75, end_step=20, frequency=5).attach(model)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
    model.fit(x, y, epochs=4, batch_size=50, verbose=0, callbacks=[pruning])    # 48 steps
    assert sparsity(model) == pytest.approx(0.75, abs=0.002)
    assert [level for _, level in pruning.history][-1] == 0.75
    levels = [level for _, level in pruning.history]
    assert levels == sorted(levels) and len(levels) >= 4
    assert model.evaluate(x, y, verbose=0)[1] > 0.9                                # still classifies the blobs
    zeros = [keras.ops.convert_to_numpy(k) == 0 for k in compression.prunable_weights(model)]
    model.fit(x, y, epochs=1, batch_size=50, verbose=0, callbacks=[pruning])      # masks hold during training
    after = [keras.ops.convert_to_numpy(k) == 0 for k in compression.prunable_weights(model)]
    assert all(np.all(a[b]) for a, b in zip(after, zeros))
    pruning.strip()
    assert all(k.constraint is None for k in compression.prunable_weights(model))
    model.save(tmp_path / "pruned.keras")
    assert sparsity(keras.saving.load_model(tmp_path / "pruned.keras")) == pytest.approx(sparsity(model))


def test_pruning_bad_arguments():
    for kwargs, words in ((dict(target_sparsity=1.0, end_step=10), "between 0 and 1"),
                          (dict(target_sparsity=0.5, end_step=10, initial_sparsity=0.6), "initial_sparsity"),
                          (dict(target_sparsity=0.5, end_step=10, frequency=0), "frequency"),
                          (dict(target_sparsity=0.5, end_step=10, begin_step=-1), "begin_step"),
                          (dict(target_sparsity=0.5, end_step=0), "end_step")):
        with pytest.raises(ValueError, match=words):
            MagnitudePruning(**kwargs)
    pruning = MagnitudePruning(0.5, end_step=10)
    with pytest.raises(RuntimeError, match="attach"):
        pruning.on_train_batch_begin(0)
    model = tiny_classifier()
    pruning.attach(model)
    with pytest.raises(RuntimeError, match="already attached"):
        pruning.attach(model)
    with pytest.raises(ValueError, match="already has a constraint"):
        MagnitudePruning(0.5, end_step=10).attach(model)
    with pytest.raises(ValueError, match="no Dense or Conv"):
        compression.prunable_weights(keras.Sequential([keras.Input((3,)), keras.layers.ReLU()]))
    with pytest.raises(ValueError, match="no weights"):
        sparsity([])


# --------------------------------------------------------------------------- distillation
def test_distiller_loss_matches_the_formula_and_trains():
    x, y = blobs(300)
    teacher = tiny_classifier(1, hidden=64, logits=True)
    teacher.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    jit_compile=False)
    teacher.fit(x, y, epochs=5, verbose=0)
    student = tiny_classifier(2, hidden=4, logits=True)
    distiller = Distiller(teacher, student, temperature=3.0, alpha=0.25)
    z_s, z_t = student(x[:8]), teacher(x[:8])
    loss = float(distiller.compute_loss(x[:8], y[:8], z_s))
    z_s, z_t = keras.ops.convert_to_numpy(z_s).astype(np.float64), keras.ops.convert_to_numpy(z_t).astype(np.float64)

    def log_softmax(z):
        z = z - z.max(1, keepdims=True)
        return z - np.log(np.exp(z).sum(1, keepdims=True))

    hard = -log_softmax(z_s)[np.arange(8), y[:8]].mean()
    p_t = np.exp(log_softmax(z_t / 3))
    kl = (p_t * (log_softmax(z_t / 3) - log_softmax(z_s / 3))).sum(1).mean() * 9
    assert loss == pytest.approx(0.25 * hard + 0.75 * kl, rel=1e-4)

    teacher_before = [w.copy() for w in teacher.get_weights()]
    distiller.compile(optimizer="adam", metrics=["accuracy"], jit_compile=False)
    history = distiller.fit(x, y, epochs=25, batch_size=32, verbose=0).history
    assert {"student_loss", "distillation_loss", "accuracy"} <= set(history)
    assert history["loss"][-1] < history["loss"][0]
    assert all(np.array_equal(a, b) for a, b in zip(teacher_before, teacher.get_weights())), "teacher changed"
    assert np.mean(keras.ops.convert_to_numpy(distiller(x)).argmax(1) == y) > 0.8


def test_distiller_bad_arguments():
    model = tiny_classifier(logits=True)
    with pytest.raises(TypeError, match="keras.Model"):
        Distiller(model, "student")
    with pytest.raises(ValueError, match="temperature"):
        Distiller(model, tiny_classifier(logits=True), temperature=0)
    with pytest.raises(ValueError, match="alpha"):
        Distiller(model, tiny_classifier(logits=True), alpha=1.5)
