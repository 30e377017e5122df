"""Every command route goes through the one edge (functions/shared/commands.py), declares
its needs in its own signature, and finds its services in what its entry point passed."""

from __future__ import annotations

import inspect
import typing
from types import ModuleType

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import BaseModel

from functions.commands import catalog, identity, ordering
from functions.shared.http import CommandEdge, NoBody


def routes(module: ModuleType) -> list[Route]:
    app = module.app
    return [*app._static_routes, *app._dynamic_routes]  # Powertools' route table (3.x)


@pytest.mark.parametrize("module", [catalog, identity, ordering], ids=lambda m: m.__name__)
def test_every_command_route_runs_behind_the_command_edge(module: ModuleType) -> None:
    found = routes(module)
    assert found
    for route in found:
        takes_body = "body" in inspect.signature(route.func).parameters
        # a route without a body refuses one with fields first (Powertools checks none)
        edge = [CommandEdge] if takes_body else [NoBody, CommandEdge]
        assert [type(m) for m in route.middlewares] == edge, route.rule


@pytest.mark.parametrize("module", [catalog, identity, ordering], ids=lambda m: m.__name__)
def test_a_command_route_takes_one_body_and_answers_its_answer_model(module: ModuleType) -> None:
    for route in routes(module):
        hints = typing.get_type_hints(route.func, include_extras=True)
        answer = hints.pop("return")
        bodies = [h for h in hints.values() if isinstance(h, type) and issubclass(h, BaseModel)]
        injected = [
            n
            for n, h in hints.items()
            if any(isinstance(m, Depends) for m in getattr(h, "__metadata__", ()))
        ]
        assert len(bodies) <= 1, route.rule
        assert issubclass(answer, BaseModel), route.rule
        assert "call" in injected, route.rule
