"""`python -m devstack`: run the local stack in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from devstack.logs import ConsoleLog
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT") or 3000), help="0 picks a free port"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters",
    )
    parser.add_argument(
        "--prewarm", action="store_true", help="import every handler at start (no cold starts)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = ConsoleLog()
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
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
        log(f"  Docs:     {stack.docs_url}")
        log(f"  Admin:    {stack.admin_email} / {stack.admin_password}")
        if not stack.admin_created:
            log("            (not created: see the bootstrap warning above)")
        log(f"  AWS:      {stack.endpoint_url} (stack {stack.stack_name})")
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
