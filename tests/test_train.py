"""The training wrapper: results, compact progress, validation of arguments, resuming."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_lib.train import InterruptAfter, fit


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    return x, y


def _builder():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(2, activation="softmax")])


COMPILE = dict(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def _compile():
    return dict(COMPILE, optimizer=keras.optimizers.Adam(0.05))


def test_fit_trains_and_reports(capsys):
    x, y = _data()
    result = fit(_builder, x, y, validation_data=_data(64, 1), epochs=3, batch_size=32,
                 compile_kwargs=_compile(), seed=1)
    out = capsys.readouterr().out
    assert result.epochs_run == 3
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.last("val_accuracy") > 0.8
    assert result.examples_per_second and result.examples_per_second > 0
    assert result.seconds > 0 and len(result.epoch_seconds) == 3
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split(" - ")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert "\b" not in out and "\r" not in out
    with pytest.raises(KeyError, match="not in the history"):
        result.last("f1")


def test_fit_is_seeded():
    x, y = _data()
    a = fit(_builder, x, y, epochs=1, batch_size=32, compile_kwargs=_compile(), seed=7, verbose=False, shuffle=False)
    b = fit(_builder, x, y, epochs=1, batch_size=32, compile_kwargs=_compile(), seed=7, verbose=False, shuffle=False)
    assert a.history["loss"] == pytest.approx(b.history["loss"], rel=1e-6)


def test_early_stopping_stops():
    x, y = _data()
    result = fit(_builder, x, y, validation_data=_data(64, 1), epochs=50, batch_size=32,
                 compile_kwargs=dict(COMPILE, optimizer=keras.optimizers.SGD(0.0)),
                 early_stopping=2, verbose=False)
    assert result.epochs_run == 3  # no improvement possible with a zero learning rate


@pytest.mark.parametrize("kwargs, message", [
    (dict(epochs=0), "epochs"),
    (dict(epochs=2, early_stopping=2), "needs validation_data"),
    (dict(epochs=2, early_stopping=0, validation_data=(np.zeros((2, 4)), np.zeros(2))), "patience"),
])
def test_bad_arguments(kwargs, message):
    x, y = _data(32)
    with pytest.raises(ValueError, match=message):
        fit(_builder, x, y, compile_kwargs=_compile(), **kwargs)


def test_uncompiled_model_is_an_error():
    x, y = _data(32)
    with pytest.raises(ValueError, match="not compiled"):
        fit(_builder(), x, y, epochs=1)


def test_interrupted_training_resumes_from_saved_epoch(tmp_path, capsys):
    """Crash after epoch 2 of 5; the same call again continues with epoch 3, not from scratch."""
    x, y = _data(512)
    backup = tmp_path / "backup"
    model = _builder()
    model.compile(**_compile())
    with pytest.raises(KeyboardInterrupt):
        fit(model, x, y, epochs=5, batch_size=64, backup_dir=backup, callbacks=[InterruptAfter(2)])
    first = capsys.readouterr().out
    assert "epoch 2/5" in first and "epoch 3/5" not in first
    assert backup.exists() and any(backup.iterdir()), "BackupAndRestore saved nothing"
    weights_after_2 = [w.copy() for w in model.get_weights()]

    fresh = _builder()  # a new process would rebuild the model: weights must come from the backup
    fresh.compile(**_compile())
    resumed = fit(fresh, x, y, epochs=5, batch_size=64, backup_dir=backup)
    second = capsys.readouterr().out
    epochs_printed = [line.split(" - ")[0] for line in second.splitlines() if line.startswith("epoch ")]
    assert epochs_printed == ["epoch 3/5", "epoch 4/5", "epoch 5/5"]
    assert resumed.epochs_run == 3
    # the resumed run starts from the saved weights: its first loss is close to the end of epoch 2
    probe = _builder()
    probe.compile(**_compile())
    probe.set_weights(weights_after_2)
    loss_after_2 = probe.evaluate(x, y, verbose=0)[0]
    assert resumed.history["loss"][0] < 1.2 * loss_after_2 + 0.05
    assert not backup.exists(), "the backup is removed after a finished run"


def test_interrupt_after_fires_when_the_next_epoch_begins():
    cb = InterruptAfter(1)
    cb.on_epoch_begin(0)
    with pytest.raises(KeyboardInterrupt):
        cb.on_epoch_begin(1)
    with pytest.raises(ValueError):
        InterruptAfter(0)


def test_fit_on_a_dataset_reports_examples_and_does_not_warn(recwarn, capsys):
    import tensorflow as tf

    x, y = _data(256)
    exact = tf.data.Dataset.from_tensor_slices((x, y)).batch(32, drop_remainder=True)
    result = fit(_builder, exact, epochs=1, compile_kwargs=_compile(), seed=0)
    assert result.examples_per_second == pytest.approx(256 / result.seconds)
    ragged = tf.data.Dataset.from_tensor_slices((x[:250], y[:250])).batch(32)  # last batch partial
    assert fit(_builder, ragged, epochs=1, compile_kwargs=_compile()).examples_per_second is None
    told = fit(_builder, ragged, epochs=1, compile_kwargs=_compile(), examples_per_epoch=250)
    assert told.examples_per_second == pytest.approx(250 / told.seconds)
    assert not [w for w in recwarn if "shuffle" in str(w.message)]


def _train_step_traces(model) -> int:
    """How many concrete training-step graphs tf.function made for this model."""
    import gc

    import tensorflow as tf

    names = set()
    for obj in gc.get_objects():
        if isinstance(obj, tf.types.experimental.ConcreteFunction):
            name = getattr(obj, "name", b"")
            name = name.decode() if isinstance(name, bytes) else str(name)
            if "one_step_on_data" in name:
                try:
                    captured = {id(v) for v in obj.variables}
                except Exception:  # noqa: BLE001 - some internal functions have no variables view
                    continue
                if any(id(v.value) in captured or id(v) in captured for v in model.trainable_variables):
                    names.add(name)
    return len(names)


def test_build_before_training_creates_every_variable_from_shapes_alone():
    from course_lib.train import build_before_training

    x, y = _data()
    model = _builder()
    model.compile(**_compile())
    assert not model.optimizer.built
    assert build_before_training(model, x, y) is True
    assert model.optimizer.built
    assert build_before_training(model, x, y) is False          # nothing left to build


def test_build_before_training_works_on_a_shuffled_dataset_without_reading_it():
    import tensorflow as tf

    from course_lib.train import build_before_training

    x, y = _data()
    reads = []

    def count(a, b):
        reads.append(1)
        return a, b

    data = tf.data.Dataset.from_tensor_slices((x, y)).map(
        lambda a, b: tf.py_function(count, [a, b], [tf.float32, tf.int32])).batch(32)
    data = data.map(lambda a, b: (tf.ensure_shape(a, (None, 4)), tf.ensure_shape(b, (None,))))
    model = _builder()
    model.compile(**_compile())
    assert build_before_training(model, data) is True
    assert model.optimizer.built and reads == []


def test_build_before_training_leaves_custom_train_steps_alone():
    from course_lib.train import build_before_training

    class Custom(keras.Model):
        def train_step(self, data):  # pragma: no cover - never run here
            return super().train_step(data)

    inputs = keras.Input((4,))
    model = Custom(inputs, keras.layers.Dense(2)(inputs))
    model.compile(**_compile())
    x, y = _data()
    assert build_before_training(model, x, y) is False
    assert not model.optimizer.built


def test_fit_builds_first_so_the_training_step_is_traced_once():
    # Keras alone traces twice when the first trace creates the optimizer's variables
    x, y = _data()
    plain = _builder()
    plain.compile(**_compile())
    plain.fit(x, y, epochs=1, batch_size=64, verbose=0)
    result = fit(_builder, x, y, epochs=1, batch_size=64, compile_kwargs=_compile(), seed=1, verbose=False)
    assert _train_step_traces(plain) == 2
    assert _train_step_traces(result.model) == 1


def test_building_first_does_not_change_the_trained_weights():
    x, y = _data()
    keras.utils.set_random_seed(3)
    plain = _builder()
    plain.compile(**_compile())
    plain.fit(x, y, epochs=2, batch_size=64, shuffle=False, verbose=0)
    result = fit(_builder, x, y, epochs=2, batch_size=64, compile_kwargs=_compile(), seed=3, verbose=False,
                 shuffle=False)
    for a, b in zip(plain.get_weights(), result.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def _tiny_bert_preprocessor(sequence_length=8):
    import keras_hub

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "good", "bad", "film"]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocab)
    return keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=sequence_length)


def test_preprocessed_spec_matches_the_traced_map_without_tracing_it():
    import tensorflow as tf

    from course_lib.train import _preprocessed_spec

    preprocessor = _tiny_bert_preprocessor()
    calls = []

    def preprocess(x, y=None):
        calls.append(tf.executing_eagerly())
        return keras.utils.pack_x_y_sample_weight(preprocessor(x), y)

    data = tf.data.Dataset.from_tensor_slices((["a good film", "bad"], [1, 0])).batch(2)
    spec = _preprocessed_spec(preprocess, data)
    assert calls == [True]                                   # one eager call, no traced map
    assert spec == data.map(preprocess).element_spec          # same shapes and dtypes as the map gives
    assert spec[0]["token_ids"].shape.as_list() == [None, 8]


def test_preprocessed_spec_falls_back_to_the_map_for_unbatched_data():
    import tensorflow as tf

    from course_lib.train import _preprocessed_spec

    preprocessor = _tiny_bert_preprocessor()
    data = tf.data.Dataset.from_tensor_slices((["a good film", "bad"], [1, 0]))     # scalar strings
    preprocess = lambda x, y: keras.utils.pack_x_y_sample_weight(preprocessor(x), y)  # noqa: E731
    assert _preprocessed_spec(preprocess, data) == data.map(preprocess).element_spec


def test_fit_trains_a_keras_hub_classifier_with_one_trace():
    import keras_hub
    import tensorflow as tf

    backbone = keras_hub.models.BertBackbone(vocabulary_size=9, num_layers=1, num_heads=1, hidden_dim=8,
                                            intermediate_dim=16, max_sequence_length=8)
    model = keras_hub.models.BertTextClassifier(backbone, num_classes=2, preprocessor=_tiny_bert_preprocessor())
    data = tf.data.Dataset.from_tensor_slices((["a good film", "bad film"] * 4, [1, 0] * 4)).batch(4)
    result = fit(model, data, epochs=2, compile_kwargs=dict(
        optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
        verbose=False)
    assert result.epochs_run == 2 and model.optimizer.built
    assert _train_step_traces(model) == 1


def test_fit_not_watched_prints_one_line_per_epoch_and_no_live_line(capsys, monkeypatch):
    # CI, papermill and stored notebooks: exactly the epoch lines (and the summary), no carriage returns
    monkeypatch.delenv("COURSE_PROGRESS", raising=False)
    monkeypatch.setenv("CI", "true")
    x, y = _data()
    fit(_builder, x, y, epochs=3, batch_size=16, compile_kwargs=_compile(), seed=1)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines[:3]] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert lines[3].startswith("trained 3 epoch(s) in ") and len(lines) == 4


def test_fit_watched_updates_a_live_line_inside_each_epoch(capsys):
    x, y = _data()
    result = fit(_builder, x, y, epochs=2, batch_size=16, compile_kwargs=_compile(), seed=1, progress=True)
    out = capsys.readouterr().out
    assert "\r" in out                                           # pytest's stdout stands in for a terminal
    live = [chunk for chunk in out.split("\r") if chunk.startswith("epoch 1/2 [")]
    assert live and "/16" in live[0]                             # 256 examples / batch 16 = 16 steps
    # the permanent lines are the same as without the live line
    permanent = [line.split("\r")[-1] for line in out.splitlines()]
    assert [line.split(" - ")[0] for line in permanent if line.startswith("epoch ") and "[" not in line] == \
        ["epoch 1/2", "epoch 2/2"]
    assert result.epochs_run == 2


class _Recorder:
    def __init__(self):
        self.shown, self.cleared = [], 0

    def show(self, text):
        self.shown.append(text)

    def clear(self):
        self.cleared += 1


def test_live_progress_callback_reports_steps_examples_and_time_left():
    from course_lib.train import LiveProgress

    x, y = _data()
    line = _Recorder()
    model = _builder()
    model.compile(**_compile())
    live = LiveProgress(examples_per_step=16, line=line, min_interval=0)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[live], validation_data=_data(32, 1))
    first = [t for t in line.shown if t.startswith("epoch 1/2")]
    second = [t for t in line.shown if t.startswith("epoch 2/2")]
    assert first and second and line.cleared >= 2               # the line is wiped at each epoch's end
    assert any(t.startswith("epoch 1/2 [####################] 16/16") for t in first)
    assert any("examples/s" in t and " left" in t and "loss " in t for t in first + second)
    assert any("in all)" in t for t in first)                   # epoch 2 still to come
    assert any(t.endswith("validating") for t in line.shown)
