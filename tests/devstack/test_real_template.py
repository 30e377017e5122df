"""The project's template.yaml, provisioned on moto and resolved (no function runs)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from devstack.sam import StreamMappingSpec
from devstack.stack import DEFAULT_TEMPLATE, LocalStack
from tests.devstack.support import LogLines, unique_stack_name


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    stack = LocalStack(
        DEFAULT_TEMPLATE,
        stack_name=unique_stack_name("real"),
        parameter_overrides={"LogLevel": "DEBUG"},
        env={},
        log=LogLines(),
    )
    stack.provision()
    yield stack
    stack.stop()


def test_every_table_exists_as_declared(stack: LocalStack) -> None:
    client = stack.clients.dynamodb()
    tables = {
        lid
        for lid, resource in stack.template.resources.items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }
    assert tables
    for lid in tables:
        declared = stack.template.resources[lid]["Properties"]
        table = client.describe_table(TableName=stack.table_name(lid))["Table"]
        assert table["TableName"] == f"{stack.stack_name}-{lid}"
        assert table["KeySchema"] == declared["KeySchema"]
        indexes = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
        assert indexes == {
            index["IndexName"] for index in declared.get("GlobalSecondaryIndexes", [])
        }
        assert bool(table.get("LatestStreamArn")) == ("StreamSpecification" in declared)
        ttl = client.describe_time_to_live(TableName=stack.table_name(lid))["TimeToLiveDescription"]
        expected = declared.get("TimeToLiveSpecification", {}).get("AttributeName")
        assert ttl.get("AttributeName") == expected


def test_functions_resolve_their_environment(stack: LocalStack) -> None:
    functions = stack.deployment.model.functions
    handlers = {
        lid: resource["Properties"]["Handler"]
        for lid, resource in stack.template.resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert {lid: spec.handler for lid, spec in functions.items()} == handlers
    env = stack.resolved_env("IdentityCommandsFunction")
    assert env["EVENTS_TABLE"] == stack.table_name("EventsTable")
    assert env["PUBLIC_DOCS"] == "true"  # Metadata.LocalStack.ParameterOverrides
    assert env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"  # an override given to the stack
    assert env["POWERTOOLS_SERVICE_NAME"] == "identity-commands"
    secret = stack.clients.secretsmanager().describe_secret(SecretId=env["SIGNING_KEY_SECRET"])
    assert secret["Name"] == f"{stack.stack_name}-SigningKeySecret"
    value = stack.clients.secretsmanager().get_secret_value(SecretId=env["SIGNING_KEY_SECRET"])
    assert re.fullmatch(r"[A-Za-z0-9]{64}", value["SecretString"])
    assert functions["ProjectorFunction"].timeout == 60
    assert functions["DocsFunction"].timeout == 10  # Globals


def test_each_route_of_the_template_has_its_authorizer_or_none(stack: LocalStack) -> None:
    model = stack.deployment.model
    routes = {route.route_key: route.authorizer for route in model.routes}
    assert routes["POST /users"] is None
    assert routes["POST /auth/token"] is None
    assert routes["GET /users/me"] == "CallerAuthorizer"
    assert routes["POST /users/{id}/deactivate"] == "CallerAuthorizer"
    authorizer = model.apis["HttpApi"].authorizers["CallerAuthorizer"]
    assert authorizer.function_logical_id == "AuthorizerFunction"
    assert authorizer.simple_responses
    assert authorizer.identity_sources == ()
    assert authorizer.ttl_seconds == 0


def test_stream_mapping_settings(stack: LocalStack) -> None:
    mappings = {m.function_logical_id: m for m in stack.deployment.model.stream_mappings}
    # DynamoDB Streams allow two readers per shard: the projector and the order process.
    assert set(mappings) == {"ProjectorFunction", "OrderProcessFunction"}
    process = mappings["OrderProcessFunction"]
    assert process.filters[0]["dynamodb"]["NewImage"]["stream_id"] == {"S": [{"prefix": "order-"}]}
    assert (process.bisect_on_error, process.report_batch_item_failures) == (True, True)
    mapping = mappings["ProjectorFunction"]
    stream_arn = stack.clients.dynamodb().describe_table(TableName=stack.table_name("EventsTable"))[
        "Table"
    ]["LatestStreamArn"]
    queue_arn = stack.deployment.resource("ProjectorFailureQueue").attributes["Arn"]
    assert mapping == StreamMappingSpec(
        function_logical_id="ProjectorFunction",
        source_name="EventStream",
        stream_arn=stream_arn,
        starting_position="TRIM_HORIZON",
        batch_size=100,
        batching_window_seconds=0.0,
        bisect_on_error=True,
        maximum_retry_attempts=5,
        maximum_record_age_seconds=86400,
        report_batch_item_failures=True,
        filters=mapping.filters,
        on_failure_arn=queue_arn,
    )
    assert mapping.filters == (
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}},
    )


def test_provisioning_again_keeps_what_exists(stack: LocalStack) -> None:
    again = LocalStack(
        DEFAULT_TEMPLATE,
        stack_name=stack.stack_name,
        env={"AWS_ENDPOINT_URL": stack.endpoint_url},
        log=LogLines(),
    )
    try:
        deployment = again.provision()
        assert not any(resource.created for resource in deployment.resources.values())
        assert (
            again.resolved_env("AuthorizerFunction")["SIGNING_KEY_SECRET"]
            == (stack.resolved_env("AuthorizerFunction")["SIGNING_KEY_SECRET"])
        )
    finally:
        again.stop()
