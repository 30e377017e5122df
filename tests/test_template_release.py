"""What template.yaml deploys, read as SAM translates it (issue #21, items 1-7): alarms that
reach someone, logs with retention and no personal data, bounded parameters, recoverable
tables, and releases that shift traffic gradually and roll back on the alarms."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from tests.support.roles import REGION
from tests.support.template import load

CONSOLE = "ConsoleFunction"
"""Served only by the local stack (EventConsole): released all at once."""


@cache
def _translated(parameters: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    from devstack.roles import translate

    return translate(load(), dict(parameters), REGION)


def translated(**parameters: str) -> dict[str, Any]:
    """The CloudFormation template AWS would deploy, with these parameter values."""
    return _translated(tuple(sorted(parameters.items())))


def resources(kind: str, **parameters: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in translated(**parameters)["Resources"].items() if r["Type"] == kind}


def functions() -> dict[str, dict[str, Any]]:
    return resources("AWS::Lambda::Function")


def ref(value: Any) -> str:
    """The logical id a `Ref` or `Fn::GetAtt` names."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


# -- 1. alarms reach someone --------------------------------------------------------------


def test_the_alarm_topic_is_encrypted_with_a_key_whose_policy_lets_cloudwatch_publish() -> None:
    topic = resources("AWS::SNS::Topic")["AlarmTopic"]["Properties"]
    key = translated()["Resources"][ref(topic["KmsMasterKeyId"])]

    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [
        s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert len(cloudwatch) == 1
    assert set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cloudwatch[0]["Effect"] == "Allow"
    assert "alias/aws/sns" not in json.dumps(translated())


# -- 2. the HTTP API's access logs and throttling -----------------------------------------


def test_the_api_stage_logs_each_request_as_json_without_personal_data() -> None:
    (stage,) = resources("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["AccessLogSettings"]
    group = translated()["Resources"][ref(settings["DestinationArn"])]
    line = json.loads(settings["Format"])

    assert group["Type"] == "AWS::Logs::LogGroup"
    assert "RetentionInDays" in group["Properties"]
    assert {"requestId", "routeKey", "status", "latencyMs"} <= set(line)
    # no client address, user agent or path (a reset link's token is in its query)
    assert not re.search(r"sourceIp|userAgent|\.path|querystring", settings["Format"])


def test_the_api_stage_throttles_every_route_with_parameters_that_have_sane_defaults() -> None:
    (stage,) = resources("AWS::ApiGatewayV2::Stage").values()
    limits = stage["Properties"]["DefaultRouteSettings"]
    parameters = load()["Parameters"]

    rate = parameters[limits["ThrottlingRateLimit"]["Ref"]]
    burst = parameters[limits["ThrottlingBurstLimit"]["Ref"]]
    assert 1 <= rate["Default"] <= burst["Default"] <= 5000


# -- 3. point-in-time recovery --------------------------------------------------------------


def checkov_skips(resource: dict[str, Any]) -> dict[str, str]:
    skips = (resource.get("Metadata") or {}).get("checkov", {}).get("skip", [])
    return {s["id"]: s.get("comment", "") for s in skips}


def test_tables_holding_what_cannot_be_rebuilt_have_point_in_time_recovery() -> None:
    tables = resources("AWS::DynamoDB::Table")
    recoverable = {
        lid
        for lid, t in tables.items()
        if t["Properties"]
        .get("PointInTimeRecoverySpecification", {})
        .get("PointInTimeRecoveryEnabled")
        is True
    }

    assert {"EventsTable", "IdempotencyTable"} <= recoverable
    for lid in set(tables) - recoverable:
        assert checkov_skips(load()["Resources"][lid]).get("CKV_AWS_28"), f"{lid} says why not"


# -- 4. free-text parameters are patterned -------------------------------------------------

ACCEPTED = {
    "StripeSecretArn": [
        "",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/stripe-AbC123",
    ],
    "NotificationSender": ["orders@eventshop.example.com", "a.b+c@mail.example.co.uk"],
    "PublicApiUrl": [
        "",
        "https://shop.example.com",
        "http://127.0.0.1:3000",
        "https://x.io/api/v1",
    ],
    "AlarmEmail": ["", "ops@example.com"],
}
REFUSED = {
    "StripeSecretArn": ["sk_live_123", "arn:aws:s3:::bucket", " "],
    "NotificationSender": ["", "orders", "orders@localhost", "a@b.com,c@d.com"],
    "PublicApiUrl": [
        "shop.example.com",
        "https://shop.example.com/",
        "https://x.io/?a=1",
        "ftp://x",
    ],
    "AlarmEmail": ["ops", "ops@example.com ops2@example.com"],
}


def test_every_free_text_parameter_has_an_allowed_pattern() -> None:
    free = {
        name
        for name, p in load()["Parameters"].items()
        if p.get("Type", "String") == "String" and "AllowedValues" not in p
    }

    assert free == set(ACCEPTED)
    assert {n for n in free if "AllowedPattern" not in load()["Parameters"][n]} == set()


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_a_parameters_pattern_accepts_its_default_and_the_forms_it_means(name: str) -> None:
    spec = load()["Parameters"][name]
    # CloudFormation matches AllowedPattern against the whole value
    pattern = re.compile(spec["AllowedPattern"])

    for value in [spec["Default"], *ACCEPTED[name]]:
        assert pattern.fullmatch(value), f"{name}={value!r} is refused"
    for value in REFUSED[name]:
        assert not pattern.fullmatch(value), f"{name}={value!r} is accepted"
    assert spec.get("ConstraintDescription")


# -- 5. every checkov skip says why --------------------------------------------------------


def test_every_skipped_checkov_check_carries_a_one_line_reason() -> None:
    for lid, resource in load()["Resources"].items():
        for check, reason in checkov_skips(resource).items():
            assert re.fullmatch(r"CKV2?_AWS_\d+", check), f"{lid}: {check}"
            assert len(reason) > 20, f"{lid} skips {check} without a reason"
            assert "\n" not in reason.strip(), f"{lid}: one line for {check}"


# -- 6. the authorizer's timeout and every function's log group ----------------------------

API_GATEWAY_AUTHORIZER_WAIT_SECONDS = 10


def test_the_authorizer_times_out_well_before_api_gateway_stops_waiting() -> None:
    timeout = functions()["AuthorizerFunction"]["Properties"]["Timeout"]

    assert timeout <= API_GATEWAY_AUTHORIZER_WAIT_SECONDS / 2


def test_every_function_has_its_log_group_with_retention() -> None:
    groups = resources("AWS::Logs::LogGroup")
    by_function = {
        g["Properties"]["LogGroupName"]["Fn::Sub"].removeprefix("/aws/lambda/${").rstrip("}"): g
        for g in groups.values()
        if "/aws/lambda/" in str(g["Properties"]["LogGroupName"])
    }

    assert set(by_function) == set(functions())
    for lid, group in by_function.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, lid
        assert group.get("Condition") == functions()[lid].get("Condition"), lid
    assert load()["Parameters"]["LogRetentionDays"]["Default"] in (14, 30, 60, 90)


# -- 7. safe releases ------------------------------------------------------------------------


def alias_of(function: str) -> dict[str, Any]:
    aliases = [
        a
        for a in resources("AWS::Lambda::Alias").values()
        if a["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert len(aliases) == 1, function
    return aliases[0]


def test_every_function_is_published_behind_the_alias_live() -> None:
    for lid in functions():
        alias = alias_of(lid)
        assert alias["Properties"]["Name"] == "live"
        assert ref(alias["Properties"]["FunctionVersion"]).startswith(f"{lid}Version")


@pytest.mark.parametrize("function", sorted(set(functions()) - {CONSOLE}))
def test_a_release_shifts_traffic_gradually_and_rolls_back_on_the_functions_alarms(
    function: str,
) -> None:
    template = translated()["Resources"]
    update = alias_of(function)["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    group = template[update["DeploymentGroupName"]["Ref"]]["Properties"]

    config = json.dumps(group["DeploymentConfigName"])
    assert "AllAtOnce" not in config
    assert re.search(r"Canary|Linear", config)
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
    assert group["AlarmConfiguration"]["Enabled"] is True
    alarms = [a["Name"]["Ref"] for a in group["AlarmConfiguration"]["Alarms"]]
    assert alarms
    assert all(template[a]["Type"] == "AWS::CloudWatch::Alarm" for a in alarms)


def test_the_stream_readers_roll_back_on_their_own_failure_alarms() -> None:
    template = translated()["Resources"]

    def alarms(function: str) -> set[str]:
        group = template[f"{function}DeploymentGroup"]["Properties"]
        return {a["Name"]["Ref"] for a in group["AlarmConfiguration"]["Alarms"]}

    assert {"ProjectorFailureAlarm", "ProjectorHeldBackAlarm"} <= alarms("ProjectorFunction")
    assert {"OrderProcessFailureAlarm", "OrderProcessHeldBackAlarm"} <= alarms(
        "OrderProcessFunction"
    )


def test_a_development_stack_may_release_all_at_once() -> None:
    group = translated(DeploymentType="AllAtOnce")["Resources"]["DocsFunctionDeploymentGroup"]

    assert "AllAtOnce" in json.dumps(group["Properties"]["DeploymentConfigName"])


def test_routes_authorizer_and_stream_mappings_invoke_the_alias_not_the_function() -> None:
    template = translated()
    (api,) = resources("AWS::ApiGatewayV2::Api").values()
    body = api["Properties"]["Body"]
    integrations = [
        json.dumps(operation["x-amazon-apigateway-integration"]["uri"])
        for path in body["paths"].values()
        for operation in path.values()
        if "x-amazon-apigateway-integration" in operation
    ]
    authorizers = [
        json.dumps(scheme["x-amazon-apigateway-authorizer"]["authorizerUri"])
        for scheme in body["components"]["securitySchemes"].values()
    ]

    assert integrations
    assert authorizers
    for uri in integrations + authorizers:
        assert "Aliaslive" in uri, uri
    for mapping in resources("AWS::Lambda::EventSourceMapping").values():
        assert ref(mapping["Properties"]["FunctionName"]).endswith("Aliaslive")
    for lid, permission in resources("AWS::Lambda::Permission").items():
        assert ref(permission["Properties"]["FunctionName"]).endswith("Aliaslive"), lid
    assert template["Resources"]["AuthorizerFunctionAliaslive"]


def test_edge_protection_is_off_by_default_and_limits_each_client_address_when_on() -> None:
    assert load()["Parameters"]["EdgeProtection"]["Default"] == "false"
    edge = {
        lid: r
        for lid, r in load()["Resources"].items()
        if r["Type"].startswith(("AWS::WAFv2::", "AWS::CloudFront::"))
    }
    assert edge
    assert {r.get("Condition") for r in edge.values()} == {"ProtectsEdge"}

    on = translated(EdgeProtection="true")["Resources"]
    (acl,) = (r for r in on.values() if r["Type"] == "AWS::WAFv2::WebACL")
    assert acl["Properties"]["Scope"] == "CLOUDFRONT"
    rates = [
        rule["Statement"]["RateBasedStatement"]
        for rule in acl["Properties"]["Rules"]
        if "RateBasedStatement" in rule["Statement"]
    ]
    assert [r["AggregateKeyType"] for r in rates] == ["IP"]
    (distribution,) = (r for r in on.values() if r["Type"] == "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    assert ref(config["WebACLId"]) == "EdgeWebAcl"
    assert "HttpApi" in json.dumps(config["Origins"])


def test_the_local_stack_runs_the_authorizer_the_alias_names() -> None:
    from tests.support.template import http_routes, model

    (api,) = model().apis.values()

    assert api.authorizers["CallerAuthorizer"].function_logical_id == "AuthorizerFunction"
    assert any(route.authorized for route in http_routes())
