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


def test_resnet_benchmark_builds_the_notebooks_network():
    builder = load("resnet_cifar_time").notebook_resnet_builder()
    model = builder(16, 1)
    assert model.name == "resnet_w16_b1"
    assert model.output.shape[-1] == 10
    assert any(layer.name == "stage3_block1_proj" for layer in model.layers)


@pytest.mark.parametrize("argv", [["--images", "10"], ["--epochs", "0"]])
def test_resnet_benchmark_rejects_bad_sizes(monkeypatch, argv):
    module = load("resnet_cifar_time")
    monkeypatch.setattr(sys, "argv", ["resnet_cifar_time.py", *argv])
    with pytest.raises(ValueError, match="--images must be at least 128"):
        module.main()


@pytest.mark.parametrize("argv, message", [(["--epochs", "0"], "--epochs must be at least 1"),
                                           (["--width", "0"], "--width must be at least 1"),
                                           (["--train", "100"], "--train must be at least one batch"),
                                           (["--batch", "64", "--test", "10"], r"--test must be at least one batch \(64")])
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
            np.testing.assert_allclose(xb, np.broadcast_to(yb[:, None, None, None], xb.shape))   # labels stay with images
            seen += list(yb)
        assert sorted(seen) == list(range(n))
        orders.append(seen)
        batches.on_epoch_end()
    assert orders[0] != orders[1]


def test_full_run_trains_and_writes_results_and_loadable_weights(tmp_path):
    need("cifar10")
    module = load("resnet_cifar_full")
    results = module.main(["--train", "128", "--test", "128", "--epochs", "1", "--width", "4", "--blocks", "1",
                           "--out", str(tmp_path)])
    stored = json.loads((tmp_path / "results.json").read_text())
    assert stored["test_accuracy"] == results["test_accuracy"] and 0 <= stored["test_accuracy"] <= 1
    assert (stored["train_images"], stored["epochs"], len(stored["epoch_seconds"])) == (128, 1, 1)
    assert stored["backend"] == keras.backend.backend()
    model = module.notebook_resnet_builder()(4, 1)
    model.load_weights(tmp_path / "cifar_resnet.weights.h5")         # any backend's cifar_resnet loads them
    assert model.count_params() == stored["parameters"]


def test_full_run_keeps_augmentation_out_of_the_compiled_model():
    # Keras trains a model holding RandomTranslation without compiling its step (one operation at a
    # time on JAX): the script augments batches in the input pipeline instead.
    module = load("resnet_cifar_full")
    x, y = np.zeros((8, 32, 32, 3), "float32"), np.zeros(8, "int64")
    model, batches = module.build(4, 1, x, y, batch_size=4, seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    assert model.jit_compile is True
    with_augmentation = keras.Sequential([batches.augment, module.notebook_resnet_builder()(4, 1)])
    with pytest.warns(UserWarning, match="doesn't support `jit_compile=True`"):
        with_augmentation.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    assert with_augmentation.jit_compile is False


def test_full_run_optimizer_decays_kernels_only():
    module = load("resnet_cifar_full")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization()])
    model.layers[1].gamma.assign(np.full(4, 2.0, dtype="float32"))
    model.layers[0].bias.assign(np.ones(4, dtype="float32"))
    before = {v.path: np.array(v) for v in model.trainable_variables}
    optimizer = module.resnet_optimizer(steps=10, learning_rate=0.1)
    optimizer.apply([keras.ops.zeros_like(v) for v in model.trainable_variables], model.trainable_variables)
    for variable in model.trainable_variables:   # zero gradients: only the weight decay moves anything
        expected = before[variable.path] * (1 - 0.1 * 0.05 if variable.name == "kernel" else 1.0)
        np.testing.assert_allclose(np.array(variable), expected, rtol=1e-6, err_msg=variable.path)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        module.resnet_optimizer(steps=0)


def test_full_run_epochs_match_the_notebooks_full_mode():
    notebook = json.loads((BENCHMARKS.parent / "notebooks" / "05_cnn.ipynb").read_text(encoding="utf-8"))
    source = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    full_epochs = re.search(r"CIFAR_EPOCHS = run\.pick\(\d+, (\d+)\)", source)
    assert full_epochs is not None and int(full_epochs.group(1)) == load("resnet_cifar_full").FULL_EPOCHS
    assert "weight_decay=0.05" in source and 'exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])' in source
