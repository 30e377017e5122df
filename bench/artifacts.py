"""The artifacts `sam build` makes, measured as Lambda would run them.

Each function runs from its built directory and its layers (what Lambda puts at /var/task and
/opt/python) in a fresh python3.12 whose only other package is boto3 (what the runtime has),
against the embedded moto of the local stack, under its own role. Import time and first
invocation are a ratio to a bare handler that imports boto3 and makes one GetItem, measured
in the same run, alternately, so that machine noise hits both alike."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
RUNTIME = ROOT / ".build" / "runtime-py312"
HOST_LAYERS = ROOT / ".build" / "host-layers"
"""The same layers built for this machine (the artifacts are arm64; this may not be)."""
RUNS = 5

_CONTEXT = """
class Context:
    aws_request_id = "bench"
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    log_group_name = log_stream_name = "bench"
    def get_remaining_time_in_millis(self): return 10_000
"""
FUNCTION = (
    "import importlib, json, os, sys, time\n"
    + _CONTEXT
    + """
module, _, name = os.environ["_HANDLER"].rpartition(".")
event = json.load(open(sys.argv[1]))
t0 = time.perf_counter()
handler = getattr(importlib.import_module(module), name)
t1 = time.perf_counter()
result = handler(event, Context())
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "invoke": t2 - t1, "status": result.get("statusCode")}))
"""
)
BARE = """
import json, os, sys, time
t0 = time.perf_counter()
import boto3
t1 = time.perf_counter()
boto3.client("dynamodb").get_item(TableName=sys.argv[1], Key={"pk": {"S": "x"}, "sk": {"S": "y"}})
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "invoke": t2 - t1, "status": None}))
"""


@dataclass(frozen=True)
class Artifact:
    function: str
    code_bytes: int
    layer_bytes: int
    ratio: float | None
    median_ms: float | None


@dataclass(frozen=True)
class Build:
    seconds: float
    artifacts: list[Artifact]
    bare_ms: float | None
    shipped_sdk: list[str]
    foreign_bytecode: list[str]
    python312: bool


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def python312() -> str | None:
    candidates = ["python3.12", *map(str, Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]
    for candidate in candidates:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print(sys.executable)"],
                capture_output=True,
                text=True,
                check=True,
            )
        except (OSError, subprocess.CalledProcessError):
            continue
        return out.stdout.strip()
    return None


def _runtime(python: str) -> Path:
    """A python3.12 with boto3 only: the runtime's packages, nothing of ours."""
    interpreter = RUNTIME / "bin" / "python"
    if not interpreter.exists():
        subprocess.run([python, "-m", "venv", str(RUNTIME)], check=True)
        subprocess.run([str(interpreter), "-m", "pip", "install", "--quiet", "boto3"], check=True)
    return interpreter


def sam_build() -> float:
    started = time.monotonic()
    subprocess.run(
        [str(Path(sys.executable).parent / "sam"), "build"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )
    return time.monotonic() - started


def host_layers(names: set[str]) -> Path:
    """Build the layers again, for this machine's platform, to run them here."""
    import platform

    machine = {"x86_64": "x86_64", "amd64": "x86_64"}.get(platform.machine().lower(), "aarch64")
    for name in names:
        target = HOST_LAYERS / name
        subprocess.run(["rm", "-rf", str(target)], check=True)
        target.mkdir(parents=True)
        subprocess.run(
            [
                "make",
                "--no-print-directory",
                f"build-{name}",
                f"ARTIFACTS_DIR={target}",
                f"LAMBDA_PLATFORM=manylinux2014_{machine}",
                f"PYTHON={sys.executable}",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return HOST_LAYERS


def _layers(template: dict[str, Any], function: str) -> list[str]:
    """The function's layers: Globals' first, then its own (SAM appends lists)."""
    inherited = ((template.get("Globals") or {}).get("Function") or {}).get("Layers", [])
    own = template["Resources"][function]["Properties"].get("Layers", [])
    return [layer["Ref"] for layer in [*inherited, *own] if "Ref" in layer]


def _once(interpreter: Path, script: str, arg: str, env: dict[str, str]) -> dict[str, Any]:
    # cwd: the function's own directory, as /var/task is on Lambda
    task = (env.get("PYTHONPATH") or str(ROOT)).split(os.pathsep)[0] or str(ROOT)
    out = subprocess.run(
        [str(interpreter), "-c", script, arg],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=task,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{env.get('_HANDLER')}: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure() -> Build:
    from devstack.stack import LocalStack
    from devstack.template import load_yaml
    from tests.support.samples import function_of, samples

    seconds = sam_build()
    built = load_yaml((BUILD / "template.yaml").read_text())
    functions = sorted(
        lid for lid, r in built["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    )
    shipped_sdk = sorted(
        str(p.relative_to(BUILD))
        for name in ("boto3", "botocore")
        for pattern in (f"*/{name}", f"*/python/{name}")
        for p in BUILD.glob(pattern)
    )
    foreign = sorted(
        str(p.relative_to(BUILD)) for p in BUILD.rglob("*.pyc") if ".cpython-312" not in p.name
    )
    python = python312()
    sample_of = {function_of(p): p for p in reversed(samples())}
    timings: dict[str, list[float]] = {f: [] for f in functions if f in sample_of}
    bare: list[float] = []
    if python is not None:
        interpreter = _runtime(python)
        layers_here = host_layers({layer for f in timings for layer in _layers(built, f)})
        env = {**os.environ}
        env.pop("AWS_ENDPOINT_URL", None)
        with LocalStack(stack_name="bench-artifacts", env=env, bootstrap=False) as stack:
            environments = {}
            for function in timings:
                spec = stack.deployment.model.functions[function]
                fenv = stack.resolved_env(function)
                layers = [str(layers_here / layer / "python") for layer in _layers(built, function)]
                fenv["PYTHONPATH"] = os.pathsep.join([str(BUILD / function), *layers])
                fenv["_X_AMZN_TRACE_ID"] = "Root=1-00000000-000000000000000000000000;Sampled=0"
                fenv["_HANDLER"] = spec.handler
                environments[function] = fenv
            bare_env = {**stack.resolved_env("IdentityQueriesFunction"), "PYTHONPATH": str(RUNTIME)}
            views = stack.table_name("ViewsTable")
            for _ in range(RUNS):
                for function, fenv in environments.items():
                    once = _once(interpreter, BARE, views, bare_env)
                    bare.append(once["import"] + once["invoke"])
                    once = _once(interpreter, FUNCTION, str(sample_of[function]), fenv)
                    timings[function].append(once["import"] + once["invoke"])
    baseline = statistics.median(bare) if bare else None
    artifacts = []
    for function in functions:
        times = timings.get(function) or []
        median = statistics.median(times) if times else None
        artifacts.append(
            Artifact(
                function=function,
                code_bytes=_size(BUILD / function),
                layer_bytes=sum(_size(BUILD / layer) for layer in _layers(built, function)),
                ratio=None if median is None or baseline is None else median / baseline,
                median_ms=None if median is None else median * 1000,
            )
        )
    return Build(
        seconds=seconds,
        artifacts=artifacts,
        bare_ms=None if baseline is None else baseline * 1000,
        shipped_sdk=shipped_sdk,
        foreign_bytecode=foreign,
        python312=python is not None,
    )
