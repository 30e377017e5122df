"""The functions' roles, from template.yaml through SAM's translator, for the tests' moto."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from devstack import iam
from devstack.roles import function_principals, translate
from tests.support.template import load, resources

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "us-east-1"
ACCOUNT = "123456789012"
PARAMETERS = {"PaymentProvider": "local", "NotificationSender": "orders@shop.example.com"}
"""What the function tests deploy with: the local payment adapter (no Stripe secret), and the
sender of order confirmations (an SES identity verified in moto)."""


@cache
def translated(parameters: tuple[tuple[str, str], ...] = tuple(PARAMETERS.items())) -> Any:
    return translate(load(), dict(parameters), REGION)


def physical_resources(
    client: DynamoDBClient,
    tables: Mapping[str, str],
    secrets: Mapping[str, str],
    keys: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, dict[str, str]]:
    """What `Ref`/`Fn::GetAtt` answer for the resources the tests create (queues are named
    but not created: the handlers under test never reach them)."""
    physical: dict[str, dict[str, str]] = {}
    for lid, name in tables.items():
        table = client.describe_table(TableName=name)["Table"]
        physical[lid] = {"Ref": name, "Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            physical[lid]["StreamArn"] = table["LatestStreamArn"]
    for lid, arn in secrets.items():
        physical[lid] = {"Ref": arn, "Id": arn}
    for lid, key in (keys or {}).items():
        physical[lid] = dict(key)
    for lid in resources("AWS::SQS::Queue"):
        name = f"test-{lid}"
        physical[lid] = {
            "Ref": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
            "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "QueueName": name,
        }
    return physical


def principals(
    physical: Mapping[str, Mapping[str, str]],
    parameters: Mapping[str, str] = PARAMETERS,
    template: Any = None,
) -> dict[str, iam.Principal]:
    return function_principals(
        template if template is not None else translated(tuple(parameters.items())),
        parameters=parameters,
        physical=physical,
        function_names={},
        region=REGION,
        account=ACCOUNT,
    )
