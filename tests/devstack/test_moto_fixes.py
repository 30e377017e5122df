"""moto as the local stack and the tests run it (devstack.moto_fixes): TransactWriteItems
all or nothing, at the cost of what it touches, never of the table's size; a Query and the
server's backend lookup at the cost of the request; a KMS key's signing key made on use."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = "fixes"


@pytest.fixture
def client() -> Iterator[DynamoDBClient]:
    import boto3

    from tests.support.aws import mock_aws

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        yield dynamodb


def put(pk: str, sk: int = 0, **extra: Any) -> Any:
    item = {"pk": {"S": pk}, "sk": {"N": str(sk)}, **{k: {"S": v} for k, v in extra.items()}}
    return {
        "Put": {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
    }


def stream_length(client: DynamoDBClient) -> int:
    import boto3

    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return len(streams.get_records(ShardIterator=iterator)["Records"])


def test_a_refused_transaction_leaves_the_items_and_the_stream_as_they_were(
    client: DynamoDBClient,
) -> None:
    from botocore.exceptions import ClientError

    client.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"N": "0"}, "n": {"S": "1"}})
    client.put_item(TableName=TABLE, Item={"pk": {"S": "taken"}, "sk": {"N": "0"}})
    before = stream_length(client)
    update: Any = {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": "a"}, "sk": {"N": "0"}},
            "UpdateExpression": "SET n = :two",
            "ExpressionAttributeValues": {":two": {"S": "2"}},
        }
    }

    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=[update, put("new"), put("taken")])

    assert client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"N": "0"}})["Item"][
        "n"
    ] == {"S": "1"}
    assert "Item" not in client.get_item(
        TableName=TABLE, Key={"pk": {"S": "new"}, "sk": {"N": "0"}}
    )
    assert stream_length(client) == before


def test_a_transaction_copies_only_the_items_it_touches(
    client: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for start in range(0, 500, 25):
        client.batch_write_item(
            RequestItems={
                TABLE: [
                    {"PutRequest": {"Item": {"pk": {"S": "bulk"}, "sk": {"N": str(i)}}}}
                    for i in range(start, start + 25)
                ]
            }
        )
    copied: list[Any] = []
    real = copy.deepcopy

    def counting(value: Any, *args: Any) -> Any:
        copied.append(value)
        return real(value, *args)

    monkeypatch.setattr("devstack.moto_fixes.copy.deepcopy", counting)

    client.transact_write_items(TransactItems=[put("x"), put("y")])

    assert len(copied) == 2  # the two (absent) items it writes, not the 500-item table


def test_a_query_reads_its_partition_not_the_table(
    client: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodb.models.table import Table

    for partition in ("a", "b"):
        client.batch_write_item(
            RequestItems={
                TABLE: [
                    {"PutRequest": {"Item": {"pk": {"S": partition}, "sk": {"N": str(i)}}}}
                    for i in range(20)
                ]
            }
        )
    whole_table_reads: list[Any] = []
    real = Table.all_items

    def counting(table: Any) -> Any:
        whole_table_reads.append(table)
        return real(table)

    monkeypatch.setattr(Table, "all_items", counting)

    page = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "b"}},
        ScanIndexForward=False,
        Limit=3,
    )

    assert [item["sk"]["N"] for item in page["Items"]] == ["19", "18", "17"]
    assert whole_table_reads == []


def test_the_server_finds_a_hosts_backend_once_not_on_every_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """moto's server looked the backend up for every request (listing its package directory,
    matching every URL pattern) under a lock all requests share."""
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from devstack import moto_fixes

    moto_fixes.apply()
    listed: list[int] = []
    modules = backends.list_of_moto_modules

    def counted() -> Any:
        listed.append(1)
        return modules()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    app = DomainDispatcherApplication(create_backend_app)
    environ = {
        "PATH_INFO": "/",
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=testing/20261207/eu-west-3/"
        "dynamodb/aws4_request, SignedHeaders=host, Signature=x",
        "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem",
    }
    first = app.get_application(dict(environ))
    looked_up = len(listed)
    for _ in range(5):
        assert app.get_application(dict(environ)) is first
    assert len(listed) == looked_up


def test_a_symmetric_kms_key_makes_no_signing_key_and_an_asymmetric_one_still_signs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """moto made an RSA-2048 signing key for every KMS key it created (40 ms), symmetric
    ones too, which never sign: it is made when a key first signs or verifies now."""
    import boto3
    from cryptography.hazmat.primitives.asymmetric import rsa

    from devstack import moto_fixes
    from tests.support.aws import mock_aws

    moto_fixes.apply()
    generated: list[int] = []
    generate = rsa.generate_private_key

    def counted(*args: Any, **kwargs: Any) -> Any:
        generated.append(1)
        return generate(*args, **kwargs)

    monkeypatch.setattr(rsa, "generate_private_key", counted)
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
        sealed = kms.encrypt(KeyId=symmetric, Plaintext=b"personal")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=sealed)["Plaintext"] == b"personal"
        assert generated == []

        signing = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]
        signature = kms.sign(
            KeyId=signing["KeyId"], Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256"
        )["Signature"]
        verified = kms.verify(
            KeyId=signing["KeyId"],
            Message=b"m",
            Signature=signature,
            SigningAlgorithm="RSASSA_PSS_SHA_256",
        )
        assert verified["SignatureValid"]
        assert generated == [1]
