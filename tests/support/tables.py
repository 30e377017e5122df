"""Tables as template.yaml declares them, created through the real DynamoDB API (moto)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from devstack.resources import table_request
from tests.support.template import resources

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def table_name(logical_id: str) -> str:
    return f"test-{logical_id}"


def create_tables(client: DynamoDBClient) -> dict[str, str]:
    """Create every AWS::DynamoDB::Table of the template; logical id -> table name."""
    names: dict[str, str] = {}
    for logical_id, resource in resources("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        request: dict[str, Any] = {"TableName": table_name(logical_id), **table_request(props)}
        client.create_table(**request)
        if "TimeToLiveSpecification" in props:
            client.update_time_to_live(
                TableName=request["TableName"],
                TimeToLiveSpecification=props["TimeToLiveSpecification"],
            )
        names[logical_id] = request["TableName"]
    return names
