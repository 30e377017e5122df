"""Import time of each handler module, as a ratio to `import boto3` in the same run."""

from __future__ import annotations

import statistics
import subprocess
import sys

RUNS = 9
SNIPPET = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def _once(module: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", SNIPPET.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        env={
            "PYTHONPATH": ".",
            "PATH": "",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
        },
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(modules: list[str]) -> tuple[float, dict[str, float]]:
    """Median seconds of `import boto3`, and each module's median as a ratio to it.

    Runs alternate boto3 and module imports so that machine noise hits both alike."""
    boto3_times: list[float] = []
    module_times: dict[str, list[float]] = {m: [] for m in modules}
    for _ in range(RUNS):
        for module in modules:
            boto3_times.append(_once("boto3"))
            module_times[module].append(_once(module))
    baseline = statistics.median(boto3_times)
    return baseline, {m: statistics.median(t) / baseline for m, t in module_times.items()}
