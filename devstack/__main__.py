"""`python -m devstack`: run the local stack in the foreground until Ctrl-C or SIGTERM.

`python -m devstack invoke <LogicalId> --event FILE`: run one function once with that event
(what `sam local invoke` does in a container), against the running local stack of this
checkout, or an embedded one when none runs; prints its result. Never reaches real AWS."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from devstack.logs import ConsoleLog, verbose
from devstack.running import RunningStack, is_local
from devstack.stack import DEFAULT_STACK_NAME, DEFAULT_TEMPLATE, LocalStack
from devstack.template import TemplateError


def _overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {pair!r}")
        overrides[name] = value
    return overrides


def _parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """A parser with the options both commands take: the template, stack and parameters."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _parser("python -m devstack", __doc__)
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT") or 3000), help="0 picks a free port"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--prewarm", action="store_true", help="import every handler at start (no cold starts)"
    )
    return parser.parse_args(argv)


def parse_invoke_args(argv: list[str]) -> argparse.Namespace:
    parser = _parser(
        "python -m devstack invoke",
        "Run one function once with a sample event, under its template "
        "environment and role, against the local stack (never real AWS).",
    )
    parser.add_argument("function", metavar="LogicalId", help="e.g. IdentityCommandsFunction")
    parser.add_argument("--event", "-e", type=Path, required=True, help="e.g. events/register.json")
    return parser.parse_args(argv)


def invoke(argv: list[str]) -> int:
    """Print the function's result on stdout (its logs on stderr); 1 when it failed."""
    args = parse_invoke_args(argv)
    err = _stderr_log
    try:
        event: Any = json.loads(args.event.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        err(f"devstack invoke: cannot read the event {args.event}: {error}")
        return 2
    template = args.template.resolve()
    running = RunningStack.find(template.parent, args.stack_name)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if running is None and endpoint and not is_local(endpoint):
        err(f"devstack invoke: AWS_ENDPOINT_URL={endpoint} is not on this machine; unset it")
        return 2
    if running is not None:
        err(f"[invoke] against the running local stack {running.stack_name} ({running.api_url})")
    else:
        err("[invoke] no local stack is running here (make run): using an embedded one")
    stack = LocalStack(
        template,
        stack_name=args.stack_name,
        parameter_overrides=_overrides(args.parameter_overrides),
        bootstrap=False,
        log=err,
        attach=running,
    )
    try:
        result = stack.invoke_once(args.function, event)
    except (TemplateError, KeyError, OSError, RuntimeError) as error:
        err(f"devstack invoke: {error}")
        return 2
    finally:
        stack.stop()
    print(json.dumps(result.payload if result.ok else result.error, indent=2))
    return 0 if result.ok else 1


def _stderr_log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not verbose():
        # SAM's own notices (its authorizer banner): LOG_LEVEL=DEBUG shows them
        logging.getLogger("samcli").setLevel(logging.ERROR)
    if argv[:1] == ["invoke"]:
        return invoke(argv[1:])
    args = parse_args(argv)
    log = ConsoleLog()
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        stack = LocalStack(
            args.template,
            port=args.port,
            host=args.host,
            stack_name=args.stack_name,
            parameter_overrides=_overrides(args.parameter_overrides),
            prewarm=args.prewarm,
            log=log,
        )
        stack.start()
    except (TemplateError, argparse.ArgumentTypeError, OSError, RuntimeError) as error:
        log(f"devstack: {error}")
        return 1
    try:
        log("")
        log(f"  API:      {stack.url}")
        log(f"  Docs:     {stack.url}/docs")
        log(f"  OpenAPI:  {stack.url}/openapi.json")
        if "ConsoleFunction" in stack.deployment.model.functions:
            log(f"  Console:  {stack.url}/console (eventshop-admin --local ... from this folder)")
        log(f"  Admin:    {stack.admin_email} / {stack.admin_password}")
        if not stack.admin_created:
            log("            (not created: see the bootstrap warning above)")
        log(f"  AWS:      {stack.endpoint_url} (stack {stack.stack_name})")
        if stack.embedded:
            log("  Data:     in memory only: gone when the stack stops")
        log("")
        log("Ctrl-C to stop.")
        while not stopping.wait(0.5):
            pass
    finally:
        log("[stack] stopping...")
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
