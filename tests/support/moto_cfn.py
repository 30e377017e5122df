"""What moto's CloudFormation lacks for template.yaml as SAM translates it: `AWS::Lambda::Alias`
and `Fn::GetAtt Version.Version` (AutoPublishAlias publishes a version and points the alias
`live` at it; the routes' permissions and the stream mappings name the alias). Tests only:
the local stack reads the SAM template itself, never moto's CloudFormation.

Relies on (pinned moto): `CloudFormationModel` subclasses found through
`moto.cloudformation.parsing.get_model_list` (cached: cleared here), and the Lambda backend's
`create_alias`.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaVersion, lambda_backends
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel


class LambdaAliasModel(CloudFormationModel):
    """An alias created through the Lambda backend; `Ref` answers its ARN, as on AWS."""

    def __init__(self, arn: str, name: str) -> None:
        self.arn = arn
        self.name = name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LambdaAliasModel:
        properties = cloudformation_json["Properties"]
        alias = lambda_backends[account_id][region_name].create_alias(
            name=properties["Name"],
            function_name=properties["FunctionName"],
            function_version=str(properties["FunctionVersion"]),
            description=properties.get("Description", ""),
            routing_config=properties.get("RoutingConfig"),
        )
        return cls(alias.arn, alias.name)


def _version_attribute(self: LambdaVersion, attribute: str) -> str:
    if attribute == "Version":
        return str(self.version)
    raise NotImplementedError(f"AWS::Lambda::Version has no attribute {attribute} in moto")


def apply() -> None:
    """Make moto's CloudFormation create the models above (its model list is cached)."""
    LambdaVersion.get_cfn_attribute = _version_attribute  # type: ignore[attr-defined]
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
