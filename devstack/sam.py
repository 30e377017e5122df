"""Read the template's functions, HTTP APIs, routes and event source mappings into specs."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.filters import FilterPattern, parse_pattern
from devstack.intrinsics import Resolver, scalar_text
from devstack.template import Template, TemplateError

FUNCTION_TYPES = ("AWS::Serverless::Function",)
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
IMPLICIT_HTTP_API = "ServerlessHttpApi"
ESM_TYPE = "AWS::Lambda::EventSourceMapping"
# Lambda's defaults when a function does not say
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128

Warn = Callable[[str], None]


@dataclass(frozen=True)
class FunctionSpec:
    """A function as Lambda would run it: handler, limits and its template environment."""

    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    code_dir: Path
    timeout: int
    memory_size: int
    environment: Mapping[str, str]
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class AuthorizerSpec:
    """A Lambda (REQUEST) authorizer of an HTTP API."""

    name: str
    function_logical_id: str
    payload_format_version: str
    simple_responses: bool
    identity_sources: tuple[str, ...]
    ttl_seconds: int


@dataclass(frozen=True)
class ApiSpec:
    """An HTTP API: its id, stage and authorizers."""

    logical_id: str
    api_id: str
    stage: str = "$default"
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    authorizers: Mapping[str, AuthorizerSpec] = field(default_factory=dict)
    default_authorizer: str | None = None


@dataclass(frozen=True)
class RouteSpec:
    """One `HttpApi` event of a function: `METHOD /path` (or `$default`) on an API."""

    api_logical_id: str
    method: str
    path: str
    function_logical_id: str
    event_name: str
    authorizer: str | None = None

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class StreamMappingSpec:
    """A DynamoDB stream event source mapping, with Lambda's defaults."""

    function_logical_id: str
    source_name: str
    stream_arn: str
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100
    batching_window_seconds: float = 0.0
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age_seconds: int = -1
    report_batch_item_failures: bool = False
    filters: tuple[FilterPattern, ...] = ()
    on_failure_arn: str | None = None


@dataclass(frozen=True)
class QueueMappingSpec:
    """An SQS event source mapping."""

    function_logical_id: str
    source_name: str
    queue_arn: str
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False
    filters: tuple[FilterPattern, ...] = ()


@dataclass
class SamModel:
    """Everything the runtime, gateway and pump need, resolved."""

    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    apis: dict[str, ApiSpec] = field(default_factory=dict)
    routes: list[RouteSpec] = field(default_factory=list)
    stream_mappings: list[StreamMappingSpec] = field(default_factory=list)
    queue_mappings: list[QueueMappingSpec] = field(default_factory=list)


def _flag(value: Any) -> bool:
    return scalar_text(value).lower() == "true"


def _ref_target(value: Any) -> str | None:
    """The logical id a raw `!Ref X` / `!GetAtt X.Attr` points at, if it is one."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
    return None


class SamReader:
    """Builds a `SamModel` from a template whose resources already exist."""

    def __init__(
        self,
        template: Template,
        resolver: Resolver,
        active: Callable[[str], bool],
        api_id: Callable[[str], str],
        warn: Warn,
    ) -> None:
        self._template = template
        self._resolver = resolver
        self._active = active
        self._api_id = api_id
        self._warn = warn
        self._by_arn: dict[str, str] = {}

    def read(self) -> SamModel:
        model = SamModel()
        resources = self._template.resources
        function_ids = [
            lid
            for lid, resource in resources.items()
            if resource.get("Type") in FUNCTION_TYPES and self._active(lid)
        ]
        for lid in function_ids:
            spec = self._function(lid)
            if spec is not None:
                model.functions[lid] = spec
        self._by_arn = {spec.arn: lid for lid, spec in model.functions.items()}
        for lid, resource in resources.items():
            if resource.get("Type") == HTTP_API_TYPE and self._active(lid):
                model.apis[lid] = self._api(lid, self._template.properties(lid))
        for lid in model.functions:
            self._events(lid, model)
        for lid, resource in resources.items():
            if resource.get("Type") == ESM_TYPE and self._active(lid):
                self._event_source_mapping(lid, model)
        return model

    # ------------------------------------------------------------------ functions
    def _function(self, lid: str) -> FunctionSpec | None:
        properties = self._template.properties(lid)
        runtime = scalar_text(properties.get("Runtime", ""))
        handler = properties.get("Handler")
        if not runtime.startswith("python") or not handler:
            self._warn(
                f"{lid}: only Python zip functions run locally (Runtime {runtime!r}); skipped"
            )
            return None
        code = properties.get("CodeUri", ".")
        if not isinstance(code, str):
            self._warn(f"{lid}: CodeUri must be a local directory; skipped")
            return None
        code_dir = (self._template.directory / code).resolve()
        if not code_dir.is_dir():
            raise TemplateError(f"{lid}: CodeUri {code_dir} is not a directory")
        foreign = [layer for layer in properties.get("Layers") or [] if _ref_target(layer) is None]
        if foreign:
            # a layer of this template is built from the project's dependencies, which the
            # stack's environment has; one from elsewhere is not
            self._warn(f"{lid}: layers from outside the template are not loaded locally")
        variables = self._resolver.resolve(
            (properties.get("Environment") or {}).get("Variables") or {}
        )
        reserved = properties.get("ReservedConcurrentExecutions")
        return FunctionSpec(
            logical_id=lid,
            name=scalar_text(self._resolver.resolve({"Ref": lid})),
            arn=scalar_text(self._resolver.resolve({"Fn::GetAtt": [lid, "Arn"]})),
            handler=scalar_text(self._resolver.resolve(handler)),
            runtime=runtime,
            code_dir=code_dir,
            timeout=int(self._resolver.resolve(properties.get("Timeout", DEFAULT_TIMEOUT))),
            memory_size=int(self._resolver.resolve(properties.get("MemorySize", DEFAULT_MEMORY))),
            environment={str(k): scalar_text(v) for k, v in variables.items()},
            reserved_concurrency=None
            if reserved is None
            else int(self._resolver.resolve(reserved)),
        )

    # ------------------------------------------------------------------ HTTP APIs
    def _api(self, lid: str, properties: Mapping[str, Any]) -> ApiSpec:
        auth = self._resolver.resolve(properties.get("Auth") or {})
        authorizers: dict[str, AuthorizerSpec] = {}
        for name, config in (auth.get("Authorizers") or {}).items():
            spec = self._authorizer(lid, str(name), config)
            if spec is not None:
                authorizers[str(name)] = spec
        default = auth.get("DefaultAuthorizer")
        if default is not None and str(default) not in authorizers:
            self._warn(f"{lid}: DefaultAuthorizer {default} is not emulated; its routes are open")
            default = None
        variables = self._resolver.resolve(properties.get("StageVariables") or {})
        for unsupported in ("CorsConfiguration", "Domain", "DefinitionBody", "DefinitionUri"):
            if properties.get(unsupported):
                self._warn(f"{lid}: {unsupported} is not emulated")
        return ApiSpec(
            logical_id=lid,
            api_id=self._api_id(lid),
            stage=scalar_text(self._resolver.resolve(properties.get("StageName", "$default"))),
            stage_variables={str(k): scalar_text(v) for k, v in variables.items()},
            authorizers=authorizers,
            default_authorizer=None if default is None else str(default),
        )

    def _authorizer(self, api: str, name: str, config: Mapping[str, Any]) -> AuthorizerSpec | None:
        if "FunctionArn" not in config:
            self._warn(f"{api}: authorizer {name} is not a Lambda authorizer; not emulated")
            return None
        function = self._by_arn.get(scalar_text(config["FunctionArn"]))
        if function is None:
            raise TemplateError(f"{api}: authorizer {name} names no local function")
        version = scalar_text(config.get("AuthorizerPayloadFormatVersion", "2.0"))
        if version not in ("2.0", "2"):
            self._warn(
                f"{api}: authorizer {name} uses payload {version}; the local stack sends 2.0"
            )
        identity = config.get("Identity") or {}
        sources = tuple(
            prefix + scalar_text(value)
            for prefix, key in (
                ("$request.header.", "Headers"),
                ("$request.querystring.", "QueryStrings"),
                ("$stageVariables.", "StageVariables"),
                ("$context.", "Context"),
            )
            for value in identity.get(key) or []
        )
        ttl = identity.get("ReauthorizeEvery")
        return AuthorizerSpec(
            name=name,
            function_logical_id=function,
            payload_format_version="2.0",
            simple_responses=_flag(config.get("EnableSimpleResponses", False)),
            identity_sources=sources,
            # Caching needs an identity source; SAM documents 300 s when unset
            ttl_seconds=0 if not sources else int(ttl if ttl is not None else 300),
        )

    # ------------------------------------------------------------------ events
    def _events(self, lid: str, model: SamModel) -> None:
        events = self._template.properties(lid).get("Events") or {}
        for event_name, event in events.items():
            kind = event.get("Type")
            raw = event.get("Properties") or {}
            if not _flag(self._resolver.resolve(raw.get("Enabled", True))):
                continue
            if kind == "HttpApi":
                model.routes.append(self._route(lid, str(event_name), raw, model))
            elif kind == "DynamoDB":
                model.stream_mappings.append(self._stream_mapping(lid, str(event_name), raw))
            elif kind == "SQS":
                model.queue_mappings.append(self._queue_mapping(lid, str(event_name), raw))
            else:
                self._warn(f"{lid}.{event_name}: event type {kind} is not emulated")

    def _route(self, lid: str, name: str, raw: Mapping[str, Any], model: SamModel) -> RouteSpec:
        api_lid = _ref_target(raw.get("ApiId")) or IMPLICIT_HTTP_API
        if api_lid not in model.apis:
            if api_lid != IMPLICIT_HTTP_API:
                raise TemplateError(f"{lid}.{name}: ApiId {api_lid} is not an HttpApi")
            implicit = self._template.globals_for("HttpApi")
            model.apis[api_lid] = self._api(api_lid, implicit)
        api = model.apis[api_lid]
        properties = self._resolver.resolve(dict(raw))
        if scalar_text(properties.get("PayloadFormatVersion", "2.0")) != "2.0":
            self._warn(f"{lid}.{name}: payload format 1.0 is not emulated; the event is 2.0")
        path = scalar_text(properties.get("Path", "$default"))
        method = scalar_text(properties.get("Method", "ANY")).upper()
        if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
            method = "ANY"
        auth = properties.get("Auth") or {}
        authorizer = auth.get("Authorizer", api.default_authorizer)
        if authorizer in ("NONE", "AWS_IAM"):
            if authorizer == "AWS_IAM":
                self._warn(f"{lid}.{name}: IAM authorization is not emulated; the route is open")
            authorizer = None
        elif authorizer is not None and authorizer not in api.authorizers:
            self._warn(f"{lid}.{name}: authorizer {authorizer} is not emulated; the route is open")
            authorizer = None
        return RouteSpec(
            api_logical_id=api_lid,
            method=method,
            path=path,
            function_logical_id=lid,
            event_name=name,
            authorizer=authorizer,
        )

    def _filters(self, where: str, criteria: Any) -> tuple[FilterPattern, ...]:
        patterns = []
        for entry in (criteria or {}).get("Filters") or []:
            text = entry.get("Pattern")
            try:
                pattern = json.loads(text) if isinstance(text, str) else text
                patterns.append(parse_pattern(pattern))
            except ValueError as error:
                raise TemplateError(f"{where}: invalid FilterCriteria pattern: {error}") from None
        return tuple(patterns)

    def _stream_mapping(
        self, lid: str, name: str, raw: Mapping[str, Any], *, arn_key: str = "Stream"
    ) -> StreamMappingSpec:
        where = f"{lid}.{name}"
        properties = self._resolver.resolve(dict(raw))
        stream_arn = properties.get(arn_key)
        if not stream_arn:
            raise TemplateError(f"{where}: the table has no stream (StreamSpecification)")
        on_failure = ((properties.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        factor = int(properties.get("ParallelizationFactor", 1))
        if factor != 1 or properties.get("TumblingWindowInSeconds"):
            self._warn(f"{where}: ParallelizationFactor/TumblingWindow are not emulated")
        return StreamMappingSpec(
            function_logical_id=lid,
            source_name=name,
            stream_arn=scalar_text(stream_arn),
            starting_position=scalar_text(properties.get("StartingPosition", "TRIM_HORIZON")),
            batch_size=int(properties.get("BatchSize", 100)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            bisect_on_error=_flag(properties.get("BisectBatchOnFunctionError", False)),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
            maximum_record_age_seconds=int(properties.get("MaximumRecordAgeInSeconds", -1)),
            report_batch_item_failures="ReportBatchItemFailures"
            in (properties.get("FunctionResponseTypes") or []),
            filters=self._filters(where, properties.get("FilterCriteria")),
            on_failure_arn=None if on_failure is None else scalar_text(on_failure),
        )

    def _queue_mapping(
        self, lid: str, name: str, raw: Mapping[str, Any], *, arn_key: str = "Queue"
    ) -> QueueMappingSpec:
        where = f"{lid}.{name}"
        properties = self._resolver.resolve(dict(raw))
        return QueueMappingSpec(
            function_logical_id=lid,
            source_name=name,
            queue_arn=scalar_text(properties[arn_key]),
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures"
            in (properties.get("FunctionResponseTypes") or []),
            filters=self._filters(where, properties.get("FilterCriteria")),
        )

    def _event_source_mapping(self, lid: str, model: SamModel) -> None:
        raw = self._template.properties(lid)
        if not _flag(self._resolver.resolve(raw.get("Enabled", True))):
            return
        function = scalar_text(self._resolver.resolve(raw["FunctionName"]))
        by_name = {spec.name: function_lid for function_lid, spec in model.functions.items()}
        target = self._by_arn.get(function) or by_name.get(function)
        if target is None:
            self._warn(f"{lid}: function {function} does not run locally; mapping skipped")
            return
        source = scalar_text(self._resolver.resolve(raw["EventSourceArn"]))
        if ":dynamodb:" in source:
            model.stream_mappings.append(
                self._stream_mapping(target, lid, raw, arn_key="EventSourceArn")
            )
        elif ":sqs:" in source:
            model.queue_mappings.append(
                self._queue_mapping(target, lid, raw, arn_key="EventSourceArn")
            )
        else:
            self._warn(f"{lid}: event source {source} is not emulated")
