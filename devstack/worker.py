"""A function's sandbox process: imports the handler on first use and runs invocations.

Run as `python -m devstack.worker REQUEST_FD RESPONSE_FD TIMEOUT FUNCTION_ARN` with the
function's environment. The parent sends one JSON line per invocation on REQUEST_FD and reads
`start` then `result` lines on RESPONSE_FD; stdout and stderr stay free for the function's logs.
Only the standard library is imported here, so the handler's own imports are its cold start.
"""

from __future__ import annotations

import decimal
import importlib
import io
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

Handler = Callable[[Any, Any], Any]
_PARENT_CHECK_SECONDS = 0.5
# Lambda's limit on a synchronous invocation's response
MAX_RESPONSE_BYTES = 6 * 1024 * 1024


class LambdaContext:
    """The context object of the Python runtime (same attributes, same string types)."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = None
        self.identity = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class InitError(Exception):
    """The handler could not be loaded; carries the runtime's error payload."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload["errorMessage"])
        self.payload = payload


def _error(error_type: str, message: str, stack: list[str] | None = None) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "stackTrace": stack or []}


def _user_stack(error: BaseException, skip: int = 1) -> list[str]:
    # the first frame is this module calling into user code
    return traceback.format_list(traceback.extract_tb(error.__traceback__)[skip:])


def load_handler(spec: str) -> Handler:
    """Import `package.module.attr` (or `path/module.attr`) the way the Python runtime does."""
    module_name, _, attribute = spec.replace("/", ".").rpartition(".")
    if not module_name or not attribute:
        raise InitError(
            _error("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values")
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InitError(
            _error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}")
        ) from error
    except SyntaxError as error:
        raise InitError(
            _error(
                "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}"
            )
        ) from error
    except Exception as error:
        raise InitError(
            _error(type(error).__name__, str(error), _user_stack(error, skip=2))
        ) from error
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise InitError(
            _error(
                "Runtime.HandlerNotFound",
                f"Handler '{attribute}' missing on module '{module_name}'",
            )
        )
    return handler  # type: ignore[no-any-return]


def _json_default(value: Any) -> Any:
    # the runtime encodes Decimal as a JSON number (what boto3's resource layer returns)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _install_root_logging(request_ids: _RequestIdFilter) -> None:
    """The runtime's root handler: `[LEVEL]\\ttimestamp\\trequest id\\tmessage`."""
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(request_ids)
    logging.getLogger().addHandler(handler)


def _exit_with_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class Sandbox:
    """Runs invocations one at a time, keeping module state between them like a warm Lambda."""

    def __init__(self, requests: IO[bytes], responses: IO[bytes], timeout: float, arn: str) -> None:
        self._requests = requests
        self._responses = responses
        self._timeout = timeout
        self._arn = arn
        self._handler: Handler | None = None
        self._request_ids = _RequestIdFilter()
        _install_root_logging(self._request_ids)

    def _send(self, message: dict[str, Any]) -> None:
        self._responses.write(json.dumps(message, default=_json_default).encode() + b"\n")
        self._responses.flush()

    def _load(self) -> Handler:
        if self._handler is None:
            self._handler = load_handler(os.environ["_HANDLER"])
        return self._handler

    def serve(self) -> None:
        self._send({"type": "ready"})
        for line in self._requests:
            message = json.loads(line)
            if message["type"] == "init":
                try:
                    self._load()
                except InitError as error:
                    self._send({"type": "initialized", "error": error.payload})
                    return
                self._send({"type": "initialized"})
            elif message["type"] == "invoke" and not self._invoke(message):
                return

    def _invoke(self, message: dict[str, Any]) -> bool:
        """Run one invocation; False when the sandbox must be thrown away."""
        request_id = str(message["requestId"])
        try:
            handler = self._load()
        except InitError as error:
            print(f"[ERROR] {error.payload['errorType']}: {error}", file=sys.stderr)
            self._send({"type": "result", "error": {**error.payload, "requestId": request_id}})
            return False
        deadline_ms = int(time.time() * 1000 + self._timeout * 1000)
        os.environ["_X_AMZN_TRACE_ID"] = str(message["traceId"])
        self._request_ids.request_id = request_id
        self._send({"type": "start"})
        context = LambdaContext(request_id, deadline_ms, self._arn)
        try:
            result = handler(message["event"], context)
        except Exception as error:
            stack = _user_stack(error)
            print(f"[ERROR] {type(error).__name__}: {error}", file=sys.stderr)
            print("Traceback (most recent call last):", *stack, sep="\n", end="", file=sys.stderr)
            payload = _error(type(error).__name__, str(error), stack)
            self._send({"type": "result", "error": {**payload, "requestId": request_id}})
            return True
        try:
            encoded = json.dumps(result, default=_json_default).encode()
        except (TypeError, ValueError) as error:
            payload = _error("Runtime.MarshalError", f"Unable to marshal response: {error}")
            self._send({"type": "result", "error": {**payload, "requestId": request_id}})
            return True
        if len(encoded) > MAX_RESPONSE_BYTES:
            text = (
                f"Response payload size ({len(encoded)} bytes) exceeded maximum allowed "
                f"payload size ({MAX_RESPONSE_BYTES} bytes)."
            )
            payload = _error("Function.ResponseSizeTooLarge", text)
            self._send({"type": "result", "error": {**payload, "requestId": request_id}})
            return True
        self._responses.write(b'{"type": "result", "payload": ' + encoded + b"}\n")
        self._responses.flush()
        return True


def main(argv: list[str] | None = None) -> None:
    request_fd, response_fd, timeout, arn = argv or sys.argv[1:]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(os.getppid())
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    with (
        os.fdopen(int(request_fd), "rb") as requests,
        os.fdopen(int(response_fd), "wb") as responses,
    ):
        Sandbox(requests, responses, float(timeout), arn).serve()


if __name__ == "__main__":
    main()
