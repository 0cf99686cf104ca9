"""Every validation rule of the capacity constructs, with its message: node groups (accelerator counts, capacity
blocks, node repair, library labels), the system node type, the Cluster Autoscaler, Karpenter and its pools, the
dataset pattern's pool zone, the capacity engine setting and the EKS image registry."""

from __future__ import annotations

import itertools

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_eks_v2 as eks

from eks_ai_data import capacity_versions, catalog
from eks_ai_data.cluster import AiCluster
from eks_ai_data.compute.autoscaler import ClusterAutoscaler
from eks_ai_data.compute.device_plugins import eks_registry
from eks_ai_data.compute.karpenter import Karpenter
from eks_ai_data.compute.node_pools import GpuNodePool, NvmeNodePool
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.network import ZonalStack
from eks_ai_data.node_repair import NodeRepair, RepairOverride
from eks_ai_data.nodegroups import GpuNodeGroup

ZONES = ["eu-west-1a", "eu-west-1b"]
_ids = itertools.count()


@pytest.fixture(scope="module")
def platform() -> AiCluster:
    """An unsynthesized cluster in a stack with a concrete Region and zones (constructing is cheap)."""
    stack = ZonalStack(
        cdk.App(),
        "Rules",
        env=cdk.Environment(account="111122223333", region="eu-west-1"),
        availability_zones=ZONES,
    )
    return AiCluster(stack, "Platform", availability_zones=ZONES)


@pytest.fixture(scope="module")
def karpenter(platform) -> Karpenter:
    return Karpenter(platform, "Karpenter", cluster=platform)


def _id(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


BLOCK = {
    "instance_types": ["p5.48xlarge"],
    "capacity_type": eks.CapacityType.CAPACITY_BLOCK,
    "capacity_reservation_id": "cr-0123456789abcdef0",
}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"instance_types": ["g6e.xlarge", "g6e.12xlarge"]},
            r"must all carry the same number of accelerators \(got \[1, 4\]\): the Cluster Autoscaler builds one "
            r"node template per group",
        ),
        (
            {**BLOCK, "instance_types": ["g6e.48xlarge"]},
            r"instance_types='g6e.48xlarge': is not sold as EC2 Capacity Blocks for ML; capacity-block types: "
            r"p4d.24xlarge",
        ),
        (
            {**BLOCK, "instance_types": ["p5.48xlarge", "p5e.48xlarge"]},
            "a capacity block reserves exactly one instance type",
        ),
        (
            {**BLOCK, "capacity_reservation_id": "cr-0123"},
            r"capacity_reservation_id='cr-0123': must be a capacity reservation id: 'cr-' and 17 lower-case",
        ),
        (
            {**BLOCK, "capacity_reservation_id": "cr-0123456789ABCDEF0"},
            r"must be a capacity reservation id",
        ),
        (
            {**BLOCK},
            r"subnet=None: is required with CAPACITY_BLOCK: a subnet in the reservation's Availability Zone",
        ),
        ({**BLOCK, "subnet": "first", "min_size": 1}, r"min_size=1: must be 0 with CAPACITY_BLOCK"),
        (
            {**BLOCK, "subnet": "first", "desired_size": 2, "max_size": 4},
            r"desired_size=2: must be 0 with CAPACITY_BLOCK: the group cannot launch before the block starts",
        ),
        ({**BLOCK, "subnet": "first", "max_size": 65}, r"max_size=65: must be at most 64"),
        (
            {"instance_types": ["g6e.xlarge"], "node_repair": "on"},
            r"node_repair='on': must be a NodeRepair",
        ),
        (
            {
                "instance_types": ["g6e.xlarge"],
                "node_repair": NodeRepair(max_unhealthy_count=2, max_unhealthy_percentage=20),
            },
            r"node_repair.max_unhealthy_count=2: is exclusive with max_unhealthy_percentage",
        ),
        (
            {"instance_types": ["g6e.xlarge"], "node_repair": NodeRepair(max_parallel_percentage=120)},
            r"node_repair.max_parallel_percentage=120: must be a whole number from 1 to 100",
        ),
        (
            {"instance_types": ["g6e.xlarge"], "node_repair": NodeRepair(max_parallel_count=0)},
            r"node_repair.max_parallel_count=0: must be a whole number of at least 1",
        ),
        (
            {
                "instance_types": ["g6e.xlarge"],
                "node_repair": NodeRepair(overrides=[RepairOverride("NvidiaXID13Warning")]),
            },
            r"node_repair.overrides\[0\].reason='NvidiaXID13Warning': must be a fatal reason of the node monitoring "
            r"agent \(a warning never starts a repair\)",
        ),
        (
            {
                "instance_types": ["g6e.xlarge"],
                "node_repair": NodeRepair(overrides=[RepairOverride("NvidiaXID79Error", action="Restart")]),
            },
            r"node_repair.overrides\[0\].action='Restart': must be one of \['Replace', 'Reboot', 'NoAction'\]",
        ),
        (
            {
                "instance_types": ["g6e.xlarge"],
                "node_repair": NodeRepair(overrides=[RepairOverride("NvidiaXID79Error", wait_minutes=0)]),
            },
            r"node_repair.overrides\[0\].wait_minutes=0: must be a whole number of at least 1",
        ),
        (
            {
                "instance_types": ["g6e.xlarge"],
                "node_repair": NodeRepair(
                    overrides=[RepairOverride("NvidiaXID79Error", condition="KernelReady")]
                ),
            },
            r"node_repair.overrides\[0\].condition='KernelReady': the agent reports NvidiaXID79Error under "
            r"AcceleratedHardwareReady",
        ),
        (
            {
                "instance_types": ["g6e.xlarge"],
                "node_repair": NodeRepair(
                    overrides=[RepairOverride("NvidiaXID79Error"), RepairOverride("NvidiaXID79Error")]
                ),
            },
            r"node_repair.overrides\[1\].reason='NvidiaXID79Error': is overridden twice",
        ),
        (
            {
                "instance_types": ["g6e.xlarge"],
                "node_repair": NodeRepair(enabled=False, overrides=[RepairOverride("NvidiaXID79Error")]),
            },
            r"node_repair.enabled=False: thresholds and overrides need enabled=True",
        ),
        (
            {"instance_types": ["g6e.xlarge"], "labels": {"eks-ai-data/efa": "true"}},
            r"is set by eks-ai-data itself",
        ),
        (
            {"instance_types": ["g6e.xlarge"], "labels": {"k8s.amazonaws.com/accelerator": "nvidia-l40s"}},
            r"is set by eks-ai-data itself",
        ),
    ],
)
def test_gpu_node_group_rules(platform, props, message):
    props = dict(props)
    if props.get("subnet") == "first":
        props["subnet"] = platform.private_subnets[0]
    with pytest.raises(EksAiDataValidationError, match=message) as info:
        GpuNodeGroup(platform, _id("Gpu"), cluster=platform, **props)
    assert info.value.where.startswith("Rules/Platform/Gpu")


def test_a_registered_type_may_be_a_capacity_block(platform):
    """The catalog's capacity-block list cannot know a type newer than it: a registered type is accepted."""
    spec = catalog.InstanceSpec(
        name="p7x.48xlarge",
        vcpus=192,
        memory_gib=2048.0,
        architecture="x86_64",
        accelerator_kind="nvidia",
        accelerator_count=8,
        accelerator_model="X300",
        accelerator_memory_gib=288,
        nvme_disk_count=8,
        nvme_disk_size_gb=3840,
        max_efa_interfaces=16,
    )
    catalog.register(spec)
    try:
        group = GpuNodeGroup(
            platform,
            _id("Gpu"),
            cluster=platform,
            **{**BLOCK, "instance_types": ["p7x.48xlarge"]},
            subnet=platform.private_subnets[1],
        )
        assert group.capacity_reservation_id == "cr-0123456789abcdef0"
        assert group.availability_zone == "eu-west-1b"
    finally:
        catalog.unregister("p7x.48xlarge")


def test_node_repair_reaches_the_node_group(platform):
    repair = NodeRepair(
        max_parallel_count=1,
        max_unhealthy_percentage=20,
        overrides=[RepairOverride("NvidiaXID13Error", action="Replace", wait_minutes=5)],
    )
    group = GpuNodeGroup(
        platform, _id("Gpu"), cluster=platform, instance_types=["g6e.xlarge"], node_repair=repair
    )
    assert group.node_repair.to_cfn() == {
        "Enabled": True,
        "MaxUnhealthyNodeThresholdPercentage": 20,
        "MaxParallelNodesRepairedCount": 1,
        "NodeRepairConfigOverrides": [
            {
                "NodeMonitoringCondition": "AcceleratedHardwareReady",
                "NodeUnhealthyReason": "NvidiaXID13Error",
                "RepairAction": "Replace",
                "MinRepairWaitTimeMins": 5,
            }
        ],
    }


# -- the system node group ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_type", "message"),
    [
        ("m9z.huge", r"system_instance_type='m9z.huge': is not an EC2 instance type the catalog knows"),
        ("mac2.metal", r"system_instance_type='mac2.metal': is a arm64_mac type: no EKS AMI runs on it"),
    ],
)
def test_system_instance_type_rules(instance_type, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        AiCluster(cdk.Stack(cdk.App(), "Sys"), "Platform", system_instance_type=instance_type)


def test_a_graviton_system_type_gets_the_arm64_ami():
    platform = AiCluster(cdk.Stack(cdk.App(), "Arm"), "Platform", system_instance_type="m8g.large")
    assert platform.system_nodegroup.node.default_child.ami_type == "AL2023_ARM_64_STANDARD"


def test_node_monitoring_agent_is_installed_by_default_and_can_be_left_out():
    default = AiCluster(
        cdk.Stack(cdk.App(), "Nma"),
        "Platform",
        addon_versions={"eks-node-monitoring-agent": "v1.7.0-eksbuild.1"},
    )
    addon = default.node_monitoring_agent.addon.node.default_child
    assert (addon.addon_name, addon.addon_version) == ("eks-node-monitoring-agent", "v1.7.0-eksbuild.1")
    assert (
        AiCluster(
            cdk.Stack(cdk.App(), "NoNma"), "Platform", node_monitoring_agent=False
        ).node_monitoring_agent
        is None
    )
    with pytest.raises(EksAiDataValidationError, match=r"addon_versions='aws-efa': keys must be one of"):
        AiCluster(cdk.Stack(cdk.App(), "BadAddon"), "Platform", addon_versions={"aws-efa": "v1"})


# -- the Cluster Autoscaler --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"expander": "price"}, r"expander='price': must be one of \['least-waste'"),
        (
            {"identity": "keys"},
            r"identity='keys': must be IdentityMode.IRSA or IdentityMode.POD_IDENTITY \(or 'irsa', 'pod-identity'\)",
        ),
        ({"scale_down_unneeded_time": Duration.seconds(0)}, r"must be between 1 minute and 24 hours"),
        ({"extra_args": {"node-group-auto-discovery": "asg:tag=x"}}, r"is set by the construct"),
        # the chart renders extraArgs as --<key>=<value>; a key that is a prop of its own would silently win over it
        (
            {"extra_args": {"--expander": "random"}},
            r"extra_args='--expander': must be a Cluster Autoscaler flag name",
        ),
        (
            {"extra_args": {"expander": "random"}},
            r"extra_args='expander': is set by its own prop \(expander\)",
        ),
        (
            {"extra_args": {"max-node-provision-time": "30m"}},
            r"extra_args='max-node-provision-time': is set by its own prop \(max_node_provision_time\)",
        ),
    ],
)
def test_cluster_autoscaler_rules(platform, props, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        ClusterAutoscaler(platform, _id("Ca"), cluster=platform, **props)


def test_the_autoscaler_refuses_a_kubernetes_minor_without_a_pinned_release(platform, monkeypatch):
    monkeypatch.delitem(capacity_versions.CLUSTER_AUTOSCALER_RELEASES, "1.36")
    with pytest.raises(
        EksAiDataValidationError, match=r"cluster.kubernetes_version='1.36': has no Cluster Autoscaler"
    ):
        ClusterAutoscaler(platform, _id("Ca"), cluster=platform)


def test_the_autoscaler_image_matches_each_supported_minor():
    from eks_ai_data.versions import SUPPORTED_RELEASES

    for minor in SUPPORTED_RELEASES:
        assert capacity_versions.cluster_autoscaler_image_tag(minor).startswith(f"v{minor}.")
        assert capacity_versions.karpenter_supports(minor)


# -- Karpenter --------------------------------------------------------------------------------------------


def test_karpenter_refuses_an_unsupported_kubernetes_minor(platform, monkeypatch):
    with pytest.raises(EksAiDataValidationError, match=r"replicas=0: must be between 1 and 5"):
        Karpenter(platform, _id("K"), cluster=platform, replicas=0)
    with pytest.raises(
        EksAiDataValidationError, match=r"replicas='2': must be a whole number between 1 and 5"
    ):
        Karpenter(platform, _id("K"), cluster=platform, replicas="2")
    monkeypatch.setattr(capacity_versions, "KARPENTER_KUBERNETES_VERSIONS", ("1.33",))
    with pytest.raises(EksAiDataValidationError, match=r"is not supported by Karpenter 1.14.1"):
        Karpenter(platform, _id("K"), cluster=platform)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"instance_types": ["p5.48xlarge"], "gpu_limit": 4},
            r"gpu_limit=4: is below one node of p5.48xlarge \(8\): Karpenter never launches a type",
        ),
        (
            {"instance_types": ["g6e.12xlarge", "g6e.48xlarge"], "gpu_limit": 6},
            r"gpu_limit=6: is below one node of g6e.48xlarge \(8\)",
        ),
        (
            {"instance_types": ["p5.48xlarge"], "subnet": "first", "availability_zone": "eu-west-1b"},
            r"availability_zone='eu-west-1b': differs from the zone of the subnet given \(eu-west-1a\)",
        ),
        (
            {"instance_types": ["p5.48xlarge"], "availability_zone": "eu-west-1c"},
            r"availability_zone='eu-west-1c': has no private subnet of the cluster",
        ),
        (
            {"instance_types": ["p5.48xlarge"], "capacity_types": ["reserved"]},
            r"'reserved' needs capacity_reservation_ids and they need 'reserved'",
        ),
        (
            {"instance_types": ["p5.48xlarge"], "capacity_reservation_ids": ["cr-0123456789abcdef0"]},
            r"'reserved' needs capacity_reservation_ids",
        ),
        (
            {
                "instance_types": ["p5.48xlarge"],
                "capacity_types": ["reserved"],
                "capacity_reservation_ids": ["cr-12"],
            },
            r"capacity_reservation_ids='cr-12': must be a capacity reservation id",
        ),
        (
            {"instance_types": ["p5.48xlarge"], "capacity_types": ["dedicated"]},
            r"must be one of \['on-demand'",
        ),
        (
            {"instance_types": ["p5.48xlarge"], "capacity_types": "spot"},
            r"capacity_types='spot': must be a list of capacity types, not a string: \['spot'\]",
        ),
        (
            {
                "instance_types": ["p5.48xlarge"],
                "capacity_types": ["reserved"],
                "capacity_reservation_ids": "cr-0",
            },
            r"capacity_reservation_ids='cr-0': must be a list of reservation ids, not a string",
        ),
        (
            {"instance_types": "p5.48xlarge"},
            r"instance_types='p5.48xlarge': must be a list of instance types",
        ),
        ({"instance_types": ["p5.48xlarge", "trn1.32xlarge"]}, r"must share one accelerator kind"),
        ({"instance_types": ["m7i.large"]}, r"instance_types='m7i.large': needs accelerators"),
        ({"instance_types": ["g6e.xlarge"], "efa": True}, r"efa=True: g6e.xlarge does not support EFA"),
        (
            {"instance_types": ["p5.48xlarge"], "labels": {"eks-ai-data/gpu-model": "B200"}},
            r"is set by eks-ai-data",
        ),
        (
            {"instance_types": ["p5.48xlarge"], "labels": ["team=a"]},
            r"invalid labels=\['team=a'\]: must be a mapping of label keys to values",
        ),
        (
            {"instance_types": ["p5.48xlarge"], "consolidate_after": Duration.hours(48)},
            r"consolidate_after='2880 minutes': must be 1 minute to 24 hours",
        ),
    ],
)
def test_gpu_node_pool_rules(platform, karpenter, props, message):
    props = dict(props)
    if props.get("subnet") == "first":
        props["subnet"] = platform.private_subnets[0]
    with pytest.raises(EksAiDataValidationError, match=message):
        GpuNodePool(platform, _id("Pool"), karpenter=karpenter, **props)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"instance_types": ["m7i.large"]}, r"instance_types='m7i.large': needs NVMe instance store"),
        ({"instance_types": ["i4i.large", "c7gd.large"]}, r"must share one CPU architecture"),
        (
            {"instance_types": ["i4i.large"], "mode": "raid5"},
            r"mode='raid5': must be 'ephemeral' or 'local-volumes'",
        ),
        ({"instance_types": ["i4i.large"], "max_nodes": 0}, r"max_nodes=0: must be at least 1"),
        (
            {"instance_types": "i4i.large"},
            r"instance_types='i4i.large': must be a list of instance types, not a",
        ),
        ({"instance_types": ["i4i.large"], "capacity_types": ["reserved"]}, r"must be on-demand and/or spot"),
    ],
)
def test_nvme_node_pool_rules(platform, karpenter, props, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        NvmeNodePool(platform, _id("Nvme"), karpenter=karpenter, **props)


def test_pools_need_the_karpenter_construct(platform):
    with pytest.raises(EksAiDataValidationError, match=r"must be the cluster's Karpenter construct"):
        GpuNodePool(platform, _id("Pool"), karpenter=platform, instance_types=["p5.48xlarge"])


def test_the_dataset_pools_nodes_in_the_file_systems_zone(platform, karpenter):
    from eks_ai_data.patterns.cluster_storage import ClusterStorage
    from eks_ai_data.patterns.distributed_dataset import DistributedDataset

    storage = ClusterStorage(platform, _id("Storage"), cluster=platform, namespaces=["training"])

    def dataset(**props):
        return DistributedDataset(
            platform,
            _id("Dataset"),
            cluster=platform,
            storage=storage,
            namespace="training",
            gpu_instance_types=["p5.48xlarge"],
            **props,
        )

    with pytest.raises(
        EksAiDataValidationError,
        match=r"gpu_node_pool_props.availability_zone='eu-west-1b': must be the file system's zone \(eu-west-1a\)",
    ):
        dataset(karpenter=karpenter, gpu_node_pool_props={"availability_zone": "eu-west-1b"})
    with pytest.raises(
        EksAiDataValidationError, match=r"gpu_node_pool_props=\['efa'\]: apply only with karpenter="
    ):
        dataset(gpu_node_pool_props={"efa": True})
    with pytest.raises(EksAiDataValidationError, match=r"with karpenter= the GPU capacity is a NodePool"):
        dataset(karpenter=karpenter, gpu_node_group_props={"max_size": 4})
    # the pass-through props are typed (GpuNodePoolOptions, GpuNodeGroupOptions): a misspelled key is named
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid gpu_node_pool_props=\['gpu_limits'\]: unknown GpuNodePoolOptions keys: allowed are "
        r"\['availability_zone', 'capacity_reservation_ids', 'capacity_types', 'consolidate_after', 'efa', "
        r"'gpu_limit', ",
    ):
        dataset(karpenter=karpenter, gpu_node_pool_props={"gpu_limits": 32})
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid gpu_node_group_props=\['max_nodes'\]: unknown GpuNodeGroupOptions keys: allowed are "
        r"\['ami_type', ",
    ):
        dataset(gpu_node_group_props={"max_nodes": 4})
    with pytest.raises(
        EksAiDataValidationError, match=r"gpu_node_group_props=4: must be a GpuNodeGroupOptions"
    ):
        dataset(gpu_node_group_props=4)
    pooled = dataset(karpenter=karpenter, gpu_node_pool_props={"efa": True, "gpu_limit": 32})
    assert isinstance(pooled.gpu_nodes, GpuNodePool)
    assert pooled.gpu_nodes.availability_zone == pooled.availability_zone == "eu-west-1a"


# -- configuration and registry ---------------------------------------------------------------------------


def test_capacity_engine_is_validated():
    from stacks.config import PlatformConfig

    assert PlatformConfig().capacity_engine == "cluster-autoscaler"
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid capacity_engine='auto-mode': must be one of \['cluster-autoscaler'",
    ):
        PlatformConfig.from_context(cdk.App(context={"eks-ai-data:capacity_engine": "auto-mode"}))


def test_the_efa_image_comes_from_the_regions_eks_registry(platform):
    assert eks_registry(platform) == "602401143452.dkr.ecr.eu-west-1.amazonaws.com"
    stack = cdk.Stack(cdk.App(), "Far", env=cdk.Environment(account="111122223333", region="eu-east-9"))
    with pytest.raises(
        EksAiDataValidationError, match=r"region='eu-east-9': has no Amazon EKS image registry"
    ):
        eks_registry(stack)
    opt_in = cdk.Stack(cdk.App(), "Cape", env=cdk.Environment(account="111122223333", region="af-south-1"))
    assert eks_registry(opt_in) == "877085696533.dkr.ecr.af-south-1.amazonaws.com"
