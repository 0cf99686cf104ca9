"""A small model of IAM authorization over synthesized CloudFormation templates, for "who can do what" tests.

It answers *can principal P perform action A on resource R* from the policies in the templates: identity
policies of roles (``AWS::IAM::Policy``, inline ``Policies``, in-template ``AWS::IAM::ManagedPolicy``), KMS key
policies, S3 bucket policies and VPC endpoint policies. Import it as ``from tests.platform.iam_model import
PolicyModel``::

    model = PolicyModel(reference.templates)            # account 111122223333, Region eu-west-1
    trainer = model.role("EksAiDataTraining", "TrainerRole")
    key = model.arn("EksAiDataTraining", "KeysDataKey")
    assert model.can(trainer, "kms:Decrypt", key, context={...})
    assert not model.can(trainer, "fsx:DeleteFileSystem", model.arn("EksAiDataTraining", "DatasetLustre"))

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

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ContextValue = str | bool | int | float | Sequence[str]


@dataclass(frozen=True)
class Statement:
    """One policy statement, resolved to plain values. ``where`` names its policy (``stack/logical-id#sid``)."""

    where: str
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: Any  # None (identity policy), "*", or {"AWS": [...], "Service": [...], ...}
    not_principal: Any
    conditions: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an IAM role or user (``arn``) with its identity statements, or an AWS service."""

    arn: str
    account: str
    statements: tuple[Statement, ...] = ()
    service: str | None = None
    unmodeled: tuple[str, ...] = ()  # AWS managed policies the model cannot read


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


@dataclass
class _Resource:
    stack: str
    logical_id: str
    type: str
    properties: dict[str, Any] = field(default_factory=dict)


class PolicyModel:
    """The policies of a set of synthesized templates (``{stack name: template}``), ready to be asked."""

    def __init__(
        self,
        templates: Mapping[str, Mapping[str, Any]],
        *,
        account: str = "111122223333",
        region: str = "eu-west-1",
        partition: str = "aws",
    ) -> None:
        self.account, self.region, self.partition = account, region, partition
        self._templates = dict(templates)
        self._resources = {
            (stack, lid): _Resource(stack, lid, r["Type"], r.get("Properties", {}))
            for stack, template in templates.items()
            for lid, r in template.get("Resources", {}).items()
        }
        self._exports: dict[str, Any] = {}
        for stack, template in templates.items():
            for output in template.get("Outputs", {}).values():
                if "Export" in output:
                    name = self._resolve(stack, output["Export"]["Name"])
                    self._exports[name] = (stack, output["Value"])
        self._key_policies: dict[str, list[Statement]] = {}
        self._resource_policies: list[tuple[str, list[Statement]]] = []  # (bucket ARN, statements)
        self._endpoint_policies: dict[str, list[Statement] | None] = {}
        for (stack, lid), res in self._resources.items():
            where = f"{stack}/{lid}"
            if res.type == "AWS::KMS::Key":
                self._key_policies[self.arn(stack, lid)] = self._statements(
                    stack, where, res.properties["KeyPolicy"]
                )
            elif res.type == "AWS::S3::BucketPolicy":
                bucket = self._resolve(stack, res.properties["Bucket"])
                arn = f"arn:{partition}:s3:::{bucket}"
                self._resource_policies.append(
                    (arn, self._statements(stack, where, res.properties["PolicyDocument"]))
                )
            elif res.type == "AWS::EC2::VPCEndpoint":
                document = res.properties.get("PolicyDocument")
                self._endpoint_policies[self.ref(stack, lid)] = (
                    None if document is None else self._statements(stack, where, document)
                )

    # -- naming ----------------------------------------------------------------------------------------
    def logical_id(self, stack: str, name: str, type_: str | None = None) -> str:
        """The logical id in ``stack`` equal to ``name``, or ``name`` and CDK's 8-character hash, or else the one
        logical id starting with ``name``."""
        ids = [
            lid
            for (s, lid), r in self._resources.items()
            if s == stack and (type_ is None or r.type == type_)
        ]
        if name in ids:
            return name
        hashed = [lid for lid in ids if re.fullmatch(re.escape(name) + "[0-9A-F]{8}", lid)]
        if len(hashed) == 1:  # CDK's logical id: the path's ids and an 8-character hash
            return hashed[0]
        matches = [lid for lid in ids if lid.startswith(name)]
        if len(matches) != 1:
            raise KeyError(f"{stack}: {len(matches)} logical ids start with {name!r}: {sorted(matches)[:10]}")
        return matches[0]

    def ref(self, stack: str, name: str) -> str:
        """What ``Ref`` returns for the resource: its (made-up) physical name or id."""
        res = self._resource(stack, name)
        digest = hashlib.sha256(f"{res.stack}/{res.logical_id}".encode()).hexdigest()
        props = res.properties
        if res.type == "AWS::IAM::Role":
            return props.get("RoleName") or f"{res.stack}-{res.logical_id}"[:64]
        if res.type == "AWS::S3::Bucket":
            return props.get("BucketName") or f"{res.stack}-{res.logical_id}".lower()[:63]
        if res.type == "AWS::KMS::Key":
            return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        if res.type == "AWS::EC2::VPCEndpoint":
            return f"vpce-{digest[:17]}"
        if res.type in ("AWS::FSx::FileSystem", "AWS::EFS::FileSystem"):
            return f"fs-{digest[:17]}"
        if res.type == "AWS::SNS::Topic":
            return self.arn(stack, name)
        return f"{res.stack}-{res.logical_id}"

    def arn(self, stack: str, name: str) -> str:
        """The resource's ARN (``Fn::GetAtt ... Arn`` for types that have one)."""
        res = self._resource(stack, name)
        p, r, a = self.partition, self.region, self.account
        if res.type == "AWS::IAM::Role":
            path = res.properties.get("Path", "/")
            return f"arn:{p}:iam::{a}:role{path}{self.ref(stack, name)}"
        if res.type == "AWS::S3::Bucket":
            return f"arn:{p}:s3:::{self.ref(stack, name)}"
        if res.type == "AWS::KMS::Key":
            return f"arn:{p}:kms:{r}:{a}:key/{self.ref(stack, name)}"
        if res.type == "AWS::FSx::FileSystem":
            return f"arn:{p}:fsx:{r}:{a}:file-system/{self.ref(stack, name)}"
        if res.type == "AWS::EFS::FileSystem":
            return f"arn:{p}:elasticfilesystem:{r}:{a}:file-system/{self.ref(stack, name)}"
        if res.type == "AWS::SNS::Topic":
            return f"arn:{p}:sns:{r}:{a}:{res.stack}-{res.logical_id}"
        service = res.type.split("::")[1].lower()
        return f"arn:{p}:{service}:{r}:{a}:{res.type.split('::')[2].lower()}/{res.stack}-{res.logical_id}"

    def resources(self, type_: str, stack: str | None = None) -> list[tuple[str, str]]:
        """``(stack, logical id)`` of every resource of ``type_`` (in ``stack`` only, when given)."""
        return sorted(k for k, r in self._resources.items() if r.type == type_ and stack in (None, k[0]))

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
        parsed = tuple(_statement(f"ad hoc {name}", s) for s in statements)
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
        if _service(action) == "kms":
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
        if _service(action) == "s3":
            ctx["s3:TlsVersion"] = 1.3
        if _service(action) == "kms":
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
            if only_account and _principal_kind(s, principal) != "account":
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
            kind = _principal_kind(s, principal)
            if kind is None or (kind == "account" and not delegation_ok):
                return False
        if s.actions is not None and not any(_like(a, action, case=False) for a in s.actions):
            return False
        if s.not_actions is not None and any(_like(a, action, case=False) for a in s.not_actions):
            return False
        if s.resources is not None and not any(_resource_like(r, resource) for r in s.resources):
            return False
        if s.not_resources is not None and any(_resource_like(r, resource) for r in s.not_resources):
            return False
        return all(
            _condition(op, key, values, ctx)
            for op, block in s.conditions.items()
            for key, values in block.items()
        )

    # -- template plumbing ---------------------------------------------------------------------------------
    def _resource(self, stack: str, name: str, type_: str | None = None) -> _Resource:
        return self._resources[(stack, self.logical_id(stack, name, type_))]

    def _statements(self, stack: str, where: str, document: Any) -> list[Statement]:
        document = self._resolve(stack, document)
        raw = document.get("Statement", [])
        raw = raw if isinstance(raw, list) else [raw]
        return [_statement(f"{where}#{s.get('Sid', i)}", s) for i, s in enumerate(raw)]

    def _resolve(self, stack: str, value: Any) -> Any:
        if isinstance(value, list):
            return [self._resolve(stack, v) for v in value if v != {"Ref": "AWS::NoValue"}]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self._resolve(stack, v) for k, v in value.items()}
        ((fn, arg),) = value.items()
        if fn == "Ref":
            pseudo = {
                "AWS::AccountId": self.account,
                "AWS::Region": self.region,
                "AWS::Partition": self.partition,
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": stack,
            }
            if arg in pseudo:
                return pseudo[arg]
            if (stack, arg) in self._resources:
                return self.ref(stack, arg)
            return f"<parameter {arg}>"
        if fn == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            if attribute in ("Arn", "ResourceARN", "TopicArn", "BackupVaultArn"):
                return self.arn(stack, logical)
            return f"<{logical}.{attribute}>"
        if fn == "Fn::Join":
            delimiter, items = arg
            items = self._resolve(stack, items)
            return delimiter.join(str(i) for i in items)
        if fn == "Fn::Split":
            delimiter, source = arg
            return str(self._resolve(stack, source)).split(delimiter)
        if fn == "Fn::Select":
            index, items = arg
            return self._resolve(stack, items)[int(self._resolve(stack, index))]
        if fn == "Fn::Sub":
            template, variables = (arg, {}) if isinstance(arg, str) else arg
            variables = {k: self._resolve(stack, v) for k, v in variables.items()}

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in variables:
                    return str(variables[name])
                if "." in name:
                    return str(self._resolve(stack, {"Fn::GetAtt": name.split(".", 1)}))
                return str(self._resolve(stack, {"Ref": name}))

            return re.sub(r"\$\{([^}!]+)\}", substitute, template)
        if fn == "Fn::If":
            condition, then, otherwise = arg
            return self._resolve(stack, then if self._condition(stack, condition) else otherwise)
        if fn == "Fn::ImportValue":
            name = self._resolve(stack, arg)
            owner, exported = self._exports[name]
            return self._resolve(owner, exported)
        if fn == "Fn::GetAZs":
            return [f"{self.region}a", f"{self.region}b", f"{self.region}c"]
        return {fn: self._resolve(stack, arg)}

    def _condition(self, stack: str, name: str) -> bool:
        return self._truth(stack, self._templates[stack]["Conditions"][name])

    def _truth(self, stack: str, expr: Any) -> bool:
        ((fn, arg),) = expr.items()
        if fn == "Fn::Equals":
            left, right = (self._resolve(stack, a) for a in arg)
            return left == right
        if fn == "Fn::Not":
            return not self._truth(stack, arg[0])
        if fn == "Fn::And":
            return all(self._truth(stack, a) for a in arg)
        if fn == "Fn::Or":
            return any(self._truth(stack, a) for a in arg)
        if fn == "Condition":
            return self._condition(stack, arg)
        raise NotImplementedError(f"condition function {fn}")


# -- statement parsing and matching (module level: no model state) -------------------------------------------
def _statement(where: str, raw: Mapping[str, Any]) -> Statement:
    def many(key: str) -> tuple[str, ...] | None:
        value = raw.get(key)
        if value is None:
            return None
        return tuple(value) if isinstance(value, list) else (value,)

    return Statement(
        where=where,
        effect=raw["Effect"],
        actions=many("Action"),
        not_actions=many("NotAction"),
        resources=many("Resource"),
        not_resources=many("NotResource"),
        principal=raw.get("Principal"),
        not_principal=raw.get("NotPrincipal"),
        conditions=raw.get("Condition", {}),
    )


def _service(action: str) -> str:
    return action.split(":", 1)[0].lower()


def _principal_kind(s: Statement, principal: Principal) -> str | None:
    """How a resource-policy statement's principal matches: ``"direct"``, ``"account"`` (delegation) or ``None``."""
    if s.principal is None and s.not_principal is None:
        return "direct"  # an identity statement: it belongs to the principal
    if s.not_principal is not None:
        return None if _names(s.not_principal, principal) else "direct"
    return _names(s.principal, principal)


def _names(block: Any, principal: Principal) -> str | None:
    if block == "*":
        return "direct"
    entries = {k: (v if isinstance(v, list) else [v]) for k, v in block.items()}
    for value in entries.get("AWS", []):
        if value == "*":
            return "direct"
        if principal.service is None and value == principal.arn:
            return "direct"
    for value in entries.get("Service", []):
        if principal.service is not None and value == principal.service:
            return "direct"
    for value in entries.get("AWS", []):
        account = value if re.fullmatch(r"\d{12}", value) else None
        root = re.fullmatch(r"arn:[a-z-]+:iam::(\d{12}):root", value)
        if root:
            account = root.group(1)
        if account is not None and principal.service is None and account == principal.account:
            return "account"
    return None


def _like(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM wildcards: ``*`` any run of characters, ``?`` one character."""
    if not case:
        pattern, value = pattern.lower(), value.lower()
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """``ArnLike``: the six colon-separated parts match separately (IAM user guide, ARN condition operators)."""
    p, v = pattern.split(":", 5), value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return _like(pattern, value)
    return all(_like(a, b) for a, b in zip(p, v, strict=True))


def _resource_like(pattern: str, resource: str) -> bool:
    return pattern == "*" or _arn_like(pattern, resource)


_OPERATORS = {
    "StringEquals": (lambda v, c: v == c, False),
    "StringNotEquals": (lambda v, c: v == c, True),
    "StringEqualsIgnoreCase": (lambda v, c: v.lower() == c.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, c: v.lower() == c.lower(), True),
    "StringLike": (lambda v, c: _like(v, c), False),
    "StringNotLike": (lambda v, c: _like(v, c), True),
    "ArnEquals": (lambda v, c: v == c, False),
    "ArnNotEquals": (lambda v, c: v == c, True),
    "ArnLike": (lambda v, c: _arn_like(v, c), False),
    "ArnNotLike": (lambda v, c: _arn_like(v, c), True),
    "Bool": (lambda v, c: v.lower() == c.lower(), False),
    "NumericEquals": (lambda v, c: float(c) == float(v), False),
    "NumericNotEquals": (lambda v, c: float(c) == float(v), True),
    "NumericLessThan": (lambda v, c: float(c) < float(v), False),
    "NumericLessThanEquals": (lambda v, c: float(c) <= float(v), False),
    "NumericGreaterThan": (lambda v, c: float(c) > float(v), False),
    "NumericGreaterThanEquals": (lambda v, c: float(c) >= float(v), False),
}


def _condition(operator: str, key: str, values: Any, ctx: Mapping[str, ContextValue]) -> bool:
    """One ``{operator: {key: values}}`` entry against the request context (condition keys are case-insensitive)."""
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    wanted = [_text(v) for v in (values if isinstance(values, list) else [values])]
    lowered = {k.lower(): v for k, v in ctx.items()}
    present = key.lower() in lowered
    if op == "Null":
        return (not present) == (wanted[0].lower() == "true")
    if op not in _OPERATORS:
        raise NotImplementedError(f"condition operator {operator}")
    test, negated = _OPERATORS[op]
    if not present:
        return qualifier == "ForAllValues" or if_exists or negated
    raw = lowered[key.lower()]
    given = [_text(x) for x in raw] if isinstance(raw, (list, tuple)) else [_text(raw)]
    oks = [any(test(w, item) for w in wanted) != negated for item in given]
    if qualifier == "ForAllValues":
        return all(oks)
    if qualifier == "ForAnyValue":
        return any(oks)
    return all(oks) if negated else any(oks)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


__all__ = ["Decision", "PolicyModel", "Principal", "Statement"]
