"""Acknowledgments of cdk-nag findings that are intrinsic to a construct, for every pack the project gates on.

cdk-nag 3 runs as a CDK validation plugin; a finding is acknowledged on the construct that owns the resource,
with the reason it is acceptable. The library acknowledges only what it cannot avoid, so that a user's own
cdk-nag run over our constructs is clean; each acknowledgment names its resource (the construct it is put on,
never a stack) and, for rules that report findings, the finding. The packs: ``AwsSolutions``,
``NIST.800.53.R5`` and ``HIPAA.Security`` (the last two share their rule names, e.g. ``IAMNoInlinePolicy``).
aws-cdk-lib's ``Validations`` is all this needs: cdk-nag itself is only a test dependency.

A finding id that names a resource's ARN is only known once references are resolved: a bucket in another stack
appears in the consuming stack's policy as ``Fn::ImportValue`` (CloudFormation exports) or ``Fn::GetStackOutput``
(weak references), not as the ``Fn::GetAtt`` the same expression resolves to at construction time.
:func:`acknowledge_resolved` therefore records such acknowledgments during validation, which aws-cdk-lib runs
after it has resolved cross-stack references and before the validation plugins (aws-cdk-lib
``core/lib/private/synthesis.ts``: prepare, validate, synthesize, then plugins), and renders the value as cdk-nag
does (cdk-nag ``src/utils/flatten-cfn-reference.ts``).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct, IValidation

AWS_SOLUTIONS = "AwsSolutions"
NIST_800_53_R5 = "NIST.800.53.R5"
HIPAA_SECURITY = "HIPAA.Security"
#: The compliance packs (cdk-nag ``NIST80053R5Checks``, ``HIPAASecurityChecks``), whose rules share names.
COMPLIANCE = (NIST_800_53_R5, HIPAA_SECURITY)
PACKS = (AWS_SOLUTIONS, *COMPLIANCE)


def rule_id(pack: str, rule: str, finding: str | None = None) -> str:
    """The id cdk-nag reports (and acknowledges) for ``rule`` of ``pack``, optionally one finding of it."""
    return f"{pack}::{pack}-{rule}" + (f"[{finding}]" if finding else "")


#: ``Validations.of(c)`` per construct: aws-cdk-lib's ``Validations`` only holds its scope (``validations.ts``: the
#: acknowledgments go to the construct's metadata), and asking the jsii kernel for a new one costs a round trip
#: (the reference app acknowledges 128 times on 57 constructs).
_VALIDATIONS: weakref.WeakKeyDictionary[IConstruct, Validations] = weakref.WeakKeyDictionary()


def _validations(construct: IConstruct) -> Validations:
    found = _VALIDATIONS.get(construct)
    if found is None:
        found = _VALIDATIONS[construct] = Validations.of(construct)
    return found


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
    _validations(construct).acknowledge(
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


def acknowledge_resolved(
    construct: IConstruct, rule: str, reason: str, *, kind: str, value: str, suffix: str = ""
) -> None:
    """Acknowledge the finding ``<kind>::<value as cdk-nag renders it in construct's stack><suffix>``, once resolved.

    ``value`` is a string that may hold tokens (an ARN); it is resolved in ``construct``'s stack after
    aws-cdk-lib has turned cross-stack references into imports, so the acknowledgment holds when the resource it
    names lives in another stack.
    """
    construct.node.add_validation(_ResolvedAcknowledgment(construct, rule, reason, kind, value, suffix))


def nag_flatten(node: Any) -> str:
    """A resolved CloudFormation value as cdk-nag writes it in finding ids (``<Id.Attr>``, ``<Id>``, joins inlined,
    imports by export name, anything else as compact JSON)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(nag_flatten(item) for item in items)
        if "Fn::Sub" in node:
            return nag_flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{nag_flatten(resource)}.{nag_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return nag_flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{nag_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def managed_policy_finding(name: str) -> str:
    """The finding id cdk-nag gives an AWS-managed policy attached to a role (``IAM4``)."""
    return f"Policy::arn:<AWS::Partition>:iam::aws:policy/{name}"


@jsii.implements(IValidation)
class _ResolvedAcknowledgment:
    def __init__(
        self, construct: IConstruct, rule: str, reason: str, kind: str, value: str, suffix: str
    ) -> None:
        self._construct = construct
        self._rule = rule
        self._reason = reason
        self._kind = kind
        self._value = value
        self._suffix = suffix

    def validate(self) -> list[str]:
        resolved = Stack.of(self._construct).resolve(self._value)
        finding = f"{self._kind}::{nag_flatten(resolved)}{self._suffix}"
        acknowledge(self._construct, self._rule, self._reason, finding=finding)
        return []
