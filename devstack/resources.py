"""Create, if missing, the template's resources that have a local meaning."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.backend import AwsClients
from devstack.cfn import scalar_text
from devstack.template import TemplateError

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
QUEUE_TYPE = "AWS::SQS::Queue"
SECRET_TYPE = "AWS::SecretsManager::Secret"
TOPIC_TYPE = "AWS::SNS::Topic"
EMAIL_IDENTITY_TYPE = "AWS::SES::EmailIdentity"
KMS_KEY_TYPE = "AWS::KMS::Key"
PROVISIONED_TYPES = (
    *TABLE_TYPES,
    QUEUE_TYPE,
    SECRET_TYPE,
    TOPIC_TYPE,
    EMAIL_IDENTITY_TYPE,
    KMS_KEY_TYPE,
)

_NAME_PROPERTY = {
    **dict.fromkeys(TABLE_TYPES, "TableName"),
    QUEUE_TYPE: "QueueName",
    SECRET_TYPE: "Name",
    TOPIC_TYPE: "TopicName",
}
# Secrets Manager's punctuation set for GetRandomPassword
_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


@dataclass(frozen=True)
class Provisioned:
    """A resource as created (or found): what `Ref` and `Fn::GetAtt` return for it."""

    logical_id: str
    type: str
    physical_name: str
    ref: Any
    attributes: Mapping[str, Any] = field(default_factory=dict)
    created: bool = False


def physical_name(
    logical_id: str, kind: str, properties: Mapping[str, Any], stack_name: str
) -> str:
    """The name the template gives the resource, else `<stack>-<LogicalId>`."""
    given = properties.get(_NAME_PROPERTY.get(kind, ""))
    if given:
        return scalar_text(given)
    name = f"{stack_name}-{logical_id}"
    fifo = kind in (QUEUE_TYPE, TOPIC_TYPE) and scalar_text(
        properties.get("FifoQueue" if kind == QUEUE_TYPE else "FifoTopic", False)
    )
    return name + ".fifo" if fifo == "true" else name


class Provisioner:
    """Creates tables, queues, secrets and topics through the stack's endpoint."""

    def __init__(self, clients: AwsClients) -> None:
        self._dynamodb = clients.dynamodb()
        self._sqs = clients.sqs()
        self._secrets = clients.secretsmanager()
        self._clients = clients

    def provision(
        self, logical_id: str, kind: str, properties: Mapping[str, Any], name: str
    ) -> Provisioned:
        try:
            if kind in TABLE_TYPES:
                return self._table(logical_id, kind, properties, name)
            if kind == QUEUE_TYPE:
                return self._queue(logical_id, properties, name)
            if kind == SECRET_TYPE:
                return self._secret(logical_id, properties, name)
            if kind == TOPIC_TYPE:
                return self._topic(logical_id, name)
            if kind == EMAIL_IDENTITY_TYPE:
                return self._email_identity(logical_id, properties)
            if kind == KMS_KEY_TYPE:
                return self._kms_key(logical_id, properties, name)
        except (ClientError, BotoCoreError) as error:
            raise TemplateError(f"cannot create {logical_id} ({kind}): {error}") from error
        raise TemplateError(f"{kind} is not provisioned locally")

    # ------------------------------------------------------------------ DynamoDB
    def _table(
        self, logical_id: str, kind: str, properties: Mapping[str, Any], name: str
    ) -> Provisioned:
        wanted = (
            table_request(properties)
            if kind == TABLE_TYPES[0]
            else simple_table_request(properties)
        )
        created = False
        try:
            description = self._dynamodb.describe_table(TableName=name)["Table"]
        except self._dynamodb.exceptions.ResourceNotFoundException:
            self._dynamodb.create_table(TableName=name, **wanted)
            created = True
            self._dynamodb.get_waiter("table_exists").wait(
                TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
            description = self._dynamodb.describe_table(TableName=name)["Table"]
        stream = wanted.get("StreamSpecification")
        if stream and not description.get("LatestStreamArn"):
            self._dynamodb.update_table(TableName=name, StreamSpecification=stream)
            description = self._dynamodb.describe_table(TableName=name)["Table"]
        self._ensure_ttl(name, properties.get("TimeToLiveSpecification"))
        return Provisioned(
            logical_id=logical_id,
            type=kind,
            physical_name=name,
            ref=name,
            attributes={
                "Arn": description["TableArn"],
                "StreamArn": description.get("LatestStreamArn"),
            },
            created=created,
        )

    def _ensure_ttl(self, name: str, spec: Any) -> None:
        if not isinstance(spec, Mapping) or scalar_text(spec.get("Enabled", False)) != "true":
            return
        current = self._dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        self._dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": str(spec["AttributeName"]), "Enabled": True},
        )

    # ------------------------------------------------------------------ SQS
    def _queue(self, logical_id: str, properties: Mapping[str, Any], name: str) -> Provisioned:
        created = False
        try:
            url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except self._sqs.exceptions.QueueDoesNotExist:
            attributes: Any = queue_attributes(properties)
            url = self._sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            created = True
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return Provisioned(
            logical_id=logical_id,
            type=QUEUE_TYPE,
            physical_name=name,
            ref=url,
            attributes={"Arn": arn, "QueueName": name, "QueueUrl": url},
            created=created,
        )

    # ------------------------------------------------------------------ Secrets Manager
    def _secret(self, logical_id: str, properties: Mapping[str, Any], name: str) -> Provisioned:
        created = False
        try:
            arn = self._secrets.describe_secret(SecretId=name)["ARN"]
        except self._secrets.exceptions.ResourceNotFoundException:
            value = properties.get("SecretString")
            generate = properties.get("GenerateSecretString")
            if value is None:
                value = generate_secret_string(generate if isinstance(generate, Mapping) else {})
            request: dict[str, Any] = {"Name": name, "SecretString": scalar_text(value)}
            if properties.get("Description"):
                request["Description"] = scalar_text(properties["Description"])
            arn = self._secrets.create_secret(**request)["ARN"]
            created = True
        return Provisioned(
            logical_id=logical_id,
            type=SECRET_TYPE,
            physical_name=name,
            ref=arn,
            attributes={"Id": arn},
            created=created,
        )

    # ------------------------------------------------------------------ SNS, SES, KMS
    def _topic(self, logical_id: str, name: str) -> Provisioned:
        arn = str(self._clients.client("sns").create_topic(Name=name)["TopicArn"])
        return Provisioned(
            logical_id=logical_id,
            type=TOPIC_TYPE,
            physical_name=name,
            ref=arn,
            attributes={"TopicArn": arn, "TopicName": name},
        )

    def _email_identity(self, logical_id: str, properties: Mapping[str, Any]) -> Provisioned:
        """A sender SES accepts (moto refuses mail from unverified addresses)."""
        identity = scalar_text(properties["EmailIdentity"])
        self._clients.client("ses").verify_email_identity(EmailAddress=identity)
        return Provisioned(
            logical_id=logical_id, type=EMAIL_IDENTITY_TYPE, physical_name=identity, ref=identity
        )

    def _kms_key(self, logical_id: str, properties: Mapping[str, Any], name: str) -> Provisioned:
        """A customer managed key in moto's KMS, tagged with its stack's name for it: found
        again when the stack is provisioned again (a new key would leave every data key
        wrapped by the old one unreadable). Its key policy is not enforced locally (the
        functions' own policies are, by devstack.iam, key by key)."""
        kms = self._clients.client("kms")
        tag = {"TagKey": "devstack:name", "TagValue": name}
        found = next(
            (
                key["KeyId"]
                for key in kms.list_keys()["Keys"]
                if tag in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
            ),
            None,
        )
        if found is None:
            description = scalar_text(properties.get("Description", logical_id))
            metadata = kms.create_key(Description=description, Tags=[tag])["KeyMetadata"]
        else:
            metadata = kms.describe_key(KeyId=found)["KeyMetadata"]
        key_id, arn = str(metadata["KeyId"]), str(metadata["Arn"])
        return Provisioned(
            logical_id=logical_id,
            type=KMS_KEY_TYPE,
            physical_name=key_id,
            ref=key_id,
            attributes={"Arn": arn, "KeyId": key_id},
            created=found is None,
        )


def _throughput(value: Any) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(value["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(value["WriteCapacityUnits"]),
    }


def table_request(properties: Mapping[str, Any]) -> dict[str, Any]:
    """CreateTable arguments for an `AWS::DynamoDB::Table`'s properties."""
    billing = scalar_text(properties.get("BillingMode", "PROVISIONED"))
    request: dict[str, Any] = {
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = _throughput(properties["ProvisionedThroughput"])
    for section in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = [_index(index, billing) for index in properties.get(section) or []]
        if indexes:
            request[section] = indexes
    stream = properties.get("StreamSpecification")
    if isinstance(stream, Mapping) and stream.get("StreamViewType"):
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": scalar_text(stream["StreamViewType"]),
        }
    return request


def _index(index: Mapping[str, Any], billing: str) -> dict[str, Any]:
    """A secondary index as CreateTable takes it (a local one has no throughput of its own)."""
    entry = {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
    if billing == "PROVISIONED" and "ProvisionedThroughput" in index:
        entry["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    return entry


def simple_table_request(properties: Mapping[str, Any]) -> dict[str, Any]:
    """CreateTable arguments for an `AWS::Serverless::SimpleTable`."""
    key = properties.get("PrimaryKey") or {"Name": "id", "Type": "String"}
    kind = {"String": "S", "Number": "N", "Binary": "B"}[scalar_text(key.get("Type", "String"))]
    request: dict[str, Any] = {
        "KeySchema": [{"AttributeName": scalar_text(key["Name"]), "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": scalar_text(key["Name"]), "AttributeType": kind}
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if properties.get("ProvisionedThroughput"):
        request["BillingMode"] = "PROVISIONED"
        request["ProvisionedThroughput"] = _throughput(properties["ProvisionedThroughput"])
    return request


def queue_attributes(properties: Mapping[str, Any]) -> dict[str, str]:
    """CreateQueue attributes for an `AWS::SQS::Queue`'s properties: all of them but its name
    and tags (CloudFormation's schema)."""
    return {
        key: json.dumps(value) if isinstance(value, dict) else scalar_text(value)
        for key, value in properties.items()
        if key not in ("QueueName", "Tags")
    }


def generate_secret_string(spec: Mapping[str, Any]) -> str:
    """A random secret following `GenerateSecretString` (length, excluded character classes)."""

    def flag(name: str, default: bool = False) -> bool:
        return scalar_text(spec.get(name, default)) == "true"

    length = int(spec.get("PasswordLength", 32))
    excluded = set(scalar_text(spec.get("ExcludeCharacters", "")))
    pools = [
        kept
        for pool, skip in (
            (string.ascii_lowercase, flag("ExcludeLowercase")),
            (string.ascii_uppercase, flag("ExcludeUppercase")),
            (string.digits, flag("ExcludeNumbers")),
            (_PUNCTUATION, flag("ExcludePunctuation")),
            (" ", not flag("IncludeSpace")),
        )
        if not skip and (kept := "".join(c for c in pool if c not in excluded))
    ]
    if not pools:
        raise TemplateError("GenerateSecretString excludes every character")
    alphabet = "".join(pools)
    required = (
        [secrets.choice(pool) for pool in pools] if flag("RequireEachIncludedType", True) else []
    )
    rest = [secrets.choice(alphabet) for _ in range(max(length - len(required), 0))]
    characters = required[:length] + rest
    secrets.SystemRandom().shuffle(characters)
    password = "".join(characters)
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template is not None and key is not None:
        document = json.loads(scalar_text(template))
        document[scalar_text(key)] = password
        return json.dumps(document)
    return password
