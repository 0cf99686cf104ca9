"""What a mount needs from AWS, modelled from the synthesized templates: EFS authorization (the EFS CSI driver's
mount options, efs-utils' credentials, the file-system policy, the node plugin's IAM role) and the security-group
rules Lustre clients and servers need between them.

EFS (aws-efs-csi-driver pkg/driver/node.go NodePublishVolume; efs-utils; EFS user guide, "Using IAM to control
file system data access"): the node plugin passes the volume's ``mountOptions`` to ``mount.efs`` and adds ``tls``
itself when ``encryptInTransit`` is not ``"false"`` (its default) and for every access-point mount, plus
``accesspoint=<id>``. With ``iam``, efs-utils signs the mount with the node plugin's credentials (Pod Identity,
then IRSA, then the instance role); without it the client is anonymous. Once a file-system policy exists, a mount
is allowed when an identity policy or the file-system policy allows ``elasticfilesystem:ClientMount`` (and
``ClientWrite`` for read-write) and nothing denies it; a file system without a policy admits every client.

Lustre (FSx for Lustre user guide, "File system access control with Amazon VPC"): clients connect to servers on
TCP 988 and 1018-1023, and servers connect back to clients on the same ports, so each side's security group must
send to and accept from the other. The EKS-created cluster security group (which managed nodes carry) allows all
outbound traffic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.platform.iam_matching import Principal
from tests.platform.iam_model import Decision, PolicyModel

LUSTRE_PORTS = (988, *range(1018, 1024))
EFS_ADDON = "aws-efs-csi-driver"
EFS_NODE_SERVICE_ACCOUNT = "efs-csi-node-sa"
ANONYMOUS = Principal(arn="anonymous", account="anonymous")


def efs_effective_options(
    mount_options: Iterable[str], volume_handle: str, attributes: Mapping[str, str]
) -> set[str]:
    """The options ``mount.efs`` gets from the EFS CSI node plugin for a volume."""
    options = set(mount_options)
    access_point = volume_handle.split("::")[1] if volume_handle.count("::") == 1 else ""
    if attributes.get("encryptInTransit", "true").lower() != "false" or access_point:
        options.add("tls")
    if access_point:
        options.add(f"accesspoint={access_point}")
    return options


def efs_node_role(model: PolicyModel, stack: str) -> Principal:
    """The role efs-utils signs ``iam`` mounts with: the EFS node service account's Pod Identity role, else the
    add-on's IRSA role (which annotates every service account of the add-on)."""
    for s, lid in model.resources("AWS::EKS::PodIdentityAssociation", stack):
        props = model._resources[(s, lid)].properties
        if props["ServiceAccount"] == EFS_NODE_SERVICE_ACCOUNT:
            return model.role(s, props["RoleArn"]["Fn::GetAtt"][0])
    for s, lid in model.resources("AWS::EKS::Addon", stack):
        props = model._resources[(s, lid)].properties
        if props["AddonName"] == EFS_ADDON and "ServiceAccountRoleArn" in props:
            return model.role(s, props["ServiceAccountRoleArn"]["Fn::GetAtt"][0])
    raise AssertionError(f"{stack}: the EFS CSI node plugin has no role")


def efs_mount(
    model: PolicyModel,
    stack: str,
    file_system_arn: str,
    options: set[str],
    *,
    access_point_arn: str | None,
    write: bool,
) -> Decision:
    """Whether EFS admits a mount with ``options`` (as :func:`efs_effective_options` gives them)."""
    if "iam" in options and "tls" not in options:
        return Decision(False, "efs-utils refuses iam without tls")
    principal = efs_node_role(model, stack) if "iam" in options else ANONYMOUS
    context = {
        "aws:SecureTransport": "tls" in options,
        "elasticfilesystem:AccessedViaMountTarget": True,
    }
    if access_point_arn is not None:
        context["elasticfilesystem:AccessPointArn"] = access_point_arn
    has_policy = model._resource_policy(file_system_arn) is not None
    for action in ("elasticfilesystem:ClientMount", *(["elasticfilesystem:ClientWrite"] if write else [])):
        if not has_policy:
            continue  # EFS's default policy admits every client that reaches a mount target
        decision = model.can(principal, action, file_system_arn, context=context)
        if not decision:
            return decision
    return Decision(True, "the mount is authorized")


@dataclass(frozen=True)
class Rule:
    direction: str  # "in" | "out"
    group: str
    peer: str | None  # a security group id, or None for a CIDR
    cidr: str | None
    low: int
    high: int
    protocol: str

    def covers(self, port: int) -> bool:
        return self.protocol in ("-1", "all") or (self.protocol == "tcp" and self.low <= port <= self.high)


class SecurityGroups:
    """The security-group rules of the templates (inline and standalone), with ids resolved."""

    def __init__(self, model: PolicyModel, all_outbound: Iterable[str] = ()) -> None:
        self.rules: list[Rule] = []
        self.all_outbound = set(all_outbound)
        for (stack, lid), res in model._resources.items():
            if not res.type.startswith("AWS::EC2::SecurityGroup"):
                continue
            props = model._resolve(stack, res.properties)
            if res.type == "AWS::EC2::SecurityGroup":
                group = f"<{lid}.GroupId>"  # what Fn::GetAtt [lid, GroupId] resolves to elsewhere
                for raw in props.get("SecurityGroupIngress", []):
                    self.rules.append(self._rule("in", group, raw))
                for raw in props.get("SecurityGroupEgress", []):
                    self.rules.append(self._rule("out", group, raw))
            elif res.type == "AWS::EC2::SecurityGroupIngress":
                self.rules.append(self._rule("in", props["GroupId"], props))
            elif res.type == "AWS::EC2::SecurityGroupEgress":
                self.rules.append(self._rule("out", props["GroupId"], props))

    @staticmethod
    def _rule(direction: str, group: str, raw: Mapping[str, Any]) -> Rule:
        peer = (
            raw.get("SourceSecurityGroupId") if direction == "in" else raw.get("DestinationSecurityGroupId")
        )
        return Rule(
            direction=direction,
            group=str(group),
            peer=str(peer) if peer is not None else None,
            cidr=raw.get("CidrIp"),
            low=int(raw.get("FromPort", 0)),
            high=int(raw.get("ToPort", 65535)),
            protocol=str(raw.get("IpProtocol", "-1")),
        )

    def _allows(self, direction: str, group: str, peer: str, port: int) -> bool:
        if direction == "out" and group in self.all_outbound:
            return True
        return any(
            r.direction == direction
            and r.group == group
            and r.covers(port)
            and (r.peer == peer or r.cidr == "0.0.0.0/0")
            for r in self.rules
        )

    def connects(self, source: str, destination: str, port: int) -> bool:
        """Whether a connection from a host in ``source`` to a host in ``destination`` on ``port`` is admitted."""
        return self._allows("out", source, destination, port) and self._allows(
            "in", destination, source, port
        )
