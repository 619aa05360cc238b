"""The benchmark scripts' own checks (they measure; these tests only check their set-up)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str):
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
