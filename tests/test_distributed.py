"""course_lib.distributed: the launcher's input checks, process handling, and one real
two-worker MultiWorkerMirroredStrategy job on the loopback interface (bounded in time)."""

from __future__ import annotations

import json
import socket
import sys
import time

import numpy as np
import pytest

from course_lib.distributed import (MultiWorkerError, free_ports, launch_workers, make_tf_config,
                                    train_multi_worker)


def test_free_ports_are_distinct_and_bindable():
    ports = free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize("count, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_free_ports_rejects_bad_count(count, error):
    with pytest.raises(error, match="count"):
        free_ports(count)


def test_make_tf_config_shape():
    cfg = make_tf_config(["127.0.0.1:1000", "127.0.0.1:1001"], 1)
    assert cfg == {"cluster": {"worker": ["127.0.0.1:1000", "127.0.0.1:1001"]},
                   "task": {"type": "worker", "index": 1}}
    json.dumps(cfg)  # must serialise into the environment variable


@pytest.mark.parametrize("addresses, index, message", [
    ([], 0, "empty"),
    (["localhost"], 0, "host:port"),
    (["a:1", "a:1"], 0, "distinct"),
    (["a:1", "b:2"], 2, "index"),
    (["a:1", "b:2"], -1, "index"),
])
def test_make_tf_config_rejects_bad_input(addresses, index, message):
    with pytest.raises(ValueError, match=message):
        make_tf_config(addresses, index)


def test_launch_workers_passes_tf_config_and_collects_logs(tmp_path):
    code = ("import json, os; c = json.loads(os.environ['TF_CONFIG']); "
            "print('I am', c['task']['index'], len(c['cluster']['worker']))")
    outcomes = launch_workers([sys.executable, "-c", code], num_workers=2, log_dir=tmp_path, timeout_s=60)
    assert [o.returncode for o in outcomes] == [0, 0]
    assert "I am 0 2" in outcomes[0].log and "I am 1 2" in outcomes[1].log


def test_launch_workers_stops_everyone_when_one_fails(tmp_path):
    # worker 0 fails at once; worker 1 would sleep for a minute and must be stopped
    code = ("import json, os, sys, time; i = json.loads(os.environ['TF_CONFIG'])['task']['index']\n"
            "if i == 0: sys.exit('worker 0 gives up')\n"
            "time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(MultiWorkerError, match="worker 0 exited with status 1") as info:
        launch_workers([sys.executable, "-c", code], num_workers=2, log_dir=tmp_path, timeout_s=60)
    assert time.monotonic() - started < 30
    outcomes = info.value.outcomes
    assert "worker 0 gives up" in outcomes[0].log
    assert outcomes[1].returncode is None  # it was still running and was stopped


def test_launch_workers_timeout_kills_the_process_group(tmp_path):
    # each worker starts a grandchild that would outlive it; the whole group must end
    pid_file = tmp_path / "child.pid"
    code = ("import subprocess, sys, time\n"
            f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
            "time.sleep(60)")
    with pytest.raises(MultiWorkerError, match="did not finish within"):
        launch_workers([sys.executable, "-c", code], num_workers=1, log_dir=tmp_path, timeout_s=3)
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{child}/stat") as fh:
                state = fh.read().split()[2]
        except FileNotFoundError:
            break
        if state == "Z":  # a zombie waiting for its (killed) parent's reaper: it is dead
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"grandchild process {child} survived the timeout")


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_workers=0), "num_workers"),
    (dict(timeout_s=0), "timeout_s"),
])
def test_launch_workers_rejects_bad_input(tmp_path, kwargs, message):
    args = dict(argv=[sys.executable, "-c", "pass"], num_workers=1, log_dir=tmp_path, timeout_s=5)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        launch_workers(**args)


def test_launch_workers_rejects_empty_argv(tmp_path):
    with pytest.raises(TypeError, match="argv"):
        launch_workers([], num_workers=1, log_dir=tmp_path, timeout_s=5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(y=np.array([0.5, 1.5] * 32)), "integer"),
    (dict(x=np.zeros(64)), "features"),
    (dict(global_batch_size=63), "divisible"),
    (dict(steps=0), "steps"),
    (dict(loop="keras"), "loop"),
    (dict(x_test=np.zeros((4, 8))), "both"),
])
def test_train_multi_worker_rejects_bad_input(kwargs, message, tmp_path):
    args = dict(x=np.zeros((64, 8), np.float32), y=np.zeros(64, np.int64), output_dir=tmp_path)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        train_multi_worker(**args)


def test_two_real_workers_end_with_identical_weights(tmp_path):
    """The real thing: two processes, MultiWorkerMirroredStrategy, gRPC collectives on 127.0.0.1."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    run = train_multi_worker(x[:384], y[:384], x_test=x[384:], y_test=y[384:], num_workers=2, steps=30,
                             global_batch_size=32, hidden_units=16, learning_rate=0.2, seed=3,
                             timeout_s=90, output_dir=tmp_path)
    assert [o.returncode for o in run.outcomes] == [0, 0]
    assert "2 replicas in sync" in run.outcomes[0].log
    assert run.num_workers == 2 and len(run.weights[0]) == 4
    assert run.identical_weights and run.max_weight_difference == 0.0
    # the workers were seeded differently, so identical weights come from the strategy's broadcast
    # and all-reduce; and the model really learnt the separable rule
    assert run.losses[-1] < run.losses[0]
    assert run.test_accuracy > 0.8
    assert (tmp_path / "weights-1.npz").is_file() and (tmp_path / "worker-1.log").is_file()
