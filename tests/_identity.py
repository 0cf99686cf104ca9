"""What must not depend on an app's feature flags: the identity of stateful and networking resources, and the
encryption and retention of every log group.

Import as ``from tests._identity import ...``. :func:`identity_differences` compares two synthesized assemblies of
the same app under different flags: the replacement guard's verdict on the stateful and identity-bearing resources
(a changed logical id or create-only property replaces them), and, for networking resources (VPC, subnets, routes,
gateways, security groups and their rules, endpoints, flow logs, mount targets, the cluster's and node groups'
network settings), their logical ids and the values of their create-only properties (CloudFormation replaces them
when those change: a security-group rule replaced by an equal one fails with a duplicate rule).
"""

from __future__ import annotations

import json
from typing import Any

#: Networking resource types (besides the guard's stateful ones) whose identity must not follow the app's flags.
NETWORK_TYPES = frozenset(
    {
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable",
        "AWS::EC2::Route",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::FlowLog",
        "AWS::EC2::PlacementGroup",
        "AWS::EFS::MountTarget",
        "AWS::EKS::Cluster",
        "AWS::EKS::Nodegroup",
        "AWS::EKS::AccessEntry",
        "AWS::IAM::OIDCProvider",
    }
)


def _at(node: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [node]
    head, rest = parts[0], parts[1:]
    if head == "*":
        values = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
        return [v for value in values for v in _at(value, rest)]
    if isinstance(node, dict) and head in node:
        return _at(node[head], rest)
    return []


def _create_only_values(resource: dict[str, Any], pointers: list[str]) -> dict[str, str]:
    found = {}
    for pointer in pointers:
        parts = pointer.strip("/").split("/")
        if parts[0] != "properties":
            continue
        values = _at(resource.get("Properties", {}), parts[1:])
        if values:
            found[pointer] = json.dumps(values, sort_keys=True)
    return found


def network_identity(
    templates: dict[str, dict[str, Any]],
) -> dict[tuple[str, str], tuple[str, dict[str, str]]]:
    """``(stack, logical id) -> (type, {create-only pointer: value})`` of every networking resource."""
    from eks_ai_data.stateful import find_cdk_service_spec, replacement_properties

    spec = find_cdk_service_spec()
    pointers: dict[str, list[str]] = {}
    found = {}
    for stack, template in templates.items():
        for lid, resource in template.get("Resources", {}).items():
            type_ = resource["Type"]
            if type_ not in NETWORK_TYPES:
                continue
            if type_ not in pointers:
                pointers[type_] = sorted(replacement_properties(type_, spec))
            found[(stack, lid)] = (type_, _create_only_values(resource, pointers[type_]))
    return found


def identity_differences(old: Any, new: Any) -> list[str]:
    """What would be replaced, deleted or renamed going from assembly ``old`` to ``new`` (``Synthesized``)."""
    from eks_ai_data.guard import compare

    problems = [f.message for f in compare(old.outdir, new.outdir).findings]
    before, after = network_identity(old.templates), network_identity(new.templates)
    for key in sorted(set(before) | set(after)):
        if key not in after:
            problems.append(f"{key[0]}/{key[1]} ({before[key][0]}): gone (renamed or removed)")
        elif key not in before:
            problems.append(f"{key[0]}/{key[1]} ({after[key][0]}): new")
        elif before[key] != after[key]:
            changed = sorted(
                p
                for p in set(before[key][1]) | set(after[key][1])
                if before[key][1].get(p) != after[key][1].get(p)
            )
            problems.append(f"{key[0]}/{key[1]} ({before[key][0]}): create-only {changed} changed")
    return problems


def log_group_problems(templates: dict[str, dict[str, Any]]) -> list[str]:
    """Log groups that are not KMS-encrypted, have no retention, or are not retained; functions that log to a
    group the stack does not create."""
    problems = []
    for stack, template in templates.items():
        resources = template.get("Resources", {})
        for lid, resource in resources.items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Logs::LogGroup":
                if "KmsKeyId" not in props:
                    problems.append(f"{stack}/{lid}: not encrypted")
                if "RetentionInDays" not in props:
                    problems.append(f"{stack}/{lid}: kept forever")
                if resource.get("DeletionPolicy") != "Retain":
                    problems.append(f"{stack}/{lid}: not retained")
            if resource["Type"] == "AWS::Lambda::Function":
                group = props.get("LoggingConfig", {}).get("LogGroup")
                if not (
                    isinstance(group, dict)
                    and resources.get(group.get("Ref"), {}).get("Type") == "AWS::Logs::LogGroup"
                ):
                    problems.append(
                        f"{stack}/{lid}: logs to a group Lambda would create (unencrypted, kept forever)"
                    )
    return problems
