"""The benchmark scripts' own checks (they measure; these tests only check their set-up)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from course_lib.data import load_cifar10
from course_lib.vision import patch_whitening
from mirror import need

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str):
    """Import a benchmark script the way ``python benchmarks/<name>.py`` runs it (its folder on the path)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_serve_benchmark_checks_its_arguments(capsys):
    module = load("serve_benchmark")
    for argv in (["--clients", "0"], ["--batch", "300"]):
        with pytest.raises(SystemExit):
            module.main(argv)
        assert "--clients and --requests must be >= 1" in capsys.readouterr().err
    assert module.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5


def test_resnet_benchmark_builds_the_notebooks_network():
    module = load("resnet_cifar_full")
    x = np.random.default_rng(0).uniform(0, 255, size=(6, 32, 32, 3)).astype("float32")
    model, _ = module.build((8, 16, 16), x, np.zeros((6, 10)), batch_size=2, seed=0)
    assert model.name == "resnet_8_16_16"
    assert model.output.shape[-1] == 10
    assert {"stage1_block_add", "stage2_block_add", "stage3_block_add"} <= {layer.name for layer in model.layers}
    whiten = model.get_layer("whiten")              # fixed, and equal to the whitening of those images
    assert not whiten.trainable and whiten.kernel.shape == (2, 2, 3, 24)
    np.testing.assert_allclose(np.array(whiten.kernel), patch_whitening(x / 255)[0], rtol=1e-6)


@pytest.mark.parametrize("argv, message", [(["--images", "500"], "--images must be at least 512"),
                                           (["--epochs", "0"], "--epochs at least 1"),
                                           (["--widths", "8,8"], "--widths must be three")])
def test_resnet_benchmark_rejects_bad_sizes(monkeypatch, argv, message):
    module = load("resnet_cifar_time")
    monkeypatch.setattr(sys, "argv", ["resnet_cifar_time.py", *argv])
    with pytest.raises(ValueError, match=message):
        module.main()


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--widths", "8,0,8"], "--widths must be three positive"),
    (["--widths", "8,8"], "--widths must be three positive"),
    (["--train", "100"], r"--train must be at least one batch \(512"),
    (["--batch", "64", "--test", "10"], r"--test must be at least one batch \(64"),
])
def test_full_run_rejects_bad_arguments(argv, message):
    with pytest.raises(ValueError, match=message):
        load("resnet_cifar_full").parse_args(argv)


def test_full_run_batches_cover_every_image_once_per_epoch_in_a_new_order():
    module = load("resnet_cifar_full")
    n, batch = 10, 4
    x = np.broadcast_to(np.arange(n, dtype="float32")[:, None, None, None], (n, 8, 8, 3)).copy()   # image i is all i
    y = np.arange(n)
    augment = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomTranslation(0.125, 0.125)])
    batches = module.AugmentedBatches(x, y, batch, augment, seed=0)
    orders = []
    for _ in range(2):
        assert len(batches) == 3
        seen = []
        for i in range(len(batches)):
            xb, yb = batches[i]
            assert xb.shape[1:] == (8, 8, 3) and len(xb) == len(yb) == (batch if i < 2 else n - 2 * batch)
            # labels stay with their images
            np.testing.assert_allclose(xb, np.broadcast_to(yb[:, None, None, None], xb.shape))
            seen += list(yb)
        assert sorted(seen) == list(range(n))
        orders.append(seen)
        batches.on_epoch_end()
    assert orders[0] != orders[1]


def test_full_run_trains_and_writes_results_and_loadable_weights(tmp_path):
    need("cifar10")
    module = load("resnet_cifar_full")
    results = module.main(["--train", "128", "--test", "128", "--epochs", "1", "--widths", "4,8,8", "--batch", "64",
                           "--out", str(tmp_path)])
    stored = json.loads((tmp_path / "results.json").read_text())
    assert stored == json.loads(json.dumps(results))
    assert (stored["train_images"], stored["test_images"], stored["epochs"], len(stored["epoch_seconds"])) \
        == (128, 128, 1, 1)
    assert stored["backend"] == keras.backend.backend()
    other_whitening = patch_whitening(np.random.default_rng(1).uniform(size=(2, 8, 8, 3)))
    model = module.notebook_resnet_builder()(other_whitening, (4, 8, 8))
    model.load_weights(tmp_path / "cifar_resnet.weights.h5")         # any backend's cifar_resnet loads them,
    (x, _), (x_test, y_test) = load_cifar10(num_train=128, num_test=128)   # the fixed whitening included
    np.testing.assert_allclose(np.array(model.get_layer("whiten").kernel), patch_whitening(x / 255)[0], rtol=1e-5)
    assert model.count_params() == stored["parameters"]
    # the stored scores are those of the saved weights on the same test images, recomputed here
    x_test, labels = x_test.astype("float32"), np.asarray(y_test).ravel()
    logits = np.asarray(model.predict(x_test, verbose=0), dtype="float64")
    mirror_logits = np.asarray(model.predict(x_test[:, :, ::-1], verbose=0), dtype="float64")
    assert stored["test_accuracy"] == pytest.approx(np.mean(np.argmax(logits, axis=1) == labels), abs=1e-6)
    assert stored["flip_tta_test_accuracy"] == pytest.approx(
        np.mean(np.argmax(logits + mirror_logits, axis=1) == labels), abs=1e-6)
    test_loss = float(module.resnet_loss()(keras.utils.to_categorical(labels, 10), logits))
    assert stored["test_loss"] == pytest.approx(test_loss, rel=1e-4)


def test_full_run_keeps_augmentation_out_of_the_compiled_model():
    # Keras trains a model holding RandomTranslation without compiling its step (one operation at a
    # time on JAX): the script augments batches in the input pipeline instead.
    module = load("resnet_cifar_full")
    x, y = np.zeros((8, 32, 32, 3), "float32"), np.zeros(8, "int64")
    model, batches = module.build((4, 4, 4), x, y, batch_size=4, seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    assert model.jit_compile is True
    with_augmentation = keras.Sequential([batches.augment, module.build((4, 4, 4), x, y, 4, 0)[0]])
    with pytest.warns(UserWarning, match="doesn't support `jit_compile=True`"):
        with_augmentation.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    assert with_augmentation.jit_compile is False


def test_full_run_optimizer_warms_up_then_decays_to_zero():
    module = load("resnet_cifar_full")
    optimizer = module.resnet_optimizer(epochs=10, steps_per_epoch=10, batch_size=128)
    schedule = optimizer._learning_rate                     # the schedule object, not its current value
    rates = [float(schedule(step)) for step in (0, 10, 20, 100)]
    np.testing.assert_allclose(rates, [0.0, 0.05, 0.1, 0.0], atol=1e-7)   # peak 0.4 * 128 / 512 after 1/5 of 100 steps
    assert float(schedule(100)) < 0.1 and optimizer.nesterov and optimizer.momentum == 0.9


def test_full_run_optimizer_decays_every_weight():
    module = load("resnet_cifar_full")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization()])
    model.layers[1].gamma.assign(np.full(4, 2.0, dtype="float32"))
    model.layers[0].bias.assign(np.ones(4, dtype="float32"))
    before = {v.path: np.array(v) for v in model.trainable_variables}
    optimizer = module.resnet_optimizer(epochs=10, steps_per_epoch=10)
    optimizer.build(model.trainable_variables)
    optimizer.iterations.assign(20)                           # the peak learning rate, 0.4 for batches of 512
    optimizer.apply([keras.ops.zeros_like(v) for v in model.trainable_variables], model.trainable_variables)
    for variable in model.trainable_variables:   # zero gradients: only the weight decay moves anything
        np.testing.assert_allclose(np.array(variable), before[variable.path] * (1 - 0.4 * 5e-3), rtol=1e-6,
                                   err_msg=variable.path)
    with pytest.raises(ValueError, match="epochs and steps_per_epoch must be at least 1"):
        module.resnet_optimizer(epochs=0, steps_per_epoch=10)


def test_full_run_recipe_matches_the_notebooks_full_mode():
    notebook = json.loads((BENCHMARKS.parent / "notebooks" / "05_cnn.ipynb").read_text(encoding="utf-8"))
    source = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    full_epochs = re.search(r"CIFAR_EPOCHS = run\.pick\(\d+, (\d+)\)", source)
    full_batch = re.search(r"CIFAR_BATCH = run\.pick\(\d+, (\d+)\)", source)
    full_widths = re.search(r"RESNET_WIDTHS = run\.pick\(\([\d, ]+\), \(([\d, ]+)\)\)", source)
    module = load("resnet_cifar_full")
    assert full_epochs is not None and int(full_epochs.group(1)) == module.FULL_EPOCHS
    assert full_batch is not None and int(full_batch.group(1)) == module.FULL_BATCH
    assert full_widths is not None and tuple(map(int, full_widths.group(1).split(","))) == module.FULL_WIDTHS
    for recipe in ("steps_per_epoch / 5)", "0.4 * CIFAR_BATCH / 512", 'interpolation="nearest"',
                   f"patch_whitening(cifar_x[:{module.WHITENING_IMAGES}] / 255)",
                   "warmup_target=peak, warmup_steps=warmup",
                   "SGD(learning_rate, momentum=0.9, nesterov=True, weight_decay=5e-3)",
                   f"label_smoothing={module.LABEL_SMOOTHING}", "test_images[:, :, ::-1]"):
        assert recipe in source, recipe


def test_full_run_loss_smooths_one_hot_targets():
    loss = load("resnet_cifar_full").resnet_loss()
    target, logits = np.array([[0.0, 1.0]]), np.array([[0.0, 0.0]])
    # smoothed target (0.1, 0.9) against softmax (0.5, 0.5): -(0.1 + 0.9) * log 0.5
    np.testing.assert_allclose(float(loss(target, logits)), np.log(2.0), rtol=1e-6)
    confident = np.array([[-20.0, 20.0]])             # near-certain right answer: smoothing still costs 0.1 * 40
    np.testing.assert_allclose(float(loss(target, confident)), 0.1 * 40.0, rtol=1e-3)


class LeftRightScores:
    """A stand-in model: class 0 scores twice the left pixel, class 1 the right pixel."""

    def predict(self, x, batch_size=None, verbose=0):
        return np.stack([2 * x[:, 0, 0, 0], x[:, 0, 1, 0]], axis=1)


def test_flip_tta_averages_each_image_with_its_mirror_image():
    images = np.array([[[[1.0], [0.0]]], [[[0.0], [1.0]]]])   # (2, 1, 2, 1): bright left, bright right
    labels = np.array([[0], [1]])
    one_view, two_views = load("resnet_cifar_full").flip_tta_accuracy(LeftRightScores(), images, labels)
    # one view: (2, 0) -> 0 and (0, 1) -> 1, both right; with the mirror both sum to (2, 1) -> 0
    assert (one_view, two_views) == (1.0, 0.5)


def test_full_run_augmentation_shifts_by_whole_pixels():
    # bilinear shifts by fractions of a pixel would blur the training images (never the test images)
    image = np.arange(32 * 32 * 3, dtype="float32").reshape(1, 32, 32, 3)
    images = np.repeat(image, 16, axis=0)
    shifted = np.asarray(load("resnet_cifar_full").cifar_augmentation()(images, training=True))
    assert np.isin(shifted, image).all()                        # every pixel value is one of the image's
    assert not np.array_equal(shifted, images)                 # and the images did move


@pytest.mark.parametrize("argv, message", [
    (["--new-tokens", "0,8"], "--new-tokens must be positive integers separated by commas, got '0,8'"),
    (["--new-tokens", "8,x"], "--new-tokens must be positive integers separated by commas, got '8,x'"),
    (["--new-tokens", ""], "--new-tokens must be positive integers separated by commas"),
    (["--context", "16", "--new-tokens", "8,16"],
     "--new-tokens 16 plus the one-token prompt exceed --context 16; generate at most 15 tokens"),
    (["--repeats", "0"], "--repeats must be at least 1, got 0"),
    (["--depth", "0"], "--depth must be at least 1, got 0"),
    (["--vocab", "-2"], "--vocab must be at least 1, got -2"),
    (["--width", "30", "--heads", "4"], r"--width \(30\) must be a multiple of --heads \(4\)"),
])
def test_kv_cache_benchmark_rejects_bad_arguments(monkeypatch, argv, message):
    module = load("gpt_kv_cache")
    monkeypatch.setattr(sys, "argv", ["gpt_kv_cache.py", *argv])
    with pytest.raises(ValueError, match=message):
        module.main()


def test_kv_cache_benchmark_defaults_are_the_chapters_sizes():
    args = load("gpt_kv_cache").parse_args([])
    assert (args.depth, args.width, args.heads, args.context, args.vocab, args.new_tokens, args.repeats) \
        == (4, 128, 4, 512, 65, [256, 448], 3)
    assert load("gpt_kv_cache").parse_args(["--context", "9", "--new-tokens", "8"]).new_tokens == [8]   # 8 + 1 fit


def test_kv_cache_benchmark_runs_and_prints_both_speeds(monkeypatch, capsys):
    module = load("gpt_kv_cache")
    monkeypatch.setattr(sys, "argv", ["gpt_kv_cache.py", "--depth", "1", "--width", "16", "--heads", "2",
                                      "--context", "16", "--vocab", "7", "--new-tokens", "3,15", "--repeats", "2"])
    results = module.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"GPT depth 1, width 16, heads 2, context 16, vocab 7: [\d,]+ parameters; "
                        rf"Keras backend {keras.backend.backend()}; median of 2 run\(s\)", lines[0])
    number = r"\d+\.\d+"
    for line, new, result in zip(lines[1:], (3, 15), results):
        match = re.fullmatch(rf"\s*{new} new tokens: cache\s+({number}) tokens/s, no cache\s+({number}) tokens/s, "
                             rf"ratio\s+({number})x, max \|logit difference\| (\S+), same tokens: yes", line)
        assert match, line
        assert result["new_tokens"] == new and result["same_tokens"]
        assert result["cache_tokens_per_s"] > 0 and result["no_cache_tokens_per_s"] > 0
        assert result["ratio"] == pytest.approx(result["cache_tokens_per_s"] / result["no_cache_tokens_per_s"])
        assert float(match.group(4)) == pytest.approx(result["max_logit_difference"], rel=0.01, abs=1e-12)
        assert result["max_logit_difference"] < 1e-4
