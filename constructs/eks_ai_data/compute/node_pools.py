"""Karpenter NodePools for accelerated and NVMe work: :class:`GpuNodePool` and :class:`NvmeNodePool`.

Each is one EC2NodeClass and one NodePool (:class:`~eks_ai_data.k8s.karpenter.NodePoolChart`) applied by the
cluster after the Karpenter controller, with the same labels and taints as the managed node groups
(:class:`~eks_ai_data.nodegroups.GpuNodeGroup`, :class:`~eks_ai_data.nodegroups.NvmeNodeGroup`), so workloads
schedule the same way whichever engine brings their nodes up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, TypedDict

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .. import catalog
from .._validate import fail, require, require_int
from ..k8s.karpenter import NodePoolSpec
from ..labels import (
    ACCELERATOR_LABEL,
    AMI_FAMILY_AL2023,
    AMI_FAMILY_LABEL,
    EFA_LABEL,
    EFA_LABEL_VALUE,
    GPU_MODEL_LABEL,
    GPU_TAINT,
    LOCAL_NVME_LABEL,
    LOCAL_NVME_RAID0,
    LOCAL_NVME_TAINT,
    LOCAL_NVME_VOLUMES,
    NEURON_TAINT,
)
from ..launch_template import al2023_user_data
from .device_plugins import efa_device_plugin, neuron_device_plugin
from .karpenter import Karpenter
from .managed_group import catalog_specs
from .pool_base import Pool, check_capacity, consolidation_delay, default_name

CapacityType = Literal["on-demand", "spot", "reserved"]


class GpuNodePoolOptions(TypedDict, total=False):
    """The :class:`GpuNodePool` props a pattern passes through (``DistributedDataset(gpu_node_pool_props=...)``):
    every prop but ``karpenter``, ``instance_types`` and ``subnet``, which the pattern sets. Each has the meaning and
    default documented on :class:`GpuNodePool`."""

    capacity_types: Sequence[CapacityType]
    capacity_reservation_ids: Sequence[str]
    gpu_limit: int | None
    availability_zone: str | None
    efa: bool
    nvme_raid0: bool
    root_volume_gib: int
    labels: Mapping[str, str] | None
    consolidate_after: Duration | None
    weight: int | None
    name: str | None


class GpuNodePool(Pool):
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
    :param efa: Default: ``False``.
    :param nvme_raid0: Default: ``True``.
    :param root_volume_gib: Default: 200.
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
        self._check_props(root_volume_gib=root_volume_gib, efa=efa, nvme_raid0=nvme_raid0)
        if gpu_limit is not None:
            require_int(self, "gpu_limit", gpu_limit, 1, 1_000_000)
        if weight is not None:
            # Karpenter NodePool spec.weight: 1-100 (karpenter.sh_nodepools CRD)
            require_int(self, "weight", weight, 1, 100)
        specs = catalog_specs(self, instance_types)
        kinds = {
            spec.accelerator_kind for spec in specs if spec.accelerator_kind
        }  # every one has one (below)
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
        check_capacity(self, capacity_types, capacity_reservation_ids)
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
        node_labels: dict[str, str] = {AMI_FAMILY_LABEL: AMI_FAMILY_AL2023, ACCELERATOR_LABEL: kind}
        if len(models) == 1 and (model := models.pop()) is not None:
            node_labels[GPU_MODEL_LABEL] = model
        if raid0:
            node_labels[LOCAL_NVME_LABEL] = LOCAL_NVME_RAID0
        if efa:
            node_labels[EFA_LABEL] = EFA_LABEL_VALUE
        node_labels = self._labels(node_labels, labels)
        self.labels = node_labels
        self.taints = [GPU_TAINT if kind == "nvidia" else NEURON_TAINT]
        self.accelerator_kind = kind
        self.instance_specs = specs
        self.local_storage = "raid0" if raid0 else "none"
        self.efa = efa
        self.gpu_limit = limit
        cluster = karpenter.cluster
        self.placement_group = (
            ec2.PlacementGroup(self, "PlacementGroup", strategy=ec2.PlacementGroupStrategy.CLUSTER)
            if efa
            else None
        )
        resource = "nvidia.com/gpu" if kind == "nvidia" else "aws.amazon.com/neuron"
        self._apply(
            karpenter,
            name=name or default_name(self, "gpu"),
            node_class=self._node_class(
                karpenter,
                subnet_ids,
                root_volume_gib=root_volume_gib,
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
                consolidate_after=consolidation_delay(self, consolidate_after),
                weight=weight,
            ),
        )
        self.efa_device_plugin = efa_device_plugin(cluster) if efa else None
        self.neuron_device_plugin = (
            neuron_device_plugin(cluster, [spec.name for spec in specs]) if kind == "neuron" else None
        )


class NvmeNodePool(Pool):
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
    :param subnet: placement, as for :class:`GpuNodePool`. Default: all private subnets.
    :param availability_zone: placement, as for :class:`GpuNodePool`. Default: all private subnets.
    :param root_volume_gib: Default: 100.
    :param labels: extra node labels. Default: none.
    :param consolidate_after: Default: 15 minutes.
    :param name: Default: derived from the construct path.
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
        self._check_props(root_volume_gib=root_volume_gib, taint=taint)
        require(
            self,
            mode in ("ephemeral", "local-volumes"),
            "mode",
            mode,
            "must be 'ephemeral' or 'local-volumes'",
        )
        if isinstance(max_nodes, bool) or not isinstance(max_nodes, int):
            raise fail(self, "max_nodes", max_nodes, "must be a whole number, at least 1")
        require(
            self,
            max_nodes >= 1,
            "max_nodes",
            max_nodes,
            "must be at least 1",
        )
        require(
            self,
            "reserved" not in capacity_types,
            "capacity_types",
            list(capacity_types),
            "must be on-demand and/or spot",
        )
        check_capacity(self, capacity_types, ())
        specs = catalog_specs(self, instance_types)
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
        node_labels = self._labels(node_labels, labels)
        self.labels = node_labels
        self.taints = [LOCAL_NVME_TAINT] if taint else []
        self.mode = mode
        self.instance_specs = specs
        self.local_storage = "raid0" if mode == "ephemeral" else "mount"
        self._apply(
            karpenter,
            name=name or default_name(self, "nvme"),
            node_class=self._node_class(
                karpenter,
                subnet_ids,
                root_volume_gib=root_volume_gib,
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
                consolidate_after=consolidation_delay(self, consolidate_after),
            ),
        )


__all__ = ["GpuNodePool", "NvmeNodePool"]
