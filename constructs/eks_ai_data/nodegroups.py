"""Managed node groups for accelerated and storage-heavy work: :class:`GpuNodeGroup` and :class:`NvmeNodeGroup`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from . import catalog
from ._validate import fail, require, require_range, unresolved, validate_node_labels
from .cluster_interface import IAiCluster, require_ai_cluster
from .labels import (
    ACCELERATOR_LABEL,
    AMI_FAMILY_LABEL,
    GPU_MODEL_LABEL,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    LIBRARY_NODE_LABELS,
    LOCAL_NVME_LABEL,
    LOCAL_NVME_RAID0,
    LOCAL_NVME_TAINT_KEY,
    LOCAL_NVME_TAINT_VALUE,
    LOCAL_NVME_VOLUMES,
    NEURON_TAINT_KEY,
    NEURON_TAINT_VALUE,
)
from .launch_template import NodeLaunchTemplate
from .node_role import node_role

NvmeMode = Literal["ephemeral", "local-volumes"]

#: Accelerated AMI types GpuNodeGroup accepts: (architecture, accelerator kind, AMI family).
GPU_AMI_TYPES: dict[eks.NodegroupAmiType, tuple[str, str, str]] = {
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


class _ManagedGroup(Construct):
    """What GPU and NVMe node groups share: instance-type and size validation, placement and the node group."""

    def _specs(self, instance_types: Sequence[str]) -> list[catalog.InstanceSpec]:
        require(
            self,
            len(instance_types) > 0,
            "instance_types",
            list(instance_types),
            "must name at least one type",
        )
        require(
            self,
            len(set(instance_types)) == len(instance_types),
            "instance_types",
            list(instance_types),
            "must not repeat a type",
        )
        specs = []
        for name in instance_types:
            spec = catalog.lookup(name)
            if spec is None:
                raise fail(
                    self,
                    "instance_types",
                    name,
                    "is not in the instance catalog (eks_ai_data.catalog); supported families: "
                    + ", ".join(catalog.families()),
                )
            specs.append(spec)
        return specs

    def _sizes(self, min_size: int, max_size: int, desired_size: int | None) -> None:
        require_range(self, "min_size", min_size, 0, 1000)
        require_range(self, "max_size", max_size, 1, 1000)
        if min_size > max_size:
            raise fail(self, "min_size", min_size, f"must not exceed max_size ({max_size})")
        if (
            desired_size is not None
            and not unresolved(desired_size)
            and not min_size <= desired_size <= max_size
        ):
            raise fail(
                self,
                "desired_size",
                desired_size,
                f"must be within [min_size, max_size] = [{min_size}, {max_size}]",
            )

    def _user_labels(self, labels: Mapping[str, str] | None) -> dict[str, str]:
        """The user's extra labels: valid for EKS and kubelet, none of them a key the library sets."""
        user = dict(labels or {})
        validate_node_labels(self, "labels", user, reserved=LIBRARY_NODE_LABELS)
        return user

    def _subnets(self, cluster: IAiCluster, subnet: ec2.ISubnet | None, single: bool) -> ec2.SubnetSelection:
        if subnet is not None:
            return ec2.SubnetSelection(subnets=[subnet])
        if single:
            return ec2.SubnetSelection(subnets=[cluster.private_subnets[0]])
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    def _nodegroup(
        self,
        cluster: IAiCluster,
        *,
        nodegroup_name: str | None,
        ami_type: eks.NodegroupAmiType,
        capacity_type: eks.CapacityType,
        specs: Sequence[catalog.InstanceSpec],
        sizes: tuple[int, int, int | None],
        force_update: bool,
    ) -> eks.Nodegroup:
        """The managed node group, with this group's launch template, labels, taints, subnets and its own node role.

        ``force_update=False`` (``ForceUpdateEnabled: false``): an AMI or launch-template update drains each node
        respecting PodDisruptionBudgets, and fails rather than evicting pods a budget protects (a running training
        job); ``True`` terminates nodes whatever the budgets say (EKS UpdateNodegroupVersion ``force``).
        """
        min_size, max_size, desired_size = sizes
        nodegroup = eks.Nodegroup(
            self,
            "Nodegroup",
            cluster=cluster.cluster,
            nodegroup_name=nodegroup_name,
            ami_type=ami_type,
            capacity_type=capacity_type,
            min_size=min_size,
            max_size=max_size,
            desired_size=desired_size if desired_size is not None else min_size,
            labels=self.labels,
            taints=self.taints or None,
            launch_template_spec=self.launch_template.spec,
            subnets=self.subnets,
            enable_node_auto_repair=True,
            force_update=force_update,
            node_role=node_role(self, "NodeRole"),
        )
        # aws-cdk-lib's own GPU check knows only older families (p2/p3/g2-g4) and rejects accelerated AMIs for
        # p4d/p5/g5/g6; the catalog has already checked accelerators and architecture, so set the types on the L1.
        nodegroup.node.default_child.add_property_override("InstanceTypes", [spec.name for spec in specs])
        return nodegroup

    def _availability_zone(self, selection: ec2.SubnetSelection) -> str | None:
        subnets = selection.subnets or []
        return subnets[0].availability_zone if len(subnets) == 1 else None


class GpuNodeGroup(_ManagedGroup):
    """A managed node group of GPU (NVIDIA) or Neuron (Trainium, Inferentia) instances.

    - AMI: AL2023 NVIDIA by default; Bottlerocket NVIDIA and AL2023 Neuron as options. Every instance type must
      carry accelerators of the AMI's kind, and its CPU architecture must match the AMI's.
    - Taint ``nvidia.com/gpu=true:NoSchedule`` (``aws.amazon.com/neuron=true:NoSchedule`` for Neuron) so only
      pods that ask for accelerators land here; labels ``eks-ai-data/accelerator`` and ``eks-ai-data/gpu-model``.
    - Scales from zero (``min_size`` 0 by default).
    - Capacity: on-demand, spot, or a capacity block (``capacity_reservation_id`` required, one instance type).
    - Launch template: IMDSv2 required with hop limit 1, encrypted gp3 root volume with the platform data key.
    - ``efa=True``: every EFA interface the type supports, a cluster placement group and a single subnet.
    - Types with NVMe instance store (p4d, p5, g5, g6, ...) get the store striped as RAID0 by nodeadm (or by
      Bottlerocket's ephemeral-storage), carrying kubelet and containerd.

    :param cluster: the :class:`AiCluster`. Required.
    :param instance_types: instance types from the catalog (all with accelerators). Required.
    :param ami_type: accelerated AMI type. Default: ``AL2023_X86_64_NVIDIA``.
    :param capacity_type: ``ON_DEMAND``, ``SPOT`` or ``CAPACITY_BLOCK``. Default: ``ON_DEMAND``.
    :param capacity_reservation_id: the capacity block's reservation (``cr-...``); required for CAPACITY_BLOCK.
    :param min_size: Default: 0. :param max_size: Default: 2. :param desired_size: Default: ``min_size``.
    :param efa: attach EFA interfaces (all the type supports). Default: ``False``.
    :param subnet: pin the group to this subnet (and its AZ), e.g. the subnet of the Lustre file system it reads.
        Default: all private subnets (with EFA: the first private subnet).
    :param nvme_raid0: stripe the NVMe instance store as RAID0 for kubelet/containerd when every type has one.
        Default: ``True``.
    :param root_volume_gib: root volume size. Default: 200 (accelerated images are large).
    :param labels: extra node labels (EKS limits: keys and values 1-63 characters; keys the library sets, such as
        ``eks-ai-data/accelerator``, are refused). Default: none.
    :param force_update: terminate nodes during AMI and launch-template updates even when PodDisruptionBudgets
        forbid evicting their pods. Default: ``False`` (updates respect budgets: protect training jobs with a PDB).
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
        nodegroup_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
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
        self._sizes(min_size, max_size, desired_size)

        if capacity_type == eks.CapacityType.CAPACITY_BLOCK:
            require(
                self,
                bool(capacity_reservation_id),
                "capacity_reservation_id",
                capacity_reservation_id,
                "is required when capacity_type is CAPACITY_BLOCK (the capacity block's reservation id, cr-...)",
            )
            require(
                self,
                capacity_reservation_id.startswith("cr-"),
                "capacity_reservation_id",
                capacity_reservation_id,
                "must be a capacity reservation id (cr-...)",
            )
            require(
                self,
                len(specs) == 1,
                "instance_types",
                list(instance_types),
                "a capacity block reserves exactly one instance type",
            )
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
            counts = {spec.max_efa_interfaces for spec in specs}
            require(
                self,
                len(counts) == 1,
                "instance_types",
                list(instance_types),
                "with efa=True all types must support the same number of EFA interfaces "
                f"(got {sorted(counts)}); use one node group per type",
            )
            efa_interfaces = counts.pop()

        has_nvme = all(spec.has_nvme for spec in specs)
        local_storage = "raid0" if (nvme_raid0 and has_nvme) else "none"

        self.cluster = cluster
        self.instance_specs = specs
        self.accelerator_kind = kind
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
        if capacity_type == eks.CapacityType.CAPACITY_BLOCK:
            cfn = self.launch_template.launch_template.node.default_child
            cfn.add_property_override(
                "LaunchTemplateData.InstanceMarketOptions", {"MarketType": "capacity-block"}
            )
            cfn.add_property_override(
                "LaunchTemplateData.CapacityReservationSpecification",
                {"CapacityReservationTarget": {"CapacityReservationId": capacity_reservation_id}},
            )

        user_labels = self._user_labels(labels)
        models = {spec.accelerator_model for spec in specs}
        node_labels = {AMI_FAMILY_LABEL: family, ACCELERATOR_LABEL: kind}
        if len(models) == 1:
            node_labels[GPU_MODEL_LABEL] = models.pop()
        if local_storage == "raid0":
            node_labels[LOCAL_NVME_LABEL] = LOCAL_NVME_RAID0
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
        )
        self.ami_family = family
        self.local_storage = local_storage


class NvmeNodeGroup(_ManagedGroup):
    """A managed node group of instances with NVMe instance store, offered to pods in one of two modes.

    - ``mode="ephemeral"`` (default): AL2023 nodeadm ``instance.localStorage.strategy: RAID0`` stripes every
      instance-store disk into one array carrying kubelet and containerd, so ``emptyDir`` volumes and image
      layers land on NVMe. Nothing else to install.
    - ``mode="local-volumes"``: nodeadm formats and mounts each disk under ``/mnt/fast-disks`` (strategy
      ``Mount``), where the local static provisioner (see :mod:`eks_ai_data.k8s`) offers them as local
      PersistentVolumes of the ``local-nvme`` StorageClass.

    Nodes carry the label ``eks-ai-data/local-nvme=<raid0|local-volumes>``; ``taint=True`` adds
    ``eks-ai-data/local-nvme=true:NoSchedule`` so only pods that ask for local NVMe land here.

    :param cluster: the :class:`AiCluster`. Required.
    :param instance_types: types with NVMe instance store, one CPU architecture. Required.
    :param mode: ``ephemeral`` or ``local-volumes``. Default: ``ephemeral``.
    :param taint: add the local-NVMe taint. Default: ``False``.
    :param capacity_type: ``ON_DEMAND`` or ``SPOT``. Default: ``ON_DEMAND``.
    :param min_size: Default: 0. :param max_size: Default: 4. :param desired_size: Default: ``min_size``.
    :param subnet: pin to one subnet/AZ. Default: all private subnets.
    :param root_volume_gib: Default: 100.
    :param labels: extra node labels (EKS limits; library keys refused, as for :class:`GpuNodeGroup`). Default: none.
    :param force_update: terminate nodes during updates even when PodDisruptionBudgets forbid evicting their pods
        (local-volume data is lost with the node). Default: ``False``.
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
        nodegroup_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
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
        arch = arches.pop()
        local_storage = "raid0" if mode == "ephemeral" else "mount"

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
        )
        self.ami_family = "al2023"
