"""The device plan: GPU branches with faked device lists, the CPU branch for real."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import keras
import pytest
import tensorflow as tf

from course_lib import device
from course_lib.device import GpuInfo, plan_devices

A100 = GpuInfo("NVIDIA A100-SXM4-40GB", 40.0, (8, 0))
P100 = GpuInfo("Tesla P100-PCIE-16GB", 16.0, (6, 0))


def test_cpu_only_plan():
    plan = plan_devices([], cpu="Test CPU", cpu_count=2)
    assert plan.precision_policy == "float32"
    assert plan.jit_compile is False
    assert plan.strategy == "default" and plan.replicas == 1
    assert "GPU: none found" in plan.describe()


def test_one_modern_gpu_gets_mixed_precision_and_xla():
    plan = plan_devices([A100])
    assert plan.precision_policy == "mixed_float16"
    assert plan.jit_compile is True
    assert plan.strategy == "default" and plan.replicas == 1
    assert "A100" in plan.describe() and "40.0 GiB" in plan.describe()


def test_old_gpu_stays_float32_but_uses_xla():
    plan = plan_devices([P100])
    assert plan.precision_policy == "float32"
    assert plan.jit_compile is True


def test_mixed_gpu_generations_stay_float32():
    assert plan_devices([A100, P100]).precision_policy == "float32"


def test_several_gpus_use_mirrored_strategy():
    plan = plan_devices([A100, A100, A100])
    assert plan.strategy == "mirrored" and plan.replicas == 3


def test_logical_cpus_give_mirrored_strategy_only_without_gpus():
    plan = plan_devices([], logical_cpus=2)
    assert plan.strategy == "mirrored" and plan.replicas == 2 and plan.logical_cpus == 2
    assert plan_devices([A100], logical_cpus=2).strategy == "default"


def test_overrides():
    assert plan_devices([], mixed_precision=True).precision_policy == "mixed_float16"
    assert plan_devices([A100], mixed_precision=False, xla=False).jit_compile is False


@pytest.mark.parametrize("kwargs", [dict(mixed_precision="yes"), dict(xla=1.5), dict(logical_cpus=1),
                                    dict(logical_cpus=-2)])
def test_bad_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError):
        plan_devices([], **kwargs)


def test_setup_device_applies_gpu_plan_on_faked_devices(monkeypatch):
    """Two fake GPUs: memory growth on each, mixed precision set, MirroredStrategy over both."""
    fake = [SimpleNamespace(name=f"/physical_device:GPU:{i}", device_type="GPU") for i in range(2)]
    grown, mirrored = [], {}

    cpu = SimpleNamespace(name="/physical_device:CPU:0")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: list(fake) if kind == "GPU" else [cpu])
    monkeypatch.setattr(tf.config, "list_logical_devices",
                        lambda kind=None: [SimpleNamespace(name=f"/device:GPU:{i}") for i in range(2)])
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda d: {"device_name": "NVIDIA H100", "compute_capability": (9, 0)})
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", lambda d, on: grown.append((d.name, on)))
    monkeypatch.setattr(device, "_nvidia_smi_memory", lambda: [80 * 1024 / 1024, 80.0])
    monkeypatch.setattr(tf.distribute, "MirroredStrategy",
                        lambda devices: mirrored.setdefault("devices", devices) and SimpleNamespace(kind="mirrored"))
    try:
        setup = device.setup_device(verbose=False)
        assert [g for g, _ in grown] == ["/physical_device:GPU:0", "/physical_device:GPU:1"]
        assert all(on for _, on in grown)
        assert setup.precision_policy == "mixed_float16"
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        assert setup.jit_compile is True
        assert mirrored["devices"] == ["/device:GPU:0", "/device:GPU:1"]
        assert setup.plan.gpus[0].name == "NVIDIA H100" and setup.plan.gpus[0].compute_capability == (9, 0)
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.may_skip  # the CPU branch cannot run on a machine with a GPU
def test_setup_device_on_this_cpu_for_real():
    setup = device.setup_device(verbose=False)
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU; the CPU branch is tested on CPU-only machines")
    assert setup.precision_policy == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"
    assert setup.jit_compile is False
    assert setup.strategy is tf.distribute.get_strategy()
    assert setup.plan.cpu_count >= 1 and setup.plan.cpu


def test_logical_cpu_mirrored_strategy_in_a_fresh_process():
    code = ("from course_lib.device import setup_device\n"
            "d = setup_device(logical_cpus=2, verbose=False)\n"
            "print(type(d.strategy).__name__, d.strategy.num_replicas_in_sync)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["MirroredStrategy", "2"]


def test_summary_says_plainly_when_there_is_no_gpu():
    assert plan_devices([], cpu_count=2).summary() == "no GPU found: running on CPU"
    one = plan_devices([GpuInfo("NVIDIA H200", 139.8, (9, 0))])
    assert one.summary() == "1 GPU found (NVIDIA H200): running on it"
    two = plan_devices([GpuInfo("T4", 15.0, (7, 5))] * 2)
    assert two.summary() == "2 GPUs found (T4): running on them"


def test_course_doctor_says_no_gpu_found(monkeypatch):
    from course_lib import cli, device

    monkeypatch.setattr(device, "detect_gpus", lambda tf=None: [])
    lines: list[str] = []
    cli.doctor(print_fn=lines.append)
    devices = lines[lines.index("== devices") + 1:]
    assert devices[0] == "  no GPU found: running on CPU"
