"""AiCluster.from_existing: every construct works on a cluster another tool created, through the IAiCluster
interface, and what an imported cluster cannot give is refused with a clear error (never an AttributeError)."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from eks_ai_data.cluster import AiCluster
from eks_ai_data.cluster_interface import IAiCluster, PlatformKeys
from eks_ai_data.compute.autoscaler import ClusterAutoscaler
from eks_ai_data.compute.node_health import NodeMonitoringAgent
from eks_ai_data.csi import StorageDrivers
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.identity import IdentityMode, WorkloadIdentity
from eks_ai_data.nodegroups import GpuNodeGroup, NvmeNodeGroup
from eks_ai_data.patterns.cluster_storage import ClusterStorage
from eks_ai_data.patterns.distributed_dataset import DistributedDataset
from eks_ai_data.patterns.model_repository import ModelRepository
from tests._gates import acknowledge_fixture, cfn_lint_errors
from tests.conftest import synthesize
from tests.k8s.k8s_support import validate
from tests.platform.k8s_model import GPU, ClusterModel, Pod

ENV = cdk.Environment(account="111122223333", region="us-east-1")
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OIDC = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
ZONES = {"subnet-0aaa1111bbbb2222c": "us-east-1a", "subnet-0ddd3333eeee4444f": "us-east-1b"}


def _existing(stack, *, oidc=True, **props):
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=list(ZONES.values()),
        private_subnet_ids=list(ZONES),
    )
    key = kms.Key.from_key_arn(stack, "Key", KEY)
    return AiCluster.from_existing(
        stack,
        "Existing",
        cluster_name="ml-prod",
        kubernetes_version="1.36",
        vpc=vpc,
        cluster_security_group_id="sg-0123456789abcdef0",
        keys=PlatformKeys(data_key=key),
        open_id_connect_provider=iam.OpenIdConnectProvider.from_open_id_connect_provider_arn(
            stack, "Oidc", OIDC
        )
        if oidc
        else None,
        system_node_labels={"role": "system"},
        **props,
    )


def _build(app):
    stack = cdk.Stack(app, "OnExisting", env=ENV)
    cluster = _existing(stack)
    storage = ClusterStorage(stack, "InCluster", cluster=cluster, namespaces=["training", "inference"])
    DistributedDataset(
        stack,
        "Dataset",
        cluster=cluster,
        storage=storage,
        namespace="training",
        gpu_instance_types=["g6e.12xlarge"],
    )
    models = ModelRepository(stack, "Models", cluster=cluster, storage=storage, namespace="inference")
    acknowledge_fixture(models.efs, "the model cache, without the stack's DataBackupPlan", "EFSInBackupPlan")
    NvmeNodeGroup(stack, "Nvme", cluster=cluster, instance_types=["i4i.8xlarge"])
    ClusterAutoscaler(
        stack, "Autoscaler", cluster=cluster, identity="irsa"
    )  # what scales the groups from zero
    NodeMonitoringAgent(
        stack, "NodeHealth", cluster=cluster
    )  # AiCluster installs it; an imported one needs asking
    WorkloadIdentity(
        stack, "Trainer", cluster=cluster.cluster, namespace="training", service_account="trainer"
    )


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return synthesize(_build, tmp_path_factory.mktemp("imported"))


def test_is_an_ai_cluster_and_reads_nothing_from_aws(synth):
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    assert isinstance(_existing(stack), IAiCluster)
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    assert not manifest.get("missing")  # no context lookup at synth time


def test_gates_pass(synth):
    assert cfn_lint_errors(synth.template("OnExisting")) == []
    assert synth.nag_findings == []


def test_its_own_kubectl_provider_applies_the_charts_with_cluster_admin(synth):
    resources = synth.template("OnExisting")["Resources"]
    manifests = [r for r in resources.values() if r["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"]
    assert manifests
    (entry,) = [r for r in resources.values() if r["Type"] == "AWS::EKS::AccessEntry"]
    assert entry["Properties"]["ClusterName"] == "ml-prod"
    assert "cluster-access-policy/AmazonEKSClusterAdminPolicy" in json.dumps(
        entry["Properties"]["AccessPolicies"]
    )
    handler_role = entry["Properties"]["PrincipalArn"]["Fn::GetAtt"][0]
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    kubectl = [f for f in functions if f["Properties"]["Role"]["Fn::GetAtt"][0] == handler_role]
    assert len(kubectl) == 1  # in the cluster's private subnets, with the cluster security group
    assert kubectl[0]["Properties"]["VpcConfig"]["SubnetIds"] == list(ZONES)
    assert kubectl[0]["Properties"]["VpcConfig"]["SecurityGroupIds"] == ["sg-0123456789abcdef0"]
    # every chart waits for the access entry (a new provider cannot apply anything before it)
    entry_id = next(k for k, r in resources.items() if r["Type"] == "AWS::EKS::AccessEntry")
    assert all(entry_id in m.get("DependsOn", []) for m in manifests)


def test_node_groups_addons_and_objects_land_on_the_existing_cluster(synth):
    resources = synth.template("OnExisting")["Resources"]
    groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::EKS::Nodegroup"]
    assert len(groups) == 2 and all(g["ClusterName"] == "ml-prod" for g in groups)
    addons = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::EKS::Addon"]
    assert {a["AddonName"] for a in addons} >= {
        "aws-ebs-csi-driver",
        "aws-efs-csi-driver",
        "aws-fsx-csi-driver",
        "eks-node-monitoring-agent",
    }
    for addon in addons:
        values = addon.get("ConfigurationValues")
        if values and "controller" in values:  # controllers go to the nodes the user named as system nodes
            assert '"role":"system"' in values.replace(" ", "")
    model = ClusterModel(synth.templates, "OnExisting", subnet_zones=ZONES, region="us-east-1")
    for objs in [model.objects]:
        for obj in objs:
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


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"cluster_name": "-ml"}, r"cluster_name='-ml': must be an EKS cluster name"),
        ({"cluster_name": "a" * 101}, r"must be an EKS cluster name: 1-100 letters"),
        ({"kubernetes_version": "1.29"}, r"kubernetes_version='1.29': no kubectl layer is known for it"),
        (
            {"cluster_security_group_id": "sg-123"},
            r"cluster_security_group_id='sg-123': must be a security group id",
        ),
        (
            {"system_node_labels": {"kubernetes.io/role": "x"}},
            r"label keys under kubernetes.io/ and k8s.io/ are reserved",
        ),
    ],
)
def test_bad_descriptions_are_refused(props, message):
    stack = cdk.Stack(cdk.App(), "Bad", env=ENV)
    base = {
        "cluster_name": "ml",
        "kubernetes_version": "1.36",
        "cluster_security_group_id": "sg-0123456789abcdef0",
        **props,
    }
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["us-east-1a"],
        private_subnet_ids=["subnet-0aaa1111bbbb2222c"],
    )
    with pytest.raises(EksAiDataValidationError, match=message):
        AiCluster.from_existing(
            stack,
            "Existing",
            vpc=vpc,
            keys=PlatformKeys(data_key=kms.Key.from_key_arn(stack, "K", KEY)),
            **base,
        )


def test_irsa_without_an_oidc_provider_says_what_to_do():
    stack = cdk.Stack(cdk.App(), "NoOidc", env=ENV)
    cluster = _existing(stack, oidc=False)
    with pytest.raises(
        EksAiDataValidationError,
        match=r"the cluster has no IAM OIDC provider .* or use identity='pod-identity'",
    ):
        StorageDrivers(stack, "Drivers", cluster=cluster)
    with pytest.raises(EksAiDataValidationError, match=r"IRSA needs the cluster's IAM OIDC provider"):
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


def test_a_bare_eks_cluster_gets_a_clear_error_not_an_attribute_error():
    stack = cdk.Stack(cdk.App(), "Bare", env=ENV)
    bare = eks.Cluster.from_cluster_attributes(stack, "C", cluster_name="ml")
    with pytest.raises(
        EksAiDataValidationError, match=r"invalid cluster='Bare/C': an aws_eks_v2 cluster on its own lacks"
    ):
        GpuNodeGroup(stack, "Gpu", cluster=bare, instance_types=["g6e.xlarge"])
    with pytest.raises(EksAiDataValidationError, match=r"must be an AiCluster or AiCluster.from_existing"):
        ClusterStorage(stack, "S", cluster="ml")


def test_the_autoscaler_with_irsa_needs_the_oidc_provider():
    stack = cdk.Stack(cdk.App(), "NoOidcCa", env=ENV)
    with pytest.raises(EksAiDataValidationError, match=r"IRSA needs the cluster's IAM OIDC provider"):
        ClusterAutoscaler(stack, "Autoscaler", cluster=_existing(stack, oidc=False), identity="irsa")
