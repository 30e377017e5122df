"""The template's functions, HTTP API routes and stream mappings, read by SAM CLI's providers.

`SamFunctionProvider` and `ApiProvider` (samcli) apply SAM's Globals, resolve intrinsics and
read `HttpApi` events and Lambda authorizers exactly as `sam local` does; this module turns
what they answer into the specs the runtime, gateway and pump run. Stream event source
mappings (`DynamoDB` events, `AWS::Lambda::EventSourceMapping`) are not in samcli's model:
they are read here from the template as samcli resolved it.

Relies on (pinned): `SamLocalStackProvider.get_stacks(path, parameter_overrides=...)` (its
overrides double as the intrinsic resolver's `logical_id_translator`, so `Ref`/`GetAtt` of
a resource answer what exists; it renames each resource to what its `Ref` answers, which
`read` maps back), `Stack.resources`, `Function.function_id`, `SamFunctionProvider(stacks,
use_raw_codeuri=True).get_all()` (`Function.name`, `functionname`, `handler`, `runtime`,
`codeuri`, `timeout`, `memory`, `environment`, `events`, `layers` with
`LayerVersion.is_defined_within_template`), `ApiProvider(stacks).get_all()`
(`Api.routes`: `Route.methods`, `path`, `function_name`, `event_type`,
`payload_format_version`, `authorizer_name`, `authorizer_object`; `LambdaAuthorizer`'s
`lambda_name`, `payload_version`, `use_simple_response`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.cfn import Resolver, TemplateError, Values, scalar_text
from devstack.filters import FilterPattern, parse_pattern
from devstack.template import Template

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
    parallelization_factor: int = 1
    """Batches of one shard in flight at once, each partition key in one lane, in order."""


@dataclass(frozen=True)
class QueueMappingSpec:
    """An SQS event source mapping, with Lambda's defaults."""

    function_logical_id: str
    source_name: str
    queue_arn: str
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None
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


class SamReader:
    """Builds a `SamModel` from a template whose resources exist: `values` answers `Ref` and
    `Fn::GetAtt` for them, for the functions (name, Arn) and the APIs (id, endpoint)."""

    def __init__(
        self,
        template: Template,
        values: Values,
        active: Callable[[str], bool],
        api_id: Callable[[str], str],
        warn: Warn,
    ) -> None:
        self._template = template
        self._values = values
        self._active = active
        self._api_id = api_id
        self._warn = warn
        self._resolver = Resolver(template.body, values)

    def read(self) -> SamModel:
        from samcli.lib.providers.api_provider import ApiProvider
        from samcli.lib.providers.sam_function_provider import SamFunctionProvider
        from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

        try:
            stacks, _ = SamLocalStackProvider.get_stacks(  # our parse, not a second one
                template_dictionary=copy.deepcopy(dict(self._template.body)),
                parameter_overrides=self._values,
            )
        except Exception as error:  # samcli's own errors share no base class
            raise TemplateError(f"SAM could not read {self._template.path}: {error}") from error
        # samcli's resolver also translates the Resources' keys through the overrides: a
        # resource comes back under what its `Ref` answers; map those back to logical ids
        self._renamed = {
            str(v["Ref"]): lid
            for lid, v in self._values.items()
            if isinstance(v, dict) and isinstance(v.get("Ref"), str)
        }
        self._resources: dict[str, Any] = {
            self._renamed.get(key, key): resource for key, resource in stacks[0].resources.items()
        }
        model = SamModel()
        provider = SamFunctionProvider(
            stacks, use_raw_codeuri=True, ignore_code_extraction_warnings=True
        )
        for function in provider.get_all():
            lid = self._renamed.get(function.function_id, str(function.function_id))
            spec = self._function(lid, function) if self._active(lid) else None
            if spec is None:
                continue
            model.functions[lid] = spec
            for event_name, event in (function.events or {}).items():
                properties = event.get("Properties") or {}
                if event.get("Type") == "DynamoDB" and _flag(properties.get("Enabled", True)):
                    model.stream_mappings.append(
                        self._stream_mapping(lid, str(event_name), properties)
                    )
                elif event.get("Type") == "SQS" and _flag(properties.get("Enabled", True)):
                    model.queue_mappings.append(
                        self._queue_mapping(lid, str(event_name), properties, arn_key="Queue")
                    )
                elif event.get("Type") not in ("HttpApi", "DynamoDB", "SQS"):
                    self._warn(
                        f"{lid}.{event_name}: event type {event.get('Type')} is not emulated"
                    )
        self._routes(ApiProvider(stacks), model)
        for lid, resource in self._template.resources.items():
            if resource.get("Type") == ESM_TYPE and self._active(lid):
                self._event_source_mapping(lid, model)
        return model

    # ------------------------------------------------------------------ functions
    def _function(self, lid: str, function: Any) -> FunctionSpec | None:
        runtime = str(function.runtime or "")
        if not runtime.startswith("python") or not function.handler:
            self._warn(
                f"{lid}: only Python zip functions run locally (Runtime {runtime!r}); skipped"
            )
            return None
        code = function.codeuri or "."
        code_dir = (self._template.directory / str(code)).resolve()
        if not code_dir.is_dir():
            raise TemplateError(f"{lid}: CodeUri {code_dir} is not a directory")
        if not all(layer.is_defined_within_template for layer in function.layers):
            # a layer of this template is built from the project's dependencies, which the
            # stack's environment has; one from elsewhere is not
            self._warn(f"{lid}: layers from outside the template are not loaded locally")
        variables = (function.environment or {}).get("Variables") or {}
        reserved = (self._resources[lid].get("Properties") or {}).get(
            "ReservedConcurrentExecutions"
        )
        if isinstance(reserved, (dict, list)):  # an intrinsic (!If on a parameter)
            reserved = self._resolver.resolve({"Value": reserved}).get("Value")
        values = self._values[lid]
        return FunctionSpec(
            logical_id=lid,
            name=str(values["Ref"]),
            arn=str(values["Arn"]),
            handler=str(function.handler),
            runtime=runtime,
            code_dir=code_dir,
            timeout=int(function.timeout or DEFAULT_TIMEOUT),
            memory_size=int(function.memory or DEFAULT_MEMORY),
            environment={str(k): scalar_text(v) for k, v in variables.items()},
            reserved_concurrency=None if reserved is None else int(reserved),
        )

    # ------------------------------------------------------------------ HTTP APIs
    def _routes(self, provider: Any, model: SamModel) -> None:
        declared = [
            lid
            for lid, resource in self._template.resources.items()
            if resource.get("Type") == HTTP_API_TYPE and self._active(lid)
        ]
        if len(declared) > 1:
            raise TemplateError(f"one HTTP API per template locally, not {len(declared)}")
        api_lid = declared[0] if declared else IMPLICIT_HTTP_API
        # samcli names a route's function by what `Ref` answers for it (its physical name)
        by_name = {spec.name: lid for lid, spec in model.functions.items()}
        for api in provider.get_all():
            for route in api.routes:
                function = by_name.get(route.function_name, route.function_name)
                if route.event_type != "HttpApi" or function not in model.functions:
                    continue
                if api_lid not in model.apis:
                    model.apis[api_lid] = self._api(api_lid)
                model.routes.extend(self._route(api_lid, function, route, model))

    def _api(self, lid: str) -> ApiSpec:
        properties = (self._resources.get(lid) or {}).get("Properties") or {}
        auth = properties.get("Auth") or {}
        authorizers = {}
        for name, config in (auth.get("Authorizers") or {}).items():
            spec = self._authorizer(lid, str(name), config)
            if spec is not None:
                authorizers[str(name)] = spec
        for unsupported in ("CorsConfiguration", "Domain", "DefinitionBody", "DefinitionUri"):
            if properties.get(unsupported):
                self._warn(f"{lid}: {unsupported} is not emulated")
        variables = properties.get("StageVariables") or {}
        return ApiSpec(
            logical_id=lid,
            api_id=self._api_id(lid),
            stage=scalar_text(properties.get("StageName", "$default")),
            stage_variables={str(k): scalar_text(v) for k, v in variables.items()},
            authorizers=authorizers,
            default_authorizer=auth.get("DefaultAuthorizer"),
        )

    def _authorizer(self, api: str, name: str, config: Mapping[str, Any]) -> AuthorizerSpec | None:
        if "FunctionArn" not in config:
            self._warn(f"{api}: authorizer {name} is not a Lambda authorizer; not emulated")
            return None
        # the function's ARN, or its alias's (AutoPublishAlias): the same function locally
        arn = ":".join(scalar_text(config["FunctionArn"]).split(":")[:7])
        function = next(
            (lid for lid, v in self._values.items() if isinstance(v, dict) and v.get("Arn") == arn),
            None,
        )
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

    def _route(self, api_lid: str, lid: str, route: Any, model: SamModel) -> list[RouteSpec]:
        api = model.apis[api_lid]
        if route.payload_format_version not in (None, "2.0"):
            self._warn(f"{lid} {route.path}: payload format 1.0 is not emulated; the event is 2.0")
        authorizer = route.authorizer_name
        if authorizer == "AWS_IAM":
            self._warn(f"{lid} {route.path}: IAM authorization is not emulated; the route is open")
        if authorizer in ("NONE", "AWS_IAM"):
            authorizer = None
        elif authorizer is not None and authorizer not in api.authorizers:
            self._warn(
                f"{lid} {route.path}: authorizer {authorizer} is not emulated; the route is open"
            )
            authorizer = None
        path = "$default" if getattr(route, "is_default_route", False) else str(route.path)
        return [
            RouteSpec(
                api_logical_id=api_lid,
                method=method,
                path=path,
                function_logical_id=lid,
                event_name=self._event_name(lid, path, method),
                authorizer=authorizer,
            )
            for method in _distinct_methods(route.methods)
        ]

    def _event_name(self, lid: str, path: str, method: str) -> str:
        events = (self._resources[lid].get("Properties") or {}).get("Events") or {}
        for name, event in events.items():
            properties = event.get("Properties") or {}
            if event.get("Type") == "HttpApi" and str(properties.get("Path", "$default")) == path:
                wanted = str(properties.get("Method", "ANY")).upper()
                if wanted in (method, "ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD"):
                    return str(name)
        return f"{method} {path}"

    # ------------------------------------------------------------------ stream mappings
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
        self, lid: str, name: str, properties: Mapping[str, Any], *, arn_key: str = "Stream"
    ) -> StreamMappingSpec:
        where = f"{lid}.{name}"
        stream_arn = properties.get(arn_key)
        if not stream_arn:
            raise TemplateError(f"{where}: the table has no stream (StreamSpecification)")
        on_failure = ((properties.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        factor = int(properties.get("ParallelizationFactor", 1))
        if not 1 <= factor <= 10:
            raise TemplateError(f"{where}: ParallelizationFactor must be 1 to 10, not {factor}")
        if properties.get("TumblingWindowInSeconds"):
            self._warn(f"{where}: TumblingWindowInSeconds is not emulated")
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
            parallelization_factor=factor,
        )

    def _queue_mapping(
        self, lid: str, name: str, properties: Mapping[str, Any], *, arn_key: str
    ) -> QueueMappingSpec:
        where = f"{lid}.{name}"
        queue_arn = properties.get(arn_key)
        if not queue_arn:
            raise TemplateError(f"{where}: no queue ARN ({arn_key})")
        scaling = properties.get("ScalingConfig") or {}
        maximum = scaling.get("MaximumConcurrency")
        return QueueMappingSpec(
            function_logical_id=lid,
            source_name=name,
            queue_arn=scalar_text(queue_arn),
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures"
            in (properties.get("FunctionResponseTypes") or []),
            maximum_concurrency=None if maximum is None else int(maximum),
            filters=self._filters(where, properties.get("FilterCriteria")),
        )

    def _event_source_mapping(self, lid: str, model: SamModel) -> None:
        raw = self._resolver.resolve(self._template.resources[lid].get("Properties") or {})
        if not _flag(raw.get("Enabled", True)):
            return
        function = scalar_text(raw["FunctionName"])
        target = next(
            (flid for flid, spec in model.functions.items() if function in (spec.arn, spec.name)),
            None,
        )
        if target is None:
            self._warn(f"{lid}: function {function} does not run locally; mapping skipped")
            return
        source = scalar_text(raw["EventSourceArn"])
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


def _distinct_methods(methods: Any) -> list[str]:
    # samcli expands ANY into every method; the router ranks ANY itself
    listed = [str(m).upper() for m in methods]
    if {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"} <= set(listed):
        return ["ANY"]
    return ["ANY" if m == "X-AMAZON-APIGATEWAY-ANY-METHOD" else m for m in listed]
