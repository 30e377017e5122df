"""Operator commands: `eventshop-admin create-admin` and `eventshop-admin rebuild`.

Against a deployed stack, name it (`--stack NAME`) and the table names are read from its
outputs; otherwise they come from the environment, as in the functions."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import uuid
from collections.abc import Sequence

from domain.shared.context import CommandContext
from domain.shared.errors import DomainError
from domain.shared.projector import rebuild
from infra.container import Container

# A deployed stack's outputs (template.yaml) -> the settings the functions read.
OUTPUTS = {
    "EventsTableName": "EVENTS_TABLE",
    "ViewsTableName": "VIEWS_TABLE",
    "IdempotencyTableName": "IDEMPOTENCY_TABLE",
    "ThrottleTableName": "THROTTLE_TABLE",
}
OPTIONAL_OUTPUTS = {"SigningKeySecretArn": "SIGNING_KEY_SECRET"}
"""Read when present; no command of this CLI signs a token."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eventshop-admin", description=__doc__)
    parser.add_argument("--stack", help="a deployed CloudFormation stack to read tables from")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create an admin, or promote a user")
    admin.add_argument("--email", default=os.environ.get("ADMIN_EMAIL"))
    commands.add_parser("rebuild", help="re-apply every stored event to the views")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    if args.stack:
        env.update(_stack_outputs(args.stack))
    container = Container(env)
    context = CommandContext(f"cli-{uuid.uuid4()}", "cli")
    try:
        if args.command == "create-admin":
            if not args.email:
                parser.error("--email (or ADMIN_EMAIL) is required")
            password = os.environ.get("ADMIN_PASSWORD") or getpass.getpass("Admin password: ")
            user = container.identity.ensure_admin(args.email, password, context)
            print(f"admin {user.state.email} ready (id {user.id}, version {user.version})")
        else:
            streams = rebuild(container.projector)
            print(f"views caught up with {streams} streams")
    except DomainError as refused:
        print(f"refused: {refused.message}", file=sys.stderr)
        return 1
    return 0


def _stack_outputs(stack: str) -> dict[str, str]:
    import boto3

    described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = sorted(key for key in OUTPUTS if key not in outputs)
    if missing:
        raise SystemExit(
            f"stack {stack} has no output {', '.join(missing)}: deploy this checkout's "
            "template.yaml (sam build && sam deploy) and try again"
        )
    wanted = {**OUTPUTS, **OPTIONAL_OUTPUTS}
    return {env: outputs[key] for key, env in wanted.items() if key in outputs}


if __name__ == "__main__":
    raise SystemExit(main())
