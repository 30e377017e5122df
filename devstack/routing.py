"""HTTP API route selection: the most specific route wins, as in API Gateway."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from devstack.sam import RouteSpec
from devstack.template import TemplateError

_LITERAL, _PARAMETER, _GREEDY = 0, 1, 2


@dataclass(frozen=True)
class RouteMatch:
    route: RouteSpec
    path_parameters: Mapping[str, str]


@dataclass(frozen=True)
class _Segment:
    kind: int
    text: str  # the literal, or the parameter's name


def _parse(path: str) -> tuple[_Segment, ...]:
    if not path.startswith("/"):
        raise TemplateError(f"route path {path!r} must start with /")
    segments = []
    parts = path[1:].split("/")
    for position, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name.endswith("+"):
                if position != len(parts) - 1:
                    raise TemplateError(f"greedy variable must be last in {path!r}")
                segments.append(_Segment(_GREEDY, name[:-1]))
            else:
                segments.append(_Segment(_PARAMETER, name))
        else:
            segments.append(_Segment(_LITERAL, part))
    return tuple(segments)


def _bind(segments: tuple[_Segment, ...], parts: list[str]) -> dict[str, str] | None:
    parameters: dict[str, str] = {}
    for position, segment in enumerate(segments):
        if segment.kind == _GREEDY:
            rest = "/".join(parts[position:])
            if not rest:
                return None
            parameters[segment.text] = rest
            return parameters
        if position >= len(parts):
            return None
        part = parts[position]
        if segment.kind == _LITERAL:
            if part != segment.text:
                return None
        elif not part:
            return None
        else:
            parameters[segment.text] = part
    return parameters if len(parts) == len(segments) else None


class Router:
    """Selects a route for a method and path (without the stage prefix).

    Routes are kept most specific first: literal beats {param} beats {greedy+}, segment by
    segment; then a method beats ANY; then the order they were declared in. The first that
    fits wins.
    """

    def __init__(self, routes: Iterable[RouteSpec]) -> None:
        self._routes: list[tuple[RouteSpec, tuple[_Segment, ...]]] = []
        self._default: RouteSpec | None = None
        seen: dict[str, RouteSpec] = {}
        for route in routes:
            if route.route_key in seen:
                other = seen[route.route_key]
                raise TemplateError(
                    f"route {route.route_key} is declared by both {other.function_logical_id}."
                    f"{other.event_name} and {route.function_logical_id}.{route.event_name}"
                )
            seen[route.route_key] = route
            if route.path == "$default":
                self._default = route
            else:
                self._routes.append((route, _parse(route.path)))
        self._routes.sort(
            key=lambda entry: (tuple(each.kind for each in entry[1]), entry[0].method == "ANY")
        )

    def match(self, method: str, path: str) -> RouteMatch | None:
        # API Gateway decodes the path before matching, so %2F separates segments too
        parts = unquote(path)[1:].split("/") if path.startswith("/") else []
        for route, segments in self._routes:
            if route.method in (method.upper(), "ANY"):
                parameters = _bind(segments, parts)
                if parameters is not None:
                    return RouteMatch(route, parameters)
        return RouteMatch(self._default, {}) if self._default is not None else None
