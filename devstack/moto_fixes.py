"""Two fixes to the embedded moto's DynamoDB, so the local stack's streams tell the truth.

1. moto rolls a failed TransactWriteItems back by swapping in deep copies of its tables.
   The stream then keeps the records of the writes that were rolled back (phantom events
   for the projector), and the copies carry a new stream shard that every shard iterator
   already handed out never sees (the stream pump goes quiet for good). The fix keeps each
   table's shard and drops the records the failed transaction added to it.
2. moto serves requests on many threads without a lock, so that rollback would also undo
   a write another request made meanwhile. DynamoDB and DynamoDB Streams requests run one
   at a time here, as if each were atomic (as DynamoDB's are).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_applied = False
_requests = threading.RLock()


def apply() -> None:
    """Patch moto, once per process (the embedded server shares moto's backends)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    DynamoDBBackend.transact_write_items = _keeping_streams(  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items
    )
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        handler.call_action = _one_at_a_time(handler.call_action)  # type: ignore[method-assign]
    _applied = True


def _keeping_streams(transact: Any) -> Any:
    @functools.wraps(transact)
    def transact_write_items(backend: Any, transact_items: Any) -> Any:
        shards = {
            name: (table, table.stream_shard, len(table.stream_shard.items))
            for name, table in backend.tables.items()
            if table.stream_shard is not None
        }
        try:
            return transact(backend, transact_items)
        except Exception:
            for name, (table, shard, length) in shards.items():
                restored = backend.tables.get(name)
                if restored is not None and restored is not table:
                    del shard.items[length:]
                    shard.table = restored
                    restored.stream_shard = shard
            raise

    return transact_write_items


def _one_at_a_time(call_action: Any) -> Any:
    @functools.wraps(call_action)
    def serialized(handler: Any) -> Any:
        with _requests:
            return call_action(handler)

    return serialized
