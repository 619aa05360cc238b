"""Hardware report, precision policy, XLA and the distribution strategy, in one call.

.. code-block:: python

    from course_lib.device import setup_device
    dev = setup_device()          # prints what it found and chose
    with dev.strategy.scope():
        model = build_model()
    model.compile(..., jit_compile=dev.jit_compile)

The decisions are made by :func:`plan_devices`, a pure function of the device list, so they
can be tested on any machine; :func:`setup_device` detects the real devices and applies them.

Decisions
- GPU memory growth is switched on, so TensorFlow does not grab the whole card.
- Precision: ``mixed_float16`` on GPUs with tensor cores (compute capability >= 7.0), which
  roughly doubles throughput there; ``float32`` on the CPU and on older GPUs.
- XLA (``jit_compile=True``) only on GPU: on a CPU it made the course's CNNs about 5x slower.
  Keras' default ``jit_compile="auto"`` turns XLA on for the CPU too, so pass the flag.
- Strategy: the default strategy on one device; ``MirroredStrategy`` over all GPUs when there
  are several, or over ``logical_cpus`` logical CPU devices when asked (to demonstrate data
  parallelism on a laptop).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from course_lib._validate import check_int

MIXED_PRECISION_MIN_CAPABILITY = (7, 0)


@dataclass(frozen=True)
class GpuInfo:
    """One GPU as TensorFlow reports it."""

    name: str
    memory_gib: float | None = None
    compute_capability: tuple[int, int] | None = None

    def describe(self) -> str:
        mem = f", {self.memory_gib:.1f} GiB" if self.memory_gib else ""
        cc = ""
        if self.compute_capability:
            cc = f", compute capability {self.compute_capability[0]}.{self.compute_capability[1]}"
        return f"{self.name}{mem}{cc}"


@dataclass(frozen=True)
class DevicePlan:
    """What :func:`plan_devices` decided, with the reasons."""

    cpu: str
    cpu_count: int
    gpus: tuple[GpuInfo, ...]
    precision_policy: str
    jit_compile: bool
    strategy: str  # "default" or "mirrored"
    replicas: int
    logical_cpus: int = 0
    reasons: tuple[str, ...] = ()

    def summary(self) -> str:
        """One plain sentence: ``no GPU found: running on CPU``, or the GPUs that will be used."""
        if not self.gpus:
            return "no GPU found: running on CPU"
        names = ", ".join(sorted({g.name for g in self.gpus}))
        count = f"{len(self.gpus)} GPU{'s' if len(self.gpus) != 1 else ''}"
        return f"{count} found ({names}): running on {'them' if len(self.gpus) != 1 else 'it'}"

    def describe(self) -> str:
        lines = [f"CPU: {self.cpu} ({self.cpu_count} cores)"]
        if self.gpus:
            lines += [f"GPU {i}: {g.describe()}" for i, g in enumerate(self.gpus)]
        else:
            lines.append("GPU: none found (training runs on the CPU)")
        lines.append(f"precision policy: {self.precision_policy}")
        lines.append(f"XLA (jit_compile): {'on' if self.jit_compile else 'off'}")
        lines.append(f"strategy: {self.strategy} ({self.replicas} replica{'s' if self.replicas != 1 else ''})")
        lines += [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)


@dataclass
class DeviceSetup:
    """The applied plan and the live ``tf.distribute`` strategy."""

    plan: DevicePlan
    strategy: Any = field(repr=False)

    @property
    def jit_compile(self) -> bool:
        return self.plan.jit_compile

    @property
    def precision_policy(self) -> str:
        return self.plan.precision_policy

    def describe(self) -> str:
        return self.plan.describe()


def plan_devices(
    gpus: list[GpuInfo] | tuple[GpuInfo, ...],
    cpu: str = "CPU",
    cpu_count: int = 1,
    mixed_precision: str | bool = "auto",
    xla: str | bool = "auto",
    logical_cpus: int = 0,
) -> DevicePlan:
    """Decide precision, XLA and strategy from a device list (pure: no TensorFlow calls).

    ``mixed_precision`` and ``xla`` are ``"auto"``, True or False; ``logical_cpus`` >= 2 asks
    for a MirroredStrategy over that many logical CPU devices when there is no GPU.
    """
    for label, value in (("mixed_precision", mixed_precision), ("xla", xla)):
        if value not in ("auto", True, False):
            raise ValueError(f"{label} must be 'auto', True or False, got {value!r}")
    check_int("logical_cpus", logical_cpus, minimum=0, expected="0 (off) or an integer >= 2")
    if logical_cpus == 1:
        raise ValueError("logical_cpus must be 0 (off) or an integer >= 2, got 1: one logical CPU is no "
                         "distribution")
    gpus = tuple(gpus)
    reasons: list[str] = []

    if mixed_precision == "auto":
        capable = bool(gpus) and all(
            g.compute_capability is not None and tuple(g.compute_capability) >= MIXED_PRECISION_MIN_CAPABILITY
            for g in gpus
        )
        policy = "mixed_float16" if capable else "float32"
        if not gpus:
            reasons.append("float32 on the CPU: float16 arithmetic is not faster there")
        elif capable:
            reasons.append("mixed_float16: every GPU has tensor cores (compute capability >= 7.0)")
        else:
            reasons.append("float32: a GPU without tensor cores gains little from float16")
    else:
        policy = "mixed_float16" if mixed_precision else "float32"
        if mixed_precision and not gpus:
            reasons.append("mixed_float16 forced on a CPU: expect it to be slower, not faster")

    if xla == "auto":
        jit = bool(gpus)
        reasons.append("XLA on: GPU present" if jit else "XLA off: on this CPU it slows CNNs down about 5x")
    else:
        jit = bool(xla)

    if len(gpus) >= 2:
        strategy, replicas = "mirrored", len(gpus)
        reasons.append(f"MirroredStrategy over {len(gpus)} GPUs")
        logical = 0
    elif not gpus and logical_cpus >= 2:
        strategy, replicas, logical = "mirrored", logical_cpus, logical_cpus
        reasons.append(f"MirroredStrategy over {logical_cpus} logical CPU devices (a data-parallel demo)")
    else:
        strategy, replicas, logical = "default", 1, 0
    return DevicePlan(cpu=cpu, cpu_count=cpu_count, gpus=gpus, precision_policy=policy, jit_compile=jit,
                      strategy=strategy, replicas=replicas, logical_cpus=logical, reasons=tuple(reasons))


def cpu_name() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux), or the platform's processor string."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def _nvidia_smi_memory() -> list[float]:
    """Total memory (GiB) of each GPU as nvidia-smi reports it; [] when it is unavailable."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        return [float(v) / 1024 for v in out.split()]
    except (OSError, subprocess.SubprocessError, ValueError):
        return []


def detect_gpus(tf: Any = None) -> list[GpuInfo]:
    """The GPUs TensorFlow sees, with name, memory and compute capability where known."""
    if tf is None:
        import tensorflow as tf
    devices = tf.config.list_physical_devices("GPU")
    memory = _nvidia_smi_memory()
    gpus = []
    for index, device in enumerate(devices):
        details = tf.config.experimental.get_device_details(device) or {}
        cc = details.get("compute_capability")
        gpus.append(GpuInfo(name=details.get("device_name", device.name),
                            memory_gib=memory[index] if index < len(memory) else None,
                            compute_capability=tuple(cc) if cc else None))
    return gpus


def setup_device(mixed_precision: str | bool = "auto", xla: str | bool = "auto",
                 logical_cpus: int = 0, verbose: bool = True) -> DeviceSetup:
    """Detect the hardware, apply the plan (memory growth, precision policy) and return the strategy.

    Call it once, near the top of a notebook, before any model is built.
    """
    import keras
    import tensorflow as tf

    gpus = detect_gpus(tf)
    plan = plan_devices(gpus, cpu=cpu_name(), cpu_count=os.cpu_count() or 1,
                        mixed_precision=mixed_precision, xla=xla, logical_cpus=logical_cpus)
    for device in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(device, True)
        except RuntimeError:  # already initialised: the setting is fixed for this process
            pass
    if plan.logical_cpus:
        cpu = tf.config.list_physical_devices("CPU")[0]
        wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(plan.logical_cpus)]
        try:
            tf.config.set_logical_device_configuration(cpu, wanted)
        except RuntimeError as err:
            current = len(tf.config.list_logical_devices("CPU"))
            if current != plan.logical_cpus:
                raise RuntimeError(
                    f"TensorFlow is already initialised with {current} logical CPU device(s); "
                    f"call setup_device(logical_cpus={plan.logical_cpus}) before anything else uses "
                    "TensorFlow (restart the kernel)."
                ) from err
    keras.mixed_precision.set_global_policy(plan.precision_policy)
    if plan.strategy == "mirrored":
        kind = "GPU" if plan.gpus else "CPU"
        names = [d.name for d in tf.config.list_logical_devices(kind)][: plan.replicas]
        strategy = tf.distribute.MirroredStrategy(devices=names)
    else:
        strategy = tf.distribute.get_strategy()
    result = DeviceSetup(plan=plan, strategy=strategy)
    if verbose:
        print(result.describe())
    return result
