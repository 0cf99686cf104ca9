"""A bucket that only VPC endpoints may reach (``DataBucket(deny_outside_vpc_endpoints=...)``): the Deny
statement, its exemptions and the validation of what is given."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ._validate import fail, unresolved

VPC_ENDPOINT_ID = re.compile(r"^vpce-[0-9a-f]{8,17}\Z")
PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|\*):(role|user)/.+\Z")
#: Object data and listing: what a bucket restricted to VPC endpoints denies from elsewhere. Bucket
#: configuration (policy, encryption, lifecycle, notifications) stays reachable, so that CloudFormation and
#: administrators can manage the bucket and undo the restriction.
VPC_ENDPOINT_ONLY_ACTIONS = [
    "s3:GetObject*",
    "s3:PutObject*",
    "s3:DeleteObject*",
    "s3:RestoreObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:ListBucket*",
]
SID = "DenyObjectAccessOutsideVpcEndpoints"
_ENDPOINTS_ALLOWED = "must hold IVpcEndpoint objects or VPC endpoint ids like 'vpce-0123456789abcdef0'"


class EndpointOnlyStatement:
    """The bucket-policy Deny of object access that does not come through one of ``endpoint_ids``
    (``aws:SourceVpce``), unless the principal (``aws:PrincipalArn``) is exempt (:meth:`exempt`).

    A request from the internet or another VPC has no ``aws:SourceVpce``: ``StringNotEquals`` then holds, so the
    Deny applies (IAM user guide, condition operators: a negated operator matches a missing key).
    """

    def __init__(self, scope: Construct, bucket: s3.Bucket, endpoint_ids: list[str]) -> None:
        self._scope = scope
        self._exempt: list[str] = []
        self.statement = iam.PolicyStatement(
            sid=SID,
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=VPC_ENDPOINT_ONLY_ACTIONS,
            resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
            conditions={"StringNotEquals": {"aws:SourceVpce": endpoint_ids}},
        )
        bucket.add_to_resource_policy(self.statement)

    def exempt(self, principal: iam.IRole | iam.IUser | str) -> None:
        """Add ``principal`` (a role, a user, or a role/user ARN or ``ArnLike`` pattern) to the exemptions."""
        arn = principal_arn_of(self._scope, principal)
        if arn not in self._exempt:
            self._exempt.append(arn)
            # add_condition replaces the key's values under an operator: give the whole list each time.
            self.statement.add_condition("ArnNotLike", {"aws:PrincipalArn": list(self._exempt)})


def principal_arn_of(scope: Construct, principal: iam.IRole | iam.IUser | str | Any) -> str:
    """The ARN (or ``ArnLike`` pattern) of a role, a user or an ARN given for an exemption, validated."""
    if isinstance(principal, str):
        if not unresolved(principal) and not PRINCIPAL_ARN.match(principal):
            raise fail(
                scope,
                "principal",
                principal,
                "must be an IAM role or user ARN (or ArnLike pattern): arn:aws:iam::ACCOUNT:role/NAME",
            )
        return principal
    if hasattr(principal, "role_arn"):  # jsii interfaces cannot be isinstance-checked
        return str(principal.role_arn)
    if hasattr(principal, "user_arn"):
        return str(principal.user_arn)
    raise fail(scope, "principal", principal, "must be an iam.IRole, an iam.IUser or a role/user ARN")


def endpoint_ids_of(scope: Construct, endpoints: Sequence[ec2.IVpcEndpoint | str] | Any) -> list[str]:
    """The endpoint ids of ``deny_outside_vpc_endpoints`` (``IVpcEndpoint`` objects or ``vpce-`` ids), validated."""
    given = [endpoints] if isinstance(endpoints, str) else list(endpoints)
    if not given:
        raise fail(
            scope,
            "deny_outside_vpc_endpoints",
            given,
            "must name at least one VPC endpoint (leave it unset for no restriction)",
        )
    ids = []
    for endpoint in given:
        if isinstance(endpoint, str):
            if not unresolved(endpoint) and not VPC_ENDPOINT_ID.match(endpoint):
                raise fail(scope, "deny_outside_vpc_endpoints", endpoint, _ENDPOINTS_ALLOWED)
            ids.append(endpoint)
        elif hasattr(endpoint, "vpc_endpoint_id"):
            ids.append(endpoint.vpc_endpoint_id)
        else:
            raise fail(scope, "deny_outside_vpc_endpoints", endpoint, _ENDPOINTS_ALLOWED)
    return ids
