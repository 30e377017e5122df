"""The kit's generations contract, run on the in-memory fake and on the views table (moto),
once with every ack lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from event_sourcing.testing.generations_contract import GenerationsContract, World
from event_sourcing.testing.lost_ack import LOSING, client_for
from event_sourcing.testing.memory import InMemoryGenerations, InMemoryViewStore
from tests.support.tables import table_name


class TestGenerations(GenerationsContract):
    @pytest.fixture(params=["memory", "dynamodb", LOSING])
    def world(self, request: pytest.FixtureRequest) -> Iterator[World]:
        if request.param == "memory":
            views = InMemoryViewStore()
            yield World(views, InMemoryGenerations(views))
            return
        from event_sourcing.dynamodb.generations import DynamoDBGenerations
        from event_sourcing.dynamodb.views import DynamoDBViewStore

        client = client_for(request.param, request.getfixturevalue("dynamodb"))
        table = table_name("ViewsTable")
        yield World(
            DynamoDBViewStore(client, table, consistent_reads=True),
            DynamoDBGenerations(client, table),
        )
