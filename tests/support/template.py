"""template.yaml as plain data (through the local stack's loader), for tests of what it
declares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devstack.stack import DEFAULT_TEMPLATE
from devstack.template import Template


def load() -> dict[str, Any]:
    return dict(Template.load(DEFAULT_TEMPLATE).body)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in load()["Resources"].items() if v["Type"] == kind}


def function_handlers() -> dict[str, str]:
    template = Template.load(DEFAULT_TEMPLATE)
    return {
        logical_id: str(template.properties(logical_id)["Handler"])
        for logical_id in resources("AWS::Serverless::Function")
    }


@dataclass(frozen=True)
class Route:
    key: str
    handler: str
    authorized: bool
    function: str


def http_routes() -> list[Route]:
    """The HTTP API's routes as the template declares them."""
    handlers = function_handlers()
    routes = []
    for logical_id, function in resources("AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            props = event["Properties"]
            authorizer = (props.get("Auth") or {}).get("Authorizer")
            routes.append(
                Route(
                    f"{props['Method']} {props['Path']}",
                    handlers[logical_id],
                    authorizer != "NONE",
                    logical_id,
                )
            )
    return routes
