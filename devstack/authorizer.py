"""HTTP API Lambda authorizers (payload 2.0): identity sources, simple and IAM-policy responses."""

from __future__ import annotations

import copy
import fnmatch
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devstack.cfn import ACCOUNT_ID
from devstack.http_event import HttpRequest, query_parameters
from devstack.logs import LogSink
from devstack.runtime import Invoker
from devstack.sam import ApiSpec, AuthorizerSpec


@dataclass(frozen=True)
class Allowed:
    """The request goes on; `authorizer` becomes `requestContext.authorizer`."""

    authorizer: Mapping[str, Any]


@dataclass(frozen=True)
class Rejected:
    """The gateway answers `status` without calling the route's function."""

    status: int


Decision = Allowed | Rejected


def route_arn(api: ApiSpec, region: str, method: str, raw_path: str) -> str:
    """`arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}{path}`."""
    return f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{api.api_id}/{api.stage}/{method}{raw_path}"


def identity_values(
    sources: tuple[str, ...], request: HttpRequest, parts: Mapping[str, Any], api: ApiSpec
) -> list[str] | None:
    """The identity sources' values in order; None when one is missing or empty (a 401)."""
    context = parts["requestContext"]
    flat_context = {
        "routeKey": context["routeKey"],
        "stage": context["stage"],
        "apiId": context["apiId"],
        "requestId": context["requestId"],
        "domainName": context["domainName"],
        "httpMethod": context["http"]["method"],
        "path": context["http"]["path"],
        "protocol": context["http"]["protocol"],
        "identity.sourceIp": context["http"]["sourceIp"],
        "identity.userAgent": context["http"]["userAgent"],
    }
    lookups: dict[str, Callable[[str], str | None]] = {
        "$request.header.": request.header,
        "$request.querystring.": query_parameters(request.raw_query).get,
        "$stageVariables.": api.stage_variables.get,
        "$context.": flat_context.get,
    }
    values = []
    for source in sources:
        prefix = next((known for known in lookups if source.startswith(known)), "$context.")
        value = lookups[prefix](source.removeprefix(prefix))
        if not value:
            return None
        values.append(value)
    return values


def _policy_allows(policy: Any, arn: str) -> bool:
    """IAM evaluation of `execute-api:Invoke` on `arn`: an explicit Deny wins, else an Allow."""
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list | dict):
        raise ValueError("policyDocument has no Statement")
    statements = policy["Statement"]
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(arn, r) for r in resources):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return False
        allowed = allowed or effect == "Allow"
    return allowed


class Authorizers:
    """Runs a route's authorizer before its function, with API Gateway's answers and cache."""

    def __init__(
        self,
        invoke: Invoker,
        region: str,
        log: LogSink,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._invoke = invoke
        self._region = region
        self._log = log
        self._clock = clock
        # (API, authorizer, identity) -> (expiry on `clock`, the authorizer's response)
        self._cache: dict[tuple[str, str, tuple[str, ...]], tuple[float, Mapping[str, Any]]] = {}
        self._lock = threading.Lock()

    def authorize(
        self,
        spec: AuthorizerSpec,
        api: ApiSpec,
        request: HttpRequest,
        parts: Mapping[str, Any],
    ) -> Decision:
        """`parts` are the request's event fields (`http_event.request_parts`)."""
        identity = identity_values(spec.identity_sources, request, parts, api)
        if identity is None:
            return Rejected(401)
        arn = route_arn(api, self._region, request.method, request.raw_path)
        key = (api.logical_id, spec.name, tuple(identity))
        response = self._cached(key) if spec.ttl_seconds > 0 else None
        if response is None:
            event: dict[str, Any] = {"version": "2.0", "type": "REQUEST", "routeArn": arn}
            if spec.identity_sources:
                event["identitySource"] = identity
            event.update((k, v) for k, v in copy.deepcopy(dict(parts)).items() if k != "version")
            result = self._invoke(spec.function_logical_id, event)
            if not result.ok:
                self._log(f"[gateway] authorizer {spec.name} failed: {result.error}")
                return Rejected(500)
            if not isinstance(result.payload, dict):
                self._log(f"[gateway] authorizer {spec.name} returned {result.payload!r}")
                return Rejected(500)
            response = result.payload
            if spec.ttl_seconds > 0:
                with self._lock:
                    self._cache[key] = (self._clock() + spec.ttl_seconds, response)
        try:
            return _decision(spec.simple_responses, response, arn)
        except ValueError as error:
            self._log(f"[gateway] authorizer {spec.name}: {error}")
            return Rejected(500)

    def _cached(self, key: tuple[str, str, tuple[str, ...]]) -> Mapping[str, Any] | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None or entry[0] <= self._clock():
                self._cache.pop(key, None)
                return None
            return entry[1]


def _decision(simple: bool, response: Mapping[str, Any], arn: str) -> Decision:
    """What the authorizer's `response` decides; ValueError (for the log) when it is invalid."""
    context = response.get("context")
    if context is not None and not isinstance(context, dict):
        raise ValueError("context must be an object")
    authorizer: dict[str, Any] = {"lambda": dict(context or {})}
    if simple:
        authorized = response.get("isAuthorized")
        if not isinstance(authorized, bool):
            raise ValueError("isAuthorized must be a boolean")
        return Allowed(authorizer) if authorized else Rejected(403)
    try:
        allowed = _policy_allows(response.get("policyDocument"), arn)
    except (ValueError, AttributeError, TypeError) as error:
        raise ValueError(f"invalid policy response: {error}") from None
    if not allowed:
        return Rejected(403)
    if "principalId" in response:
        authorizer["principalId"] = response["principalId"]
    return Allowed(authorizer)
