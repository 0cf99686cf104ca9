"""What Karpenter's GPU and NVMe pools share (:class:`Pool`): placement, labels, the EC2NodeClass, and applying the
NodePool chart after the controller."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import cdk8s
from aws_cdk import Duration, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from .. import catalog
from .._validate import (
    SUBNET,
    fail,
    require,
    require_bool,
    require_duration,
    require_int,
    require_resource,
    require_string_list,
    validate_node_labels,
)
from ..capacity_versions import al2023_alias
from ..errors import reported_by
from ..k8s.karpenter import CAPACITY_TYPES, NodeClassSpec, NodePoolChart, NodePoolSpec
from ..labels import LIBRARY_NODE_LABELS, Taint
from .karpenter import Karpenter

_NAME_PART = re.compile(r"[^a-z0-9]+")


def default_name(scope: Construct, prefix: str) -> str:
    words = [w for w in _NAME_PART.split(scope.node.path.lower()) if w]
    return "-".join([prefix, *words])[:63].rstrip("-")


class Pool(Construct):
    """What both pools share: placement, the node class and pool objects, and applying them after Karpenter."""

    labels: dict[str, str]
    taints: list[Taint]

    def _check_props(self, *, root_volume_gib: Any, **flags: Any) -> None:
        """The props both pools take: the root volume (EBS gp3: 1-16384 GiB, at least 20 for the AMI, as the node
        groups' launch template) and the flags given as ``flags`` (``True`` or ``False``)."""
        require_int(self, "root_volume_gib", root_volume_gib, 20, 16384)
        for prop, flag in flags.items():
            require_bool(self, prop, flag)

    def _placement(
        self, karpenter: Karpenter, subnet: ec2.ISubnet | None, availability_zone: str | None
    ) -> tuple[list[str], list[str]]:
        cluster = karpenter.cluster
        if subnet is not None:
            require_resource(self, "subnet", subnet, *SUBNET)
            zone = subnet.availability_zone
            if (
                availability_zone is not None
                and not Token.is_unresolved(availability_zone)
                and not Token.is_unresolved(zone)
                and availability_zone != zone
            ):
                raise fail(
                    self,
                    "availability_zone",
                    availability_zone,
                    f"differs from the zone of the subnet given ({zone}): the pool's nodes must be in one zone, the "
                    "subnet's (where the data they read is)",
                )
            self.availability_zone: str | None = zone
            return [subnet.subnet_id], [zone]
        if availability_zone is not None:
            subnets = [s for s in cluster.private_subnets if s.availability_zone == availability_zone]
            if not subnets and not Token.is_unresolved(availability_zone):
                raise fail(
                    self,
                    "availability_zone",
                    availability_zone,
                    "has no private subnet of the cluster: "
                    + ", ".join(str(s.availability_zone) for s in cluster.private_subnets),
                )
            self.availability_zone = availability_zone
            return [s.subnet_id for s in subnets], [availability_zone]
        subnets = list(cluster.private_subnets)
        self.availability_zone = None
        return [s.subnet_id for s in subnets], sorted({s.availability_zone for s in subnets}, key=str)

    def _labels(self, library: dict[str, str], user: Mapping[str, str] | None) -> dict[str, str]:
        """The library's node labels and the user's (valid, none of them a library key)."""
        validate_node_labels(self, "labels", {} if user is None else user, reserved=LIBRARY_NODE_LABELS)
        return {**library, **dict(user or {})}

    def _node_class(
        self, karpenter: Karpenter, subnet_ids: Sequence[str], *, root_volume_gib: int, **options: Any
    ) -> NodeClassSpec:
        """The pool's EC2NodeClass: Karpenter's node role, the cluster security group (which managed nodes carry and
        file systems admit), the pinned AL2023 alias, an encrypted root volume with the platform's data key."""
        cluster = karpenter.cluster
        karpenter.grant_volume_key(cluster.keys.data_key)
        return NodeClassSpec(
            role=karpenter.node_role.role_name,
            subnet_ids=list(subnet_ids),
            security_group_ids=[cluster.node_security_group.security_group_id],
            ami_alias=al2023_alias(),
            root_volume_gib=root_volume_gib,
            kms_key_arn=cluster.keys.data_key.key_arn,
            **options,
        )

    def _apply(
        self,
        karpenter: Karpenter,
        *,
        name: str,
        node_class: NodeClassSpec,
        node_pool: NodePoolSpec,
    ) -> None:
        self.charts = cdk8s.App()
        with reported_by(self.node.path):  # the chart's checks (name, weight) named on this construct
            self.chart = NodePoolChart(
                self.charts, "pool", name=name, node_class=node_class, node_pool=node_pool
            )
        self.manifest: eks.KubernetesManifest = karpenter.cluster.cluster.add_cdk8s_chart(
            f"NodePool-{self.node.addr[-8:]}", self.chart, ingress_alb=False, prune=True
        )
        # The controller and its CRDs first; on deletion the pool goes first, so Karpenter drains and terminates
        # its nodes while it still runs.
        self.manifest.node.add_dependency(karpenter.chart)
        self.name = name
        self.node_class_spec = node_class
        self.node_pool_spec = node_pool


def check_capacity(scope: Construct, capacity_types: Sequence[str], reservations: Sequence[str]) -> None:
    capacity_types = require_string_list(scope, "capacity_types", capacity_types, what="capacity types")
    reservations = require_string_list(
        scope, "capacity_reservation_ids", reservations, what="reservation ids"
    )
    require(scope, len(capacity_types) > 0, "capacity_types", list(capacity_types), "must not be empty")
    for capacity in capacity_types:
        require(
            scope,
            capacity in CAPACITY_TYPES,
            "capacity_types",
            capacity,
            f"must be one of {list(CAPACITY_TYPES)}",
        )
    for reservation in reservations:
        if not Token.is_unresolved(reservation) and not catalog.is_capacity_reservation_id(reservation):
            raise fail(
                scope,
                "capacity_reservation_ids",
                reservation,
                "must be a capacity reservation id: 'cr-' and 17 lower-case hexadecimal digits",
            )
    if ("reserved" in capacity_types) != bool(reservations):
        raise fail(
            scope,
            "capacity_types",
            list(capacity_types),
            "'reserved' needs capacity_reservation_ids and they need 'reserved' (Karpenter launches into a "
            "reservation only when the pool allows reserved capacity and its node class selects the reservation)",
        )


def consolidation_delay(scope: Construct, value: Duration | None) -> str:
    require_duration(scope, "consolidate_after", value, example="Duration.minutes(15)")
    minutes = (value or Duration.minutes(15)).to_minutes(integral=False)
    if not float(minutes).is_integer():
        raise fail(scope, "consolidate_after", value.to_human_string(), "must be a whole number of minutes")  # type: ignore[union-attr]
    require(
        scope,
        1 <= minutes <= 24 * 60,
        "consolidate_after",
        f"{minutes} minutes",
        "must be 1 minute to 24 hours",
    )
    return f"{int(minutes)}m"
