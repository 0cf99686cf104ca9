"""Acknowledgments of cdk-nag findings that are intrinsic to a construct, for every pack the project gates on.

cdk-nag 3 runs as a CDK validation plugin; a finding is acknowledged on the construct that owns the resource,
with the reason it is acceptable. The library acknowledges only what it cannot avoid, so that a user's own
cdk-nag run over our constructs is clean; each acknowledgment names its resource (the construct it is put on,
never a stack) and, for rules that report findings, the finding. The packs: ``AwsSolutions``,
``NIST.800.53.R5`` and ``HIPAA.Security`` (the last two share their rule names, e.g. ``IAMNoInlinePolicy``).
aws-cdk-lib's ``Validations`` is all this needs: cdk-nag itself is only a test dependency.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

AWS_SOLUTIONS = "AwsSolutions"
NIST_800_53_R5 = "NIST.800.53.R5"
HIPAA_SECURITY = "HIPAA.Security"
#: The compliance packs (cdk-nag ``NIST80053R5Checks``, ``HIPAASecurityChecks``), whose rules share names.
COMPLIANCE = (NIST_800_53_R5, HIPAA_SECURITY)
PACKS = (AWS_SOLUTIONS, *COMPLIANCE)


def rule_id(pack: str, rule: str, finding: str | None = None) -> str:
    """The id cdk-nag reports (and acknowledges) for ``rule`` of ``pack``, optionally one finding of it."""
    return f"{pack}::{pack}-{rule}" + (f"[{finding}]" if finding else "")


def acknowledge(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    finding: str | None = None,
    packs: Sequence[str] = (AWS_SOLUTIONS,),
) -> None:
    """Acknowledge ``rule`` (``"IAM4"``, ``"IAMNoInlinePolicy"``), optionally one finding of it
    (``"Policy::arn:..."``), in each of ``packs``, on ``construct`` (and what it contains)."""
    unknown = [p for p in packs if p not in PACKS]
    if unknown or not packs:
        raise ValueError(f"packs must be among {PACKS}: {list(packs)}")
    if not reason.strip():
        raise ValueError(f"acknowledging {rule} needs a reason")
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=rule_id(pack, rule, finding), reason=reason) for pack in packs)
    )


def acknowledge_compliance(
    construct: IConstruct, rule: str, reason: str, *, finding: str | None = None
) -> None:
    """Acknowledge a rule of the NIST 800-53 rev 5 and HIPAA Security packs (same rule name in both)."""
    acknowledge(construct, rule, reason, finding=finding, packs=COMPLIANCE)


#: Why one role's identity policy is inline (``AWS::IAM::Policy``, cdk-nag ``IAMNoInlinePolicy``): the IAM user
#: guide ("Choosing between managed policies and inline policies") recommends inline policies for a strict
#: one-to-one relationship between a policy and the identity it is for; each of ours names one role's resources.
INLINE_POLICY_REASON = (
    "the statements are this one role's own (they name the resources this role serves): an inline policy keeps "
    "them one-to-one with the role, so they cannot be attached to another principal, and they are created, "
    "changed and deleted with the role by this stack's template"
)


def acknowledge_inline_policy(role: IConstruct, reason: str = INLINE_POLICY_REASON) -> None:
    """``IAMNoInlinePolicy`` on ``role`` (its ``DefaultPolicy`` and inline ``Policies``), both compliance packs."""
    acknowledge_compliance(role, "IAMNoInlinePolicy", reason)


def managed_policy_finding(name: str) -> str:
    """The finding id cdk-nag gives an AWS-managed policy attached to a role (``IAM4``)."""
    return f"Policy::arn:<AWS::Partition>:iam::aws:policy/{name}"
