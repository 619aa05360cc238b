"""Throughput and latency of the prediction service (``course serve``) on loopback.

Not a test: it measures and reports. It starts the service in a subprocess
(:class:`course_lib.serving.ServiceProcess`), warms it up, then runs ``--clients`` client threads,
each sending ``--requests`` POST /predict requests of ``--batch`` MNIST-shaped examples over a
keep-alive session, and reports requests/s, examples/s and the p50/p90/p99 latency of a request.
Every answer is checked to be a 200 with the right number of predictions; 503 answers (the
service shedding load: ``--max-concurrency`` at work and ``--max-queue`` waiting) are counted apart.

    python benchmarks/serve_benchmark.py                       # the chapter's MLP, untrained weights
    python benchmarks/serve_benchmark.py --clients 16 --requests 60      # p99 under concurrency
    python benchmarks/serve_benchmark.py --model model.keras --clients 4 --batch 8 --output result.json
    python benchmarks/serve_benchmark.py --serve-option=--max-concurrency=2   # options for course serve

Without ``--model`` it saves notebook 09's MLP (784-256-128-10), built by the notebook's own
``build_mlp`` (read from ``notebooks/09_deployment.ipynb``), with random weights: the service's
speed does not depend on what the weights are. Numbers depend on the machine
and on whatever else it is running; the JSON records the machine's CPU count and load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from course_lib.notebook import cell_definitions
from course_lib.tflog import quiet_native_logs

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "09_deployment.ipynb"


def build_default_model(path: Path) -> Path:
    """Save notebook 09's MLP (``build_mlp([256, 128], "mnist_mlp")``, random weights) to ``path``."""
    import keras

    scope = cell_definitions(NOTEBOOK, "def build_mlp", {"keras": keras}, stop_at="result = fit")
    keras.utils.set_random_seed(0)
    scope["build_mlp"]([256, 128], "mnist_mlp").save(path)
    return path


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``."""
    return float(np.percentile(np.asarray(values), q))


def run_load(url: str, clients: int, requests_per_client: int, batch: int, seed: int = 0) -> dict:
    """Send the load; return latencies (ms), wall time and a count of failed answers."""
    import requests

    rng = np.random.default_rng(seed)
    payloads = [json.dumps({"inputs": rng.integers(0, 256, (batch, 28, 28)).tolist()}).encode()
                for _ in range(16)]
    latencies: list[float] = []
    failures: list[str] = []
    shed = [0]
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        mine: list[float] = []
        with requests.Session() as session:
            start_gate.wait()
            for i in range(requests_per_client):
                body = payloads[(index + i) % len(payloads)]
                started = time.perf_counter()
                reply = session.post(url + "/predict", data=body, headers={"Content-Type": "application/json"},
                                     timeout=120)
                elapsed = (time.perf_counter() - started) * 1000.0
                if reply.status_code == 503:
                    with lock:
                        shed[0] += 1
                elif reply.status_code != 200 or len(reply.json()["predictions"]) != batch:
                    with lock:
                        failures.append(f"{reply.status_code}: {reply.text[:100]}")
                mine.append(elapsed)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start_gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return {"latencies_ms": latencies, "seconds": time.perf_counter() - began, "failures": failures,
            "shed_503": shed[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a .keras file (default: notebook 09's MLP with random weights)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads (default 4)")
    parser.add_argument("--requests", type=int, default=250, help="requests per client (default 250)")
    parser.add_argument("--batch", type=int, default=1, help="examples per request (default 1)")
    parser.add_argument("--output", default="build/serve_benchmark.json", help="where to write the JSON result")
    parser.add_argument("--serve-option", action="append", default=[],
                        help="an option for course serve, e.g. --serve-option=--max-concurrency=2 (repeatable)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.requests < 1 or not 1 <= args.batch <= 256:
        parser.error("--clients and --requests must be >= 1 and --batch between 1 and 256")

    quiet_native_logs()
    from course_lib.serving import ServiceProcess

    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(args.model) if args.model else build_default_model(Path(tmp) / "mnist_mlp.keras")
        started = time.perf_counter()
        options = [part for option in args.serve_option for part in option.split("=", 1)]
        options += ["--log-level", "warning"]          # no access-log line per request while measuring
        with ServiceProcess(model_path, startup_timeout=300, options=options) as service:
            startup = time.perf_counter() - started
            run_load(service.url, 1, 20, args.batch, seed=1)             # warm-up, not counted
            result = run_load(service.url, args.clients, args.requests, args.batch)
            version = service.health["model_version"]

    latencies = result["latencies_ms"]
    total = len(latencies)
    report = {
        "model_version": version,
        "clients": args.clients, "requests": total, "batch": args.batch,
        "failed": len(result["failures"]), "shed_503": result["shed_503"],
        "serve_options": args.serve_option,
        "seconds": round(result["seconds"], 3),
        "requests_per_second": round(total / result["seconds"], 1),
        "examples_per_second": round(total * args.batch / result["seconds"], 1),
        "latency_ms": {"p50": round(percentile(latencies, 50), 2), "p90": round(percentile(latencies, 90), 2),
                       "p99": round(percentile(latencies, 99), 2), "max": round(max(latencies), 2)},
        "service_startup_seconds": round(startup, 1),
        "machine": {"cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
                    "python": platform.python_version(), "platform": platform.platform()},
    }
    print(f"{total} requests of {args.batch} example(s) from {args.clients} clients in {result['seconds']:.1f} s")
    print(f"throughput: {report['requests_per_second']} requests/s, {report['examples_per_second']} examples/s")
    lat = report["latency_ms"]
    print(f"latency per request: p50 {lat['p50']} ms, p90 {lat['p90']} ms, p99 {lat['p99']} ms, max {lat['max']} ms")
    print(f"failed answers: {report['failed']}, 503 (load shed): {report['shed_503']}; "
          f"machine load average {report['machine']['load_average_1min']} "
          f"on {report['machine']['cpus']} CPUs")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {output}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
