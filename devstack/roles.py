"""Each function's role as AWS would create it: the template through SAM's own translator.

samtranslator turns `Policies` (inline statements and policy templates such as
`DynamoDBReadPolicy`) into an `AWS::IAM::Role` per function, adds the managed policies SAM
attaches (basic execution, X-Ray, the stream poller's read access), and samcli's
`IntrinsicResolver` (devstack.cfn) resolves what those documents reference (`!GetAtt T.Arn`,
`!Sub`, `!If`, pseudo parameters) against the resources that exist. Managed policies are read from
moto's copy of AWS's managed policy documents.

Relies on (pinned in pyproject.toml): samtranslator's `Translator(managed_policy_map,
sam_parser, boto_session).translate(sam_template, parameter_values)` (the session's region
gives `AWS::Region`, `AWS::Partition` and its ARNs' partition) and `parser.Parser`; moto's
`moto.iam.aws_managed_policies.aws_managed_policies_data` (a JSON string).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from functools import cache
from typing import Any

import boto3

from devstack.cfn import Resolver, partition
from devstack.iam import Policy, Principal

# Where sam validate points a local CodeUri before translating: the translator wants S3.
_PLACEHOLDER_CODE = "s3://local-stack/code.zip"
_LOCAL_CODE = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


@cache
def _managed_policies() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return data


def managed_policy_map() -> dict[str, str]:
    """Managed policy name -> ARN, as SAM resolves `Policies: [AWSLambdaExecute]`."""
    return {
        name: f"arn:aws:iam::aws:policy{policy.get('Path', '/')}{name}"
        for name, policy in _managed_policies().items()
    }


def managed_policy_document(arn: str) -> Mapping[str, Any]:
    name = arn.rsplit("/", 1)[-1]
    policy = _managed_policies().get(name)
    if policy is None:
        raise KeyError(f"managed policy {arn} is unknown locally")
    document: Mapping[str, Any] = policy["Document"]
    return document


def translate(
    body: Mapping[str, Any], parameter_values: Mapping[str, Any], region: str
) -> dict[str, Any]:
    """The CloudFormation template AWS would deploy for this SAM template."""
    from samtranslator.parser import parser
    from samtranslator.translator.translator import Translator

    # Without a feature-toggle config (AWS's service has one) the translator warns once per
    # function that a feature is not in it: a dozen lines at every start that say nothing.
    logging.getLogger("samtranslator.feature_toggle.feature_toggle").setLevel(logging.ERROR)
    sam = copy.deepcopy(dict(body))
    for resource in (sam.get("Resources") or {}).values():
        properties = resource.get("Properties")
        local = _LOCAL_CODE.get(str(resource.get("Type")))
        if local is not None and isinstance(properties, dict):
            properties[local] = _PLACEHOLDER_CODE
    function_globals = (sam.get("Globals") or {}).get("Function") or {}
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = _PLACEHOLDER_CODE
    translator = Translator(
        managed_policy_map=managed_policy_map(),
        sam_parser=parser.Parser(),
        boto_session=boto3.Session(region_name=region),  # its pseudo parameters and partition
    )
    translated: dict[str, Any] = translator.translate(
        sam_template=sam, parameter_values=dict(parameter_values)
    )
    return translated


def function_principals(
    translated: Mapping[str, Any],
    *,
    parameters: Mapping[str, Any],
    physical: Mapping[str, Mapping[str, Any]],
    function_names: Mapping[str, str],
    region: str,
    account: str,
) -> dict[str, Principal]:
    """Every function's principal: its role's inline and managed policies, resolved.

    `physical` maps a logical id to what `Ref` (key "Ref") and `Fn::GetAtt` (other keys)
    return for it; `parameters` are the template's parameter values.
    """
    translator: dict[str, Any] = {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": partition(region),
        **parameters,
        **{lid: dict(values) for lid, values in physical.items()},
    }
    resources = translated.get("Resources") or {}
    # samcli's resolver deep-copies the template it is given: only the roles are resolved
    roles = {lid: r for lid, r in resources.items() if r.get("Type") == "AWS::IAM::Role"}
    resolver = Resolver({**translated, "Resources": roles}, translator)
    principals = {}
    for lid, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        role_ref = (resource.get("Properties") or {}).get("Role")
        role_lid = role_ref.get("Fn::GetAtt", [None])[0] if isinstance(role_ref, dict) else None
        role = resources.get(role_lid)
        if role is None:
            continue
        properties = role.get("Properties") or {}
        documents = [
            resolver.resolve(policy["PolicyDocument"])
            for policy in properties.get("Policies") or []
        ]
        for arn in properties.get("ManagedPolicyArns") or []:
            documents.append(managed_policy_document(str(arn)))
        name = function_names.get(lid, lid)
        principals[lid] = Principal(
            function=lid,
            role_arn=f"arn:aws:iam::{account}:role/{name}-role",
            policy=Policy.from_documents(documents),
        )
    return principals
