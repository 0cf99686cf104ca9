"""Karpenter NodePools for accelerated and NVMe work: :class:`GpuNodePool` and :class:`NvmeNodePool`.

Each is one EC2NodeClass and one NodePool (:class:`~eks_ai_data.k8s.karpenter.NodePoolChart`) applied by the
cluster after the Karpenter controller, with the same labels and taints as the managed node groups
(:class:`~eks_ai_data.nodegroups.GpuNodeGroup`, :class:`~eks_ai_data.nodegroups.NvmeNodeGroup`), so workloads
schedule the same way whichever engine brings their nodes up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

import cdk8s
from aws_cdk import Duration, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from .. import catalog
from .._validate import fail, require, validate_node_labels
from ..capacity_versions import al2023_alias
from ..k8s.karpenter import CAPACITY_TYPES, NodeClassSpec, NodePoolChart, NodePoolSpec
from ..labels import (
    ACCELERATOR_LABEL,
    AMI_FAMILY_AL2023,
    AMI_FAMILY_LABEL,
    EFA_LABEL,
    EFA_LABEL_VALUE,
    GPU_MODEL_LABEL,
    GPU_TAINT,
    LIBRARY_NODE_LABELS,
    LOCAL_NVME_LABEL,
    LOCAL_NVME_RAID0,
    LOCAL_NVME_TAINT,
    LOCAL_NVME_VOLUMES,
    NEURON_TAINT,
    Taint,
)
from ..launch_template import al2023_user_data
from .device_plugins import efa_device_plugin, neuron_device_plugin
from .karpenter import Karpenter

CapacityType = Literal["on-demand", "spot", "reserved"]
_NAME_PART = re.compile(r"[^a-z0-9]+")


def _default_name(scope: Construct, prefix: str) -> str:
    words = [w for w in _NAME_PART.split(scope.node.path.lower()) if w]
    return "-".join([prefix, *words])[:63].rstrip("-")


class _Pool(Construct):
    """What both pools share: placement, the node class and pool objects, and applying them after Karpenter."""

    labels: dict[str, str]
    taints: list[Taint]

    def _placement(
        self, karpenter: Karpenter, subnet: ec2.ISubnet | None, availability_zone: str | None
    ) -> tuple[list[str], list[str]]:
        cluster = karpenter.cluster
        if subnet is not None:
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

    def _apply(
        self,
        karpenter: Karpenter,
        *,
        name: str,
        node_class: NodeClassSpec,
        node_pool: NodePoolSpec,
    ) -> None:
        self.charts = cdk8s.App()
        self.chart = NodePoolChart(self.charts, "pool", name=name, node_class=node_class, node_pool=node_pool)
        self.manifest: eks.KubernetesManifest = karpenter.cluster.cluster.add_cdk8s_chart(
            f"NodePool-{self.node.addr[-8:]}", self.chart, ingress_alb=False, prune=True
        )
        # The controller and its CRDs first; on deletion the pool goes first, so Karpenter drains and terminates
        # its nodes while it still runs.
        self.manifest.node.add_dependency(karpenter.chart)
        self.name = name
        self.node_class_spec = node_class
        self.node_pool_spec = node_pool


class GpuNodePool(_Pool):
    """A Karpenter NodePool of GPU (NVIDIA) or Neuron instances, the Karpenter counterpart of :class:`GpuNodeGroup`.

    - Exact instance types from the catalog, one accelerator kind; AL2023 AMIs by alias (Karpenter picks the
      NVIDIA or Neuron variant); labels ``eks-ai-data/accelerator``, ``eks-ai-data/gpu-model``,
      ``eks-ai-data/ami-family=al2023`` (and ``eks-ai-data/local-nvme=raid0``, ``eks-ai-data/efa=true``) and the
      GPU or Neuron taint, as the managed groups have them.
    - Capacity: ``on-demand``, ``spot`` and/or ``reserved`` (On-Demand Capacity Reservations or capacity blocks,
      selected by id in ``capacity_reservation_ids``: a reservation is used only when ``reserved`` is allowed).
    - Placement: ``subnet`` (one zone, e.g. the Lustre file system's), or ``availability_zone``, or every private
      subnet.
    - ``gpu_limit``: the pool's total GPUs (Neuron devices), at least one node's worth of every type.
    - Training is never disrupted by Karpenter: nodes are removed only when empty (after ``consolidate_after``),
      never for drift or underutilization, and never expire. (Spot reclaims and capacity-block ends still stop
      nodes: Karpenter drains them first, from its interruption queue.)
    - EFA (``efa=True``): a cluster placement group and the cluster's EFA device plugin; Karpenter attaches every
      EFA interface of the type when a pod requests ``vpc.amazonaws.com/efa``.
    - NVMe instance store striped as RAID0 (``instanceStorePolicy: RAID0``) for kubelet and containerd.

    :param karpenter: the cluster's :class:`Karpenter`. Required.
    :param instance_types: accelerated types (one kind). Required.
    :param capacity_types: Default: ``("on-demand",)``.
    :param capacity_reservation_ids: reservations for ``reserved`` capacity (``cr-`` and 17 hex digits). Default: none.
    :param gpu_limit: total GPUs (Neuron devices) of the pool. Default: two nodes of the largest type.
    :param subnet: the one subnet (zone) of the pool. Default: all private subnets (or ``availability_zone``'s).
    :param availability_zone: the pool's zone; with ``subnet`` it must be the subnet's. Default: the subnet's, or all.
    :param efa: Default: ``False``. :param nvme_raid0: Default: ``True``. :param root_volume_gib: Default: 200.
    :param labels: extra node labels (library keys refused). Default: none.
    :param consolidate_after: how long an empty node stays before Karpenter removes it. Default: 15 minutes.
    :param weight: priority among NodePools that fit a pod (1-100). Default: none.
    :param name: the NodePool and EC2NodeClass name. Default: derived from the construct path.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        karpenter: Karpenter,
        instance_types: Sequence[str],
        capacity_types: Sequence[CapacityType] = ("on-demand",),
        capacity_reservation_ids: Sequence[str] = (),
        gpu_limit: int | None = None,
        subnet: ec2.ISubnet | None = None,
        availability_zone: str | None = None,
        efa: bool = False,
        nvme_raid0: bool = True,
        root_volume_gib: int = 200,
        labels: Mapping[str, str] | None = None,
        consolidate_after: Duration | None = None,
        weight: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        if not isinstance(karpenter, Karpenter):
            raise fail(self, "karpenter", karpenter, "must be the cluster's Karpenter construct")
        specs = _specs(self, instance_types)
        kinds = {spec.accelerator_kind for spec in specs}
        for spec in specs:
            if not spec.has_accelerators:
                raise fail(self, "instance_types", spec.name, f"needs accelerators; {catalog.describe(spec)}")
        require(
            self, len(kinds) == 1, "instance_types", list(instance_types), "must share one accelerator kind"
        )
        kind = kinds.pop()
        if kind == "neuron":
            for spec in specs:
                require(
                    self,
                    spec.architecture == "x86_64",
                    "instance_types",
                    spec.name,
                    "Neuron AMIs are x86_64 only",
                )
        _capacity(self, capacity_types, capacity_reservation_ids)
        per_node = {spec.name: spec.accelerator_count for spec in specs}
        limit = gpu_limit if gpu_limit is not None else 2 * max(per_node.values())
        too_big = sorted(t for t, n in per_node.items() if n > limit)
        if too_big:
            raise fail(
                self,
                "gpu_limit",
                limit,
                f"is below one node of {', '.join(f'{t} ({per_node[t]})' for t in too_big)}: Karpenter never launches "
                "a type whose accelerators would take the pool past its limit",
            )
        if efa:
            for spec in specs:
                if not spec.supports_efa:
                    raise fail(
                        self, "efa", True, f"{spec.name} does not support EFA; {catalog.describe(spec)}"
                    )
        subnet_ids, zones = self._placement(karpenter, subnet, availability_zone)
        raid0 = nvme_raid0 and all(spec.has_nvme for spec in specs)
        models = {spec.accelerator_model for spec in specs}
        node_labels = {AMI_FAMILY_LABEL: AMI_FAMILY_AL2023, ACCELERATOR_LABEL: kind}
        if len(models) == 1:
            node_labels[GPU_MODEL_LABEL] = models.pop()
        if raid0:
            node_labels[LOCAL_NVME_LABEL] = LOCAL_NVME_RAID0
        if efa:
            node_labels[EFA_LABEL] = EFA_LABEL_VALUE
        user = dict(labels or {})
        validate_node_labels(self, "labels", user, reserved=LIBRARY_NODE_LABELS)
        node_labels.update(user)
        self.labels = node_labels
        self.taints = [GPU_TAINT if kind == "nvidia" else NEURON_TAINT]
        self.accelerator_kind = kind
        self.instance_specs = specs
        self.local_storage = "raid0" if raid0 else "none"
        self.efa = efa
        self.gpu_limit = limit
        cluster = karpenter.cluster
        karpenter.grant_volume_key(cluster.keys.data_key)
        self.placement_group = (
            ec2.PlacementGroup(self, "PlacementGroup", strategy=ec2.PlacementGroupStrategy.CLUSTER)
            if efa
            else None
        )
        resource = "nvidia.com/gpu" if kind == "nvidia" else "aws.amazon.com/neuron"
        self._apply(
            karpenter,
            name=name or _default_name(self, "gpu"),
            node_class=NodeClassSpec(
                role=karpenter.node_role.role_name,
                subnet_ids=subnet_ids,
                security_group_ids=[cluster.node_security_group.security_group_id],
                ami_alias=al2023_alias(),
                root_volume_gib=root_volume_gib,
                kms_key_arn=cluster.keys.data_key.key_arn,
                instance_store_raid0=raid0,
                capacity_reservation_ids=list(capacity_reservation_ids),
                placement_group=self.placement_group.placement_group_name if self.placement_group else None,
            ),
            node_pool=NodePoolSpec(
                instance_types=[spec.name for spec in specs],
                capacity_types=list(capacity_types),
                zones=zones,
                labels=node_labels,
                taints=self.taints,
                limits={resource: str(limit)},
                consolidate_after=_duration(self, consolidate_after),
                weight=weight,
            ),
        )
        self.efa_device_plugin = efa_device_plugin(cluster) if efa else None
        self.neuron_device_plugin = (
            neuron_device_plugin(cluster, [spec.name for spec in specs]) if kind == "neuron" else None
        )


class NvmeNodePool(_Pool):
    """A Karpenter NodePool of NVMe instance-store types, the Karpenter counterpart of :class:`NvmeNodeGroup`:
    ``mode="ephemeral"`` stripes the store as RAID0 for kubelet and containerd (``instanceStorePolicy: RAID0``),
    ``mode="local-volumes"`` mounts each disk under ``/mnt/fast-disks`` for the local static provisioner (nodeadm
    user data, merged by Karpenter). Labels and taint as the managed group's.

    :param karpenter: the cluster's :class:`Karpenter`. Required.
    :param instance_types: NVMe types of one CPU architecture. Required.
    :param mode: ``ephemeral`` or ``local-volumes``. Default: ``ephemeral``.
    :param taint: add the local-NVMe taint. Default: ``False``.
    :param max_nodes: the pool's size, as a vCPU limit of this many nodes of the largest type. Default: 4.
    :param capacity_types: ``on-demand`` and/or ``spot``. Default: ``("on-demand",)``.
    :param subnet: :param availability_zone: placement, as for :class:`GpuNodePool`. Default: all private subnets.
    :param root_volume_gib: Default: 100. :param labels: extra node labels. Default: none.
    :param consolidate_after: Default: 15 minutes. :param name: Default: derived from the construct path.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        karpenter: Karpenter,
        instance_types: Sequence[str],
        mode: Literal["ephemeral", "local-volumes"] = "ephemeral",
        taint: bool = False,
        max_nodes: int = 4,
        capacity_types: Sequence[CapacityType] = ("on-demand",),
        subnet: ec2.ISubnet | None = None,
        availability_zone: str | None = None,
        root_volume_gib: int = 100,
        labels: Mapping[str, str] | None = None,
        consolidate_after: Duration | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        if not isinstance(karpenter, Karpenter):
            raise fail(self, "karpenter", karpenter, "must be the cluster's Karpenter construct")
        require(
            self,
            mode in ("ephemeral", "local-volumes"),
            "mode",
            mode,
            "must be 'ephemeral' or 'local-volumes'",
        )
        require(
            self, isinstance(max_nodes, int) and max_nodes >= 1, "max_nodes", max_nodes, "must be at least 1"
        )
        require(
            self,
            "reserved" not in capacity_types,
            "capacity_types",
            list(capacity_types),
            "must be on-demand and/or spot",
        )
        _capacity(self, capacity_types, ())
        specs = _specs(self, instance_types)
        for spec in specs:
            if not spec.has_nvme:
                raise fail(
                    self, "instance_types", spec.name, f"needs NVMe instance store; {catalog.describe(spec)}"
                )
        arches = {spec.architecture for spec in specs}
        require(
            self, len(arches) == 1, "instance_types", list(instance_types), "must share one CPU architecture"
        )
        subnet_ids, zones = self._placement(karpenter, subnet, availability_zone)
        node_labels = {
            AMI_FAMILY_LABEL: AMI_FAMILY_AL2023,
            LOCAL_NVME_LABEL: LOCAL_NVME_RAID0 if mode == "ephemeral" else LOCAL_NVME_VOLUMES,
        }
        user = dict(labels or {})
        validate_node_labels(self, "labels", user, reserved=LIBRARY_NODE_LABELS)
        node_labels.update(user)
        self.labels = node_labels
        self.taints = [LOCAL_NVME_TAINT] if taint else []
        self.mode = mode
        self.instance_specs = specs
        self.local_storage = "raid0" if mode == "ephemeral" else "mount"
        cluster = karpenter.cluster
        karpenter.grant_volume_key(cluster.keys.data_key)
        self._apply(
            karpenter,
            name=name or _default_name(self, "nvme"),
            node_class=NodeClassSpec(
                role=karpenter.node_role.role_name,
                subnet_ids=subnet_ids,
                security_group_ids=[cluster.node_security_group.security_group_id],
                ami_alias=al2023_alias(),
                root_volume_gib=root_volume_gib,
                kms_key_arn=cluster.keys.data_key.key_arn,
                instance_store_raid0=mode == "ephemeral",
                user_data=al2023_user_data("mount") if mode == "local-volumes" else None,
            ),
            node_pool=NodePoolSpec(
                instance_types=[spec.name for spec in specs],
                capacity_types=list(capacity_types),
                zones=zones,
                labels=node_labels,
                taints=self.taints,
                limits={"cpu": str(max_nodes * max(spec.vcpus for spec in specs))},
                consolidate_after=_duration(self, consolidate_after),
            ),
        )


def _specs(scope: Construct, instance_types: Sequence[str]) -> list[catalog.InstanceSpec]:
    require(
        scope, len(instance_types) > 0, "instance_types", list(instance_types), "must name at least one type"
    )
    require(
        scope,
        len(set(instance_types)) == len(instance_types),
        "instance_types",
        list(instance_types),
        "must not repeat a type",
    )
    specs = []
    for name in instance_types:
        spec = catalog.lookup(name)
        if spec is None:
            raise fail(scope, "instance_types", name, "is not in the instance catalog (eks_ai_data.catalog)")
        specs.append(spec)
    return specs


def _capacity(scope: Construct, capacity_types: Sequence[str], reservations: Sequence[str]) -> None:
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


def _duration(scope: Construct, value: Duration | None) -> str:
    minutes = (value or Duration.minutes(15)).to_minutes()
    require(
        scope,
        1 <= minutes <= 24 * 60,
        "consolidate_after",
        f"{minutes} minutes",
        "must be 1 minute to 24 hours",
    )
    return f"{int(minutes)}m"


__all__ = ["GpuNodePool", "NvmeNodePool"]
