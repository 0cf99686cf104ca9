"""Team isolation on the reference training platform, as Kubernetes and EFS will enforce it: each team's namespace has
Pod Security ``restricted``, RBAC for its group only, a GPU and per-class storage quota, default requests, network
policies that close it to other namespaces and to the instance metadata service, and an EFS access point acting as
the team's own uid/gid; the VPC CNI enforces the policies (its network policy agent is on)."""

from __future__ import annotations

import json

import pytest

from eks_ai_data import catalog
from stacks.config import PlatformConfig
from stacks.training import TEAM_STORAGE_QUOTAS
from tests.platform.cfn_templates import PLATFORMS, REFERENCE_PLATFORMS
from tests.platform.k8s_access import NetworkModel, Pod, RbacModel, quota_admits
from tests.platform.k8s_model import ClusterModel

TRAINING = REFERENCE_PLATFORMS["training"]
TEAMS = ("team-research", "team-platform")


@pytest.fixture(scope="module")
def cluster(reference) -> ClusterModel:
    """The training cluster (its cluster stack applies the team objects; the access points are the data stack's)."""
    return ClusterModel(reference.templates, TRAINING.cluster)


def _in(cluster: ClusterModel, kind: str, namespace: str) -> list[dict]:
    return [o for o in cluster.of_kind(kind) if o["metadata"].get("namespace") == namespace]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_vpc_cni_enforces_network_policies(reference, platform):
    (cni,) = [
        r
        for stack in REFERENCE_PLATFORMS[platform].stacks
        for r in reference.resources(stack, "AWS::EKS::Addon").values()
        if r["Properties"]["AddonName"] == "vpc-cni"
    ]
    assert json.loads(cni["Properties"]["ConfigurationValues"]) == {"enableNetworkPolicy": "true"}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_namespace_the_platform_creates_enforces_restricted(reference, platform):
    namespaces = ClusterModel(reference.templates, REFERENCE_PLATFORMS[platform].cluster).of_kind("Namespace")
    assert namespaces
    for ns in namespaces:
        labels = ns["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted", ns["metadata"]["name"]


def test_each_team_has_its_namespace_role_quota_limits_and_policies(cluster):
    assert set(TEAMS) <= set(cluster.workload_namespaces())
    for team in TEAMS:
        kinds = sorted(o["kind"] for o in cluster.objects if o["metadata"].get("namespace") == team)
        assert kinds.count("NetworkPolicy") == 5, team
        assert {"Role", "RoleBinding", "ResourceQuota", "LimitRange", "PersistentVolumeClaim"} <= set(
            kinds
        ), team


def test_a_team_may_only_work_in_its_own_namespace(cluster):
    rbac = RbacModel(cluster.objects)
    for team in TEAMS:
        groups = [f"eks-ai-data:{team}"]
        others = [t for t in (*TEAMS, "training", "kube-system") if t != team]
        assert rbac.allows(groups, "create", "jobs", team, api_group="batch")
        assert rbac.allows(groups, "create", "persistentvolumeclaims", team)
        for other in others:
            assert not rbac.allows(groups, "create", "pods", other), (team, other)
        assert not rbac.allows(groups, "delete", "networkpolicies", team, api_group="networking.k8s.io")
        assert not rbac.allows(groups, "update", "resourcequotas", team)
        assert not rbac.allows(groups, "create", "rolebindings", team, api_group="rbac.authorization.k8s.io")
        assert not rbac.allows(groups, "patch", "namespaces", None)


def test_team_quotas_cap_gpus_at_the_node_groups_and_storage_per_class(cluster):
    config = PlatformConfig()
    gpus = (
        config.training_gpu_max_nodes * catalog.get(config.training_gpu_instance_types[0]).accelerator_count
    )
    classes = [o["metadata"]["name"] for o in cluster.of_kind("StorageClass")]
    assert set(TEAM_STORAGE_QUOTAS) <= set(classes)
    for team in TEAMS:
        (quota,) = _in(cluster, "ResourceQuota", team)
        assert quota["spec"]["hard"]["requests.nvidia.com/gpu"] == str(gpus)
        assert quota_admits(quota, {"requests.nvidia.com/gpu": gpus})
        assert not quota_admits(quota, {"requests.nvidia.com/gpu": gpus + 1})
        for name in classes:
            key = f"{name}.storageclass.storage.k8s.io/requests.storage"
            assert quota["spec"]["hard"][key] == TEAM_STORAGE_QUOTAS.get(name, "0"), (team, name)
        # the team's own EFS claim is a static one (class ""): it counts against no class
        (claim,) = [
            c for c in _in(cluster, "PersistentVolumeClaim", team) if c["metadata"]["name"] == "shared"
        ]
        assert claim["spec"]["storageClassName"] == ""


def test_team_networks_are_closed_to_each_other_and_to_instance_metadata(cluster):
    net = NetworkModel(cluster.objects)
    research, platform = Pod("team-research", {"app": "a"}), Pod("team-platform", {"app": "b"})
    assert net.allows(research, Pod("team-research", {"app": "c"}), 8080)
    assert not net.allows(research, platform, 8080) and not net.allows(platform, research, 8080)
    assert not net.allows(Pod("training", {"app": "trainer"}), research, 8080)
    assert net.allows(research, Pod("kube-system", {"k8s-app": "kube-dns"}), 53, "UDP")
    assert not net.allows(research, Pod(None, ip="169.254.169.254"), 80)
    assert net.allows(research, Pod(None, ip="169.254.170.23"), 80)
    assert net.allows(research, Pod(None, ip="3.5.0.10"), 443)  # S3 through the gateway endpoint's route


def test_team_access_points_act_as_distinct_posix_identities(cluster, reference):
    access_points = {
        cluster.ref(stack, lid): r["Properties"]
        for stack in TRAINING.stacks
        for lid, r in reference.resources(stack, "AWS::EFS::AccessPoint").items()
        if lid.startswith("SharedEfs")
    }
    identities, roots = {}, {}
    for team in TEAMS:
        (claim,) = [
            c for c in _in(cluster, "PersistentVolumeClaim", team) if c["metadata"]["name"] == "shared"
        ]
        volume = cluster.volume_of(claim)
        assert volume["spec"]["claimRef"]["namespace"] == team  # bound to this namespace's claim only
        access_point = access_points[volume["spec"]["csi"]["volumeHandle"].split("::")[1]]
        identities[team] = (access_point["PosixUser"]["Uid"], access_point["PosixUser"]["Gid"])
        roots[team] = access_point["RootDirectory"]["Path"]
        assert access_point["RootDirectory"]["CreationInfo"]["Permissions"] == "770"  # owner and group only
    assert len(set(identities.values())) == len(TEAMS), identities
    assert all(int(uid) > 0 and int(gid) > 0 for uid, gid in identities.values())
    assert roots == {team: f"/teams/{team.removeprefix('team-')}" for team in TEAMS}
    # a team cannot make a volume of another team's access point: PersistentVolumes are cluster-scoped
    rbac = RbacModel(cluster.objects)
    assert not any(rbac.allows([f"eks-ai-data:{t}"], "create", "persistentvolumes", None) for t in TEAMS)
