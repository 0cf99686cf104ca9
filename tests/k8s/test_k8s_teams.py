"""Team namespaces: what Kubernetes does with the TeamsChart's objects (RBAC, quota, network policies, Pod Security),
and the bad input refused at synth time with the prop, the value and what is allowed."""

from __future__ import annotations

import cdk8s
import pytest
from k8s_support import validate

from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.k8s import TeamsChart, TeamSpec
from tests.platform.k8s_access import NetworkModel, Pod, RbacModel, quota_admits
from tests.platform.pod_security import violations

CLASSES = ["gp3", "efs-ap", "local-nvme", "fsx-lustre"]
RESEARCH = TeamSpec(
    name="research",
    uid=2001,
    gid=2001,
    gpu_quota=16,
    storage_quotas={"gp3": "2Ti", "efs-ap": "10Ti"},
    iam_role_arns=["arn:aws:iam::111122223333:role/Research"],
)
VISION = TeamSpec(
    name="vision",
    uid=2002,
    gid=2002,
    kubernetes_group="vision-engineers",
    pod_security="baseline",
    pod_security_reason="Neuron TF Serving talks to the runtime over gRPC and needs IPC_LOCK (EKS user guide)",
)


def teams_chart(*teams: TeamSpec, classes=CLASSES, reserved=("training",)) -> TeamsChart:
    return TeamsChart(
        cdk8s.App(), "teams", teams=teams, storage_classes=classes, reserved_namespaces=reserved
    )


@pytest.fixture(scope="module")
def objects():
    return teams_chart(RESEARCH, VISION).to_json()


def _one(objects, kind, namespace, name=None):
    (found,) = [
        o
        for o in objects
        if o["kind"] == kind
        and o["metadata"].get("namespace") == namespace
        and (name is None or o["metadata"]["name"] == name)
    ]
    return found


def test_every_object_is_valid_for_the_cluster_version(objects):
    for obj in objects:
        validate(obj)
    kinds = sorted({o["kind"] for o in objects})
    assert kinds == ["LimitRange", "Namespace", "NetworkPolicy", "ResourceQuota", "Role", "RoleBinding"]


def test_namespaces_come_first_and_enforce_pod_security(objects):
    assert objects[0]["kind"] == "Namespace"
    research = next(o for o in objects if o["kind"] == "Namespace" and o["metadata"]["name"] == "research")
    labels = research["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["eks-ai-data/team"] == "research"
    assert "annotations" not in research["metadata"]
    vision = next(o for o in objects if o["kind"] == "Namespace" and o["metadata"]["name"] == "vision")
    assert vision["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert vision["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    assert "IPC_LOCK" in vision["metadata"]["annotations"]["eks-ai-data/pod-security-reason"]


def test_members_run_workloads_in_their_namespace_and_nothing_else(objects):
    rbac = RbacModel(objects)
    member = ["eks-ai-data:research"]
    for verb, resource, group in [
        ("create", "jobs", "batch"),
        ("delete", "pods", ""),
        ("create", "persistentvolumeclaims", ""),
        ("create", "secrets", ""),
        ("create", "pods/exec", ""),
        ("get", "pods/log", ""),
        ("patch", "deployments", "apps"),
        ("get", "resourcequotas", ""),
        ("list", "networkpolicies", "networking.k8s.io"),
    ]:
        assert rbac.allows(member, verb, resource, "research", api_group=group), (verb, resource)
        assert not rbac.allows(member, verb, resource, "vision", api_group=group), (verb, resource)
        assert not rbac.allows(member, verb, resource, "training", api_group=group), (verb, resource)
    # what keeps the namespace isolated stays the platform's
    for verb, resource, group in [
        ("delete", "networkpolicies", "networking.k8s.io"),
        ("create", "networkpolicies", "networking.k8s.io"),
        ("patch", "resourcequotas", ""),
        ("delete", "limitranges", ""),
        ("create", "rolebindings", "rbac.authorization.k8s.io"),
        ("patch", "roles", "rbac.authorization.k8s.io"),
        ("create", "serviceaccounts", ""),
        ("create", "serviceaccounts/token", ""),
        ("create", "daemonsets", "apps"),
        ("impersonate", "serviceaccounts", ""),
    ]:
        assert not rbac.allows(member, verb, resource, "research", api_group=group), (verb, resource)
    # nothing cluster-scoped: no ClusterRoleBinding names a team's group
    for verb, resource in [("patch", "namespaces"), ("get", "nodes"), ("create", "persistentvolumes")]:
        assert not rbac.allows(member, verb, resource, None)
    assert all(b["kind"] == "RoleBinding" for b in rbac.bindings_of(member))
    # the other team's members are bound to their own namespace by their own group name
    assert rbac.allows(["vision-engineers"], "create", "jobs", "vision", api_group="batch")
    assert not rbac.allows(["vision-engineers"], "create", "jobs", "research", api_group="batch")


def test_the_quota_caps_gpus_and_storage_per_class(objects):
    quota = _one(objects, "ResourceQuota", "research")
    assert quota["spec"]["hard"] == {
        "requests.nvidia.com/gpu": "16",
        "gp3.storageclass.storage.k8s.io/requests.storage": "2Ti",
        "efs-ap.storageclass.storage.k8s.io/requests.storage": "10Ti",
        "local-nvme.storageclass.storage.k8s.io/requests.storage": "0",
        "fsx-lustre.storageclass.storage.k8s.io/requests.storage": "0",
    }
    assert quota_admits(quota, {"requests.nvidia.com/gpu": 16})
    assert not quota_admits(quota, {"requests.nvidia.com/gpu": 17})
    assert quota_admits(quota, {"gp3.storageclass.storage.k8s.io/requests.storage": "2Ti"})
    assert not quota_admits(quota, {"gp3.storageclass.storage.k8s.io/requests.storage": "2049Gi"})
    assert not quota_admits(quota, {"fsx-lustre.storageclass.storage.k8s.io/requests.storage": "1200Gi"})
    # a team without gpu_quota gets none
    assert _one(objects, "ResourceQuota", "vision")["spec"]["hard"]["requests.nvidia.com/gpu"] == "0"


def test_containers_without_requests_get_the_defaults(objects):
    limits = _one(objects, "LimitRange", "research")["spec"]["limits"]
    assert limits == [{"type": "Container", "defaultRequest": {"cpu": "250m", "memory": "512Mi"}}]


def test_network_policies_isolate_the_namespace_and_open_what_the_platform_needs(objects):
    net = NetworkModel(objects)
    pod, peer = Pod("research", {"app": "trainer"}), Pod("research", {"app": "worker"})
    dns = Pod("kube-system", {"k8s-app": "kube-dns"})
    assert net.allows(pod, peer, 29500)  # torchrun rendezvous, NCCL bootstrap
    assert net.allows(pod, dns, 53, "UDP") and net.allows(pod, dns, 53, "TCP")
    assert not net.allows(pod, dns, 9153)  # CoreDNS metrics: not DNS
    assert not net.allows(pod, Pod("kube-system", {"app": "other"}), 53, "UDP")
    assert not net.allows(pod, Pod("vision", {"app": "x"}), 8080)  # another team
    assert not net.allows(Pod("vision", {"app": "x"}), pod, 8080)
    assert not net.allows(Pod("training", {}), pod, 8080)  # any other namespace
    s3 = Pod(None, ip="52.216.8.1")
    assert net.allows(pod, s3, 443) and not net.allows(pod, s3, 80)
    assert net.allows(pod, Pod(None, ip="10.64.3.7"), 443)  # the EKS API's and interface endpoints' ENIs
    assert not net.allows(pod, Pod(None, ip="169.254.169.254"), 80)  # IMDS
    assert not net.allows(pod, Pod(None, ip="169.254.169.254"), 443)
    assert net.allows(pod, Pod(None, ip="169.254.170.23"), 80)  # the Pod Identity agent
    assert not net.allows(pod, Pod(None, ip="10.64.3.7"), 2049)  # pods do not mount file systems


def test_a_restricted_namespace_refuses_what_the_profile_forbids():
    good = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "c",
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
    }
    assert violations(good) == []
    privileged = {**good, "containers": [{"name": "c", "securityContext": {"privileged": True}}]}
    assert "c: privileged" in violations(privileged)
    assert violations({**good, "hostNetwork": True}) == ["hostNetwork"]
    ipc_lock = {
        **good,
        "containers": [
            {
                "name": "c",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"], "add": ["IPC_LOCK"]},
                },
            }
        ],
    }
    assert violations(ipc_lock, "baseline") == ["c: adds ['IPC_LOCK']"]


@pytest.mark.parametrize(
    ("teams", "message"),
    [
        ([TeamSpec("kube-system", 2001, 2001)], r"teams.name='kube-system': collides with a namespace"),
        ([TeamSpec("default", 2001, 2001)], r"teams.name='default': collides"),
        ([TeamSpec("kube-research", 2001, 2001)], r"teams.name='kube-research': collides"),
        ([TeamSpec("mount-s3", 2001, 2001)], r"teams.name='mount-s3': collides"),
        (
            [TeamSpec("training", 2001, 2001)],
            r"teams.name='training': is a workload namespace of this cluster",
        ),
        ([TeamSpec("Research", 2001, 2001)], r"teams.name='Research': must be a DNS-1123 label"),
        ([RESEARCH, RESEARCH], r"teams.name='research': must be unique: teams research and research"),
        (
            [RESEARCH, TeamSpec("vision", 2001, 2002)],
            r"teams.uid=2001: must be unique: teams research and vision both use it",
        ),
        ([RESEARCH, TeamSpec("vision", 2002, 2001)], r"teams.gid=2001: must be unique"),
        ([TeamSpec("a", 0, 2001)], r"teams.uid=0: must be an integer between 1 and 4294967294"),
        ([TeamSpec("a", 2001, 2**32)], r"teams.gid=4294967296: must be an integer between 1"),
        (
            [TeamSpec("a", 2001, 2001, gpu_quota=0)],
            r"teams.gpu_quota=\{'a': 0\}: must be a whole number of GPUs",
        ),
        ([TeamSpec("a", 2001, 2001, gpu_quota=0.5)], r"gpu_quota=\{'a': 0.5\}: .*leave it None"),
        ([TeamSpec("a", 2001, 2001, gpu_quota=True)], r"gpu_quota=\{'a': True\}"),
        (
            [TeamSpec("a", 2001, 2001, storage_quotas={"fast": "1Ti"})],
            r"teams.storage_quotas=\{'a': 'fast'\}: names no StorageClass of this cluster; its classes: \[",
        ),
        (
            [TeamSpec("a", 2001, 2001, storage_quotas={"gp3": "2TB"})],
            r"storage_quotas=\{'gp3': '2TB'\}: must be a positive Kubernetes quantity",
        ),
        ([TeamSpec("a", 2001, 2001, storage_quotas={"gp3": "0"})], r"storage_quotas=\{'gp3': '0'\}"),
        (
            [TeamSpec("a", 2001, 2001, kubernetes_group="system:masters")],
            r"teams.kubernetes_group='system:masters': must be a Kubernetes group name .* not starting with system:",
        ),
        (
            [TeamSpec("a", 2001, 2001), TeamSpec("b", 2002, 2002, kubernetes_group="eks-ai-data:a")],
            r"teams.kubernetes_group='eks-ai-data:a': must be unique",
        ),
        (
            [
                TeamSpec("a", 2001, 2001, iam_role_arns=["arn:aws:iam::111122223333:role/X"]),
                TeamSpec("b", 2002, 2002, iam_role_arns=["arn:aws:iam::111122223333:role/X"]),
            ],
            r"iam_role_arns='arn:aws:iam::111122223333:role/X': is in teams a and b: an IAM principal can be in one",
        ),
        (
            [TeamSpec("a", 2001, 2001, pod_security="privileged")],
            r"teams.pod_security='privileged': must be 'restricted' or 'baseline'",
        ),
        (
            [TeamSpec("a", 2001, 2001, pod_security="baseline")],
            r"teams.pod_security_reason=None: a asks for 'baseline': say which documented need",
        ),
        (
            [TeamSpec("a", 2001, 2001, default_memory_request="lots")],
            r"teams.default_memory_request='lots': must be a Kubernetes quantity",
        ),
    ],
)
def test_bad_teams_are_refused(teams, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        teams_chart(*teams)
