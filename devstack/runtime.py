"""Function sandboxes: a small pool of worker processes per function, each with its own env."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devstack.logs import LogSink, detail_of
from devstack.sam import FunctionSpec

MAX_WORKERS_PER_FUNCTION = 4
# Lambda gives the init phase (imports at module level) its own 10 s
INIT_TIMEOUT_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 30.0
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT")


@dataclass(frozen=True)
class InvokeResult:
    """What an invocation returned: a payload, or Lambda's error object."""

    request_id: str
    payload: Any = None
    error: Mapping[str, Any] | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


Invoker = Callable[[str, Any], InvokeResult]


class FunctionError(Exception):
    """Raised by `LocalStack.invoke` when the function failed (`payload` is Lambda's error)."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


def function_environment(
    spec: FunctionSpec, aws: Mapping[str, str], parent_env: Mapping[str, str]
) -> dict[str, str]:
    """Everything a function sees in `os.environ`, as in its Lambda sandbox."""
    env = {key: parent_env[key] for key in _PASSED_THROUGH if key in parent_env}
    env.setdefault("LANG", "en_US.UTF-8")
    env.update(
        {
            "TZ": ":UTC",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        }
    )
    reserved = {
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        **aws,
    }
    # Lambda rejects functions setting its reserved variables; locally they are ignored (and
    # AWS_ENDPOINT_URL always points at the local endpoint)
    env.update((key, value) for key, value in spec.environment.items() if key not in reserved)
    env.update(reserved)
    env.pop("AWS_SAM_LOCAL", None)
    return env


def _trace_id() -> str:
    # Sampled=0: X-Ray SDKs see a valid Lambda trace header and send nothing
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled=0"


class _Lines:
    """Reads newline-terminated messages from a pipe with a deadline."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""

    def read(self, timeout: float) -> dict[str, Any] | None:
        """The next message, None on timeout; EOFError when the worker is gone."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self._fd, 1 << 16)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message = json.loads(line)
        assert isinstance(message, dict)
        return message


class Worker:
    """One sandbox process of a function."""

    def __init__(
        self, spec: FunctionSpec, env: Mapping[str, str], log: LogSink, python: str
    ) -> None:
        self.spec = spec
        request_read, self._request_write = os.pipe()
        self._response_read, response_write = os.pipe()
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        command = [
            python,
            "-m",
            "devstack.worker",
            str(request_read),
            str(response_write),
            str(spec.timeout),
            spec.arn,
        ]
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command,
                cwd=spec.code_dir,
                env={**env, "AWS_LAMBDA_LOG_STREAM_NAME": stream},
                pass_fds=(request_read, response_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            os.close(self._request_write)
            os.close(self._response_read)
            raise
        finally:
            os.close(request_read)
            os.close(response_write)
        self._responses = _Lines(self._response_read)
        self._initialized = False
        self._log = log
        self._detail = detail_of(log)
        threading.Thread(
            target=self._forward_output, name=f"{spec.logical_id}-logs", daemon=True
        ).start()

    def _forward_output(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            # the function's own output (logs, EMF, warnings): detail, LOG_LEVEL=DEBUG
            self._detail(f"[{self.spec.logical_id}] {raw.decode(errors='replace').rstrip()}")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _send(self, message: Mapping[str, Any]) -> None:
        data = json.dumps(message).encode() + b"\n"
        while data:
            written = os.write(self._request_write, data)
            data = data[written:]

    def wait_ready(self) -> None:
        message = self._responses.read(READY_TIMEOUT_SECONDS)
        if message is None or message.get("type") != "ready":
            self.kill()
            raise RuntimeError(f"{self.spec.logical_id}: worker did not start")

    def initialize(self) -> Mapping[str, Any] | None:
        """Import the handler now (provisioned-concurrency style); the init error, if any."""
        self._send({"type": "init"})
        message = self._responses.read(INIT_TIMEOUT_SECONDS)
        if message is None:
            self.kill()
            return {"errorType": "Runtime.InitTimeout", "errorMessage": "init timed out"}
        self._initialized = True
        error = message.get("error")
        return None if error is None else dict(error)

    def invoke(self, event: Any, request_id: str) -> InvokeResult:
        """Run one invocation; kills the worker when it times out or dies."""
        started = time.monotonic()
        try:
            self._send(
                {"type": "invoke", "requestId": request_id, "traceId": _trace_id(), "event": event}
            )
            first = self._responses.read(
                self.spec.timeout if self._initialized else INIT_TIMEOUT_SECONDS + self.spec.timeout
            )
            self._initialized = True
            handler_ran = first is not None and first.get("type") == "start"
            if handler_ran:
                first = self._responses.read(self.spec.timeout)
        except (EOFError, OSError):
            self.kill()
            exited = f"Runtime exited with error: exit status {self.process.returncode}"
            return self._failed(request_id, started, "Runtime.ExitError", exited)
        if first is None:
            self.kill()
            timed_out = f"Task timed out after {self.spec.timeout:.2f} seconds"
            now = datetime.now(UTC)
            self._log(
                f"[{self.spec.logical_id}] {now:%Y-%m-%dT%H:%M:%S.%fZ} {request_id} {timed_out}"
            )
            return self._failed(request_id, started, "Sandbox.Timedout", timed_out)
        duration = (time.monotonic() - started) * 1000
        error = first.get("error")
        if error is not None:
            if not handler_ran:
                self.kill()  # an init failure: Lambda throws the sandbox away
            return InvokeResult(request_id, error=error, duration_ms=duration)
        return InvokeResult(request_id, payload=first.get("payload"), duration_ms=duration)

    def _failed(
        self, request_id: str, started: float, error_type: str, message: str
    ) -> InvokeResult:
        return InvokeResult(
            request_id,
            error={
                "errorType": error_type,
                "errorMessage": f"RequestId: {request_id} Error: {message}",
            },
            duration_ms=(time.monotonic() - started) * 1000,
        )

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait()
        for fd in (self._request_write, self._response_read):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._request_write = self._response_read = -1


class FunctionPool:
    """Up to `max_workers` sandboxes of one function; concurrent invocations run in parallel."""

    def __init__(
        self,
        spec: FunctionSpec,
        env: Mapping[str, str],
        log: LogSink,
        *,
        max_workers: int = MAX_WORKERS_PER_FUNCTION,
        prewarm: bool = False,
        python: str = sys.executable,
    ) -> None:
        self.spec = spec
        self.env = dict(env)
        self._log = log
        self._python = python
        self._prewarm = prewarm
        limit = max_workers if spec.reserved_concurrency is None else spec.reserved_concurrency
        self.max_workers = max(1, min(max_workers, limit))
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._starting = 0
        self._condition = threading.Condition()
        self._stopped = threading.Event()

    def start(self) -> None:
        """Start one sandbox now (and import its handler too when prewarming)."""
        worker = self._spawn(initialize=self._prewarm)
        with self._condition:
            if worker.alive and not self._stopped.is_set():
                self._all.add(worker)
                self._idle.append(worker)
                return
        worker.kill()

    def _spawn(self, *, initialize: bool = False) -> Worker:
        env = dict(self.env)
        if initialize:
            env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "provisioned-concurrency"
        worker = Worker(self.spec, env, self._log, self._python)
        try:
            worker.wait_ready()
            error = worker.initialize() if initialize else None
        except BaseException:
            worker.kill()
            raise
        if error is not None:
            self._log(f"[{self.spec.logical_id}] init failed: {error.get('errorMessage')}")
            worker.kill()
        return worker

    def _acquire(self) -> Worker:
        """An idle sandbox, else a new one while under `max_workers`, else wait for one."""
        with self._condition:
            while True:
                if self._stopped.is_set():
                    raise RuntimeError("the stack is stopped")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        return worker
                    self._all.discard(worker)
                if len(self._all) + self._starting < self.max_workers:
                    self._starting += 1
                    break
                self._condition.wait()
        try:
            spawned = self._spawn()
        except BaseException:
            with self._condition:
                self._starting -= 1
                self._condition.notify_all()
            raise
        with self._condition:
            self._starting -= 1
            self._all.add(spawned)
            stopped = self._stopped.is_set()
            self._condition.notify_all()
        if stopped:
            spawned.kill()
            raise RuntimeError("the stack is stopped")
        return spawned

    def _release(self, worker: Worker) -> None:
        with self._condition:
            if worker.alive and not self._stopped.is_set():
                self._idle.append(worker)
            else:
                self._all.discard(worker)
                worker.kill()
            self._condition.notify_all()

    def invoke(self, event: Any) -> InvokeResult:
        request_id = str(uuid.uuid4())
        try:
            worker = self._acquire()
        except (RuntimeError, OSError) as error:
            return InvokeResult(
                request_id, error={"errorType": "ServiceException", "errorMessage": str(error)}
            )
        result = worker.invoke(event, request_id)
        self._release(worker)
        detail_of(self._log)(
            f"[{self.spec.logical_id}] REPORT RequestId: {request_id} "
            f"Duration: {result.duration_ms:.2f} ms"
            + ("" if result.ok else f" Error: {result.error and result.error.get('errorType')}")
        )
        return result

    def stop(self) -> None:
        with self._condition:
            self._stopped.set()
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._condition.notify_all()
        for worker in workers:
            worker.kill()


class Runtime:
    """All functions' pools; `invoke(logical_id, event)` is what the gateway and pump call."""

    def __init__(self, pools: Mapping[str, FunctionPool]) -> None:
        self.pools = dict(pools)

    def start(self) -> None:
        """Start every function's first sandbox, in parallel."""
        with ThreadPoolExecutor(max(1, len(self.pools))) as starting:
            list(starting.map(FunctionPool.start, self.pools.values()))

    def invoke(self, logical_id: str, event: Any) -> InvokeResult:
        pool = self.pools.get(logical_id)
        if pool is None:
            return InvokeResult(
                str(uuid.uuid4()),
                error={
                    "errorType": "ResourceNotFoundException",
                    "errorMessage": f"Function not found: {logical_id}",
                },
            )
        return pool.invoke(event)

    def stop(self) -> None:
        for pool in self.pools.values():
            pool.stop()
