"""Synthesized CloudFormation templates with made-up physical names, and their intrinsic functions resolved
(:class:`Templates`, the base of :class:`tests.platform.iam_model.PolicyModel`).

``Ref`` and ``Fn::GetAtt ... Arn`` give deterministic, realistic values per stack and logical id (a role
``arn:aws:iam::ACCOUNT:role/<stack>-<logical id>``, a bucket ``<stack>-<logical id>`` in lower case, a key id
shaped like a UUID, ``vpce-...``, ``fs-...``); ``Fn::Join``, ``Fn::Sub``, ``Fn::Split``, ``Fn::Select``,
``Fn::If`` (with the template's conditions), ``Fn::ImportValue`` (exports of the other templates),
``Fn::FindInMap`` (the template's mappings) and ``Fn::GetAZs`` are evaluated with the given account, Region and
partition; ``Fn::GetAtt X.Value`` of a ``CfnJson`` resource is its parsed JSON.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stacks import INFERENCE_DATA_STACK, INFERENCE_STACK, TRAINING_DATA_STACK, TRAINING_STACK


@dataclass(frozen=True)
class Platform:
    """A reference platform as deployed: its data stack and the cluster stack that consumes it (``stacks.build``,
    default configuration: one cluster, ``blue``)."""

    name: str
    data: str
    cluster: str

    @property
    def stacks(self) -> tuple[str, str]:
        """Both stacks, data first: where a resource that may live in either (roles, alarms, log groups, rules) is."""
        return (self.data, self.cluster)


#: The reference platforms by name (``training``, ``inference``); parametrize tests with ``PLATFORMS``.
REFERENCE_PLATFORMS = {
    "training": Platform("training", TRAINING_DATA_STACK, TRAINING_STACK),
    "inference": Platform("inference", INFERENCE_DATA_STACK, INFERENCE_STACK),
}
PLATFORMS = tuple(REFERENCE_PLATFORMS)


@dataclass
class _Resource:
    stack: str
    logical_id: str
    type: str
    properties: dict[str, Any] = field(default_factory=dict)


class Templates:
    """``{stack name: template}`` with resolved values: what a policy model reads."""

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
        self._index()

    def _index(self) -> None:
        """What a subclass reads from the templates once they are loaded (nothing here)."""

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
        if res.type == "AWS::EFS::AccessPoint":
            return f"fsap-{digest[:17]}"
        if res.type == "AWS::FSx::DataRepositoryAssociation":
            return f"dra-{digest[:17]}"
        if res.type == "AWS::SNS::Topic":
            return self.arn(stack, name)
        if res.type == "AWS::EC2::Subnet":
            return f"subnet-{digest[:17]}"
        if res.type == "AWS::EC2::SecurityGroup":
            return f"sg-{digest[:17]}"
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
        if res.type == "AWS::EFS::AccessPoint":
            return f"arn:{p}:elasticfilesystem:{r}:{a}:access-point/{self.ref(stack, name)}"
        if res.type == "AWS::FSx::DataRepositoryAssociation":
            file_system = self._resolve(stack, res.properties["FileSystemId"])
            return f"arn:{p}:fsx:{r}:{a}:association/{file_system}/{self.ref(stack, name)}"
        if res.type == "AWS::SNS::Topic":
            return f"arn:{p}:sns:{r}:{a}:{res.stack}-{res.logical_id}"
        service = res.type.split("::")[1].lower()
        return f"arn:{p}:{service}:{r}:{a}:{res.type.split('::')[2].lower()}/{res.stack}-{res.logical_id}"

    def resources(self, type_: str, stack: str | Iterable[str] | None = None) -> list[tuple[str, str]]:
        """``(stack, logical id)`` of every resource of ``type_`` (in ``stack`` only, or in those stacks, when
        given: a platform's ``Platform.stacks``)."""
        stacks = None if stack is None else {stack} if isinstance(stack, str) else set(stack)
        return sorted(
            k for k, r in self._resources.items() if r.type == type_ and (stacks is None or k[0] in stacks)
        )

    # -- resolution -------------------------------------------------------------------------------------
    def _resource(self, stack: str, name: str, type_: str | None = None) -> _Resource:
        return self._resources[(stack, self.logical_id(stack, name, type_))]

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
            if attribute == "BackupPlanId":  # what Ref of an AWS::Backup::BackupPlan returns too
                return self.ref(stack, logical)
            resource = self._resources.get((stack, logical))
            if resource is not None and resource.type == "Custom::AWSCDKCfnJson" and attribute == "Value":
                # aws-cdk-lib's CfnJson: the resolved JSON text of its Value, parsed (what the custom resource returns)
                return json.loads(str(self._resolve(stack, resource.properties["Value"])))
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
        if fn == "Fn::FindInMap":
            mapping, first, second = (self._resolve(stack, a) for a in arg)
            return self._templates[stack]["Mappings"][mapping][first][second]
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
