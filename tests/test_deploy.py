"""template.yaml as AWS would deploy it: SAM's translation, created in moto's CloudFormation
with the default parameters, then the operator CLI (`--stack`) against the stack's outputs."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from infra import cli
from tests.support.roles import ACCOUNT, REGION
from tests.support.template import load

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

STATEFUL = ("AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::SQS::Queue")
DOCUMENTED_OUTPUTS = {
    *cli.OUTPUTS,
    *cli.OPTIONAL_OUTPUTS,
    "ApiUrl",
    "EventsStreamArn",
    "ProjectorFailureQueueUrl",
    "OrderProcessFailureQueueUrl",
    "ProjectorEventSourceMapping",
    "OrderProcessEventSourceMapping",
    "AlarmTopicArn",
}


def translated_defaults() -> dict[str, Any]:
    from devstack.roles import translate

    return translate(load(), {}, REGION)


def create(cloudformation: CloudFormationClient, name: str) -> dict[str, str]:
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(translated_defaults()),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture
def cloudformation(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudFormationClient]:
    import boto3

    from tests.support import moto_cfn
    from tests.support.aws import mock_aws

    moto_cfn.apply()
    with mock_aws():
        # the translator points every function at this code object (devstack.roles)
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("placeholder.py", "")
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="local-stack")
        s3.put_object(Bucket="local-stack", Key="code.zip", Body=code.getvalue())
        monkeypatch.setenv("BCRYPT_ROUNDS", "4")
        yield boto3.client("cloudformation", region_name=REGION)


def test_the_template_deploys_with_its_default_parameters(
    cloudformation: CloudFormationClient,
) -> None:
    outputs = create(cloudformation, "shop")

    # moto's CloudFormation creates no secret (nor its output); the template declares it
    secrets = {
        "SigningKeySecretArn",
        "IdempotencyKeySecretArn",
        "ResetKeySecretArn",
        "PseudonymKeySecretArn",
    }
    assert DOCUMENTED_OUTPUTS - secrets <= set(outputs)
    assert set(load()["Outputs"]) >= DOCUMENTED_OUTPUTS


def test_two_stacks_deploy_side_by_side_in_one_account(
    cloudformation: CloudFormationClient,
) -> None:
    first, second = create(cloudformation, "shop"), create(cloudformation, "shop-two")

    assert first["EventsTableName"] != second["EventsTableName"]


def test_the_defaults_create_no_sender_identity_for_two_stacks_to_collide_on() -> None:
    template = load()
    identities = {
        lid: r for lid, r in template["Resources"].items() if r["Type"] == "AWS::SES::EmailIdentity"
    }

    assert {r.get("Condition") for r in identities.values()} == {"CreatesSenderIdentity"}
    assert template["Conditions"]["CreatesSenderIdentity"] == {
        "Fn::Equals": [{"Ref": "CreateSenderIdentity"}, "true"]
    }
    assert template["Parameters"]["CreateSenderIdentity"]["Default"] == "false"


def test_every_stateful_resource_survives_a_stack_deletion() -> None:
    resources = load()["Resources"]
    stateful = {lid: r for lid, r in resources.items() if r["Type"] in STATEFUL}

    assert {
        "EventsTable",
        "ViewsTable",
        "SigningKeySecret",
        "IdempotencyKeySecret",
        "ResetKeySecret",
    } <= set(stateful)
    assert {lid for lid, r in stateful.items() if r.get("DeletionPolicy") != "Retain"} == set()
    assert {lid for lid, r in stateful.items() if r.get("UpdateReplacePolicy") != "Retain"} == set()


def test_the_tables_are_still_there_after_the_stack_is_deleted(
    cloudformation: CloudFormationClient,
) -> None:
    import boto3

    outputs = create(cloudformation, "shop")
    cloudformation.delete_stack(StackName="shop")

    tables = boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
    assert outputs["EventsTableName"] in tables


def test_every_alarm_notifies_the_alarm_topic() -> None:
    resources = load()["Resources"]
    alarms = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]

    assert alarms
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


def test_with_defaults_every_grant_names_a_resource() -> None:
    from devstack.roles import function_principals

    template = translated_defaults()
    physical = {
        lid: {"Ref": f"ref-{lid}", "Arn": f"arn:aws:x:{REGION}:{ACCOUNT}:{lid}", "StreamArn": "s"}
        for lid in template["Resources"]
    }
    roles = function_principals(
        template,
        parameters={},
        physical=physical,
        function_names={},
        region=REGION,
        account=ACCOUNT,
    )

    resources = [r for p in roles.values() for s in p.policy.statements for r in s.resources]
    assert resources
    assert [r for r in resources if not r or "None" in r] == []


def test_create_admin_and_rebuild_run_against_a_deployed_stack(
    cloudformation: CloudFormationClient, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import boto3

    create(cloudformation, "shop")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin password 1")
    # moto's CloudFormation creates no secret (nor its output): the one the operator's
    # commands need (the pseudonyms of emails), made as AWS would have
    pseudonyms = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="shop-pseudonyms", SecretString="p" * 64
    )
    monkeypatch.setenv("PSEUDONYM_KEY_SECRET", pseudonyms["ARN"])

    assert cli.main(["--stack", "shop", "create-admin", "--email", "root@example.com"]) == 0
    assert cli.main(["--stack", "shop", "create-admin", "--email", "root@example.com"]) == 0
    assert cli.main(["--stack", "shop", "rebuild", "--drop-after", "0", "--fence", "0"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("admin root@example.com ready") == 2
    assert re.search(
        r"users: generation 2 \(version 1\) built from 1 streams, [1-9]\d* events", printed
    )


def test_the_cli_says_what_to_do_about_a_stack_without_its_outputs(
    cloudformation: CloudFormationClient, capsys: Any
) -> None:
    cloudformation.create_stack(
        StackName="bare",
        TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}),
    )

    assert cli.main(["--stack", "bare", "rebuild"]) == 2
    assert "sam deploy" in capsys.readouterr().err
