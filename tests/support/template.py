"""template.yaml as plain data, and as the local stack reads it (SAM CLI's providers through
devstack): its routes, handlers and stream mappings, for tests that run the handlers in
process."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any

from devstack.cfn import Resolver, pseudo_parameters
from devstack.deployment import api_id, api_values, function_values
from devstack.resources import PROVISIONED_TYPES
from devstack.sam import SamModel, SamReader, StreamMappingSpec
from devstack.stack import DEFAULT_TEMPLATE
from devstack.template import Template

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "test"


def load() -> dict[str, Any]:
    """template.yaml as plain data: a copy of its one parse per test process (parsing takes
    a tenth of a second and every moto stack reads it)."""
    return copy.deepcopy(_parsed())


@cache
def _parsed() -> dict[str, Any]:
    return dict(Template.load(DEFAULT_TEMPLATE).body)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    """The template's resources of `kind`: read them, never change them (the one parse)."""
    return {k: v for k, v in _parsed()["Resources"].items() if v["Type"] == kind}


@cache
def model() -> SamModel:
    """The functions, routes and mappings as the local stack reads them, with stand-in names
    for the resources (`test-<LogicalId>`)."""
    template = Template.load(DEFAULT_TEMPLATE)
    values: dict[str, Any] = {
        **template.parameter_values(),
        **pseudo_parameters(REGION, STACK),
    }
    resolver = Resolver(template.body, values)
    values.update(function_values(template, resolver, STACK, REGION))
    values.update(api_values(template, STACK, "http://localhost"))
    for lid, resource in template.resources.items():
        if resource["Type"] in PROVISIONED_TYPES:
            arn = f"arn:aws:x:{REGION}:{ACCOUNT}:test-{lid}"
            values[lid] = {"Ref": f"test-{lid}", "Arn": arn, "StreamArn": f"{arn}/stream/x"}

    def active(lid: str) -> bool:
        condition = template.resources.get(lid, {}).get("Condition")
        return condition is None or resolver.condition(str(condition))

    return SamReader(
        template, values, active, lambda lid: api_id(STACK, lid), lambda _: None
    ).read()


def function_handlers() -> dict[str, str]:
    return {lid: spec.handler for lid, spec in model().functions.items()}


def stream_mapping(function: str) -> StreamMappingSpec:
    """The function's DynamoDB stream mapping: batch size, filters, retries."""
    return next(m for m in model().stream_mappings if m.function_logical_id == function)


@dataclass(frozen=True)
class Route:
    key: str
    handler: str
    authorized: bool
    function: str


def http_routes() -> list[Route]:
    """The HTTP API's routes as the template declares them."""
    handlers = function_handlers()
    return [
        Route(
            r.route_key,
            handlers[r.function_logical_id],
            r.authorizer is not None,
            r.function_logical_id,
        )
        for r in model().routes
    ]
