"""AiCluster.from_existing (ImportedAiCluster) with each construct that takes a cluster, and the clear errors for
what an imported cluster cannot do. One app holds every construct and is synthesized once (module fixture)."""

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
from tests._gates import cfn_lint_errors, nag_synth
from tests._identity import log_group_problems

SG = "sg-0123456789abcdef0"
SUBNETS = ["subnet-0aaa1111bbbb2222c", "subnet-0ddd3333eeee4444f"]
OIDC = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KUBECTL_FUNCTION = "arn:aws:lambda:us-east-1:111122223333:function:kubectl"


def _stack(name: str = "Imported") -> cdk.Stack:
    return cdk.Stack(cdk.App(), name, env=cdk.Environment(account="111122223333", region="us-east-1"))


def _vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["us-east-1a", "us-east-1b"],
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


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """An imported cluster (IRSA through its OIDC provider) with node groups, storage, the three patterns and an
    identity; and a second one, without OIDC, using Pod Identity."""
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("imported")))
    stack = cdk.Stack(app, "Imported", env=cdk.Environment(account="111122223333", region="us-east-1"))
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
    ModelRepository(stack, "Models", cluster=cluster, storage=storage, namespace="inference")
    identity = WorkloadIdentity(
        stack, "Reader", cluster=cluster.cluster, namespace="training", service_account="r"
    )
    identity.read_prefix(dataset.bucket, "datasets")

    other = cdk.Stack(app, "PodIdentity", env=cdk.Environment(account="111122223333", region="us-east-1"))
    pod = _imported(other, install_pod_identity_agent=True)
    ClusterStorage(other, "InCluster", cluster=pod, identity="pod-identity")
    GpuNodeGroup(other, "Gpu", cluster=pod, instance_types=["g6e.12xlarge"])
    result = nag_synth(app)
    return result, {s: result.template(s) for s in ("Imported", "PodIdentity")}


def _of(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] == type_}


def test_gates(app):
    result, templates = app
    assert [str(f) for f in result.findings] == []
    for template in templates.values():
        assert cfn_lint_errors(template) == []
    assert log_group_problems(templates) == []


def test_nothing_of_the_cluster_itself_is_created(app):
    _, templates = app
    for template in templates.values():
        for type_ in ("AWS::EKS::Cluster", "AWS::IAM::OIDCProvider", "AWS::EC2::VPC"):
            assert not _of(template, type_), type_
        # the control-plane log group belongs to whoever created the cluster
        names = [
            json.dumps(g["Properties"].get("LogGroupName"))
            for g in _of(template, "AWS::Logs::LogGroup").values()
        ]
        assert not [n for n in names if "/aws/eks/" in n]


def test_node_groups_join_the_named_cluster_in_the_given_subnets(app):
    _, templates = app
    groups = {
        k: v["Properties"] for t in templates.values() for k, v in _of(t, "AWS::EKS::Nodegroup").items()
    }
    assert len(groups) == 3  # the dataset's GPU nodes, the NVMe nodes, the pod-identity stack's GPU nodes
    for props in groups.values():
        assert props["ClusterName"] == "research"
        assert set(props["Subnets"]) <= set(SUBNETS)


def test_charts_go_through_the_new_kubectl_provider_after_its_access_entry(app):
    _, templates = app
    template = templates["Imported"]
    (entry_id, entry) = next(iter(_of(template, "AWS::EKS::AccessEntry").items()))
    assert entry["Properties"]["ClusterName"] == "research"
    manifests = _of(template, "Custom::AWSCDK-EKS-KubernetesResource")
    assert len(manifests) >= 4
    for manifest in manifests.values():
        token = json.dumps(manifest["Properties"]["ServiceToken"])
        assert "ClusterKubectlProvider" in token
        assert entry_id in manifest.get("DependsOn", []), "a chart waits for the provider's cluster access"
    functions = [f for f in _of(template, "AWS::Lambda::Function").values() if "VpcConfig" in f["Properties"]]
    assert functions and all(f["Properties"]["VpcConfig"]["SecurityGroupIds"] == [SG] for f in functions)


def test_file_systems_admit_the_cluster_security_group(app):
    _, templates = app
    rules = [
        r["Properties"]
        for r in templates["Imported"]["Resources"].values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
    ]
    assert any(r.get("SourceSecurityGroupId") == SG and r["FromPort"] == 988 for r in rules)  # Lustre
    assert any(r.get("SourceSecurityGroupId") == SG and r["FromPort"] == 2049 for r in rules)  # EFS
    assert any(r.get("GroupId") == SG and r["FromPort"] == 988 for r in rules)  # servers connect to clients


def test_irsa_trusts_the_given_oidc_provider_and_pod_identity_uses_the_agent(app):
    _, templates = app
    trusts = [
        s
        for r in _of(templates["Imported"], "AWS::IAM::Role").values()
        for s in r["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if s["Action"] == "sts:AssumeRoleWithWebIdentity"
    ]
    assert trusts and all(s["Principal"] == {"Federated": OIDC} for s in trusts)
    pod = templates["PodIdentity"]
    assert {a["Properties"]["AddonName"] for a in _of(pod, "AWS::EKS::Addon").values()} >= {
        "eks-pod-identity-agent"
    }
    assert _of(pod, "AWS::EKS::PodIdentityAssociation")
    for association in _of(pod, "AWS::EKS::PodIdentityAssociation").values():
        assert association["Properties"]["ClusterName"] == "research"


def test_an_existing_kubectl_provider_is_used_as_is():
    stack = _stack()
    bare = eks.Cluster.from_cluster_attributes(stack, "Bare", cluster_name="research")
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
    assert bare.cluster_name == "research"


# -- what an imported cluster cannot do, or is not told ------------------------------------------------------


def test_irsa_without_an_oidc_provider_is_refused_with_what_to_do():
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


def test_a_bare_eks_cluster_is_refused_with_how_to_describe_it():
    stack = _stack()
    bare = eks.Cluster.from_cluster_attributes(stack, "Bare", cluster_name="research")
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid cluster='Imported/Bare': an aws_eks_v2 cluster on its own lacks the platform facts.*"
        r"AiCluster.from_existing\(scope, id, cluster_name=",
    ):
        StorageDrivers(stack, "Drivers", cluster=bare)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"cluster_name": "-bad"}, r"invalid cluster_name='-bad': must be an EKS cluster name"),
        (
            {"cluster_security_group_id": "sg-123"},
            r"invalid cluster_security_group_id='sg-123': must be a security group id",
        ),
        (
            {"kubernetes_version": "1.20"},
            r"invalid kubernetes_version='1.20': no kubectl layer is known for it",
        ),
        ({"keys": "key"}, r"invalid keys='str': must be DataKeys or PlatformKeys\(data_key=...\)"),
        ({"private_subnets": []}, r"invalid private_subnets=\[\]: must name at least one subnet"),
        ({"system_node_labels": {"kubernetes.io/x": "y"}}, r"invalid system_node_labels="),
    ],
)
def test_bad_descriptions_of_the_cluster_are_refused(props, message):
    with pytest.raises(EksAiDataValidationError, match=r"Imported/Cluster: " + message):
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
