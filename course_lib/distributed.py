"""Multi-worker data-parallel training on one machine: real worker processes, real collectives.

:func:`train_multi_worker` starts ``num_workers`` Python processes on ``127.0.0.1``. Each gets
its own ``TF_CONFIG`` (the cluster's addresses and its own index), builds a
``tf.distribute.MultiWorkerMirroredStrategy`` and trains the same small classifier with a
custom training loop; gradients are summed across the processes with collective all-reduce
over gRPC, exactly as between several machines. The launcher

- picks free TCP ports on the loopback interface,
- writes each worker's output to ``worker-<i>.log`` and returns the logs,
- bounds the run with a timeout and ends **every** worker process (its whole process group)
  when the run finishes, fails, times out or is interrupted,
- returns each worker's final weights (also saved as ``weights-<i>.npz``), so the caller can
  check that all workers ended with identical weights.

.. code-block:: python

    run = train_multi_worker(x_train, y_train, x_test=x_test, y_test=y_test, num_workers=2,
                             steps=50, global_batch_size=64, timeout_s=120)
    run.identical_weights, run.max_weight_difference, run.test_accuracy

Why a custom training loop: with Keras 3.15.1 and TensorFlow 2.21, ``model.fit`` under
``MultiWorkerMirroredStrategy`` fails in every worker with ``ValueError: Attempt to convert a
value (PerReplica:{...}) with an unsupported type (PerReplica) to a Tensor``
(keras-team/keras#20585). ``train_multi_worker(..., loop="fit")`` runs the same job through
``model.fit`` so the claim can be re-checked on any installed version.

The worker side is this module run as a script: ``python -m course_lib.distributed worker
<config.json>``; :func:`worker_main` is what each process executes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from course_lib._validate import check_int, positive_int, positive_number
from course_lib.files import write_text_atomic
from course_lib.ports import LOOPBACK, free_ports
from course_lib.tflog import quiet_native_logs

__all__ = ["free_ports", "make_tf_config", "WorkerOutcome", "MultiWorkerRun", "launch_workers",
           "train_multi_worker", "worker_main", "MultiWorkerError"]

class MultiWorkerError(RuntimeError):
    """A multi-worker run failed or timed out; ``outcomes`` holds every worker's log."""

    def __init__(self, message: str, outcomes: list["WorkerOutcome"]):
        super().__init__(message)
        self.outcomes = outcomes


def make_tf_config(addresses: Sequence[str], index: int) -> dict[str, Any]:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of ``addresses`` (``"host:port"``).

    Every worker gets the same cluster list and its own task index; index 0 is the chief,
    which by convention writes checkpoints and logs.
    """
    addresses = list(addresses)
    if not addresses:
        raise ValueError("addresses is empty: give one 'host:port' per worker")
    for address in addresses:
        host, sep, port = str(address).rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"worker address {address!r} is not of the form 'host:port'")
    if len(set(addresses)) != len(addresses):
        raise ValueError(f"worker addresses must be distinct, got {addresses}")
    check_int("index", index, minimum=0, maximum=len(addresses) - 1)
    return {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}


@dataclass
class WorkerOutcome:
    """How one worker process ended."""

    index: int
    returncode: int | None  # None: it was still running when it had to be stopped
    log: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def log_tail(self, lines: int = 10, skip_tf_noise: bool = True) -> str:
        """The last ``lines`` lines of the log, without TensorFlow's C++ start-up lines."""
        kept = self.log.splitlines()
        if skip_tf_noise:
            kept = [ln for ln in kept if ln[:5] not in ("I0000", "W0000", "E0000")
                    and not ln.startswith(("WARNING: All log messages", "To enable the following"))]
        return "\n".join(kept[-lines:])


def _stop_group(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """End ``proc`` and everything it started (its process group): SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def launch_workers(argv: Sequence[str], num_workers: int, log_dir: str | Path, timeout_s: float,
                   host: str = LOOPBACK, env: dict[str, str] | None = None,
                   poll_s: float = 0.2) -> list[WorkerOutcome]:
    """Run ``argv`` as ``num_workers`` processes, each with its own ``TF_CONFIG``; wait for all.

    Each process runs in its own session (process group) with stdout and stderr in
    ``log_dir/worker-<i>.log``. The call returns when every worker has exited with status 0.
    When a worker fails, or ``timeout_s`` passes, or the caller is interrupted, every worker
    still running is stopped, and :class:`MultiWorkerError` (or the interrupt) is raised with
    all the logs: one dead worker would otherwise leave the others waiting for it for ever.
    """
    if not argv or not all(isinstance(a, str) for a in argv):
        raise TypeError("argv must be a non-empty sequence of strings (the worker command line)")
    positive_int("num_workers", num_workers)
    positive_number("timeout_s", timeout_s, expected="a positive number of seconds")
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    addresses = [f"{host}:{port}" for port in free_ports(num_workers, host)]
    base_env = quiet_native_logs(dict(os.environ if env is None else env))
    base_env["PYTHONUNBUFFERED"] = "1"
    package_parent = str(Path(__file__).resolve().parents[1])
    base_env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, base_env.get("PYTHONPATH", "")) if p)

    procs: list[subprocess.Popen] = []
    log_paths = [log_dir / f"worker-{i}.log" for i in range(num_workers)]
    timed_out = False
    failed: int | None = None
    try:
        for i in range(num_workers):
            worker_env = dict(base_env, TF_CONFIG=json.dumps(make_tf_config(addresses, i)))
            with open(log_paths[i], "wb") as log:
                procs.append(subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, env=worker_env,
                                              start_new_session=True))
        deadline = time.monotonic() + timeout_s
        while True:
            codes = [p.poll() for p in procs]
            bad = [i for i, c in enumerate(codes) if c not in (None, 0)]
            if bad:
                failed = bad[0]
                break
            if all(c == 0 for c in codes):
                break
            if time.monotonic() > deadline:
                timed_out = True
                break
            time.sleep(poll_s)
    finally:
        still_running = {i for i, p in enumerate(procs) if p.poll() is None}
        for proc in procs:
            _stop_group(proc)
    outcomes = [WorkerOutcome(index=i, returncode=None if i in still_running else procs[i].returncode,
                              log=log_paths[i].read_text(encoding="utf-8", errors="replace"),
                              timed_out=timed_out and i in still_running)
                for i in range(len(procs))]
    if timed_out:
        raise MultiWorkerError(f"the {num_workers}-worker run did not finish within {timeout_s:g} s; "
                               "all workers were stopped (see .outcomes for their logs)", outcomes)
    if failed is not None:
        tail = outcomes[failed].log_tail(8)
        raise MultiWorkerError(f"worker {failed} exited with status {outcomes[failed].returncode}; "
                               f"the other workers were stopped. Its log ends with:\n{tail}", outcomes)
    return outcomes


@dataclass
class MultiWorkerRun:
    """The result of :func:`train_multi_worker`."""

    outcomes: list[WorkerOutcome]
    weights: list[list[np.ndarray]] = field(repr=False)
    histories: list[dict[str, Any]]
    seconds: float
    output_dir: Path

    @property
    def num_workers(self) -> int:
        return len(self.weights)

    @property
    def max_weight_difference(self) -> float:
        """Largest absolute difference between any worker's weights and worker 0's."""
        first = self.weights[0]
        diffs = [float(np.max(np.abs(a - b), initial=0.0)) for w in self.weights[1:] for a, b in zip(first, w)]
        return max(diffs, default=0.0)

    @property
    def identical_weights(self) -> bool:
        """True when every worker holds bit-for-bit the same weights."""
        first = self.weights[0]
        return all(len(w) == len(first) and all(np.array_equal(a, b) for a, b in zip(first, w))
                   for w in self.weights[1:])

    @property
    def test_accuracy(self) -> float | None:
        """Accuracy of worker 0's final model on the test data (None without test data)."""
        return self.histories[0].get("test_accuracy")

    @property
    def losses(self) -> list[float]:
        """Worker 0's training loss per step (the global-batch loss, summed over replicas)."""
        return list(self.histories[0]["loss"])


def train_multi_worker(x: np.ndarray, y: np.ndarray, *, x_test: np.ndarray | None = None,
                       y_test: np.ndarray | None = None, num_workers: int = 2, steps: int = 50,
                       global_batch_size: int = 64, hidden_units: int = 64, learning_rate: float = 0.1,
                       seed: int = 0, timeout_s: float = 120.0, output_dir: str | Path | None = None,
                       loop: str = "custom", threads_per_worker: int = 1,
                       use_gpu: bool = False) -> MultiWorkerRun:
    """Train a small MLP classifier with ``MultiWorkerMirroredStrategy`` on ``num_workers``
    local processes and return every worker's final weights.

    ``x`` (N, ...) holds features (flattened by the model), ``y`` (N,) integer class labels.
    Each worker reads its own shard of the data (``InputContext.shard``) with a per-worker
    batch of ``global_batch_size / num_workers`` and runs ``steps`` synchronous SGD steps.
    Worker ``i`` seeds its random generators with ``seed + i`` on purpose: the strategy
    broadcasts worker 0's initial weights, so the workers agree anyway.
    ``loop="fit"`` uses ``model.fit`` instead of the custom loop (see the module docstring).
    GPUs are hidden from the workers unless ``use_gpu``: two processes on one GPU fight over it.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim < 2 or len(x) != len(y) or y.ndim != 1:
        raise ValueError(f"x must be (N, features...) and y (N,) with the same N; got {x.shape} and {y.shape}")
    if len(x) == 0:
        raise ValueError("x is empty")
    if y.dtype.kind not in "iu" or y.min() < 0:
        raise ValueError("y must hold non-negative integer class labels")
    if (x_test is None) != (y_test is None):
        raise ValueError("give both x_test and y_test, or neither")
    if loop not in ("custom", "fit"):
        raise ValueError(f"loop must be 'custom' or 'fit', got {loop!r}")
    for name, value in (("num_workers", num_workers), ("steps", steps),
                        ("global_batch_size", global_batch_size), ("hidden_units", hidden_units),
                        ("threads_per_worker", threads_per_worker)):
        positive_int(name, value)
    if global_batch_size % num_workers:
        raise ValueError(f"global_batch_size={global_batch_size} must be divisible by "
                         f"num_workers={num_workers} (each worker takes an equal share)")
    positive_number("learning_rate", learning_rate)

    out = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="multiworker-"))
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("weights-*.npz")) + list(out.glob("history-*.json")):
        old.unlink()
    arrays = {"x": x.astype(np.float32), "y": y.astype(np.int32)}
    if x_test is not None:
        arrays.update(x_test=np.asarray(x_test, np.float32), y_test=np.asarray(y_test).astype(np.int32))
    np.savez(out / "data.npz", **arrays)
    num_classes = int(max(y.max(), -1 if y_test is None else np.asarray(y_test).max())) + 1
    config = {"data": str(out / "data.npz"), "output_dir": str(out), "steps": steps,
              "global_batch_size": global_batch_size, "hidden_units": hidden_units,
              "learning_rate": float(learning_rate), "seed": int(seed), "num_classes": num_classes,
              "loop": loop, "threads": threads_per_worker}
    (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    env = dict(os.environ)
    if not use_gpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
    started = time.perf_counter()
    outcomes = launch_workers([sys.executable, "-m", "course_lib.distributed", "worker", str(out / "config.json")],
                              num_workers=num_workers, log_dir=out, timeout_s=timeout_s, env=env)
    seconds = time.perf_counter() - started
    weights, histories = [], []
    for i in range(num_workers):
        with np.load(out / f"weights-{i}.npz") as stored:
            weights.append([stored[f"w{k}"] for k in range(len(stored.files))])
        histories.append(json.loads((out / f"history-{i}.json").read_text(encoding="utf-8")))
    return MultiWorkerRun(outcomes=outcomes, weights=weights, histories=histories, seconds=seconds,
                          output_dir=out)


# ----------------------------------------------------------------------------- worker side
def worker_main(config_path: str) -> None:
    """What each worker process runs (``python -m course_lib.distributed worker CONFIG``).

    The strategy reads ``TF_CONFIG``; the cluster is up once every worker has created it.
    """
    cfg = json.loads(Path(config_path).read_text(encoding="utf-8"))
    tf_config = json.loads(os.environ["TF_CONFIG"])
    index = tf_config["task"]["index"]

    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(cfg["threads"])
    tf.config.threading.set_inter_op_parallelism_threads(cfg["threads"])
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    workers = strategy.cluster_resolver.cluster_spec().num_tasks("worker")
    print(f"worker {index}/{workers}: {strategy.num_replicas_in_sync} replicas in sync", flush=True)

    with np.load(cfg["data"]) as data:
        arrays = {k: data[k] for k in data.files}
    x, y = arrays["x"], arrays["y"]
    global_batch = cfg["global_batch_size"]
    keras.utils.set_random_seed(cfg["seed"] + index)  # deliberately different per worker

    def dataset_fn(ctx: tf.distribute.InputContext) -> tf.data.Dataset:
        per_replica = ctx.get_per_replica_batch_size(global_batch)
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        ds = ds.shard(ctx.num_input_pipelines, ctx.input_pipeline_id)  # this worker's share
        ds = ds.shuffle(len(x), seed=cfg["seed"], reshuffle_each_iteration=True).repeat()
        return ds.batch(per_replica, drop_remainder=True).prefetch(2)

    with strategy.scope():
        model = keras.Sequential([
            keras.Input(x.shape[1:]),
            keras.layers.Flatten(),
            keras.layers.Dense(cfg["hidden_units"], activation="relu"),
            keras.layers.Dense(cfg["num_classes"]),
        ])
        optimizer = keras.optimizers.SGD(cfg["learning_rate"])

    history: dict[str, Any] = {"worker": index, "loss": [], "loop": cfg["loop"]}
    started = time.perf_counter()
    if cfg["loop"] == "fit":
        with strategy.scope():
            model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          jit_compile=False)
        ds = strategy.distribute_datasets_from_function(dataset_fn)
        fitted = model.fit(ds, epochs=1, steps_per_epoch=cfg["steps"], verbose=0)
        history["loss"] = [float(v) for v in fitted.history["loss"]]
    else:
        iterator = iter(strategy.distribute_datasets_from_function(dataset_fn))

        @tf.function
        def train_step(batch):
            def replica_step(inputs):
                xb, yb = inputs
                with tf.GradientTape() as tape:
                    logits = model(xb, training=True)
                    per_example = keras.losses.sparse_categorical_crossentropy(yb, logits, from_logits=True)
                    # divide by the GLOBAL batch size: the all-reduce sums the replicas' gradients
                    loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))  # all-reduce + update
                return loss

            per_replica_loss = strategy.run(replica_step, args=(batch,))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica_loss, axis=None)

        for _ in range(cfg["steps"]):
            history["loss"].append(float(train_step(next(iterator))))
    history["train_seconds"] = time.perf_counter() - started
    if "x_test" in arrays:
        # a plain local forward pass: every worker holds the whole model, so no collectives
        logits = np.concatenate([np.asarray(model(arrays["x_test"][i:i + 1024], training=False))
                                 for i in range(0, len(arrays["x_test"]), 1024)])
        history["test_accuracy"] = float(np.mean(np.argmax(logits, axis=1) == arrays["y_test"]))
    out = Path(cfg["output_dir"])
    weights = [np.asarray(v) for v in model.get_weights()]
    np.savez(out / f"weights-{index}.npz", **{f"w{k}": w for k, w in enumerate(weights)})
    write_text_atomic(out / f"history-{index}.json", json.dumps(history))
    print(f"worker {index}: {cfg['steps']} steps in {history['train_seconds']:.1f} s, "
          f"final loss {history['loss'][-1]:.4f}", flush=True)
    if index == 0:
        # Worker 0 hosts the cluster's coordination service: leave only after the others have
        # finished, or their last heartbeats fail with "connection refused" in their logs.
        others = [out / f"history-{i}.json" for i in range(1, workers)]
        deadline = time.monotonic() + 30
        while not all(p.exists() for p in others) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
    # Leave at once: the results are on disk, and TensorFlow's interpreter teardown would keep
    # heartbeating to a coordination service that may already be gone.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "worker":
        print("usage: python -m course_lib.distributed worker CONFIG.json", file=sys.stderr)
        return 2
    worker_main(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
