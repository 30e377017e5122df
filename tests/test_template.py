"""What template.yaml promises: least privilege, bounded retries, every route documented."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.template import load, resources

WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:*",
}
FUNCTIONS = resources("AWS::Serverless::Function")
CONSOLE = "ConsoleFunction"
"""The operator's event console: HTML, not the API; it lists streams (a Scan), and the
template serves it only where EventConsole is true (the local stack)."""
SERVING = {lid: f for lid, f in FUNCTIONS.items() if lid != CONSOLE}


def grants(function: str) -> list[tuple[set[str], list[Any]]]:
    """(actions, resources) of each statement of the function's inline policies."""
    found = []
    for policy in FUNCTIONS[function]["Properties"].get("Policies", []):
        assert isinstance(policy, dict), "use explicit statements, not managed policies"
        assert "Statement" in policy, "use explicit statements, not policy templates"
        for listed in policy["Statement"]:
            # A conditional grant (!If [cond, statement, AWS::NoValue]): check what it grants.
            statement = listed["Fn::If"][1] if "Fn::If" in listed else listed
            actions = statement["Action"]
            targets = statement["Resource"]
            found.append(
                (
                    set(actions if isinstance(actions, list) else [actions]),
                    targets if isinstance(targets, list) else [targets],
                )
            )
    return found


def on_table(targets: list[Any], table: str) -> bool:
    return any(table in repr(target) for target in targets)


def kind_of(function: str) -> str:
    handler = FUNCTIONS[function]["Properties"]["Handler"]
    return str(handler.split(".")[1])


@pytest.mark.parametrize("function", sorted(SERVING))
def test_no_function_may_scan_or_use_wildcards(function: str) -> None:
    for actions, _ in grants(function):
        assert "dynamodb:Scan" not in actions
        assert not any(a.endswith("*") for a in actions)


def test_the_console_is_served_only_where_asked_and_only_reads() -> None:
    template = load()
    assert FUNCTIONS[CONSOLE]["Condition"] == "ServesConsole"
    assert template["Parameters"]["EventConsole"]["Default"] == "false"
    assert template["Metadata"]["LocalStack"]["ParameterOverrides"]["EventConsole"] == "true"
    for actions, _ in grants(CONSOLE):
        assert not actions & WRITES
        assert "sqs:DeleteMessage" not in actions
        assert not any(a.endswith("*") for a in actions)


@pytest.mark.parametrize("function", [f for f in FUNCTIONS if kind_of(f) == "commands"])
def test_command_functions_cannot_write_views(function: str) -> None:
    for actions, targets in grants(function):
        if on_table(targets, "ViewsTable"):
            assert not actions & WRITES


@pytest.mark.parametrize("function", [f for f in FUNCTIONS if kind_of(f) in ("queries", "docs")])
def test_query_functions_only_read(function: str) -> None:
    for actions, _ in grants(function):
        # kms:Decrypt reads too: the export opens a customer's data key with it
        assert actions <= {
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "kms:Decrypt",
        }


@pytest.mark.parametrize(
    "function", [f for f in FUNCTIONS if kind_of(f) in ("projectors", "authorizer")]
)
def test_readers_of_the_event_table_cannot_write_it(function: str) -> None:
    for actions, targets in grants(function):
        if on_table(targets, "EventsTable"):
            assert not actions & WRITES


def stream_mappings() -> list[dict[str, Any]]:
    return [
        event["Properties"]
        for function in FUNCTIONS.values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "DynamoDB"
    ]


@pytest.mark.parametrize("mapping", stream_mappings())
def test_stream_mappings_retry_boundedly_and_park_failures(mapping: dict[str, Any]) -> None:
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 86400
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert '"kind": {"S": ["event"]}' in mapping["FilterCriteria"]["Filters"][0]["Pattern"]
    assert mapping["DestinationConfig"]["OnFailure"]["Type"] == "SQS"


def test_the_on_failure_queue_has_an_alarm() -> None:
    alarms = resources("AWS::CloudWatch::Alarm").values()
    assert any("ProjectorFailureQueue" in repr(a["Properties"].get("Dimensions")) for a in alarms)


def test_every_table_and_index_ranks_its_hot_keys_with_contributor_insights() -> None:
    for logical_id, table in resources("AWS::DynamoDB::Table").items():
        properties = table["Properties"]
        assert properties["ContributorInsightsSpecification"] == {"Enabled": True}, logical_id
        for index in properties.get("GlobalSecondaryIndexes", []):
            assert index["ContributorInsightsSpecification"] == {"Enabled": True}, logical_id


def test_throttled_requests_and_transaction_conflicts_of_every_table_notify_the_alarm_topic() -> (
    None
):
    alarms = resources("AWS::CloudWatch::Alarm")
    tables = resources("AWS::DynamoDB::Table")
    for metric in ("ThrottledRequests", "TransactionConflict"):
        (alarm,) = [a for a in alarms.values() if metric in repr(a["Properties"].get("Metrics"))]
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        for logical_id in tables:
            assert "${" + logical_id + "}" in repr(alarm["Properties"]["Metrics"]), logical_id


def test_lambda_runs_python_3_12_or_newer_on_arm64() -> None:
    defaults = load()["Globals"]["Function"]
    assert defaults["Architectures"] == ["arm64"]
    major, minor = defaults["Runtime"].removeprefix("python").split(".")
    assert (int(major), int(minor)) >= (3, 12)


def template_routes() -> set[tuple[str, str]]:
    """Every (method, path) route; the $default route (no Path) is not one of them."""
    return {
        (event["Properties"]["Method"].lower(), event["Properties"]["Path"])
        for function in FUNCTIONS.values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi" and "Path" in event["Properties"]
    }


def test_unmatched_requests_have_a_default_route_so_aws_answers_in_our_shape() -> None:
    defaults = [
        lid
        for lid, function in FUNCTIONS.items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi" and "Path" not in event["Properties"]
    ]

    assert defaults == ["DocsFunction"]


def test_every_template_route_is_served_and_documented() -> None:
    from functions.docs import build_app

    app = build_app()

    documented = {
        (method, path)
        for path, operations in app.get_openapi_schema().paths.items()  # type: ignore[union-attr]
        for method in operations.model_dump(exclude_none=True)
    }
    api = {
        r
        for r in template_routes()
        if r[1] not in ("/docs", "/openapi.json") and not r[1].startswith("/console")
    }
    assert api == documented
