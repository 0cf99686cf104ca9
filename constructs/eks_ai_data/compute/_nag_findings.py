"""cdk-nag ``IAM5`` finding ids of policy statements, computed as cdk-nag prints them (layer 2 helper).

cdk-nag names a wildcard finding ``Resource::<resource>`` or ``Action::<action>``, with intrinsics rendered as
``<AWS::Region>`` / ``<LogicalId.Attribute>`` and concrete values as they are: the id depends on whether the stack
has a concrete Region and account, so the library computes it instead of spelling it.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._nag import acknowledge


def wildcard_findings(scope: Construct, statements: list[iam.PolicyStatement]) -> list[str]:
    """The cdk-nag ``IAM5`` finding ids of ``statements`` (``Resource::arn:<AWS::Partition>:...*``,
    ``Action::kms:ReEncrypt*``): the wildcard resources and actions, named as cdk-nag prints them."""
    stack = Stack.of(scope)

    def text(value: Any) -> str:
        resolved = stack.resolve(value)
        if isinstance(resolved, str):
            return resolved
        if isinstance(resolved, dict) and "Ref" in resolved:
            return f"<{resolved['Ref']}>"
        if isinstance(resolved, dict) and "Fn::GetAtt" in resolved:
            return "<" + ".".join(resolved["Fn::GetAtt"]) + ">"
        if isinstance(resolved, dict) and "Fn::Join" in resolved:
            separator, parts = resolved["Fn::Join"]
            return separator.join(text(part) for part in parts)
        return str(resolved)

    found: list[str] = []
    for statement in statements:
        for resource in statement.resources:
            name = text(resource)
            if "*" in name:
                found.append(f"Resource::{name}")
        for action in statement.actions:
            if "*" in action:
                found.append(f"Action::{action}")
    return list(dict.fromkeys(found))


def acknowledge_wildcards(
    construct: Construct, statements: list[iam.PolicyStatement], reason: str
) -> list[str]:
    """Acknowledge ``IAM5`` on ``construct`` for each wildcard of ``statements``, with ``reason``; returns the ids."""
    findings = wildcard_findings(construct, statements)
    for finding in findings:
        acknowledge(construct, "IAM5", reason, finding=finding)
    return findings
