"""What GPU and NVMe managed node groups share (:class:`ManagedGroup`): instance types, sizes, placement, the node
group itself, node auto repair, and the scale-from-zero facts the Cluster Autoscaler reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from .. import catalog
from .._cfn import default_child
from .._validate import (
    fail,
    require,
    require_int,
    require_string_list,
    unresolved,
    validate_node_labels,
)
from ..cluster_interface import IAiCluster
from ..labels import LIBRARY_NODE_LABELS
from ..launch_template import NodeLaunchTemplate
from ..naming import eks_name_rule, is_eks_name
from ..node_repair import NodeRepair
from ..node_role import node_role
from ..scale_from_zero import (
    DISCOVERY_ENABLED_TAG,
    RESOURCE_TAG_PREFIX,
    NodeTemplate,
    TemplateTaint,
    discovery_tag,
    ephemeral_storage,
    min_quantities,
    tag_problems,
    template_tags,
)
from .asg_tags import NodegroupAsgTags

#: EKS CreateNodegroup ``nodegroupName``: 1-63 characters.
MAX_NODEGROUP_NAME = 63
#: EKS CreateNodegroup ``scalingConfig``: minSize and desiredSize 0-1000, maxSize 1-1000.
MAX_NODEGROUP_SIZE = 1000
_EFFECTS = {
    eks.TaintEffect.NO_SCHEDULE: "NoSchedule",
    eks.TaintEffect.NO_EXECUTE: "NoExecute",
    eks.TaintEffect.PREFER_NO_SCHEDULE: "PreferNoSchedule",
}


def accelerator_resources(spec: catalog.InstanceSpec, *, efa: bool) -> dict[str, int]:
    """The extended resources a node of ``spec`` offers once its device plugins run (Kubernetes resource names)."""
    found: dict[str, int] = {}
    if spec.accelerator_kind == "nvidia":
        found["nvidia.com/gpu"] = spec.accelerator_count
    elif spec.accelerator_kind == "neuron":
        found["aws.amazon.com/neuron"] = spec.accelerator_count
        if spec.neuron_cores_per_device:
            found["aws.amazon.com/neuroncore"] = spec.accelerator_count * spec.neuron_cores_per_device
    if efa and spec.max_efa_interfaces:
        found["vpc.amazonaws.com/efa"] = spec.max_efa_interfaces
    return found


def template_resources(
    specs: Sequence[catalog.InstanceSpec], *, efa: bool, kubelet_disk_bytes: Sequence[float]
) -> dict[str, str]:
    """The resources the Cluster Autoscaler's template node must carry for these types (the smallest amount any
    type offers): accelerators and EFA, which CA never derives (except ``nvidia.com/gpu``, set anyway), and
    ``ephemeral-storage`` from the disk kubelet runs on."""
    counts = min_quantities(accelerator_resources(spec, efa=efa) for spec in specs)
    resources = {name: str(amount) for name, amount in counts.items()}
    resources["ephemeral-storage"] = ephemeral_storage(min(kubelet_disk_bytes))
    return resources


def catalog_specs(scope: Construct, instance_types: Sequence[str]) -> list[catalog.InstanceSpec]:
    """The catalog's specs of ``instance_types``: at least one, none repeated, every one known to the catalog."""
    instance_types = require_string_list(scope, "instance_types", instance_types, what="instance types")
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
            raise fail(
                scope,
                "instance_types",
                name,
                "is not in the instance catalog (eks_ai_data.catalog); supported families: "
                + ", ".join(catalog.families()),
            )
        specs.append(spec)
    return specs


class ManagedGroup(Construct):
    """Base of :class:`~eks_ai_data.nodegroups.GpuNodeGroup` and :class:`~eks_ai_data.nodegroups.NvmeNodeGroup`.

    Subclasses set ``labels``, ``taints``, ``subnets`` and ``launch_template`` before calling :meth:`_nodegroup`, then
    :meth:`_scale_from_zero`.
    """

    labels: dict[str, str]
    taints: list[eks.TaintSpec]
    subnets: ec2.SubnetSelection
    availability_zone: str | None
    launch_template: NodeLaunchTemplate
    nodegroup: eks.Nodegroup

    def _specs(self, instance_types: Sequence[str]) -> list[catalog.InstanceSpec]:
        return catalog_specs(self, instance_types)

    def _sizes(self, min_size: int, max_size: int, desired_size: int | None) -> None:
        # EKS scaling config sizes are integers; a float or a bool (an int subclass) is a mistake, not a size
        require_int(self, "min_size", min_size, 0, MAX_NODEGROUP_SIZE)
        require_int(self, "max_size", max_size, 1, MAX_NODEGROUP_SIZE)
        if desired_size is not None:
            require_int(self, "desired_size", desired_size, 0, MAX_NODEGROUP_SIZE)
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
        validate_node_labels(self, "labels", {} if labels is None else labels, reserved=LIBRARY_NODE_LABELS)
        return dict(labels or {})

    def _subnets(self, cluster: IAiCluster, subnet: ec2.ISubnet | None, single: bool) -> ec2.SubnetSelection:
        if subnet is not None:
            return ec2.SubnetSelection(subnets=[subnet])
        if single:
            return ec2.SubnetSelection(subnets=[cluster.private_subnets[0]])
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    def _availability_zone(self, selection: ec2.SubnetSelection) -> str | None:
        subnets = selection.subnets or []
        return subnets[0].availability_zone if len(subnets) == 1 else None

    def _repair(self, node_repair: NodeRepair) -> NodeRepair:
        if not isinstance(node_repair, NodeRepair):
            raise fail(self, "node_repair", node_repair, "must be a NodeRepair")
        for prop, value, allowed in node_repair.problems():
            raise fail(self, f"node_repair.{prop}", value, allowed)
        return node_repair

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
        node_repair: NodeRepair,
        instance_types_in_launch_template: bool = False,
    ) -> eks.Nodegroup:
        """The managed node group, with this group's launch template, labels, taints, subnets and its own node role.

        ``force_update=False`` (``ForceUpdateEnabled: false``): an AMI or launch-template update drains each node
        respecting PodDisruptionBudgets, and fails rather than evicting pods a budget protects (a running training
        job); ``True`` terminates nodes whatever the budgets say (EKS UpdateNodegroupVersion ``force``).
        """
        if nodegroup_name is not None:
            require(
                self,
                is_eks_name(nodegroup_name, MAX_NODEGROUP_NAME),
                "nodegroup_name",
                nodegroup_name,
                f"must be an EKS node group name: {eks_name_rule(MAX_NODEGROUP_NAME)}",
            )
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
            force_update=force_update,
            node_role=node_role(self, "NodeRole"),
        )
        cfn = default_child(nodegroup, eks.CfnNodegroup)
        if not instance_types_in_launch_template:
            # aws-cdk-lib's own GPU check knows only older families (p2/p3/g2-g4) and rejects accelerated AMIs for
            # p4d/p5/g5/g6; the catalog has already checked accelerators and architecture, so set them on the L1.
            cfn.add_property_override("InstanceTypes", [spec.name for spec in specs])
        cfn.add_property_override("NodeRepairConfig", node_repair.to_cfn())
        return nodegroup

    def _scale_from_zero(
        self,
        cluster: IAiCluster,
        *,
        resources: Mapping[str, str],
        options: Mapping[str, str] | None = None,
    ) -> NodegroupAsgTags:
        """Tell the Cluster Autoscaler what this group's nodes will be before one exists (module
        :mod:`eks_ai_data.scale_from_zero`): the node-template tags on the EKS-created Auto Scaling group, and the
        resource tags on the node group too (CA reads those through DescribeNodegroup while the group is empty)."""
        cluster_name = cluster.cluster.cluster_name
        template = NodeTemplate(
            labels=self.labels,
            taints=tuple(
                TemplateTaint(
                    t.key or "",
                    t.value or "",
                    _EFFECTS.get(t.effect, "NoSchedule") if t.effect else "NoSchedule",
                )
                for t in self.taints
            ),
            resources=dict(resources),
            zone=self.availability_zone,
            options=dict(options or {}),
        )
        tags = template_tags(template, cluster_name)
        for problem in tag_problems(tags):
            raise fail(self, "labels", sorted(self.labels), problem)
        discovery_keys = (DISCOVERY_ENABLED_TAG, discovery_tag(cluster_name))
        self.node_template = template
        cfn = default_child(self.nodegroup, eks.CfnNodegroup)
        cfn.add_property_override(
            "Tags", {RESOURCE_TAG_PREFIX + name: quantity for name, quantity in template.resources.items()}
        )
        return NodegroupAsgTags(
            self,
            "AsgTags",
            nodegroup=self.nodegroup,
            cluster_name=cluster_name,
            tags={k: v for k, v in tags.items() if k not in discovery_keys},
            discovery_tags={k: v for k, v in tags.items() if k in discovery_keys},
            log_key=cluster.keys.data_key,
        )
