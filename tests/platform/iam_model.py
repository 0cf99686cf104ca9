"""A small model of IAM authorization over synthesized CloudFormation templates, for "who can do what" tests.

It answers *can principal P perform action A on resource R* from the policies in the templates: identity
policies of roles (``AWS::IAM::Policy``, inline ``Policies``, in-template ``AWS::IAM::ManagedPolicy``), KMS key
policies, S3 bucket policies, EFS file-system policies and VPC endpoint policies. Import it as ``from tests.platform.iam_model import
PolicyModel``::

    model = PolicyModel(reference.templates)            # account 111122223333, Region eu-west-1
    trainer = model.role("EksAiDataTrainingBlue", "TrainerRole")       # cluster stack
    key = model.arn("EksAiDataTrainingData", "KeysDataKey")             # data stack (Fn::ImportValue resolved)
    assert model.can(trainer, "kms:Decrypt", key, context={...})
    assert not model.can(trainer, "fsx:DeleteFileSystem", model.arn("EksAiDataTrainingData", "DatasetLustreFileSystem"))

Evaluation (one account; the policy evaluation logic of the IAM user guide, reduced to what this project
emits):

- An explicit ``Deny`` in any applicable policy (identity, resource, endpoint) wins.
- A request made through a VPC endpoint (``via_endpoint=``) must be allowed by the endpoint's policy (an
  endpoint with no policy allows everything); ``aws:SourceVpce`` is set in the request context.
- KMS keys: the key policy decides. A statement naming the principal (its ARN, ``*``, ``NotPrincipal``, or
  its service) allows by itself; a statement naming the account (``arn:aws:iam::ACCOUNT:root`` or the
  account id) only delegates to IAM: the principal's identity policy must then allow too. A key without a
  key policy in the templates, or a principal the key policy does not name, is denied. Grants are not modeled.
- Other resources: allowed when the identity policy or the resource policy (a statement naming the
  principal; naming the account delegates to IAM as above) allows.
- Conditions: ``String*``, ``Arn*``, ``Bool``, ``Numeric*``, ``Null``, with ``...IfExists`` and
  ``ForAnyValue:``/``ForAllValues:``; a key absent from the request context fails a positive operator and
  passes a negated one (``...Not...``), as in IAM. Unknown operators raise ``NotImplementedError``.
- Request context: ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:SecureTransport=true``,
  ``s3:TlsVersion=1.3`` (S3 actions), ``kms:CallerAccount`` (KMS actions), ``aws:SourceVpce`` (through an
  endpoint), plus what ``context=`` adds (``kms:ViaService``, ``kms:EncryptionContext:...``, ...).

AWS managed policies attached to a role are not in the template: the model cannot read them, treats them as
granting nothing, and lists them in :attr:`Decision.unmodeled` so that a test can tell "denied" from "denied
as far as the templates say". Physical names and ARNs are made up deterministically per stack and logical id
(:meth:`PolicyModel.ref`, :meth:`PolicyModel.arn`); intrinsic functions are resolved (``Ref``,
``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Split``, ``Fn::Select``, ``Fn::If``, ``Fn::ImportValue``,
``Fn::GetAZs``) with the model's account, Region and partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.platform.cfn_templates import Templates
from tests.platform.iam_matching import (
    ContextValue,
    Principal,
    Statement,
    condition,
    like,
    parse_statement,
    principal_kind,
    resource_like,
    service_of,
)


@dataclass(frozen=True)
class Decision:
    """The answer: truthy when allowed. ``allowed_by``/``denied_by`` name the deciding statements."""

    allowed: bool
    reason: str
    allowed_by: tuple[str, ...] = ()
    denied_by: tuple[str, ...] = ()
    unmodeled: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed


class PolicyModel(Templates):
    """The policies of a set of synthesized templates (``{stack name: template}``), ready to be asked.

    ``PolicyModel(templates, account="111122223333", region="eu-west-1", partition="aws")`` (see
    :class:`~tests.platform.cfn_templates.Templates`).
    """

    def _index(self) -> None:
        self._key_policies: dict[str, list[Statement]] = {}
        self._resource_policies: list[
            tuple[str, list[Statement]]
        ] = []  # (bucket or file-system ARN, statements)
        self._endpoint_policies: dict[str, list[Statement] | None] = {}
        for (stack, lid), res in self._resources.items():
            where = f"{stack}/{lid}"
            if res.type == "AWS::KMS::Key":
                self._key_policies[self.arn(stack, lid)] = self._statements(
                    stack, where, res.properties["KeyPolicy"]
                )
            elif res.type == "AWS::S3::BucketPolicy":
                bucket = self._resolve(stack, res.properties["Bucket"])
                arn = f"arn:{self.partition}:s3:::{bucket}"
                self._resource_policies.append(
                    (arn, self._statements(stack, where, res.properties["PolicyDocument"]))
                )
            elif res.type == "AWS::EFS::FileSystem" and "FileSystemPolicy" in res.properties:
                self._resource_policies.append(
                    (self.arn(stack, lid), self._statements(stack, where, res.properties["FileSystemPolicy"]))
                )
            elif res.type == "AWS::EC2::VPCEndpoint":
                document = res.properties.get("PolicyDocument")
                self._endpoint_policies[self.ref(stack, lid)] = (
                    None if document is None else self._statements(stack, where, document)
                )

    # -- principals ----------------------------------------------------------------------------------------
    def role(self, stack: str, name: str) -> Principal:
        """A role of the templates with every identity statement attached to it there."""
        res = self._resource(stack, name, "AWS::IAM::Role")
        lid = res.logical_id
        statements: list[Statement] = []
        unmodeled: list[str] = []
        for index, policy in enumerate(res.properties.get("Policies", [])):
            statements += self._statements(
                stack, f"{stack}/{lid}/Policies[{index}]", policy["PolicyDocument"]
            )
        for arn in res.properties.get("ManagedPolicyArns", []):
            if isinstance(arn, dict) and "Ref" in arn and (stack, arn["Ref"]) in self._resources:
                continue  # an in-template managed policy: attached through its Roles below
            unmodeled.append(str(self._resolve(stack, arn)))
        for (s, plid), other in self._resources.items():
            if s != stack or other.type not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                continue
            attached = [r for r in other.properties.get("Roles", []) if r == {"Ref": lid}]
            managed_refs = [m for m in res.properties.get("ManagedPolicyArns", []) if m == {"Ref": plid}]
            if attached or managed_refs:
                statements += self._statements(stack, f"{stack}/{plid}", other.properties["PolicyDocument"])
        return Principal(
            arn=self.arn(stack, lid),
            account=self.account,
            statements=tuple(statements),
            unmodeled=tuple(unmodeled),
        )

    def roles(self, stack: str | None = None) -> list[Principal]:
        """Every role of the templates (or of ``stack``)."""
        return [self.role(s, lid) for s, lid in self.resources("AWS::IAM::Role", stack)]

    def principal(
        self, name: str, statements: Iterable[Mapping[str, Any]] = (), *, path: str = "/"
    ) -> Principal:
        """A role that is not in the templates (``role{path}{name}`` in the model's account) with these identity
        statements (plain IAM JSON, ``Effect``/``Action``/``Resource``/``Condition``)."""
        arn = f"arn:{self.partition}:iam::{self.account}:role{path}{name}"
        parsed = tuple(parse_statement(f"ad hoc {name}", s) for s in statements)
        return Principal(arn=arn, account=self.account, statements=parsed)

    def service(self, service: str) -> Principal:
        """An AWS service principal acting with its own identity (``logs.eu-west-1.amazonaws.com``)."""
        return Principal(arn=f"service:{service}", account=self.account, service=service)

    def service_linked_role(self, service: str, name: str) -> Principal:
        """A service-linked role (``role/aws-service-role/<service>/<name>``): its policy is AWS's, unmodeled."""
        return Principal(
            arn=f"arn:{self.partition}:iam::{self.account}:role/aws-service-role/{service}/{name}",
            account=self.account,
            unmodeled=(f"service-linked role policy of {service}",),
        )

    # -- questions -------------------------------------------------------------------------------------
    def can(
        self,
        principal: Principal,
        action: str,
        resource: str,
        *,
        context: Mapping[str, ContextValue] | None = None,
        via_endpoint: str | None = None,
    ) -> Decision:
        """Whether ``principal`` may perform ``action`` on ``resource`` (an ARN), as the templates' policies say."""
        ctx = self._context(principal, action, context, via_endpoint)
        identity = list(principal.statements)
        resource_policy = self._resource_policy(resource)
        endpoint: list[Statement] | None = None
        if via_endpoint is not None:
            if via_endpoint not in self._endpoint_policies:
                raise KeyError(f"no VPC endpoint {via_endpoint!r} in the templates")
            endpoint = self._endpoint_policies[via_endpoint]
        everything = identity + (resource_policy or []) + (endpoint or [])
        denies = [
            s.where
            for s in everything
            if s.effect == "Deny" and self._matches(s, principal, action, resource, ctx, delegation_ok=True)
        ]
        unmodeled = principal.unmodeled
        if denies:
            return Decision(False, "explicitly denied", denied_by=tuple(denies), unmodeled=unmodeled)
        if endpoint is not None and not self._allows(endpoint, principal, action, resource, ctx, True):
            return Decision(False, "the VPC endpoint policy does not allow it", unmodeled=unmodeled)
        by_identity = self._allows(identity, principal, action, resource, ctx, False)
        direct = self._allows(resource_policy or [], principal, action, resource, ctx, False)
        delegated = self._allows(
            resource_policy or [], principal, action, resource, ctx, True, only_account=True
        )
        if service_of(action) == "kms":
            if resource_policy is None:
                return Decision(False, f"no key policy for {resource} in the templates", unmodeled=unmodeled)
            if direct:
                return Decision(True, "the key policy names the principal", allowed_by=direct)
            if delegated and by_identity:
                return Decision(
                    True, "the key policy delegates to IAM and IAM allows", allowed_by=delegated + by_identity
                )
            reason = (
                "the key policy delegates to IAM but no identity statement allows it"
                if delegated
                else "the key policy neither names the principal nor delegates to IAM"
            )
            return Decision(False, reason, unmodeled=unmodeled)
        if direct:
            return Decision(True, "the resource policy names the principal", allowed_by=direct)
        if by_identity:
            return Decision(True, "an identity statement allows it", allowed_by=by_identity)
        return Decision(False, "no statement allows it", unmodeled=unmodeled)

    def endpoint_allows(
        self, endpoint_id: str, action: str, resource: str, principal: Principal | None = None
    ) -> bool:
        """Whether the endpoint's policy lets ``action`` on ``resource`` through (an AWS-owned bucket, say),
        for ``principal`` (default: a role of the account that is not in the templates)."""
        principal = principal or self.principal("AnyCaller")
        if endpoint_id not in self._endpoint_policies:
            raise KeyError(f"no VPC endpoint {endpoint_id!r} in the templates")
        statements = self._endpoint_policies[endpoint_id]
        if statements is None:
            return True
        ctx = self._context(principal, action, None, endpoint_id)
        if any(
            s.effect == "Deny" and self._matches(s, principal, action, resource, ctx, True)
            for s in statements
        ):
            return False
        return bool(self._allows(statements, principal, action, resource, ctx, True))

    def can_read_object(
        self,
        principal: Principal,
        stack: str,
        bucket: str,
        key: str = "object",
        *,
        via_endpoint: str | None = None,
        context: Mapping[str, ContextValue] | None = None,
    ) -> Decision:
        """Whether ``principal`` can get the plaintext of ``s3://bucket/key``: ``s3:GetObject`` and, for an SSE-KMS
        bucket, ``kms:Decrypt`` with the bucket's key through S3 (encryption context ``aws:s3:arn``: the bucket
        ARN with S3 Bucket Keys, else the object ARN)."""
        bucket_arn = self.arn(stack, bucket)
        obj = f"{bucket_arn}/{key}"
        get = self.can(principal, "s3:GetObject", obj, via_endpoint=via_endpoint, context=context)
        if not get:
            return get
        props = self._resource(stack, bucket, "AWS::S3::Bucket").properties
        rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
        kms = [r for r in rules if r["ServerSideEncryptionByDefault"]["SSEAlgorithm"].startswith("aws:kms")]
        if not kms:
            return get
        key_arn = self._resolve(stack, kms[0]["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])
        encryption_context = bucket_arn if kms[0].get("BucketKeyEnabled") else obj
        decrypt = self.can(
            principal,
            "kms:Decrypt",
            key_arn,
            context={
                "kms:ViaService": f"s3.{self.region}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": encryption_context,
                **(context or {}),
            },
        )
        if not decrypt:
            return Decision(
                False,
                f"s3:GetObject is allowed but kms:Decrypt is not: {decrypt.reason}",
                denied_by=decrypt.denied_by,
                unmodeled=decrypt.unmodeled,
            )
        return Decision(True, "s3:GetObject and kms:Decrypt are allowed", get.allowed_by + decrypt.allowed_by)

    def key_policy(self, key_arn: str) -> list[Statement]:
        """The resolved statements of a key's policy."""
        return list(self._key_policies[key_arn])

    def endpoint_policy(self, endpoint_id: str) -> list[Statement] | None:
        """The resolved statements of an endpoint's policy (``None``: no policy, full access)."""
        return self._endpoint_policies[endpoint_id]

    # -- evaluation ------------------------------------------------------------------------------------------
    def _context(
        self,
        principal: Principal,
        action: str,
        extra: Mapping[str, ContextValue] | None,
        via_endpoint: str | None,
    ) -> dict[str, ContextValue]:
        ctx: dict[str, ContextValue] = {
            "aws:SecureTransport": True,
            "aws:PrincipalAccount": principal.account,
        }
        if principal.service is None:
            ctx["aws:PrincipalArn"] = principal.arn
        else:
            ctx["aws:PrincipalServiceName"] = principal.service
        if service_of(action) == "s3":
            ctx["s3:TlsVersion"] = 1.3
        if service_of(action) == "kms":
            ctx["kms:CallerAccount"] = principal.account
        if via_endpoint is not None:
            ctx["aws:SourceVpce"] = via_endpoint
        ctx.update(extra or {})
        return ctx

    def _resource_policy(self, resource: str) -> list[Statement] | None:
        if resource in self._key_policies:
            return self._key_policies[resource]
        found = None
        for bucket_arn, statements in self._resource_policies:
            if resource == bucket_arn or resource.startswith(bucket_arn + "/"):
                found = (found or []) + statements
        return found

    def _allows(
        self,
        statements: Iterable[Statement],
        principal: Principal,
        action: str,
        resource: str,
        ctx: Mapping[str, ContextValue],
        delegation_ok: bool,
        *,
        only_account: bool = False,
    ) -> tuple[str, ...]:
        found = []
        for s in statements:
            if s.effect != "Allow":
                continue
            if only_account and principal_kind(s, principal) != "account":
                continue
            if self._matches(s, principal, action, resource, ctx, delegation_ok):
                found.append(s.where)
        return tuple(found)

    def _matches(
        self,
        s: Statement,
        principal: Principal,
        action: str,
        resource: str,
        ctx: Mapping[str, ContextValue],
        delegation_ok: bool,
    ) -> bool:
        if s.principal is not None or s.not_principal is not None:
            kind = principal_kind(s, principal)
            if kind is None or (kind == "account" and not delegation_ok):
                return False
        if s.actions is not None and not any(like(a, action, case=False) for a in s.actions):
            return False
        if s.not_actions is not None and any(like(a, action, case=False) for a in s.not_actions):
            return False
        if s.resources is not None and not any(resource_like(r, resource) for r in s.resources):
            return False
        if s.not_resources is not None and any(resource_like(r, resource) for r in s.not_resources):
            return False
        return all(
            condition(op, key, values, ctx)
            for op, block in s.conditions.items()
            for key, values in block.items()
        )

    def _statements(self, stack: str, where: str, document: Any) -> list[Statement]:
        document = self._resolve(stack, document)
        raw = document.get("Statement", [])
        raw = raw if isinstance(raw, list) else [raw]
        return [parse_statement(f"{where}#{s.get('Sid', i)}", s) for i, s in enumerate(raw)]


__all__ = ["Decision", "PolicyModel", "Principal", "Statement"]
