"""A deployed CloudFormation stack as the operations commands see it.

``DescribeStacks`` gives its status and outputs, ``ListStackResources`` (paginated) its
resources with their physical ids, and ``GetTemplate`` the template, from which
:mod:`eks_ai_data.ops.verify` learns what the resources were asked to be (for example the
``FileSystemPath`` of a data repository association).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .aws import Aws, OpsError, error_code, error_message


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    type: str
    physical_id: str
    status: str
    reason: str = ""


@dataclass
class StackView:
    """What CloudFormation knows about a stack."""

    name: str
    status: str
    outputs: dict[str, str]
    resources: list[StackResource]
    template: dict[str, Any] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> list[StackResource]:
        return [r for r in self.resources if r.type == resource_type and r.physical_id]

    def physical(self, logical_id: str) -> str | None:
        return next((r.physical_id for r in self.resources if r.logical_id == logical_id), None)

    def properties(self, logical_id: str) -> dict[str, Any]:
        resource = self.template.get("Resources", {}).get(logical_id, {})
        props = resource.get("Properties", {}) if isinstance(resource, dict) else {}
        return props if isinstance(props, dict) else {}

    def resolve(self, value: Any) -> str | None:
        """A literal string, or the physical id behind ``Ref``/``Fn::GetAtt`` of a stack resource."""
        if isinstance(value, str):
            return value
        logical = _referenced_logical_id(value)
        return self.physical(logical) if logical else None


def _referenced_logical_id(value: Any) -> str | None:
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return value["Ref"]
        target = value.get("Fn::GetAtt")
        if isinstance(target, list) and target:
            return str(target[0])
        if isinstance(target, str):
            return target.split(".", 1)[0]
    return None


def load_stack(aws: Aws, name: str) -> StackView:
    cfn = aws.client("cloudformation")
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        if error_code(exc) == "ValidationError" and "does not exist" in error_message(exc):
            raise OpsError(
                f"stack {name!r} does not exist in {aws.region} (check --stack and --region)"
            ) from exc
        raise
    resources = [
        StackResource(
            logical_id=r["LogicalResourceId"],
            type=r["ResourceType"],
            physical_id=r.get("PhysicalResourceId", ""),
            status=r.get("ResourceStatus", ""),
            reason=r.get("ResourceStatusReason", ""),
        )
        for r in aws.paginate(
            "cloudformation", "list_stack_resources", "StackResourceSummaries", StackName=name
        )
    ]
    body = cfn.get_template(StackName=name)["TemplateBody"]
    return StackView(
        name=stack["StackName"],
        status=stack["StackStatus"],
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
        resources=resources,
        template=_parse_template(body),
    )


def _parse_template(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}  # a YAML template: paths from it are not checked (CDK writes JSON)
    return parsed if isinstance(parsed, dict) else {}
