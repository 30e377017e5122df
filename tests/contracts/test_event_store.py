"""The kit's event store contract, run on the in-memory fake and on the DynamoDB store
(moto), once with every ack lost; and what only DynamoDB has: a write whose every try ends
in a server error, which may have landed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from event_sourcing.guards import Claim
from event_sourcing.repository import Append, EventStore
from event_sourcing.testing.builders import recorded
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


class ServerErrors:
    """A DynamoDB client whose writes end in a 500 on every try the SDK makes: `landing`,
    the first try landed all the same (its answer lost, the later tries failed before they
    met their item); otherwise none landed."""

    def __init__(self, client: Any, *, landing: bool) -> None:
        self._client, self._landing = client, landing

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name not in ("put_item", "transact_write_items"):
            return method

        def failing(**request: Any) -> Any:
            if self._landing:
                method(**request)
            answer: Any = {
                "Error": {"Code": "InternalServerError", "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": 500},
            }
            raise ClientError(answer, name)

        return failing


@pytest.mark.parametrize("claims", [0, 1], ids=["one put", "a transaction"])
def test_a_write_that_landed_behind_server_errors_is_done_once(dynamodb: Any, claims: int) -> None:
    from event_sourcing.dynamodb.event_store import DynamoDBEventStore

    table = table_name("EventsTable")
    store = DynamoDBEventStore(cast(Any, ServerErrors(dynamodb, landing=True)), table)
    claim = [Claim("email", "ada@example.com", "s-1")][:claims]

    store.append(Append("s-1", 0, [recorded("s-1", 1)]), claims=claim)

    assert [e.version for e in DynamoDBEventStore(dynamodb, table).read("s-1")] == [1]


@pytest.mark.parametrize("claims", [0, 1], ids=["one put", "a transaction"])
def test_a_write_that_did_not_land_keeps_its_server_error(dynamodb: Any, claims: int) -> None:
    from event_sourcing.dynamodb.event_store import DynamoDBEventStore

    table = table_name("EventsTable")
    store = DynamoDBEventStore(cast(Any, ServerErrors(dynamodb, landing=False)), table)
    claim = [Claim("email", "ada@example.com", "s-1")][:claims]

    with pytest.raises(ClientError, match="InternalServerError"):
        store.append(Append("s-1", 0, [recorded("s-1", 1)]), claims=claim)

    assert DynamoDBEventStore(dynamodb, table).read("s-1") == []
