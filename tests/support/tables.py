"""Tables as template.yaml declares them, created through the real DynamoDB API (moto)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

# TODO(devstack): replace with devstack's template loader once it lands.


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    return None


_Loader.add_multi_constructor("!", _tag)


def table_name(logical_id: str) -> str:
    return f"test-{logical_id}"


def create_tables(client: DynamoDBClient) -> dict[str, str]:
    """Create every AWS::DynamoDB::Table of the template; logical id -> table name."""
    template = yaml.load(TEMPLATE.read_text(), Loader=_Loader)
    names: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        request: dict[str, Any] = {
            "TableName": table_name(logical_id),
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if "GlobalSecondaryIndexes" in props:
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                **props["StreamSpecification"],
            }
        client.create_table(**request)
        if "TimeToLiveSpecification" in props:
            client.update_time_to_live(
                TableName=request["TableName"],
                TimeToLiveSpecification=props["TimeToLiveSpecification"],
            )
        names[logical_id] = request["TableName"]
    return names
