"""Four fixes to moto, so the local stack holds a shop, its streams tell the truth and its
server answers at the cost of the request, not of finding its backend.

1. moto's TransactWriteItems deep-copies every table it touches, once per item, before it
   starts (to roll back by swapping the copies in): its cost grows with the table (a 2-item
   transaction: 10 ms at 100 items, 3.8 s at 20,000). The swap also left the records of the
   rolled-back writes in the stream (phantom events) and put a new stream shard in place
   that no shard iterator already handed out sees (the pump went quiet for good). Here a
   transaction keeps an undo log of only the items it touches, restores them on failure,
   and drops the stream records it added: cost by the transaction's size, one stream shard.
   It is moto 5.2's `DynamoDBBackend.transact_write_items` around that undo log, with the
   `copy.deepcopy` of its module keeping a `Table` as it is (pinned).
   Likewise a Query on a table's key read every item of the table to keep one partition's
   (`Table.query` filters `all_items()`): it reads that partition only now.
2. moto serves requests on many threads without a lock, so that rollback would also undo
   a write another request made meanwhile. DynamoDB and DynamoDB Streams requests run one
   at a time here, as if each were atomic (as DynamoDB's are).
3. moto's server finds the backend of every request anew, under one lock every request
   shares: it lists moto's package directory (about 250 `isdir` calls) and matches the
   host against every backend's URL patterns (`DomainDispatcherApplication.
   get_backend_for_host`, moto 5.2). A host's backend never changes: it is remembered per
   host here. That was a tenth of the local stack's CPU in a burst of orders.
4. moto gives every KMS key an RSA-2048 signing key when it is created (`Key.__init__`
   calls `generate_private_key`), symmetric keys too, which never sign: 40 ms of CPU per
   CreateKey, one per test's stack. It is made on first use here.

docs/upstream/moto/ holds fixes 1, 3 and 4 as patches to moto's source, with failing tests
in moto's style, ready to send upstream.

`around_dynamodb` is how devstack's other hooks (partitions, faults, conflicts) step into
moto's `DynamoHandler.call_action`, which answers `(status, headers, body)` for one request
(moto 5.2, pinned).
"""

from __future__ import annotations

import copy
import functools
import threading
import types
from collections.abc import Callable
from typing import Any

serialized_requests = threading.RLock()
"""The (re-entrant) lock every DynamoDB request runs under: held, it shows one request's
effects alone (devstack/partitions.py reads items before and after a write)."""


@functools.cache
def apply() -> None:
    """Patch moto, once per process (the embedded server and mock_aws share its backends)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.kms import models as kms
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication as Dispatcher

    DynamoDBBackend.transact_write_items = _undo_logged(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
    Table.query = _partition_only(Table.query)  # type: ignore[method-assign]
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        handler.call_action = _one_at_a_time(handler.call_action)  # type: ignore[method-assign]
    Dispatcher.get_backend_for_host = _remembered(Dispatcher.get_backend_for_host)  # type: ignore[method-assign]
    kms.generate_private_key = functools.partial(_SigningKey, kms.generate_private_key)  # type: ignore[assignment,attr-defined]


class _SigningKey:
    """A KMS key's private key, generated the first time it is used (fix 4)."""

    def __init__(self, generate: Any, key_spec: str) -> None:
        self._made = functools.cache(lambda: generate(key_spec))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # what copy and pickle look for: no key made for them
            raise AttributeError(name)
        return getattr(self._made(), name)


def _remembered(find: Any) -> Any:
    """`get_backend_for_host`, once per host: the answer depends on the host alone."""
    found: dict[str | None, Any] = {}

    @functools.wraps(find)
    def remembered(app: Any, host: str | None) -> Any:
        if host not in found:
            found[host] = find(app, host)
        return found[host]

    return remembered


def _undo_logged(transact_write_items: Any) -> Any:
    """moto's TransactWriteItems, all or nothing through an undo log of the items it touches
    (fix 1). moto's own copies of whole tables are no-ops while it runs: moto 5.2 deep-copies
    a `Table` there only to swap it back in on failure, and a table swapped in for itself
    changes nothing. Its other deep copies (an updated item's old image) are made as before."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    tables_uncopied = types.SimpleNamespace(deepcopy=deepcopy)

    @functools.wraps(transact_write_items)
    def undo_logged(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        roll_back = _undo_log(backend, transact_items)
        models.copy = tables_uncopied  # type: ignore[attr-defined,assignment]
        try:
            transact_write_items(backend, transact_items)
        except BaseException:
            roll_back()
            raise
        finally:
            models.copy = copy  # type: ignore[attr-defined]

    return undo_logged


def _undo_log(backend: Any, transact_items: list[dict[str, Any]]) -> Callable[[], None]:
    """What puts back the items `transact_items` touch as they are now, and drops the stream
    records added meanwhile."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    undo: list[tuple[Any, Any, Any, Any]] = []
    streams: dict[int, tuple[Any, int]] = {}
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        attrs = op.get("Key") or op.get("Item") or {}
        if table.hash_key_attr not in attrs or (
            table.range_key_attr and table.range_key_attr not in attrs
        ):
            continue  # moto refuses it before anything is written
        hash_key = DynamoType(attrs[table.hash_key_attr])
        range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        undo.append(
            (table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key)))
        )
        if table.stream_shard is not None:
            streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))

    def roll_back() -> None:
        for table, hash_key, range_key, original in reversed(undo):
            if range_key is None:
                if original is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = original
            elif original is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = original
        for shard, length in streams.values():
            del shard.items[length:]

    return roll_back


def _partition_only(query: Any) -> Any:
    """A Query on the table's own key: moto's, over that partition's items only. Requests
    run one at a time (`_one_at_a_time`), so shadowing `all_items` for one call is safe."""

    # moto's backend passes index_name eighth, positionally (moto 5.2's Table.query)
    index_position = 6

    @functools.wraps(query)
    def partition_query(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[index_position] if len(args) > index_position else None
        if kwargs.get("index_name", index_name) is not None or hash_key is None:
            return query(table, hash_key, *args, **kwargs)
        partition = table.items.get(hash_key)
        if partition is None:
            items: list[Any] = []
        else:
            items = list(partition.values()) if table.range_key_attr else [partition]
        table.all_items = lambda: items
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            del table.all_items

    return partition_query


def _one_at_a_time(call_action: Any) -> Any:
    @functools.wraps(call_action)
    def serialized(handler: Any) -> Any:
        with serialized_requests:
            return call_action(handler)

    return serialized


def around_dynamodb(hook: Callable[[Any, Callable[[Any], Any]], Any]) -> None:
    """Answer every DynamoDB request with `hook(handler, call_action)`, where `call_action`
    answers it as before (the hooks installed earlier run inside the later ones)."""
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action

    def hooked(handler: Any) -> Any:
        return hook(handler, call_action)

    DynamoHandler.call_action = hooked  # type: ignore[method-assign]
