"""Shared fixtures: fakes, and moto-backed DynamoDB tables shaped as template.yaml says."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from devstack import moto_fixes
from event_sourcing.testing.memory import ManualClock, SequentialIds
from tests.fakes.container import InMemoryContainer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "test",
    "POWERTOOLS_TRACE_DISABLED": "true",
}.items():
    os.environ.setdefault(name, value)
os.environ.pop("AWS_ENDPOINT_URL", None)

# The tests' moto gets the local stack's fixes: transactions cost what they touch, and a
# refused one leaves nothing behind, its stream records included.
moto_fixes.apply()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()


@pytest.fixture
def fakes() -> InMemoryContainer:
    """The whole wiring on in-memory fakes."""
    return InMemoryContainer()


@pytest.fixture
def dynamodb() -> Iterator[DynamoDBClient]:
    """A moto DynamoDB with every table of template.yaml (keys, indexes, streams, TTL)."""
    import boto3

    from tests.support.aws import mock_aws
    from tests.support.tables import create_tables

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client)
        yield client
