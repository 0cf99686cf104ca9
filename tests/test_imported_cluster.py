"""AiCluster.from_existing (ImportedAiCluster): every construct that takes a cluster works on a cluster another tool
created, through the IAiCluster interface, and what an imported cluster cannot give is refused with a clear error
(never an AttributeError). One app holds every construct and is synthesized once (module fixture)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from eks_ai_data import (
    AiCluster,
    ClusterStorage,
    DistributedDataset,
    EksAiDataValidationError,
    GpuNodeGroup,
    ImportedAiCluster,
    ModelRepository,
    NvmeNodeGroup,
    PlatformKeys,
    StorageDrivers,
    TrainingCheckpoints,
    WorkloadIdentity,
)
from eks_ai_data.cluster_interface import IAiCluster, require_ai_cluster
from eks_ai_data.compute.autoscaler import ClusterAutoscaler
from eks_ai_data.compute.node_health import NodeMonitoringAgent
from eks_ai_data.identity import IdentityMode
from tests._gates import acknowledge_fixture, cfn_lint_errors
from tests._identity import log_group_problems
from tests.conftest import Synthesized, synthesize
from tests.k8s.k8s_support import validate
from tests.platform.k8s_model import GPU, ClusterModel, Pod

ENV = cdk.Environment(account="111122223333", region="us-east-1")
SG = "sg-0123456789abcdef0"
ZONES = {"subnet-0aaa1111bbbb2222c": "us-east-1a", "subnet-0ddd3333eeee4444f": "us-east-1b"}
SUBNETS = list(ZONES)
OIDC = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KUBECTL_FUNCTION = "arn:aws:lambda:us-east-1:111122223333:function:kubectl"


def _stack(name: str = "Imported") -> cdk.Stack:
    return cdk.Stack(cdk.App(), name, env=ENV)


def _vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=list(ZONES.values()),
        private_subnet_ids=SUBNETS,
    )


def _imported(stack: cdk.Stack, id: str = "Cluster", **props: Any) -> ImportedAiCluster:
    defaults: dict[str, Any] = {
        "cluster_name": "research",
        "kubernetes_version": "1.36",
        "vpc": _vpc(stack) if stack.node.try_find_child("Vpc") is None else stack.node.find_child("Vpc"),
        "cluster_security_group_id": SG,
        "keys": PlatformKeys(data_key=kms.Key.from_key_arn(stack, f"{id}Key", KEY)),
    }
    return AiCluster.from_existing(stack, id, **{**defaults, **props})


def _build(app: cdk.App) -> None:
    """An imported cluster (IRSA through its OIDC provider) with node groups, storage, the three patterns, the
    Cluster Autoscaler, the node monitoring agent and an identity; and a second one, without OIDC, on Pod Identity."""
    stack = cdk.Stack(app, "Imported", env=ENV)
    oidc = iam.OpenIdConnectProvider.from_open_id_connect_provider_arn(stack, "Oidc", OIDC)
    cluster = _imported(stack, open_id_connect_provider=oidc, system_node_labels={"role": "system"})
    storage = ClusterStorage(stack, "InCluster", cluster=cluster, namespaces=["training", "inference"])
    dataset = DistributedDataset(
        stack,
        "Dataset",
        cluster=cluster,
        storage=storage,
        namespace="training",
        gpu_instance_types=["g6e.12xlarge"],
        storage_capacity_gib=1200,
    )
    nvme = NvmeNodeGroup(stack, "Nvme", cluster=cluster, instance_types=["i4i.8xlarge"], mode="ephemeral")
    TrainingCheckpoints(
        stack,
        "Checkpoints",
        cluster=cluster,
        storage=storage,
        namespace="training",
        scratch_node_groups=[nvme],
    )
    models = ModelRepository(stack, "Models", cluster=cluster, storage=storage, namespace="inference")
    acknowledge_fixture(models.efs, "the model cache, without the stack's DataBackupPlan", "EFSInBackupPlan")
    ClusterAutoscaler(stack, "Autoscaler", cluster=cluster, identity="irsa")  # scales the groups from zero
    NodeMonitoringAgent(stack, "NodeHealth", cluster=cluster)  # AiCluster installs it; an imported one asks
    identity = WorkloadIdentity(
        stack, "Reader", cluster=cluster.cluster, namespace="training", service_account="r"
    )
    identity.read_prefix(dataset.bucket, "datasets")

    other = cdk.Stack(app, "PodIdentity", env=ENV)
    pod = _imported(other, install_pod_identity_agent=True)
    ClusterStorage(other, "InCluster", cluster=pod, identity="pod-identity")
    GpuNodeGroup(other, "Gpu", cluster=pod, instance_types=["g6e.12xlarge"])


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(_build, tmp_path_factory.mktemp("imported"))


def _of(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] == type_}


def test_is_an_ai_cluster_and_reads_nothing_from_aws(synth):
    assert isinstance(_imported(_stack()), IAiCluster)
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    assert not manifest.get("missing")  # no context lookup at synth time


def test_gates(synth):
    assert synth.nag_findings == []
    for template in synth.templates.values():
        assert cfn_lint_errors(template) == []
    assert log_group_problems(synth.templates) == []


def test_nothing_of_the_cluster_itself_is_created(synth):
    for template in synth.templates.values():
        for type_ in ("AWS::EKS::Cluster", "AWS::IAM::OIDCProvider", "AWS::EC2::VPC"):
            assert not _of(template, type_), type_
        # the control-plane log group belongs to whoever created the cluster
        names = [
            json.dumps(g["Properties"].get("LogGroupName"))
            for g in _of(template, "AWS::Logs::LogGroup").values()
        ]
        assert not [n for n in names if "/aws/eks/" in n]


def test_node_groups_join_the_named_cluster_in_the_given_subnets(synth):
    groups = {
        k: v["Properties"] for t in synth.templates.values() for k, v in _of(t, "AWS::EKS::Nodegroup").items()
    }
    assert len(groups) == 3  # the dataset's GPU nodes, the NVMe nodes, the pod-identity stack's GPU nodes
    for props in groups.values():
        assert props["ClusterName"] == "research"
        assert set(props["Subnets"]) <= set(SUBNETS)


def test_its_own_kubectl_provider_applies_the_charts_with_cluster_admin_after_its_access_entry(synth):
    template = synth.template("Imported")
    ((entry_id, entry),) = _of(template, "AWS::EKS::AccessEntry").items()
    assert entry["Properties"]["ClusterName"] == "research"
    assert "cluster-access-policy/AmazonEKSClusterAdminPolicy" in json.dumps(
        entry["Properties"]["AccessPolicies"]
    )
    handler_role = entry["Properties"]["PrincipalArn"]["Fn::GetAtt"][0]
    functions = _of(template, "AWS::Lambda::Function").values()
    kubectl = [f for f in functions if f["Properties"]["Role"]["Fn::GetAtt"][0] == handler_role]
    assert len(kubectl) == 1  # in the cluster's private subnets, with the cluster security group
    assert kubectl[0]["Properties"]["VpcConfig"]["SubnetIds"] == SUBNETS
    in_vpc = [f for f in functions if "VpcConfig" in f["Properties"]]
    assert all(f["Properties"]["VpcConfig"]["SecurityGroupIds"] == [SG] for f in in_vpc)
    manifests = _of(template, "Custom::AWSCDK-EKS-KubernetesResource")
    assert len(manifests) >= 4
    for manifest in manifests.values():
        assert "ClusterKubectlProvider" in json.dumps(manifest["Properties"]["ServiceToken"])
        # a new provider cannot apply anything before its access entry exists
        assert entry_id in manifest.get("DependsOn", []), "a chart waits for the provider's cluster access"


def test_addons_and_objects_land_on_the_existing_cluster_and_gpu_pods_can_be_scheduled(synth):
    template = synth.template("Imported")
    addons = [r["Properties"] for r in _of(template, "AWS::EKS::Addon").values()]
    assert {a["AddonName"] for a in addons} >= {
        "aws-ebs-csi-driver",
        "aws-efs-csi-driver",
        "aws-fsx-csi-driver",
        "eks-node-monitoring-agent",
    }
    assert all(a["ClusterName"] == "research" for a in addons)
    for addon in addons:
        values = addon.get("ConfigurationValues")
        if values and "controller" in values:  # controllers go to the nodes the user named as system nodes
            assert '"role":"system"' in values.replace(" ", "")
    model = ClusterModel(synth.templates, "Imported", subnet_zones=ZONES, region="us-east-1")
    for obj in model.objects:
        validate(obj)
    pod = Pod(
        namespace="training",
        claims=["datasets"],
        requests={GPU: 1},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    )
    placements = model.feasible(pod)
    assert placements and {p.node_group.kind for p in placements} == {"managed"}
    autoscaler = next(r for r in model.helm_releases if r["Chart"] == "cluster-autoscaler")
    assert "eks.amazonaws.com/role-arn" in autoscaler["Values"]  # IRSA: the service account carries the role
    assert model.autoscaler_problems(placements[0].node_group) == []


def test_file_systems_admit_the_cluster_security_group(synth):
    rules = [
        r["Properties"] for r in _of(synth.template("Imported"), "AWS::EC2::SecurityGroupIngress").values()
    ]
    assert any(r.get("SourceSecurityGroupId") == SG and r["FromPort"] == 988 for r in rules)  # Lustre
    assert any(r.get("SourceSecurityGroupId") == SG and r["FromPort"] == 2049 for r in rules)  # EFS
    assert any(r.get("GroupId") == SG and r["FromPort"] == 988 for r in rules)  # servers connect to clients


def test_irsa_trusts_the_given_oidc_provider_and_pod_identity_uses_the_agent(synth):
    trusts = [
        s
        for r in _of(synth.template("Imported"), "AWS::IAM::Role").values()
        for s in r["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if s["Action"] == "sts:AssumeRoleWithWebIdentity"
    ]
    assert trusts and all(s["Principal"] == {"Federated": OIDC} for s in trusts)
    pod = synth.template("PodIdentity")
    assert {a["Properties"]["AddonName"] for a in _of(pod, "AWS::EKS::Addon").values()} >= {
        "eks-pod-identity-agent"
    }
    assert _of(pod, "AWS::EKS::PodIdentityAssociation")
    for association in _of(pod, "AWS::EKS::PodIdentityAssociation").values():
        assert association["Properties"]["ClusterName"] == "research"


def test_an_existing_kubectl_provider_is_used_as_is():
    stack = _stack()
    provider = eks.KubectlProvider.from_kubectl_provider_attributes(
        stack,
        "Provider",
        service_token=KUBECTL_FUNCTION,
        role=iam.Role.from_role_arn(stack, "KubectlRole", "arn:aws:iam::111122223333:role/kubectl"),
    )
    cluster = _imported(stack, kubectl_provider=provider)
    assert cluster.kubectl_provider is provider and cluster.kubectl_access is None
    assert cluster.node_dependency is None
    template = cdk.assertions.Template.from_stack(stack).to_json()
    assert not _of(template, "AWS::Lambda::Function") and not _of(template, "AWS::Logs::LogGroup")


# -- what an imported cluster cannot do, or is not told ------------------------------------------------------


def test_irsa_without_an_oidc_provider_is_refused_with_what_to_do_and_pod_identity_works():
    stack = _stack()
    cluster = _imported(stack)
    with pytest.raises(
        EksAiDataValidationError,
        match=r"Imported/InCluster/Drivers: invalid identity='irsa': the cluster has no IAM OIDC provider "
        r"\(give AiCluster.from_existing an open_id_connect_provider\), or use identity='pod-identity'",
    ):
        ClusterStorage(stack, "InCluster", cluster=cluster)
    with pytest.raises(
        EksAiDataValidationError,
        match=r"Imported/Cluster: invalid open_id_connect_provider=None: IRSA needs the cluster's IAM OIDC provider",
    ):
        cluster.service_account_principal("training", "trainer")
    StorageDrivers(stack, "PodIdentityDrivers", cluster=cluster, identity="pod-identity")
    WorkloadIdentity(
        stack,
        "Pods",
        cluster=cluster.cluster,
        namespace="t",
        service_account="s",
        mode=IdentityMode.POD_IDENTITY,
    )


def test_the_autoscaler_with_irsa_needs_the_oidc_provider():
    stack = _stack()
    with pytest.raises(EksAiDataValidationError, match=r"IRSA needs the cluster's IAM OIDC provider"):
        ClusterAutoscaler(stack, "Autoscaler", cluster=_imported(stack), identity="irsa")


BARE_HINT = (
    r"an aws_eks_v2 cluster on its own lacks the platform facts the constructs need: describe it with "
    r"AiCluster\.from_existing\(scope, id, cluster_name=\.\.\., kubernetes_version=\.\.\., vpc=\.\.\., keys=\.\.\.\)"
)


def test_a_bare_eks_cluster_is_refused_with_how_to_describe_it_not_an_attribute_error():
    stack = _stack()
    # an imported aws_eks_v2 cluster without a VPC answers `vpc` with a RuntimeError from jsii
    bare = eks.Cluster.from_cluster_attributes(stack, "Bare", cluster_name="research")
    with pytest.raises(
        EksAiDataValidationError, match=r"^Imported/Drivers: invalid cluster='Imported/Bare': " + BARE_HINT
    ):
        StorageDrivers(stack, "Drivers", cluster=bare)
    with pytest.raises(
        EksAiDataValidationError, match=r"^Imported/Gpu: invalid cluster='Imported/Bare': " + BARE_HINT
    ):
        GpuNodeGroup(stack, "Gpu", cluster=bare, instance_types=["g6e.xlarge"])
    with pytest.raises(
        EksAiDataValidationError,
        match=r"^Imported/S: invalid cluster='ml': must be an AiCluster or AiCluster.from_existing\(\.\.\.\) "
        r"\(an IAiCluster\)",
    ):
        ClusterStorage(stack, "S", cluster="ml")


class _RaisingVpc:
    """Offers every IAiCluster member, but reading ``vpc`` raises as a jsii property does when it is undefined."""

    def __init__(self, node: Any) -> None:
        self.node = node
        for name in (
            "cluster",
            "keys",
            "private_subnets",
            "node_security_group",
            "kubernetes_version",
            "oidc_provider",
            "system_node_labels",
            "node_dependency",
            "pod_identity_agent",
            "created",
        ):
            setattr(self, name, None)

    @property
    def vpc(self) -> Any:
        raise RuntimeError('VpcDefinedImportedCluster: "vpc" is not defined for this imported cluster')


def test_a_member_that_raises_is_not_an_ai_cluster_whatever_order_the_protocol_check_reads_members_in():
    # typing's runtime protocol check reads the members in string-hash order, which changes per process; a raising
    # member read before a missing one used to escape as a RuntimeError (in about one process in seven)
    stack = _stack()
    with pytest.raises(
        EksAiDataValidationError, match=r"^Imported: invalid cluster='Imported': must be an AiCluster"
    ):
        require_ai_cluster(stack, "cluster", _RaisingVpc(stack.node))


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"cluster_name": "-bad"}, r"invalid cluster_name='-bad': must be an EKS cluster name"),
        (
            {"cluster_name": "a" * 101},
            r"invalid cluster_name='a+': must be an EKS cluster name: 1-100 letters",
        ),
        (
            {"cluster_security_group_id": "sg-123"},
            r"invalid cluster_security_group_id='sg-123': must be a security group id",
        ),
        (
            {"kubernetes_version": "1.20"},
            r"invalid kubernetes_version='1.20': no kubectl layer is known for it",
        ),
        (
            {"kubernetes_version": "1.29"},
            r"invalid kubernetes_version='1.29': no kubectl layer is known for it",
        ),
        ({"keys": "key"}, r"invalid keys='key': must be DataKeys or PlatformKeys\(data_key=...\)"),
        ({"private_subnets": []}, r"invalid private_subnets=\[\]: must name at least one subnet"),
        (
            {"private_subnets": "subnet-0aaa1111bbbb2222c"},
            r"invalid private_subnets='subnet-0aaa1111bbbb2222c': must be a list of ec2.ISubnet",
        ),
        (
            {"private_subnets": ["subnet-0aaa1111bbbb2222c"]},
            r"invalid private_subnets=\['subnet-0aaa1111bbbb2222c'\]: must be a list",
        ),
        ({"vpc": None}, r"invalid vpc=None: must be the cluster's VPC"),
        (
            {"system_node_labels": {"kubernetes.io/role": "x"}},
            r"invalid system_node_labels=.*label keys under kubernetes.io/ and k8s.io/ are reserved",
        ),
    ],
)
def test_bad_descriptions_of_the_cluster_are_refused(props, message):
    with pytest.raises(EksAiDataValidationError, match=r"^Imported/Cluster: " + message):
        _imported(_stack(), **props)


def test_kubectl_role_applies_only_to_a_new_provider():
    stack = _stack()
    provider = eks.KubectlProvider.from_kubectl_provider_attributes(
        stack, "Provider", service_token=KUBECTL_FUNCTION
    )
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/kubectl")
    with pytest.raises(
        EksAiDataValidationError, match=r"kubectl_role and grant_kubectl_access configure a new"
    ):
        _imported(stack, kubectl_provider=provider, kubectl_role=role)


def test_grant_admin_needs_an_arn():
    cluster = _imported(_stack())
    with pytest.raises(
        EksAiDataValidationError, match=r"invalid principal_arn='admins': must be an IAM role or user ARN"
    ):
        cluster.grant_admin("Admins", "admins")
    assert cluster.grant_admin("Admins", "arn:aws:iam::111122223333:role/Admins") in cluster.admin_access
