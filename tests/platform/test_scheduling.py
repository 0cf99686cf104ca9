"""Scheduling, as kube-scheduler would do it on the deployed reference platforms: every claim the platform offers
can be mounted by a GPU pod on a node group in the claim's zone, zonal volumes never admit another zone, GPUs are
advertised exactly once on every GPU node group, and the example training job fits."""

from __future__ import annotations

import sys
from pathlib import Path

import cdk8s
import pytest

from tests.platform.cfn_templates import PLATFORMS, REFERENCE_PLATFORMS
from tests.platform.k8s_model import GPU, ZONE, ClusterModel, Pod

TRAINING, INFERENCE = PLATFORMS
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


@pytest.fixture(scope="module")
def models(reference) -> dict[str, ClusterModel]:
    """Each platform's cluster (its cluster stack), with the data stack's file systems and subnets it imports."""
    return {
        name: ClusterModel(reference.templates, platform.cluster)
        for name, platform in REFERENCE_PLATFORMS.items()
    }


def _workload_claims(model: ClusterModel):
    namespaces = set(model.workload_namespaces())
    return [c for c in model.claims() if c["metadata"]["namespace"] in namespaces]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_claim_can_be_mounted_by_a_gpu_pod_in_its_zone(models, platform):
    model = models[platform]
    claims = _workload_claims(model)
    assert claims
    for claim in claims:
        meta = claim["metadata"]
        pod = Pod(
            namespace=meta["namespace"],
            claims=[meta["name"]],
            requests={GPU: 1},
            tolerations=[GPU_TOLERATION],
        )
        placements = model.feasible(pod)
        assert placements, (
            f"{platform}: no node group can run a GPU pod that mounts {meta['namespace']}/{meta['name']}"
        )
        volume = model.volume_of(claim)
        terms = volume["spec"].get("nodeAffinity", {}).get("required", {}).get("nodeSelectorTerms", [])
        for placement in placements:
            # the node's zone label is what the volume's affinity admitted
            labels = placement.node_group.node_labels(placement.zone, placement.instance_type)
            assert all(
                labels[ZONE] in e["values"] for t in terms for e in t["matchExpressions"] if e["key"] == ZONE
            )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_zonal_volumes_admit_their_file_system_zone_only(models, platform):
    model = models[platform]
    lustre_zones = {}
    for s, lid in model.resources("AWS::FSx::FileSystem", REFERENCE_PLATFORMS[platform].stacks):
        (subnet,) = model._resolve(s, model._resources[(s, lid)].properties["SubnetIds"])
        lustre_zones[model.ref(s, lid)] = model._zone_of(subnet)
    volumes = model.zonal_volumes()
    lustre_volumes = [
        v for v in model.of_kind("PersistentVolume") if v["spec"]["csi"]["driver"] == "fsx.csi.aws.com"
    ]
    assert len(volumes) == len(lustre_volumes)  # every Lustre volume is zonal, and only those
    assert bool(lustre_volumes) == (platform == TRAINING)  # the inference platform's default cache is EFS
    for volume, zones in volumes:
        file_system = volume["spec"]["csi"]["volumeHandle"]
        assert zones == [lustre_zones[file_system]], volume["metadata"]["name"]
        assert len(model.vpc_zones()) > 1  # so admitting one zone does exclude others
    for volume in model.of_kind("PersistentVolume"):
        if volume["spec"]["csi"]["driver"] == "efs.csi.aws.com":
            assert "nodeAffinity" not in volume["spec"]  # EFS is regional: every zone has a mount target


def test_a_pod_on_a_lustre_claim_is_never_placed_in_another_zone(models):
    model = models[TRAINING]
    claim = model.named("PersistentVolumeClaim", "datasets", "training")
    (_, (zone,)) = next(
        (v, z) for v, z in model.zonal_volumes() if v["metadata"]["name"] == claim["spec"]["volumeName"]
    )
    for group in model.node_groups:
        for other in (z for z in model.vpc_zones() if z != zone):
            for instance_type in group.instance_types:
                pod = Pod(namespace="training", claims=["datasets"], tolerations=[{"operator": "Exists"}])
                assert "volume training-datasets node affinity" in model.why_not(
                    pod, group, other, instance_type
                )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_gpu_node_group_advertises_its_gpus_once(models, platform):
    model = models[platform]
    gpu_groups = [g for g in model.node_groups if "NVIDIA" in g.ami_type]
    assert gpu_groups
    for group in gpu_groups:
        for instance_type in group.instance_types:
            for zone in group.zones:
                offered = model.advertised(group, instance_type, zone)
                assert offered.get(GPU) == group.hardware(instance_type)[GPU], (
                    group.logical_id,
                    instance_type,
                )
        plugins = model.plugins_on(group, r"(^|/)k8s-device-plugin:")
        # AL2023 nodes need the plugin DaemonSet; Bottlerocket runs its own and must not get a second one
        assert len(plugins) == (0 if group.bottlerocket else 1), group.logical_id


def test_local_nvme_claims_schedule_only_where_the_provisioner_publishes_volumes(models):
    model = models[TRAINING]
    local = [g for g in model.node_groups if g.labels.get("eks-ai-data/local-nvme") == "local-volumes"]
    assert local
    for group in model.node_groups:
        runs = model.plugins_on(group, r"local-volume-provisioner")
        assert bool(runs) == (group in local), group.logical_id


def _training_job_pods(platform_model: ClusterModel, **props) -> list[Pod]:
    app_dir = Path(__file__).resolve().parents[2] / "examples" / "training_job"
    if str(app_dir) not in sys.path:
        sys.path.append(str(app_dir))
    from training_job.chart import TrainingJobChart

    chart = TrainingJobChart(cdk8s.App(), "job", **props)
    pods = []
    for obj in chart.to_json():
        if obj["kind"] == "Job":
            pods.append(Pod.from_spec(obj["metadata"]["namespace"], obj["spec"]["template"]["spec"]))
    assert pods
    return pods


def test_the_example_training_job_fits_the_training_platform(models):
    """examples/training_job (a whole p5 node, the dataset claim, NVMe scratch) schedules as written."""
    model = models[TRAINING]
    for pod in _training_job_pods(model):
        assert pod.requests[GPU] == 8
        placements = model.feasible(pod)
        assert placements, [
            (g.logical_id, model.why_not(pod, g, g.zones[0], g.instance_types[0])) for g in model.node_groups
        ]
        assert {p.instance_type for p in placements} == {"p5.48xlarge"}


@pytest.fixture(scope="module")
def mixed_os(tmp_path_factory):
    """A cluster with an AL2023 and a Bottlerocket NVIDIA group (the reference platforms have no Bottlerocket)."""
    import aws_cdk as cdk
    from aws_cdk import aws_eks_v2 as eks

    from eks_ai_data.cluster import AiCluster
    from eks_ai_data.nodegroups import GpuNodeGroup
    from eks_ai_data.patterns.cluster_storage import ClusterStorage
    from tests.conftest import synthesize

    def build(app):
        stack = cdk.Stack(app, "MixedOs")
        platform = AiCluster(stack, "Platform")
        ClusterStorage(stack, "InCluster", cluster=platform, namespaces=["training"])
        GpuNodeGroup(stack, "Al2023", cluster=platform, instance_types=["g6e.12xlarge"])
        GpuNodeGroup(
            stack,
            "Bottlerocket",
            cluster=platform,
            instance_types=["g6e.12xlarge"],
            ami_type=eks.NodegroupAmiType.BOTTLEROCKET_X86_64_NVIDIA,
        )

    synthesized = synthesize(build, tmp_path_factory.mktemp("mixed-os"))
    return ClusterModel(synthesized.templates, "MixedOs")


def test_bottlerocket_nodes_get_no_second_nvidia_device_plugin(mixed_os):
    by_os = {g.bottlerocket: g for g in mixed_os.node_groups if "NVIDIA" in g.ami_type}
    assert set(by_os) == {True, False}
    assert len(mixed_os.plugins_on(by_os[False], r"(^|/)k8s-device-plugin:")) == 1
    assert mixed_os.plugins_on(by_os[True], r"(^|/)k8s-device-plugin:") == []
    for group in by_os.values():  # both still offer their 4 GPUs, each advertised once
        assert mixed_os.advertised(group, "g6e.12xlarge", group.zones[0]) == {GPU: 4}
