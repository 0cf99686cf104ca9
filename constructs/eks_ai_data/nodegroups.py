"""Managed node groups for accelerated and storage-heavy work: :class:`GpuNodeGroup` and :class:`NvmeNodeGroup`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, TypedDict

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from . import catalog
from ._validate import SUBNET, fail, require, require_bool, require_enum, require_int, require_resource
from .catalog_data.spec import AcceleratorKind, Architecture
from .cluster_interface import IAiCluster, require_ai_cluster
from .compute.capacity_block import capacity_block_problems, reserve
from .compute.device_plugins import efa_device_plugin, neuron_device_plugin
from .compute.managed_group import ManagedGroup, template_resources
from .labels import (
    ACCELERATOR_LABEL,
    AMI_FAMILY_LABEL,
    CLUSTER_AUTOSCALER_GPU_LABEL,
    EFA_LABEL,
    EFA_LABEL_VALUE,
    GPU_MODEL_LABEL,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    LOCAL_NVME_LABEL,
    LOCAL_NVME_RAID0,
    LOCAL_NVME_TAINT_KEY,
    LOCAL_NVME_TAINT_VALUE,
    LOCAL_NVME_VOLUMES,
    NEURON_TAINT_KEY,
    NEURON_TAINT_VALUE,
)
from .launch_template import AmiFamily, LocalStorage, NodeLaunchTemplate
from .node_repair import NodeRepair

NvmeMode = Literal["ephemeral", "local-volumes"]

#: Accelerated AMI types GpuNodeGroup accepts: (architecture, accelerator kind, AMI family).
GPU_AMI_TYPES: dict[eks.NodegroupAmiType, tuple[Architecture, AcceleratorKind, AmiFamily]] = {
    eks.NodegroupAmiType.AL2023_X86_64_NVIDIA: ("x86_64", "nvidia", "al2023"),
    eks.NodegroupAmiType.AL2023_ARM_64_NVIDIA: ("arm64", "nvidia", "al2023"),
    eks.NodegroupAmiType.BOTTLEROCKET_X86_64_NVIDIA: ("x86_64", "nvidia", "bottlerocket"),
    eks.NodegroupAmiType.BOTTLEROCKET_ARM_64_NVIDIA: ("arm64", "nvidia", "bottlerocket"),
    eks.NodegroupAmiType.AL2023_X86_64_NEURON: ("x86_64", "neuron", "al2023"),
}
#: Standard AMI types NvmeNodeGroup uses, by architecture.
STANDARD_AMI_TYPES = {
    "x86_64": eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
    "arm64": eks.NodegroupAmiType.AL2023_ARM_64_STANDARD,
}


def _ami_name(ami_type: eks.NodegroupAmiType) -> str:
    return getattr(ami_type, "name", str(ami_type))


class GpuNodeGroupOptions(TypedDict, total=False):
    """The :class:`GpuNodeGroup` props a pattern passes through (``DistributedDataset(gpu_node_group_props=...)``):
    every prop but ``cluster``, ``instance_types`` and ``subnet``, which the pattern sets. Each has the meaning and
    default documented on :class:`GpuNodeGroup`."""

    ami_type: eks.NodegroupAmiType
    capacity_type: eks.CapacityType
    capacity_reservation_id: str | None
    min_size: int
    max_size: int
    desired_size: int | None
    efa: bool
    nvme_raid0: bool
    root_volume_gib: int
    labels: Mapping[str, str] | None
    force_update: bool
    node_repair: NodeRepair | None
    nodegroup_name: str | None


class GpuNodeGroup(ManagedGroup):
    """A managed node group of GPU (NVIDIA) or Neuron (Trainium, Inferentia) instances.

    - AMI: AL2023 NVIDIA by default; Bottlerocket NVIDIA and AL2023 Neuron as options. Every instance type must
      carry accelerators of the AMI's kind, and its CPU architecture must match the AMI's.
    - Taint ``nvidia.com/gpu=true:NoSchedule`` (``aws.amazon.com/neuron=true:NoSchedule`` for Neuron) so only
      pods that ask for accelerators land here; labels ``eks-ai-data/accelerator`` and ``eks-ai-data/gpu-model``
      (NVIDIA: also ``k8s.amazonaws.com/accelerator=nvidia-<model>``, the Cluster Autoscaler's GPU label).
    - Scales from zero (``min_size`` 0 by default) with the Cluster Autoscaler: the EKS-created Auto Scaling group
      is tagged with the node template (labels, taints, accelerators, EFA, ephemeral storage, and the zone of a
      single-subnet group), so CA knows the nodes before one exists; an empty GPU node (no pod requesting its
      GPUs) is the only GPU node CA removes (per-group GPU scale-down threshold 0).
    - Capacity: on-demand, spot, or a capacity block (``capacity_reservation_id`` of the form ``cr-`` and 17 hex
      digits, one instance type EC2 sells as capacity blocks, ``subnet`` in the reservation's zone, sizes 0: the
      Cluster Autoscaler scales the group up for pending pods once the block is active).
    - Node auto repair (``node_repair``): on by default; GPU faults the node monitoring agent reports are repaired
      as EKS's table says, or as the overrides say.
    - Launch template: IMDSv2 required with hop limit 1, encrypted gp3 root volume with the platform data key.
    - ``efa=True``: every EFA interface the type supports, a cluster placement group, a single subnet, the label
      ``eks-ai-data/efa=true`` and the cluster's EFA device plugin. Neuron groups get the Neuron device plugin.
    - Types with NVMe instance store (p4d, p5, g5, g6, ...) get the store striped as RAID0 by nodeadm (or by
      Bottlerocket's ephemeral-storage), carrying kubelet and containerd.

    :param cluster: the :class:`AiCluster`. Required.
    :param instance_types: instance types from the catalog (all with accelerators, all with the same number of
        accelerators: the Cluster Autoscaler pictures every node of a group alike). Required.
    :param ami_type: accelerated AMI type. Default: ``AL2023_X86_64_NVIDIA``.
    :param capacity_type: ``ON_DEMAND``, ``SPOT`` or ``CAPACITY_BLOCK``. Default: ``ON_DEMAND``.
    :param capacity_reservation_id: the capacity block's reservation (``cr-...``); required for CAPACITY_BLOCK.
    :param min_size: Default: 0.
    :param max_size: Default: 2 (at most 64 for a capacity block).
    :param desired_size: Default: ``min_size``.
    :param efa: attach EFA interfaces (all the type supports). Default: ``False``.
    :param subnet: pin the group to this subnet (and its AZ), e.g. the subnet of the Lustre file system it reads;
        required for a capacity block (a subnet in the reservation's zone). Default: all private subnets (with EFA:
        the first private subnet).
    :param nvme_raid0: stripe the NVMe instance store as RAID0 for kubelet/containerd when every type has one.
        Default: ``True``.
    :param root_volume_gib: root volume size. Default: 200 (accelerated images are large).
    :param labels: extra node labels (EKS limits: keys and values 1-63 characters; keys the library sets, such as
        ``eks-ai-data/accelerator``, are refused). Default: none.
    :param force_update: terminate nodes during AMI and launch-template updates even when PodDisruptionBudgets
        forbid evicting their pods. Default: ``False`` (updates respect budgets: protect training jobs with a PDB).
    :param node_repair: node auto repair (:class:`~eks_ai_data.node_repair.NodeRepair`). Default: enabled, EKS's
        actions (GPU faults repaired 10 minutes after the agent reports them).
    :param nodegroup_name: Default: generated.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        instance_types: Sequence[str],
        ami_type: eks.NodegroupAmiType = eks.NodegroupAmiType.AL2023_X86_64_NVIDIA,
        capacity_type: eks.CapacityType = eks.CapacityType.ON_DEMAND,
        capacity_reservation_id: str | None = None,
        min_size: int = 0,
        max_size: int = 2,
        desired_size: int | None = None,
        efa: bool = False,
        subnet: ec2.ISubnet | None = None,
        nvme_raid0: bool = True,
        root_volume_gib: int = 200,
        labels: Mapping[str, str] | None = None,
        force_update: bool = False,
        node_repair: NodeRepair | None = None,
        nodegroup_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        for prop, flag in (("efa", efa), ("nvme_raid0", nvme_raid0), ("force_update", force_update)):
            require_bool(self, prop, flag)
        if subnet is not None:
            require_resource(self, "subnet", subnet, *SUBNET)
        require_int(self, "root_volume_gib", root_volume_gib, 20, 16384)
        if ami_type not in GPU_AMI_TYPES:
            raise fail(
                self,
                "ami_type",
                _ami_name(ami_type),
                "must be an accelerated AMI type: " + ", ".join(_ami_name(a) for a in GPU_AMI_TYPES),
            )
        arch, kind, family = GPU_AMI_TYPES[ami_type]
        specs = self._specs(instance_types)
        for spec in specs:
            if not spec.has_accelerators:
                raise fail(
                    self,
                    "instance_types",
                    spec.name,
                    f"GpuNodeGroup needs GPU or accelerator instance types; {catalog.describe(spec)}",
                )
            if spec.accelerator_kind != kind:
                raise fail(
                    self,
                    "instance_types",
                    spec.name,
                    f"AMI type {_ami_name(ami_type)} needs {kind} accelerators; {catalog.describe(spec)}",
                )
            if spec.architecture != arch:
                raise fail(
                    self,
                    "instance_types",
                    spec.name,
                    f"is {spec.architecture} but AMI type {_ami_name(ami_type)} is {arch}",
                )
        counts = {spec.accelerator_count for spec in specs}
        require(
            self,
            len(counts) == 1,
            "instance_types",
            list(instance_types),
            f"must all carry the same number of accelerators (got {sorted(counts)}): the Cluster Autoscaler builds "
            "one node template per group, so use one node group per accelerator count",
        )
        self._sizes(min_size, max_size, desired_size)
        repair = self._repair(node_repair if node_repair is not None else NodeRepair())

        require_enum(self, "capacity_type", capacity_type, eks.CapacityType)
        block = capacity_type == eks.CapacityType.CAPACITY_BLOCK
        if block:
            for prop, value, allowed in capacity_block_problems(
                specs=specs,
                reservation_id=capacity_reservation_id,
                subnet=subnet,
                sizes=(min_size, max_size, desired_size),
            ):
                raise fail(self, prop, value, allowed)
        elif capacity_reservation_id is not None:
            raise fail(
                self,
                "capacity_reservation_id",
                capacity_reservation_id,
                "is only used with capacity_type CAPACITY_BLOCK",
            )

        efa_interfaces = 0
        if efa:
            for spec in specs:
                if not spec.supports_efa:
                    raise fail(
                        self, "efa", True, f"{spec.name} does not support EFA; {catalog.describe(spec)}"
                    )
            interfaces = {spec.max_efa_interfaces for spec in specs}
            require(
                self,
                len(interfaces) == 1,
                "instance_types",
                list(instance_types),
                "with efa=True all types must support the same number of EFA interfaces "
                f"(got {sorted(interfaces)}); use one node group per type",
            )
            efa_interfaces = interfaces.pop()

        has_nvme = all(spec.has_nvme for spec in specs)
        local_storage: LocalStorage = "raid0" if (nvme_raid0 and has_nvme) else "none"

        self.cluster = cluster
        self.instance_specs = specs
        self.accelerator_kind = kind
        self.efa = efa
        self.launch_template = NodeLaunchTemplate(
            self,
            "LaunchTemplate",
            volume_key=cluster.keys.data_key,
            ami_family=family,
            root_volume_gib=root_volume_gib,
            local_storage=local_storage,
            efa_interfaces=efa_interfaces,
            security_group_id=cluster.node_security_group.security_group_id if efa_interfaces else None,
        )
        if block and capacity_reservation_id:  # required with a capacity block (checked above)
            reserve(self.launch_template, capacity_reservation_id, specs[0].name)

        user_labels = self._user_labels(labels)
        models = {spec.accelerator_model for spec in specs}
        node_labels: dict[str, str] = {AMI_FAMILY_LABEL: family, ACCELERATOR_LABEL: kind}
        if len(models) == 1 and (model := models.pop()) is not None:
            node_labels[GPU_MODEL_LABEL] = model
            if kind == "nvidia":
                node_labels[CLUSTER_AUTOSCALER_GPU_LABEL] = f"nvidia-{model.lower()}"
        elif kind == "nvidia":
            node_labels[CLUSTER_AUTOSCALER_GPU_LABEL] = "nvidia"
        if local_storage == "raid0":
            node_labels[LOCAL_NVME_LABEL] = LOCAL_NVME_RAID0
        if efa:
            node_labels[EFA_LABEL] = EFA_LABEL_VALUE
        node_labels.update(user_labels)
        taint_key, taint_value = (
            (GPU_TAINT_KEY, GPU_TAINT_VALUE) if kind == "nvidia" else (NEURON_TAINT_KEY, NEURON_TAINT_VALUE)
        )
        self.taints = [eks.TaintSpec(key=taint_key, value=taint_value, effect=eks.TaintEffect.NO_SCHEDULE)]
        self.labels = node_labels
        self.subnets = self._subnets(cluster, subnet, single=efa)
        self.availability_zone = self._availability_zone(self.subnets)
        self.nodegroup = self._nodegroup(
            cluster,
            nodegroup_name=nodegroup_name,
            ami_type=ami_type,
            capacity_type=capacity_type,
            specs=specs,
            sizes=(min_size, max_size, desired_size),
            force_update=force_update,
            node_repair=repair,
            instance_types_in_launch_template=block,
        )
        self.ami_family = family
        self.local_storage = local_storage
        self.capacity_reservation_id = capacity_reservation_id
        self.node_repair = repair
        disks = [
            spec.nvme_total_gb * 1e9 if local_storage == "raid0" else root_volume_gib * 2**30
            for spec in specs
        ]
        self.asg_tags = self._scale_from_zero(
            cluster,
            resources=template_resources(specs, efa=efa, kubelet_disk_bytes=disks),
            # CA removes a GPU node only when no pod requests any of its GPUs (utilization 0 <= threshold 0):
            # aws_manager.go GetAsgOptions, core/scaledown/eligibility isNodeAtOrBelowUtilizationThreshold
            options={"scaledowngpuutilizationthreshold": "0"} if kind == "nvidia" else None,
        )
        self.efa_device_plugin = efa_device_plugin(cluster) if efa else None
        self.neuron_device_plugin = (
            neuron_device_plugin(cluster, [spec.name for spec in specs]) if kind == "neuron" else None
        )


class NvmeNodeGroup(ManagedGroup):
    """A managed node group of instances with NVMe instance store, offered to pods in one of two modes.

    - ``mode="ephemeral"`` (default): AL2023 nodeadm ``instance.localStorage.strategy: RAID0`` stripes every
      instance-store disk into one array carrying kubelet and containerd, so ``emptyDir`` volumes and image
      layers land on NVMe. Nothing else to install.
    - ``mode="local-volumes"``: nodeadm formats and mounts each disk under ``/mnt/fast-disks`` (strategy
      ``Mount``), where the local static provisioner (see :mod:`eks_ai_data.k8s`) offers them as local
      PersistentVolumes of the ``local-nvme`` StorageClass.

    Nodes carry the label ``eks-ai-data/local-nvme=<raid0|local-volumes>``; ``taint=True`` adds
    ``eks-ai-data/local-nvme=true:NoSchedule`` so only pods that ask for local NVMe land here. Scales from zero
    with the Cluster Autoscaler, like :class:`GpuNodeGroup` (node-template tags on its Auto Scaling group).

    :param cluster: the :class:`AiCluster`. Required.
    :param instance_types: types with NVMe instance store, one CPU architecture. Required.
    :param mode: ``ephemeral`` or ``local-volumes``. Default: ``ephemeral``.
    :param taint: add the local-NVMe taint. Default: ``False``.
    :param capacity_type: ``ON_DEMAND`` or ``SPOT``. Default: ``ON_DEMAND``.
    :param min_size: Default: 0.
    :param max_size: Default: 4.
    :param desired_size: Default: ``min_size``.
    :param subnet: pin to one subnet/AZ. Default: all private subnets.
    :param root_volume_gib: Default: 100.
    :param labels: extra node labels (EKS limits; library keys refused, as for :class:`GpuNodeGroup`). Default: none.
    :param force_update: terminate nodes during updates even when PodDisruptionBudgets forbid evicting their pods
        (local-volume data is lost with the node). Default: ``False``.
    :param node_repair: node auto repair. Default: enabled, EKS's actions.
    :param nodegroup_name: Default: generated.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        instance_types: Sequence[str],
        mode: NvmeMode = "ephemeral",
        taint: bool = False,
        capacity_type: eks.CapacityType = eks.CapacityType.ON_DEMAND,
        min_size: int = 0,
        max_size: int = 4,
        desired_size: int | None = None,
        subnet: ec2.ISubnet | None = None,
        root_volume_gib: int = 100,
        labels: Mapping[str, str] | None = None,
        force_update: bool = False,
        node_repair: NodeRepair | None = None,
        nodegroup_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        for prop, flag in (("taint", taint), ("force_update", force_update)):
            require_bool(self, prop, flag)
        if subnet is not None:
            require_resource(self, "subnet", subnet, *SUBNET)
        require_int(self, "root_volume_gib", root_volume_gib, 20, 16384)
        require(
            self,
            mode in ("ephemeral", "local-volumes"),
            "mode",
            mode,
            "must be 'ephemeral' or 'local-volumes'",
        )
        require(
            self,
            capacity_type in (eks.CapacityType.ON_DEMAND, eks.CapacityType.SPOT),
            "capacity_type",
            getattr(capacity_type, "name", capacity_type),
            "must be ON_DEMAND or SPOT",
        )
        specs = self._specs(instance_types)
        for spec in specs:
            if not spec.has_nvme:
                raise fail(
                    self,
                    "instance_types",
                    spec.name,
                    f"NvmeNodeGroup needs instance types with NVMe instance store; {catalog.describe(spec)}",
                )
        arches = {spec.architecture for spec in specs}
        require(
            self,
            len(arches) == 1,
            "instance_types",
            list(instance_types),
            f"must share one CPU architecture (got {sorted(arches)}); use one node group per architecture",
        )
        self._sizes(min_size, max_size, desired_size)
        repair = self._repair(node_repair if node_repair is not None else NodeRepair())
        arch = arches.pop()
        local_storage: LocalStorage = "raid0" if mode == "ephemeral" else "mount"

        self.cluster = cluster
        self.mode = mode
        self.instance_specs = specs
        self.launch_template = NodeLaunchTemplate(
            self,
            "LaunchTemplate",
            volume_key=cluster.keys.data_key,
            ami_family="al2023",
            root_volume_gib=root_volume_gib,
            local_storage=local_storage,
        )
        node_labels = {
            AMI_FAMILY_LABEL: "al2023",
            LOCAL_NVME_LABEL: LOCAL_NVME_RAID0 if mode == "ephemeral" else LOCAL_NVME_VOLUMES,
        }
        node_labels.update(self._user_labels(labels))
        self.labels = node_labels
        self.taints = (
            [
                eks.TaintSpec(
                    key=LOCAL_NVME_TAINT_KEY, value=LOCAL_NVME_TAINT_VALUE, effect=eks.TaintEffect.NO_SCHEDULE
                )
            ]
            if taint
            else []
        )
        self.subnets = self._subnets(cluster, subnet, single=False)
        self.availability_zone = self._availability_zone(self.subnets)
        self.nodegroup = self._nodegroup(
            cluster,
            nodegroup_name=nodegroup_name,
            ami_type=STANDARD_AMI_TYPES[arch],
            capacity_type=capacity_type,
            specs=specs,
            sizes=(min_size, max_size, desired_size),
            force_update=force_update,
            node_repair=repair,
        )
        self.ami_family = "al2023"
        self.node_repair = repair
        disks = [
            spec.nvme_total_gb * 1e9 if mode == "ephemeral" else root_volume_gib * 2**30 for spec in specs
        ]
        self.asg_tags = self._scale_from_zero(
            cluster, resources=template_resources(specs, efa=False, kubelet_disk_bytes=disks)
        )
