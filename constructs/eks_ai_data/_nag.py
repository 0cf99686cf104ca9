"""Acknowledgments of cdk-nag AwsSolutions findings that are intrinsic to a construct.

cdk-nag 3 runs as a CDK validation plugin; a finding is acknowledged on the construct that owns the resource,
with the reason it is acceptable. The library acknowledges only what it cannot avoid, so that a user's own
cdk-nag run over our constructs is clean; each acknowledgment names its resource and its reason.
aws-cdk-lib's ``Validations`` is all this needs: cdk-nag itself is only a test dependency.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(construct: IConstruct, rule: str, reason: str, *, finding: str | None = None) -> None:
    """Acknowledge ``rule`` (e.g. ``"IAM4"``), optionally one finding of it (``"Policy::arn:..."``), on ``construct``."""
    rule_id = f"{PACK}::{PACK}-{rule}" + (f"[{finding}]" if finding else "")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def managed_policy_finding(name: str) -> str:
    """The finding id cdk-nag gives an AWS-managed policy attached to a role (``IAM4``)."""
    return f"Policy::arn:<AWS::Partition>:iam::aws:policy/{name}"
