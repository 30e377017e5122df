"""Four fixes to moto, so the local stack holds a shop, its streams tell the truth and its
server answers at the cost of the request, not of finding its backend.

1. moto's TransactWriteItems deep-copies every table it touches, once per item, before it
   starts (to roll back by swapping the copies in): its cost grows with the table (a 2-item
   transaction: 10 ms at 100 items, 3.8 s at 20,000). The swap also left the records of the
   rolled-back writes in the stream (phantom events) and put a new stream shard in place
   that no shard iterator already handed out sees (the pump went quiet for good). Here a
   transaction keeps an undo log of only the items it touches, restores them on failure,
   and drops the stream records it added: cost by the transaction's size, one stream shard.
   It is moto 5.2's `DynamoDBBackend.transact_write_items` with that one change (pinned).
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
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

_applied = False
_requests = threading.RLock()


def apply() -> None:
    """Patch moto, once per process (the embedded server and mock_aws share its backends)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.kms import models as kms
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication as Dispatcher

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]
    Table.query = _partition_only(Table.query)  # type: ignore[method-assign]
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        handler.call_action = _one_at_a_time(handler.call_action)  # type: ignore[method-assign]
    Dispatcher.get_backend_for_host = _remembered(Dispatcher.get_backend_for_host)  # type: ignore[method-assign]
    kms.generate_private_key = functools.partial(_SigningKey, kms.generate_private_key)  # type: ignore[assignment,attr-defined]
    _applied = True


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


def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, all-or-nothing through an undo log of the touched items."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models.dynamo_type import DynamoType

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
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
            continue  # moto refuses it below, before anything is written
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

    target_items: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            roll_back()
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if op_type == "Put":
                attrs = op["Item"]
                table = backend.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(table_name), str(dict(sorted(key.items()))))
            if unique in target_items:
                raise MultipleTransactionsException()
            target_items.add(unique)
            current = backend.get_item(table_name, key)
            if condition_expression is not None:
                condition = get_filter_expression(condition_expression, names, values)
                if not condition.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type == "Put":
                backend.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                backend.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                backend.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            roll_back()
            raise
        except ConditionalCheckFailed as failed:
            errors.append(("ConditionalCheckFailed", str(failed.message), original_item))
        except Exception as error:  # moto's own: every other failure cancels the transaction
            errors.append((type(error).__name__, str(error), original_item))
    if any(code is not None for code, _, _ in errors):
        roll_back()
        raise TransactionCanceledException(errors)


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


def serialized_requests() -> threading.RLock:
    """The (re-entrant) lock every DynamoDB request runs under: held, it shows one request's
    effects alone (devstack/partitions.py reads items before and after a write)."""
    return _requests


def _one_at_a_time(call_action: Any) -> Any:
    @functools.wraps(call_action)
    def serialized(handler: Any) -> Any:
        with _requests:
            return call_action(handler)

    return serialized
