"""Deploy a template locally: resolve parameters, create resources, read the SAM model."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from devstack.backend import AwsClients
from devstack.cfn import (
    ACCOUNT_ID,
    Resolver,
    Values,
    partition,
    pseudo_parameters,
    referenced_names,
    scalar_text,
)
from devstack.iam import Principal
from devstack.resources import PROVISIONED_TYPES, Provisioned, Provisioner, physical_name
from devstack.roles import function_principals, translate
from devstack.sam import (
    ESM_TYPE,
    FUNCTION_TYPES,
    HTTP_API_TYPE,
    IMPLICIT_HTTP_API,
    SamModel,
    SamReader,
)
from devstack.template import ParameterValue, Template, TemplateError

_API_TYPES = (HTTP_API_TYPE, "AWS::Serverless::Api", "AWS::ApiGatewayV2::Api")
_FUNCTION_TYPES = (*FUNCTION_TYPES, "AWS::Lambda::Function")
_LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
_EXPLAINED_TYPES = (*PROVISIONED_TYPES, *_FUNCTION_TYPES, *_LAYER_TYPES, HTTP_API_TYPE, ESM_TYPE)


def api_id(stack_name: str, logical_id: str) -> str:
    """A stable, API-Gateway-looking id (10 lower-case alphanumerics) for an API."""
    digest = int(hashlib.sha256(f"{stack_name}/{logical_id}".encode()).hexdigest(), 16)
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "".join(alphabet[(digest >> (6 * i)) % 36] for i in range(10))


@dataclass
class Deployment:
    """The template as deployed locally: resources, resolver and the functions/APIs/mappings."""

    template: Template
    stack_name: str
    region: str
    parameters: Mapping[str, ParameterValue]
    resources: Mapping[str, Provisioned]
    resolver: Resolver
    model: SamModel
    not_emulated: list[str]
    principals: Mapping[str, Principal]
    """Each function's role (SAM's translation of the template), by function logical id."""

    def resource(self, logical_id: str, *types: str) -> Provisioned:
        found = self.resources.get(logical_id)
        if found is None or (types and found.type not in types):
            raise KeyError(f"{logical_id} is not a provisioned {' or '.join(types) or 'resource'}")
        return found

    def table_name(self, logical_id: str) -> str:
        return self.resource(
            logical_id, "AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"
        ).physical_name

    def queue_url(self, logical_id: str) -> str:
        return str(self.resource(logical_id, "AWS::SQS::Queue").ref)

    def outputs(self) -> dict[str, str]:
        """The template's Outputs as this deployment resolves them (what `eventshop-admin
        --local` reads, as `--stack` reads a deployed stack's); those naming something not
        emulated here (an event source mapping's id) are left out."""
        resolved: dict[str, str] = {}
        for name, output in (self.template.body.get("Outputs") or {}).items():
            condition = output.get("Condition")
            if condition and not self.resolver.condition(str(condition)):
                continue
            try:
                value = self.resolver.resolve(output.get("Value"))
            except TemplateError:
                continue
            if isinstance(value, str | int | float | bool):
                resolved[name] = scalar_text(value)
        return resolved

    def queue_url_for_arn(self, arn: str) -> str | None:
        for resource in self.resources.values():
            if resource.type == "AWS::SQS::Queue" and resource.attributes.get("Arn") == arn:
                return str(resource.ref)
        return None


def function_values(template: Template, resolver: Resolver, stack_name: str, region: str) -> Values:
    """`Ref` (name) and `Arn` of every function, as Lambda would name them; and of the alias
    SAM creates for a function's `AutoPublishAlias` (`<LogicalId>Alias<alias>`), whose `Ref`
    is the alias's ARN: locally the alias is the function itself (one version runs)."""
    values: Values = {}
    inherited = ((template.body.get("Globals") or {}).get("Function") or {}).get("AutoPublishAlias")
    for lid, resource in template.resources.items():
        if resource.get("Type") not in _FUNCTION_TYPES:
            continue
        properties = resource.get("Properties") or {}
        given = properties.get("FunctionName")
        name = str(resolver.resolve(given)) if given is not None else f"{stack_name}-{lid}"
        arn = f"arn:{partition(region)}:lambda:{region}:{ACCOUNT_ID}:function:{name}"
        values[lid] = {"Ref": name, "Arn": arn}
        alias = properties.get("AutoPublishAlias", inherited)
        if resource.get("Type") in FUNCTION_TYPES and alias:
            alias = scalar_text(resolver.resolve(alias))
            values[f"{lid}Alias{alias}"] = {"Ref": f"{arn}:{alias}"}
    return values


def api_values(template: Template, stack_name: str, api_endpoint: str) -> Values:
    """`Ref`, `ApiId` and `ApiEndpoint` of every HTTP API, the implicit one included."""
    apis = [lid for lid, r in template.resources.items() if r.get("Type") in _API_TYPES]
    return {
        lid: {
            "Ref": api_id(stack_name, lid),
            "ApiId": api_id(stack_name, lid),
            "ApiEndpoint": api_endpoint,
        }
        for lid in [*apis, IMPLICIT_HTTP_API]
    }


def provisioning_order(template: Template, candidates: list[str]) -> list[str]:
    """`candidates` sorted so each comes after the candidates its properties reference."""
    wanted = set(candidates)
    graph: TopologicalSorter[str] = TopologicalSorter()
    for logical_id in candidates:
        resource = template.resources[logical_id]
        depends = resource.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else depends
        references = referenced_names(resource.get("Properties") or {}) | set(depends)
        graph.add(logical_id, *sorted((references & wanted) - {logical_id}))
    try:
        return list(graph.static_order())
    except CycleError as error:
        raise TemplateError(f"circular dependency: {' -> '.join(error.args[1])}") from None


def deploy(
    template: Template,
    *,
    stack_name: str,
    region: str,
    clients: AwsClients,
    api_endpoint: str,
    parameter_overrides: Mapping[str, str] | None = None,
    warn: Callable[[str], None] = lambda line: None,
) -> Deployment:
    """Create what the template declares (if missing) and resolve everything the stack runs."""
    given = dict(parameter_overrides or {})
    # `Metadata.LocalStack.GatewayUrlParameter` names the parameter that receives the local
    # gateway's URL (what links in emails point to), unless it is overridden.
    gateway_parameter = template.local_metadata().get("GatewayUrlParameter")
    if gateway_parameter:
        given.setdefault(str(gateway_parameter), api_endpoint)
    parameters = template.parameter_values(given)
    values: Values = {**parameters, **pseudo_parameters(region, stack_name)}
    resolver = Resolver(template.body, values)
    resources = template.resources

    def active(logical_id: str) -> bool:
        condition = (resources.get(logical_id) or {}).get("Condition")
        return condition is None or resolver.condition(str(condition))

    translated = _translate(template, parameters, region)
    _check_references(template, translated, values)
    values.update(function_values(template, resolver, stack_name, region))
    values.update(api_values(template, stack_name, api_endpoint))
    provisioner = Provisioner(clients)
    provisioned: dict[str, Provisioned] = {}
    to_create = [
        lid for lid in resources if resources[lid].get("Type") in PROVISIONED_TYPES and active(lid)
    ]
    for lid in provisioning_order(template, to_create):
        kind = str(resources[lid]["Type"])
        properties = resolver.resolve(resources[lid].get("Properties") or {})
        name = physical_name(lid, kind, properties, stack_name)
        provisioned[lid] = provisioner.provision(lid, kind, properties, name)
        attributes = {k: v for k, v in provisioned[lid].attributes.items() if v is not None}
        values[lid] = {"Ref": provisioned[lid].ref, **attributes}
    model = SamReader(template, values, active, lambda lid: api_id(stack_name, lid), warn).read()
    principals = function_principals(
        translated,
        parameters=_text_values(parameters),
        physical={lid: {"Ref": p.ref, **p.attributes} for lid, p in provisioned.items()},
        function_names={lid: spec.name for lid, spec in model.functions.items()},
        region=region,
        account=ACCOUNT_ID,
    )
    not_emulated = [
        f"{lid} ({resources[lid].get('Type')})"
        for lid in resources
        if active(lid) and resources[lid].get("Type") not in _EXPLAINED_TYPES
    ]
    return Deployment(
        template=template,
        stack_name=stack_name,
        region=region,
        parameters=parameters,
        resources=provisioned,
        resolver=resolver,
        model=model,
        not_emulated=not_emulated,
        principals=principals,
    )


def _text_values(parameters: Mapping[str, ParameterValue]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else ",".join(v) for k, v in parameters.items()}


def _translate(
    template: Template, parameters: Mapping[str, ParameterValue], region: str
) -> dict[str, Any]:
    try:
        return translate(template.body, _text_values(parameters), region)
    except Exception as error:  # samtranslator's InvalidDocumentException and kin
        raise TemplateError(f"SAM cannot translate {template.path}: {error}") from error


def _check_references(template: Template, translated: Mapping[str, Any], values: Values) -> None:
    """Refuse what CloudFormation would: a `Ref`/`GetAtt` to nothing (samcli's resolver would
    make up an ARN for it)."""
    known = {*values, *template.resources, *(translated.get("Resources") or {}), IMPLICIT_HTTP_API}
    unknown = sorted(referenced_names(template.resources) - known - {"AWS::NoValue"})
    if unknown:
        raise TemplateError(f"unknown resource or parameter {', '.join(unknown)}")
