"""Deploy a template locally: resolve parameters, create resources, read the SAM model."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devstack.backend import AwsClients
from devstack.iam import Principal
from devstack.intrinsics import ACCOUNT_ID, Resolver, pseudo_parameters, referenced_names
from devstack.resources import PROVISIONED_TYPES, Provisioned, Provisioner, physical_name
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
_EXPLAINED_TYPES = (*PROVISIONED_TYPES, *_FUNCTION_TYPES, HTTP_API_TYPE, ESM_TYPE)


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

    def queue_url_for_arn(self, arn: str) -> str | None:
        for resource in self.resources.values():
            if resource.type == "AWS::SQS::Queue" and resource.attributes.get("Arn") == arn:
                return str(resource.ref)
        return None


class _Lookup:
    """Answers `Ref`/`Fn::GetAtt` for the resolver, from what has been provisioned so far."""

    def __init__(self, template: Template, stack_name: str, region: str, api_endpoint: str) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.api_endpoint = api_endpoint
        self.provisioned: dict[str, Provisioned] = {}
        self.resolver: Resolver | None = None

    def active(self, logical_id: str) -> bool:
        condition = self.template.resources[logical_id].get("Condition")
        return condition is None or self._resolver().condition(str(condition))

    def _resolver(self) -> Resolver:
        assert self.resolver is not None
        return self.resolver

    def _kind(self, logical_id: str) -> str:
        resource = self.template.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"unknown resource or parameter {logical_id}")
        if not self.active(logical_id):
            raise TemplateError(f"{logical_id} is not created (its condition is false)")
        return str(resource.get("Type"))

    def function_name(self, logical_id: str) -> str:
        given = self.template.properties(logical_id).get("FunctionName")
        if given is not None:
            return str(self._resolver().resolve(given))
        return f"{self.stack_name}-{logical_id}"

    def api_id(self, logical_id: str) -> str:
        return api_id(self.stack_name, logical_id)

    def ref(self, logical_id: str) -> Any:
        if logical_id == IMPLICIT_HTTP_API and logical_id not in self.template.resources:
            return self.api_id(logical_id)
        kind = self._kind(logical_id)
        if kind in PROVISIONED_TYPES:
            return self._provisioned(logical_id).ref
        if kind in _FUNCTION_TYPES:
            return self.function_name(logical_id)
        if kind in _API_TYPES:
            return self.api_id(logical_id)
        return f"{self.stack_name}-{logical_id}"

    def attribute(self, logical_id: str, name: str) -> Any:
        if logical_id == IMPLICIT_HTTP_API and logical_id not in self.template.resources:
            kind = HTTP_API_TYPE
        else:
            kind = self._kind(logical_id)
        if kind in PROVISIONED_TYPES:
            value = self._provisioned(logical_id).attributes.get(name)
            if value is None and name == "StreamArn":
                raise TemplateError(f"{logical_id} has no stream (no StreamSpecification)")
            if value is None:
                raise TemplateError(f"Fn::GetAtt {logical_id}.{name} is not supported locally")
            return value
        partition = "aws-cn" if self.region.startswith("cn-") else "aws"
        if kind in _FUNCTION_TYPES and name == "Arn":
            return (
                f"arn:{partition}:lambda:{self.region}:{ACCOUNT_ID}:function:"
                f"{self.function_name(logical_id)}"
            )
        if kind in _API_TYPES and name == "ApiEndpoint":
            return self.api_endpoint
        if kind in _API_TYPES and name == "ApiId":
            return self.api_id(logical_id)
        if name == "Arn":
            service = kind.split("::")[1].lower() if kind.count("::") == 2 else "unknown"
            return f"arn:{partition}:{service}:{self.region}:{ACCOUNT_ID}:{self.ref(logical_id)}"
        raise TemplateError(f"Fn::GetAtt {logical_id}.{name} is not supported locally ({kind})")

    def _provisioned(self, logical_id: str) -> Provisioned:
        found = self.provisioned.get(logical_id)
        if found is None:
            raise TemplateError(f"{logical_id} is used before it exists (a circular reference?)")
        return found


def provisioning_order(template: Template, candidates: list[str]) -> list[str]:
    """`candidates` sorted so each comes after the candidates its properties reference."""
    wanted = set(candidates)
    needs: dict[str, set[str]] = {}
    for logical_id in candidates:
        resource = template.resources[logical_id]
        depends = resource.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else depends
        references = referenced_names(resource.get("Properties") or {}) | set(depends)
        needs[logical_id] = (references & wanted) - {logical_id}
    order: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in done:
            return
        if logical_id in visiting:
            raise TemplateError(f"circular dependency through {logical_id}")
        visiting.add(logical_id)
        for needed in sorted(needs[logical_id]):
            visit(needed)
        visiting.discard(logical_id)
        done.add(logical_id)
        order.append(logical_id)

    for logical_id in candidates:
        visit(logical_id)
    return order


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
    parameters = template.parameter_values(parameter_overrides)
    lookup = _Lookup(template, stack_name, region, api_endpoint)
    resolver = Resolver(
        parameters=parameters,
        pseudo=pseudo_parameters(region, stack_name),
        ref=lookup.ref,
        attribute=lookup.attribute,
        conditions=template.section("Conditions"),
        mappings=template.section("Mappings"),
    )
    lookup.resolver = resolver
    resources = template.resources
    active = [lid for lid in resources if lookup.active(lid)]
    provisioner = Provisioner(clients)
    to_create = [lid for lid in active if resources[lid].get("Type") in PROVISIONED_TYPES]
    for lid in provisioning_order(template, to_create):
        kind = str(resources[lid]["Type"])
        properties = resolver.resolve(template.properties(lid))
        name = physical_name(lid, kind, properties, stack_name)
        lookup.provisioned[lid] = provisioner.provision(lid, kind, properties, name)
    model = SamReader(template, resolver, lookup.active, lookup.api_id, warn).read()
    principals = _principals(template, parameters, lookup.provisioned, model, region)
    not_emulated = [
        f"{lid} ({resources[lid].get('Type')})"
        for lid in active
        if resources[lid].get("Type") not in _EXPLAINED_TYPES
    ]
    return Deployment(
        template=template,
        stack_name=stack_name,
        region=region,
        parameters=parameters,
        resources=lookup.provisioned,
        resolver=resolver,
        model=model,
        not_emulated=not_emulated,
        principals=principals,
    )


def _principals(
    template: Template,
    parameters: Mapping[str, ParameterValue],
    provisioned: Mapping[str, Provisioned],
    model: SamModel,
    region: str,
) -> dict[str, Principal]:
    from devstack.roles import function_principals, translate

    values = {k: v if isinstance(v, str) else ",".join(v) for k, v in parameters.items()}
    return function_principals(
        translate(template.body, values, region),
        parameters=values,
        physical={lid: {"Ref": p.ref, **p.attributes} for lid, p in provisioned.items()},
        function_names={lid: spec.name for lid, spec in model.functions.items()},
        region=region,
        account=ACCOUNT_ID,
    )
