"""The kit's view store contract, run on the in-memory fake and on the views table (moto),
once with every ack lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from event_sourcing.testing.lost_ack import LOSING, client_for
from event_sourcing.testing.memory import InMemoryViewStore
from event_sourcing.testing.views_contract import ViewStoreContract
from event_sourcing.views import ViewKey, ViewStore
from tests.support.tables import table_name


class TestViewStore(ViewStoreContract):
    @pytest.fixture(params=["memory", "dynamodb", LOSING])
    def views(self, request: pytest.FixtureRequest) -> Iterator[ViewStore]:
        if request.param == "memory":
            yield InMemoryViewStore()
            return
        from event_sourcing.dynamodb.views import DynamoDBViewStore

        client = client_for(request.param, request.getfixturevalue("dynamodb"))
        yield DynamoDBViewStore(client, table_name("ViewsTable"), consistent_reads=True)

    def put_outside_scope(self, views: ViewStore, key: ViewKey, doc: dict[str, int]) -> None:
        if isinstance(views, InMemoryViewStore):
            views.put_raw(key, doc)
            return
        from event_sourcing.dynamodb.views import DynamoDBViewStore

        assert isinstance(views, DynamoDBViewStore)
        item = {"pk": {"S": key.collection}, "sk": {"S": key.id}}
        item |= {name: {"N": str(value)} for name, value in doc.items()}
        views.client.put_item(TableName=views.table, Item=item)
