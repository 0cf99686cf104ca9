"""Scale-up from zero, as the capacity engines will do it on the deployed reference platforms, with either engine:
every claim a GPU pod may use gets a node the engine brings up from zero in the claim's zone (labels, taints, GPU
count and zone known before any node exists), the example training jobs (one node; two nodes with 32 EFA
interfaces each) get theirs, and the checks fail when what they rely on is missing."""

from __future__ import annotations

import copy

import pytest

from tests.platform.capacity_model import helm_values
from tests.platform.cfn_templates import PLATFORMS, REFERENCE_PLATFORMS
from tests.platform.k8s_model import EFA, GPU, NEURON, ZONE, ClusterModel, Pod
from tests.platform.test_scheduling import GPU_TOLERATION, _training_job_pods

TRAINING, INFERENCE = PLATFORMS
ENGINES = ("cluster-autoscaler", "karpenter")


@pytest.fixture(scope="module")
def platforms(reference, reference_karpenter) -> dict[tuple[str, str], ClusterModel]:
    """Each engine's clusters (cluster stacks), by engine and platform, with the data stacks they import."""
    synthesized = {"cluster-autoscaler": reference, "karpenter": reference_karpenter}
    return {
        (engine, name): ClusterModel(synthesized[engine].templates, platform.cluster)
        for engine in ENGINES
        for name, platform in REFERENCE_PLATFORMS.items()
    }


def _gpu_pod(claim) -> Pod:
    meta = claim["metadata"]
    return Pod(
        namespace=meta["namespace"], claims=[meta["name"]], requests={GPU: 1}, tolerations=[GPU_TOLERATION]
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_pending_gpu_pod_on_every_claim_gets_a_node_from_zero_in_its_zone(platforms, engine, platform):
    model = platforms[(engine, platform)]
    assert model.engines() == [engine]
    namespaces = set(model.workload_namespaces())
    claims = [c for c in model.claims() if c["metadata"]["namespace"] in namespaces]
    assert claims
    for claim in claims:
        placements = model.feasible(_gpu_pod(claim))
        assert placements, f"{engine}/{platform}: nothing scales up for a GPU pod on {claim['metadata']}"
        for placement in placements:
            group = placement.node_group
            assert group.kind == ("managed" if engine == "cluster-autoscaler" else "nodepool")
            assert group.desired_size == 0  # the node does not exist: the engine brings it up
            volume = model.volume_of(claim)
            terms = volume["spec"].get("nodeAffinity", {}).get("required", {}).get("nodeSelectorTerms", [])
            for expression in (e for t in terms for e in t["matchExpressions"] if e["key"] == ZONE):
                assert placement.zone in expression["values"]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_example_training_jobs_scale_up_on_p5_with_either_engine(platforms, engine):
    model = platforms[(engine, TRAINING)]
    single = _training_job_pods(model)
    multi = _training_job_pods(model, nodes=2, efa_interfaces=32)
    for pod in (*single, *multi):
        placements = model.feasible(pod)
        assert {p.instance_type for p in placements} == {"p5.48xlarge"}, [
            (g.logical_id, model.engine_problems(pod, g, g.zones[0], g.instance_types[0]))
            for g in model.node_groups
        ]
    assert multi[0].requests[EFA] == 32
    (lustre_zone,) = {p.zone for p in model.feasible(multi[0])}
    dataset = model.volume_of(model.named("PersistentVolumeClaim", "datasets", "training"))
    assert lustre_zone in str(dataset["spec"]["nodeAffinity"])


@pytest.mark.parametrize("engine", ENGINES)
def test_the_efa_job_needs_the_efa_device_plugin(platforms, engine):
    """Without the EFA device plugin no node offers vpc.amazonaws.com/efa: the job would stay Pending."""
    model = copy.copy(platforms[(engine, TRAINING)])
    model.objects = [o for o in model.objects if o.get("x-rendered-from-helm") != "aws-efa-k8s-device-plugin"]
    (pod,) = _training_job_pods(model, nodes=2, efa_interfaces=32)
    assert model.feasible(pod) == []
    group = next(g for g in model.node_groups if "p5.48xlarge" in g.instance_types)
    assert f"{EFA} 32.0 > 0 advertised" in model.why_not(pod, group, group.zones[0], "p5.48xlarge")


def test_without_the_autoscaler_nothing_scales_up(platforms):
    model = copy.copy(platforms[("cluster-autoscaler", TRAINING)])
    model.helm_releases = [r for r in model.helm_releases if r.get("Chart") != "cluster-autoscaler"]
    (pod,) = _training_job_pods(model)
    assert model.feasible(pod) == []
    group = next(g for g in model.node_groups if "p5.48xlarge" in g.instance_types)
    assert model.engine_problems(pod, group, group.zones[0], "p5.48xlarge") == ["no Cluster Autoscaler"]


def test_the_autoscaler_must_discover_the_group_and_know_its_efa_interfaces(platforms, monkeypatch):
    model = platforms[("cluster-autoscaler", TRAINING)]
    group = next(g for g in model.node_groups if "p5.48xlarge" in g.instance_types)
    tags = model.asg_tags(group)
    (pod,) = _training_job_pods(model, nodes=2, efa_interfaces=32)
    assert model.engine_problems(pod, group, group.zones[0], "p5.48xlarge") == []

    # CA learns EFA interfaces from the ASG's resource tags or, while the group is empty, from the node group's
    def without_efa(found: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in found.items() if not k.endswith("/resources/vpc.amazonaws.com/efa")}

    monkeypatch.setattr(type(model), "asg_tags", lambda self, g: without_efa(tags))
    assert model.engine_problems(pod, group, group.zones[0], "p5.48xlarge") == []  # the node group's tag
    bare = copy.copy(group)
    bare.tags = without_efa(group.tags)
    problems = model.engine_problems(pod, bare, group.zones[0], "p5.48xlarge")
    assert any("vpc.amazonaws.com/efa 32.0 > 0" in p for p in problems), problems

    undiscovered = {k: v for k, v in tags.items() if k != "k8s.io/cluster-autoscaler/enabled"}
    monkeypatch.setattr(type(model), "asg_tags", lambda self, g: undiscovered)
    assert "the Auto Scaling group lacks the discovery tag k8s.io/cluster-autoscaler/enabled" in (
        model.engine_problems(pod, group, group.zones[0], "p5.48xlarge")
    )


def test_the_autoscaler_template_knows_labels_taints_gpus_storage_and_zone_before_a_node_exists(platforms):
    model = platforms[("cluster-autoscaler", TRAINING)]
    group = next(g for g in model.node_groups if "p5.48xlarge" in g.instance_types)
    (zone,) = group.zones
    tags = model.asg_tags(group)
    prefix = "k8s.io/cluster-autoscaler/node-template/"
    assert tags[prefix + "label/topology.kubernetes.io/zone"] == zone
    assert tags[prefix + "label/eks-ai-data/accelerator"] == "nvidia"
    assert tags[prefix + "label/k8s.amazonaws.com/accelerator"] == "nvidia-h100"
    assert tags[prefix + "taint/nvidia.com/gpu"] == "true:NoSchedule"
    assert tags[prefix + "resources/nvidia.com/gpu"] == "8"
    assert tags[prefix + "resources/vpc.amazonaws.com/efa"] == "32"
    assert tags[prefix + "resources/ephemeral-storage"] == "24914Gi"  # 88% of the 30.4 TB RAID0 array
    assert tags[prefix + "autoscaling-options/scaledowngpuutilizationthreshold"] == "0"
    labels, taints, capacity = model.ca_template(group, zone)
    assert labels[ZONE] == zone and labels["eks-ai-data/local-nvme"] == "raid0"
    assert [(t.key, t.effect) for t in taints] == [
        ("nvidia.com/gpu", "NoSchedule")
    ] * 2  # ASG tag + node group
    assert capacity[GPU] == 8 and capacity[EFA] == 32


def test_a_multi_zone_group_scales_up_only_for_pods_that_fit_every_zone(platforms):
    """CA pictures a group with the first zone of its Auto Scaling group, an order the template does not fix: a pod
    pinned to one zone must not count on a multi-zone group."""
    model = platforms[("cluster-autoscaler", TRAINING)]
    nvme = next(g for g in model.node_groups if g.labels.get("eks-ai-data/local-nvme") == "local-volumes")
    assert len(nvme.zones) > 1
    toleration = {"key": "eks-ai-data/local-nvme", "operator": "Exists", "effect": "NoSchedule"}
    anywhere = Pod(namespace="training", tolerations=[toleration], node_selector=dict(nvme.labels))
    assert model.engine_problems(anywhere, nvme, nvme.zones[0], nvme.instance_types[0]) == []
    pinned = Pod(
        namespace="training",
        tolerations=[toleration],
        node_selector={**nvme.labels, ZONE: nvme.zones[0]},
    )
    assert model.engine_problems(pinned, nvme, nvme.zones[0], nvme.instance_types[0])


def test_karpenter_pools_admit_only_within_their_limits_and_capacity(platforms, monkeypatch):
    model = platforms[("karpenter", TRAINING)]
    pool = next(g for g in model.node_groups if g.kind == "nodepool" and "p5.48xlarge" in g.instance_types)
    (pod,) = _training_job_pods(model)
    zone = pool.zones[0]
    assert model.engine_problems(pod, pool, zone, "p5.48xlarge") == []
    assert pool.limits == {GPU: 16.0}  # training_gpu_max_nodes=2 nodes of 8 GPUs
    small = copy.copy(pool)
    small.limits = {GPU: 4.0}
    assert "one p5.48xlarge has 8.0 nvidia.com/gpu, above the limit 4.0" in model.engine_problems(
        pod, small, zone, "p5.48xlarge"
    )
    reserved_only = copy.copy(pool)
    reserved_only.capacity_types = ["reserved"]
    assert "no capacity type Karpenter can launch" in model.engine_problems(
        pod, reserved_only, zone, "p5.48xlarge"
    )
    elsewhere = next(z for z in model.vpc_zones() if z != zone)
    assert any("no subnet in" in p for p in model.engine_problems(pod, pool, elsewhere, "p5.48xlarge"))


@pytest.mark.parametrize("engine", ENGINES)
def test_every_gpu_node_group_or_pool_advertises_its_gpus_once(platforms, engine):
    for platform in PLATFORMS:
        model = platforms[(engine, platform)]
        gpu_groups = [g for g in model.node_groups if "NVIDIA" in g.ami_type]
        assert gpu_groups and {g.kind for g in gpu_groups} == {
            "managed" if engine == "cluster-autoscaler" else "nodepool"
        }
        for group in gpu_groups:
            for instance_type in group.instance_types:
                offered = model.advertised(group, instance_type, group.zones[0])
                assert offered[GPU] == group.hardware(instance_type)[GPU]
                assert len(model.plugins_on(group, r"(^|/)k8s-device-plugin:")) == 1


@pytest.fixture(scope="module")
def accelerators(tmp_path_factory) -> ClusterModel:
    """A cluster the reference platforms do not build: Neuron and capacity-block capacity under both engines."""
    import aws_cdk as cdk
    from aws_cdk import aws_eks_v2 as eks

    from eks_ai_data.cluster import AiCluster
    from eks_ai_data.compute.autoscaler import ClusterAutoscaler
    from eks_ai_data.compute.karpenter import Karpenter
    from eks_ai_data.compute.node_pools import GpuNodePool
    from eks_ai_data.nodegroups import GpuNodeGroup
    from eks_ai_data.patterns.cluster_storage import ClusterStorage
    from tests.conftest import synthesize

    def build(app):
        stack = cdk.Stack(app, "Accelerators")
        platform = AiCluster(stack, "Platform")
        ClusterStorage(stack, "InCluster", cluster=platform, namespaces=["training"])
        ClusterAutoscaler(stack, "Autoscaler", cluster=platform)
        karpenter = Karpenter(stack, "Karpenter", cluster=platform)
        GpuNodeGroup(
            stack,
            "Trainium",
            cluster=platform,
            instance_types=["trn1.32xlarge"],
            ami_type=eks.NodegroupAmiType.AL2023_X86_64_NEURON,
            efa=True,
        )
        GpuNodeGroup(
            stack,
            "Block",
            cluster=platform,
            instance_types=["p5.48xlarge"],
            capacity_type=eks.CapacityType.CAPACITY_BLOCK,
            capacity_reservation_id="cr-0123456789abcdef0",
            subnet=platform.private_subnets[1],
        )
        GpuNodePool(stack, "Trainium2", karpenter=karpenter, instance_types=["trn2.48xlarge"], gpu_limit=32)
        GpuNodePool(
            stack,
            "Reserved",
            karpenter=karpenter,
            instance_types=["p5.48xlarge"],
            capacity_types=["reserved", "on-demand"],
            capacity_reservation_ids=["cr-0123456789abcdef1"],
            availability_zone=platform.private_subnets[1].availability_zone,
        )

    synthesized = synthesize(build, tmp_path_factory.mktemp("accelerators"))
    assert synthesized.nag_findings == []
    return ClusterModel(synthesized.templates, "Accelerators")


NEURON_TOLERATION = {"key": "aws.amazon.com/neuron", "operator": "Exists", "effect": "NoSchedule"}


def test_neuron_nodes_advertise_neuron_devices_and_scale_up_for_them(accelerators):
    model = accelerators
    neuron = {g.kind: g for g in model.node_groups if g.labels.get("eks-ai-data/accelerator") == "neuron"}
    assert set(neuron) == {"managed", "nodepool"}
    for group in neuron.values():
        (instance_type,) = group.instance_types
        devices = catalog_count(instance_type)
        assert model.advertised(group, instance_type, group.zones[0])[NEURON] == devices
        assert len(model.plugins_on(group, r"neuron-device-plugin:")) == 1
        pod = Pod(namespace="training", requests={NEURON: devices}, tolerations=[NEURON_TOLERATION])
        placements = model.feasible(pod)
        assert {p.instance_type for p in placements} == {"trn1.32xlarge", "trn2.48xlarge"}
    # the Neuron plugin runs on Neuron nodes only, the EFA plugin on EFA nodes only
    gpu = next(g for g in model.node_groups if g.logical_id.startswith("Block"))
    assert model.plugins_on(gpu, r"neuron-device-plugin:") == []
    assert model.plugins_on(gpu, r"aws-efa-k8s-device-plugin:") == []
    assert len(model.plugins_on(neuron["managed"], r"aws-efa-k8s-device-plugin:")) == 1
    # CA learns Neuron devices only from the tags: its instance-type data has none (GPU 0 for trn1)
    _, _, capacity = model.ca_template(neuron["managed"], neuron["managed"].zones[0])
    assert capacity[NEURON] == 16 and capacity[GPU] == 0


def test_capacity_block_group_launches_its_reservation_type_in_one_zone(accelerators):
    model = accelerators
    block = next(g for g in model.node_groups if g.logical_id.startswith("Block"))
    assert block.capacity_type == "CAPACITY_BLOCK"
    assert block.instance_types == ["p5.48xlarge"]  # read from the launch template, as EKS requires
    assert (block.min_size, block.desired_size) == (0, 0) and len(block.zones) == 1
    pod = Pod(namespace="training", requests={GPU: 8}, tolerations=[GPU_TOLERATION])
    assert model.engine_problems(pod, block, block.zones[0], "p5.48xlarge") == []
    reserved = next(g for g in model.node_groups if g.name.endswith("reserved"))
    assert reserved.capacity_types == ["reserved", "on-demand"]
    assert reserved.zones == block.zones  # availability_zone pins the pool to the reservation's zone
    assert reserved.node_class["capacityReservationSelectorTerms"] == [{"id": "cr-0123456789abcdef1"}]
    assert model.engine_problems(pod, reserved, reserved.zones[0], "p5.48xlarge") == []


def test_the_neuron_release_lists_the_types_of_the_clusters_neuron_groups(accelerators):
    values = helm_values(accelerators.release("neuron-helm-chart"))
    assert {"trn1.32xlarge", "trn2.48xlarge"} <= set(values["neuronInstances"])
    assert values["devicePlugin"]["nodeSelector"] == {"eks-ai-data/accelerator": "neuron"}
    assert values["scheduler"] == {"enabled": False} and values["npd"] == {"enabled": False}


def catalog_count(instance_type: str) -> int:
    from eks_ai_data import catalog

    return catalog.get(instance_type).accelerator_count
