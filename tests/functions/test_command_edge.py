"""Every command route goes through the one edge (functions/shared/commands.py)."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Route

from functions.commands import catalog, identity, ordering

EDGE = "command.<locals>.register.<locals>.edge"


def routes(module: ModuleType) -> list[Route]:
    app = module.app
    return [*app._static_routes, *app._dynamic_routes]  # Powertools' route table (3.x)


@pytest.mark.parametrize("module", [catalog, identity, ordering], ids=lambda m: m.__name__)
def test_every_command_route_is_registered_by_the_command_edge(module: ModuleType) -> None:
    found = routes(module)
    assert found
    for route in found:
        assert route.func.__code__.co_qualname == EDGE, route.rule


@pytest.mark.parametrize("module", [catalog, identity, ordering], ids=lambda m: m.__name__)
def test_the_injected_call_is_not_a_parameter_of_any_route(module: ModuleType) -> None:
    for route in routes(module):
        assert "call" not in inspect.signature(route.func).parameters, route.rule
