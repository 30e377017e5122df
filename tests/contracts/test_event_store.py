"""The kit's event store contract, run on the in-memory fake and on the DynamoDB store
(moto), once with every ack lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from event_sourcing.repository import EventStore
from event_sourcing.testing.lost_ack import LOSING, client_for
from event_sourcing.testing.memory import InMemoryEventStore
from event_sourcing.testing.store_contract import EventStoreContract
from tests.support.tables import table_name


class TestEventStore(EventStoreContract):
    @pytest.fixture(params=["memory", "dynamodb", LOSING])
    def store(self, request: pytest.FixtureRequest) -> Iterator[EventStore]:
        if request.param == "memory":
            yield InMemoryEventStore()
            return
        from event_sourcing.dynamodb.event_store import DynamoDBEventStore

        client = client_for(request.param, request.getfixturevalue("dynamodb"))
        yield DynamoDBEventStore(client, table_name("EventsTable"))
