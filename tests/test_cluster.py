"""AiCluster and ClusterNetwork in the reference stack, and their validation rules (DataKeys: test_keys.py)."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from eks_ai_data.cluster import AiCluster
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.keys import DataKeys
from eks_ai_data.network import ClusterNetwork
from eks_ai_data.versions import DEFAULT_KUBERNETES_VERSION

STACK = "EksAiDataTraining"


def _one(reference, type_: str) -> tuple[str, dict]:
    items = reference.resources(STACK, type_)
    assert len(items) == 1, f"expected one {type_}, got {sorted(items)}"
    ((logical_id, resource),) = items.items()
    return logical_id, resource


def test_cluster_version_logging_auth_and_private_endpoint(reference):
    _, cluster = _one(reference, "AWS::EKS::Cluster")
    props = cluster["Properties"]
    assert props["Version"] == DEFAULT_KUBERNETES_VERSION == "1.36"
    types = {t["Type"] for t in props["Logging"]["ClusterLogging"]["EnabledTypes"]}
    assert types == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    assert props["AccessConfig"]["AuthenticationMode"] == "API"
    assert props["AccessConfig"]["BootstrapClusterCreatorAdminPermissions"] is False
    assert props["ResourcesVpcConfig"]["EndpointPublicAccess"] is False
    assert props["ResourcesVpcConfig"]["EndpointPrivateAccess"] is True
    assert props["BootstrapSelfManagedAddons"] is False


def test_secrets_are_encrypted_with_the_secrets_key(reference):
    _, cluster = _one(reference, "AWS::EKS::Cluster")
    (config,) = cluster["Properties"]["EncryptionConfig"]
    assert config["Resources"] == ["secrets"]
    key_ref = config["Provider"]["KeyArn"]["Fn::GetAtt"][0]
    assert key_ref.startswith("KeysSecretsKey")


def test_core_addons_and_vpc_cni_irsa(reference):
    addons = {a["Properties"]["AddonName"]: a for a in reference.resources(STACK, "AWS::EKS::Addon").values()}
    assert {"vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"} <= set(addons)
    assert "AddonVersion" not in addons["coredns"]["Properties"]  # EKS's default for the version; no lookup
    role_id = addons["vpc-cni"]["Properties"]["ServiceAccountRoleArn"]["Fn::GetAtt"][0]
    trust = reference.template(STACK)["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert set(statement["Condition"]) == {"StringEquals"}  # never StringLike


def test_native_oidc_provider(reference):
    assert len(reference.resources(STACK, "AWS::IAM::OIDCProvider")) == 1
    assert not [
        r
        for r in reference.templates[STACK]["Resources"].values()
        if r["Type"] == "Custom::AWSCDKOpenIdConnectProvider"
    ]


def test_system_nodegroup_is_small_on_demand_and_labelled(reference):
    groups = {k: v["Properties"] for k, v in reference.resources(STACK, "AWS::EKS::Nodegroup").items()}
    system = next(p for k, p in groups.items() if k.startswith("PlatformSystemNodes"))
    assert system["CapacityType"] == "ON_DEMAND"
    assert system["Labels"] == {"eks-ai-data/node-role": "system", "eks-ai-data/ami-family": "al2023"}
    assert system["ScalingConfig"]["MinSize"] == 2
    assert "Taints" not in system


def test_vpc_has_private_subnets_in_two_azs_s3_endpoint_and_flow_logs(reference):
    subnets = reference.resources(STACK, "AWS::EC2::Subnet").values()
    private = [s for s in subnets if s["Properties"]["MapPublicIpOnLaunch"] is False]
    assert len({json.dumps(s["Properties"]["AvailabilityZone"]) for s in private}) >= 2
    _, endpoint = _one(reference, "AWS::EC2::VPCEndpoint")
    assert "s3" in json.dumps(endpoint["Properties"]["ServiceName"])
    assert endpoint["Properties"]["VpcEndpointType"] == "Gateway"
    _, flow = _one(reference, "AWS::EC2::FlowLog")
    assert flow["Properties"]["TrafficType"] == "ALL"
    # the flow log's destination (the stack's other log groups, e.g. the ASG-tagging function's, are not the VPC's)
    destination = flow["Properties"]["LogGroupName"]["Ref"]
    group = reference.resources(STACK, "AWS::Logs::LogGroup")[destination]
    assert "KmsKeyId" in group["Properties"]


# -- options and bad input ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Opts")


def test_existing_vpc_is_used_as_is(stack):
    vpc = ec2.Vpc(stack, "ExistingVpc", max_azs=2)
    platform = AiCluster(
        stack,
        "OwnVpc",
        vpc=vpc,
        public_access_cidrs=["203.0.113.0/24"],
        admin_principal_arn="arn:aws:iam::111122223333:role/Admin",
    )
    assert platform.vpc is vpc and platform.network is None
    assert len(platform.admin_access) == 1


_bad = iter(range(1000))


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (
            lambda s: AiCluster(s, f"V{next(_bad)}", version="1.24"),
            r"version='1.24': no kubectl layer is known for it; supported versions: \['1.33', '1.34', '1.35', '1.36'\]",
        ),
        (
            lambda s: AiCluster(s, f"V{next(_bad)}", version="1.33"),
            r"version='1.33': needs the kubectl layer package 'aws-cdk.lambda-layer-kubectl-v33'",
        ),
        (
            lambda s: AiCluster(s, f"V{next(_bad)}", system_node_count=1),
            r"system_node_count=1: must be between 2 and 10",
        ),
        (
            lambda s: AiCluster(s, f"V{next(_bad)}", addon_versions={"metrics-server": "v1"}),
            r"addon_versions='metrics-server': keys must be one of",
        ),
        (
            lambda s: AiCluster(s, f"V{next(_bad)}", public_access_cidrs=["0.0.0.0/0"]),
            r"public_access_cidrs=\['0.0.0.0/0'\]: must list the CIDRs",
        ),
        (
            lambda s: AiCluster(s, f"V{next(_bad)}", admin_principal_arn="Admin"),
            r"admin_principal_arn='Admin': must be an IAM role or user ARN",
        ),
        (
            lambda s: ClusterNetwork(
                s, f"N{next(_bad)}", logs_key=DataKeys(s, f"K{next(_bad)}").data_key, max_azs=1
            ),
            r"max_azs=1: must be between 2 and 6",
        ),
        (
            lambda s: ClusterNetwork(
                s, f"N{next(_bad)}", logs_key=DataKeys(s, f"K{next(_bad)}").data_key, nat_gateways=0
            ),
            r"nat_gateways=0: must be between 1 and max_azs \(3\)",
        ),
    ],
)
def test_bad_input(stack, factory, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        factory(stack)


def test_environment_specific_network_never_looks_zones_up(tmp_path):
    from eks_ai_data.network import ZonalStack

    env = cdk.Environment(account="111122223333", region="eu-west-1")
    plain = cdk.Stack(cdk.App(), "Plain", env=env)
    with pytest.raises(
        EksAiDataValidationError,
        match=r"availability_zones=None: the stack is in region eu-west-1 and would look its availability zones up",
    ):
        ClusterNetwork(plain, "NoZones", logs_key=DataKeys(plain, "Keys").data_key)

    app = cdk.App(outdir=str(tmp_path))
    stack = ZonalStack(app, "Zonal", env=env, availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"])
    key = DataKeys(stack, "Keys").data_key
    with pytest.raises(EksAiDataValidationError, match=r"must name 2 to 6 distinct availability zones"):
        ClusterNetwork(stack, "SameZone", logs_key=key, availability_zones=["eu-west-1a", "eu-west-1a"])
    network = ClusterNetwork(stack, "Zones", logs_key=key)
    assert network.vpc.availability_zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert len(network.vpc.private_subnets) == 3
    pair = ClusterNetwork(
        stack, "Pair", logs_key=key, availability_zones=["eu-west-1a", "eu-west-1c"], cidr="10.65.0.0/16"
    )
    assert pair.vpc.availability_zones == ["eu-west-1a", "eu-west-1c"]
    app.synth()
    assert "missing" not in json.loads((tmp_path / "manifest.json").read_text())


@pytest.fixture(scope="module")
def pinned(tmp_path_factory):
    """A cluster with pinned add-on versions and a Pod Identity workload, synthesized once."""
    from eks_ai_data.identity import IdentityMode, WorkloadIdentity

    app = cdk.App(outdir=str(tmp_path_factory.mktemp("pinned")))
    stack = cdk.Stack(app, "Pinned")
    platform = AiCluster(
        stack,
        "Platform",
        addon_versions={"vpc-cni": "v1.20.4-eksbuild.2", "eks-pod-identity-agent": "v1.3.8-eksbuild.2"},
    )
    WorkloadIdentity(
        stack,
        "Job",
        cluster=platform.cluster,
        namespace="jobs",
        service_account="job",
        mode=IdentityMode.POD_IDENTITY,
    )
    return app.synth().get_stack_by_name("Pinned").template


def test_addon_versions_are_pinned_and_pod_identity_agent_exists_once(pinned):
    addons = [r["Properties"] for r in pinned["Resources"].values() if r["Type"] == "AWS::EKS::Addon"]
    names = [a["AddonName"] for a in addons]
    assert names.count("eks-pod-identity-agent") == 1
    versions = {a["AddonName"]: a.get("AddonVersion") for a in addons}
    assert versions["vpc-cni"] == "v1.20.4-eksbuild.2"
    assert versions["eks-pod-identity-agent"] == "v1.3.8-eksbuild.2"
    assert versions["coredns"] is None
