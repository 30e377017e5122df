"""Cost of one command on a user whose stream holds 1, 100, 1,000 or 10,000 events."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from bench.counting import RequestCounter, StoreCost
from domain.access import Caller, CommandContext, Role
from domain.identity import service as identity
from domain.identity.commands import ChangePassword, IssueToken, Register
from domain.identity.ports import TokenIssuer
from domain.identity.user import User
from infra.container import Container
from tests.fakes.memory import FakeTokenIssuer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

HISTORY_SIZES = (1, 100, 1_000, 10_000)
PASSWORD = "bench password 1"
CONTEXT = CommandContext("bench", "bench")


class BenchContainer(Container):
    """The real adapters on a given client; tokens are not what is measured, so faked."""

    def __init__(self, env: dict[str, str], client: DynamoDBClient) -> None:
        super().__init__(env)
        self.__dict__["dynamodb"] = client

    @cached_property
    def tokens(self) -> TokenIssuer:
        return FakeTokenIssuer(self.clock)


@dataclass(frozen=True)
class Row:
    events: int
    command: str
    cost: StoreCost


def grow(container: Container, user: User, events: int) -> None:
    """Append welcome records, one event per command as in steady state, up to `events`
    events.

    (One event per write also keeps moto fast: it copies every table on each transaction.)"""
    while user.version < events:
        user.record_welcome(f"message-{user.version}", container.clock.now())
        container.repository.save(user, context=CONTEXT)


def change_password(container: Container, user: User) -> None:
    as_user = CommandContext("bench", "bench", Caller(user.id, Role.CUSTOMER))
    identity.change_password(
        container.repository, container.hasher, ChangePassword(PASSWORD, PASSWORD), as_user
    )


def sign_in(container: Container, user: User) -> None:
    identity.issue_token(
        container.repository,
        container.hasher,
        container.tokens,
        container.failed_logins,
        container.pseudonyms,
        IssueToken(user.state.email, PASSWORD),
        CONTEXT,
    )


COMMANDS = {"change password (by id)": change_password, "sign in (by email)": sign_in}


def measure(container: Container, events_table: str, counter: RequestCounter) -> list[Row]:
    rows: list[Row] = []
    for size in HISTORY_SIZES:
        user = identity.register(
            container.repository,
            container.hasher,
            container.pseudonyms,
            Register(f"bench{size}@example.com", PASSWORD),
            CONTEXT,
        )
        grow(container, user, size)
        for name, command in COMMANDS.items():
            prior = container.repository.load(User, user.id)
            counter.reset()
            command(container, prior)
            rows.append(
                Row(
                    events=prior.version,
                    command=name,
                    cost=counter.cost(events_table),
                )
            )
    return rows
