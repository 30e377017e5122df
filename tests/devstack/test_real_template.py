"""The project's template.yaml, provisioned on moto and resolved (no function runs)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator

import pytest

from devstack import iam
from devstack.running import RunningStack
from devstack.sam import QueueMappingSpec, StreamMappingSpec
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
        parallelization_factor=4,
    )
    assert process.parallelization_factor == 10
    assert mapping.filters == (
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}},
    )


def test_the_outside_calls_queue_runs_its_function_with_item_failures(stack: LocalStack) -> None:
    (mapping,) = stack.deployment.model.queue_mappings
    queue = stack.deployment.resource("OutsideCallsQueue").attributes["Arn"]
    assert mapping == QueueMappingSpec(
        function_logical_id="OutsideCallsFunction",
        source_name="DueWork",
        queue_arn=queue,
        batch_size=10,
        batching_window_seconds=0.0,
        report_batch_item_failures=True,
        maximum_concurrency=50,
    )
    # reserved concurrency is off by default (a new account has little to reserve)
    assert stack.deployment.model.functions["OutsideCallsFunction"].reserved_concurrency is None
    sqs = stack.clients.sqs()
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.queue_url("OutsideCallsQueue"), AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    dead_letters = stack.deployment.resource("OutsideCallsDeadLetterQueue").attributes["Arn"]
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_letters,
        "maxReceiveCount": 5,
    }


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
        # the data keys stay readable: the same KMS key wraps them (an invoke provisions)
        assert (
            again.resolved_env("IdentityCommandsFunction")["DATA_KEY_ID"]
            == (stack.resolved_env("IdentityCommandsFunction")["DATA_KEY_ID"])
        )
    finally:
        again.stop()


def test_a_stack_attached_to_the_running_one_leaves_its_function_keys_registered(
    stack: LocalStack,
) -> None:
    """`devstack invoke` against a running stack attaches to it: when the invoke ends, the
    running stack's functions still call AWS as themselves (checked, counted, emulated)."""
    key = iam.access_key_for(stack.stack_name, "OrderProcessFunction")
    principal = stack.deployment.principals["OrderProcessFunction"]
    iam.registry.register(key, principal)  # as the running stack's start does
    running = RunningStack(stack.stack_name, stack.endpoint_url, "http://127.0.0.1:9", os.getpid())
    attached = LocalStack(
        DEFAULT_TEMPLATE, stack_name=stack.stack_name, env={}, log=LogLines(), attach=running
    )
    try:
        attached.provision()
        attached.stop()
        assert iam.registry.caller(key) is principal
    finally:
        iam.registry.forget(key)


def test_only_the_outside_calls_function_may_charge_and_mail(stack: LocalStack) -> None:
    """Local IAM grants what the template does: the reader may only send to the queue; the
    queue's function polls it (SAM's SQS poller grants) and calls SES, never the reader."""
    principals = stack.deployment.principals
    reader, calls = (
        principals["OrderProcessFunction"].policy,
        principals["OutsideCallsFunction"].policy,
    )
    queue = stack.deployment.resource("OutsideCallsQueue").attributes["Arn"]
    dead = stack.deployment.resource("OutsideCallsDeadLetterQueue").attributes["Arn"]
    failures = stack.deployment.resource("OrderProcessFailureQueue").attributes["Arn"]
    sender = "arn:aws:ses:us-east-1:123456789012:identity/orders@eventshop.example.com"
    assert reader.allows("sqs:SendMessage", queue)
    assert not reader.allows("sqs:SendMessage", dead)
    assert not reader.allows("sqs:ReceiveMessage", queue)
    assert not reader.allows("ses:SendEmail", sender)
    for action in (
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ):
        # SAM attaches AWSLambdaSQSQueueExecutionRole for an SQS event: any queue, as on AWS
        assert calls.allows(action, queue), action
        assert calls.allows(action, failures), action
    assert not calls.allows("sqs:SendMessage", queue)
    assert calls.allows("ses:SendEmail", sender)


def test_reserved_concurrency_of_the_outside_calls_is_a_parameter(stack: LocalStack) -> None:
    reserved = LocalStack(
        DEFAULT_TEMPLATE,
        stack_name=unique_stack_name("reserved"),
        parameter_overrides={"OutsideCallsReservedConcurrency": "3"},
        env={"AWS_ENDPOINT_URL": stack.endpoint_url},
        log=LogLines(),
    )
    try:
        functions = reserved.provision().model.functions
        assert functions["OutsideCallsFunction"].reserved_concurrency == 3
        assert functions["OrderProcessFunction"].reserved_concurrency is None
    finally:
        reserved.stop()


def test_a_stack_on_an_aws_endpoint_url_of_this_machine_records_itself_for_the_cli(
    stack: LocalStack,
) -> None:
    from devstack.running import RunningStack

    served = LocalStack(
        DEFAULT_TEMPLATE,
        stack_name=unique_stack_name("endpoint-url"),
        env={"AWS_ENDPOINT_URL": stack.endpoint_url},
        bootstrap=False,
        log=LogLines(),
    )
    try:
        served.start()
        found = RunningStack.find(DEFAULT_TEMPLATE.parent, served.stack_name)
        assert found is not None, "eventshop-admin --local would not find it"
        assert (found.endpoint_url, found.api_url) == (stack.endpoint_url, served.url)
        assert found.outputs["EventsStreamArn"]
    finally:
        served.stop()
    assert RunningStack.find(DEFAULT_TEMPLATE.parent, served.stack_name) is None


def test_a_second_stack_of_the_checkout_takes_the_record_and_gives_it_back_at_stop(
    stack: LocalStack,
) -> None:
    from devstack.running import RunningStack

    name = unique_stack_name("second")
    first = RunningStack(name, stack.endpoint_url, "http://127.0.0.1:9", os.getppid())
    first.save(DEFAULT_TEMPLATE.parent)  # another `make run`, alive (this test's parent)
    log = LogLines()
    second = LocalStack(
        DEFAULT_TEMPLATE,
        stack_name=name,
        env={"AWS_ENDPOINT_URL": stack.endpoint_url},
        bootstrap=False,
        log=log,
    )
    try:
        second.start()
        assert log.containing("another local stack of this checkout runs")
        found = RunningStack.find(DEFAULT_TEMPLATE.parent, name)
        assert found is not None
        assert found.api_url == second.url
    finally:
        second.stop()
    assert RunningStack.find(DEFAULT_TEMPLATE.parent, name) == first
    RunningStack.forget(DEFAULT_TEMPLATE.parent, name)
