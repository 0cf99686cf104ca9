"""AiCluster and ClusterNetwork in the reference stack, and their validation rules (DataKeys: test_keys.py)."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from eks_ai_data.cluster import AiCluster
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.keys import DataKeys
from eks_ai_data.network import ClusterNetwork, ZonalStack
from eks_ai_data.versions import DEFAULT_KUBERNETES_VERSION
from stacks import TRAINING_DATA_STACK, TRAINING_STACK

STACK = TRAINING_STACK  # the cluster; its VPC and keys are in the data stack
DATA = TRAINING_DATA_STACK


def _one(reference, type_: str, stack: str = STACK) -> tuple[str, dict]:
    items = reference.resources(stack, type_)
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
    key_ref = reference.unimport(config["Provider"]["KeyArn"])["Fn::GetAtt"][0]
    assert key_ref.startswith("KeysSecretsKey")
    assert key_ref in reference.template(DATA)["Resources"]


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
    subnets = reference.resources(DATA, "AWS::EC2::Subnet").values()
    private = [s for s in subnets if s["Properties"]["MapPublicIpOnLaunch"] is False]
    assert len({json.dumps(s["Properties"]["AvailabilityZone"]) for s in private}) >= 2
    _, endpoint = _one(reference, "AWS::EC2::VPCEndpoint", DATA)
    assert "s3" in json.dumps(endpoint["Properties"]["ServiceName"])
    assert endpoint["Properties"]["VpcEndpointType"] == "Gateway"
    _, flow = _one(reference, "AWS::EC2::FlowLog", DATA)
    assert flow["Properties"]["TrafficType"] == "ALL"
    group = reference.template(DATA)["Resources"][flow["Properties"]["LogGroupName"]["Ref"]]
    assert group["Type"] == "AWS::Logs::LogGroup" and "KmsKeyId" in group["Properties"]
    assert not reference.resources(STACK, "AWS::EC2::Subnet"), "the cluster stack creates no network"


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
            r"public_access_cidrs=\['0.0.0.0/0'\]: must list 1-40 CIDRs .* and not 0.0.0.0/0",
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


# -- AWS limits: names, principals, public CIDRs, add-on versions, zones and the VPC CIDR ---------------


def _cluster(s, **props):
    return AiCluster(s, f"L{next(_bad)}", **props)


def _network(s, **props):
    return ClusterNetwork(s, f"N{next(_bad)}", logs_key=DataKeys(s, f"K{next(_bad)}").data_key, **props)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (
            lambda s: _cluster(s, cluster_name="c" * 101),
            r"cluster_name='c{101}': must be an EKS cluster name: 1-100 letters, digits, '-' or '_', starting with "
            r"a letter or digit \(EKS API\)",
        ),
        (
            lambda s: _cluster(s, cluster_name="_platform"),
            r"cluster_name='_platform': must be an EKS cluster name",
        ),
        (lambda s: _cluster(s, cluster_name="ml.platform"), r"cluster_name='ml.platform': must be an EKS"),
        (
            lambda s: _cluster(s, admin_principal_arn="arn:aws:iam::1111:role/Admin"),
            r"admin_principal_arn='arn:aws:iam::1111:role/Admin': must be an IAM role or user ARN, "
            r"arn:<partition>:iam::<12-digit account>:role/\[<path>/\]<name> \(or user/...\)",
        ),
        (
            lambda s: _cluster(s, admin_principal_arn="arn:aws:sts::111122223333:assumed-role/Admin/me"),
            r"assumed-role/Admin/me': must be an IAM role or user ARN.*not an STS assumed-role ARN",
        ),
        (
            lambda s: _cluster(s, admin_principal_arn="arn:aws:iam::111122223333:group/Admins"),
            r"group/Admins': must be an IAM role or user ARN",
        ),
        (
            lambda s: _cluster(s, admin_principal_arn="arn:aws:iam::111122223333:role/"),
            r"role/': must be an IAM role or user ARN",
        ),
        (
            lambda s: _cluster(s, public_access_cidrs="203.0.113.0/24"),
            r"public_access_cidrs='203.0.113.0/24': must be a list of IPv4 CIDR blocks, not a string",
        ),
        (
            lambda s: _cluster(s, public_access_cidrs=[f"203.0.{i}.0/24" for i in range(41)]),
            r"public_access_cidrs=\[.*\]: must list 1-40 CIDRs allowed to reach the public endpoint \(the EKS quota\)",
        ),
        (lambda s: _cluster(s, public_access_cidrs=[]), r"public_access_cidrs=\[\]: must list 1-40 CIDRs"),
        (
            lambda s: _cluster(s, public_access_cidrs=["203.0.113.7/24"]),
            r"public_access_cidrs='203.0.113.7/24': has host bits set: the network is 203.0.113.0/24",
        ),
        (
            lambda s: _cluster(s, public_access_cidrs=["203.0.113.300/32"]),
            r"public_access_cidrs='203.0.113.300/32': must be an IPv4 CIDR block a.b.c.d/n \(octets 0-255",
        ),
        (
            lambda s: _cluster(s, public_access_cidrs=["203.0.113.7"]),
            r"public_access_cidrs='203.0.113.7': must be an IPv4 CIDR block a.b.c.d/n",
        ),
        (
            lambda s: _cluster(s, public_access_cidrs=["2001:db8::/32"]),
            r"public_access_cidrs='2001:db8::/32': must be an IPv4 CIDR block",
        ),
        (
            lambda s: _cluster(s, addon_versions={"vpc-cni": "1.20.4"}),
            r"addon_versions=\{'vpc-cni': '1.20.4'\}: values must be an EKS add-on version "
            r"v<major>.<minor>.<patch>-eksbuild.<n>",
        ),
        (
            lambda s: _cluster(s, addon_versions={"coredns": "v1.11.4-eksbuild"}),
            r"addon_versions=\{'coredns': 'v1.11.4-eksbuild'\}: values must be an EKS add-on version",
        ),
        (
            lambda s: _cluster(s, availability_zones="us-east-1a"),
            r"availability_zones='us-east-1a': must be a list of zone names, not a string",
        ),
        (lambda s: _network(s, max_azs=2.0), r"max_azs=2.0: must be a whole number between 2 and 6"),
        (
            lambda s: _network(s, availability_zones=["us-east-1a", "us-east-1b"], max_azs=3),
            r"max_azs=3: differs from the 2 availability_zones given \['us-east-1a', 'us-east-1b'\]",
        ),
        (
            lambda s: _network(s, cidr="10.64.0.0/15"),
            r"cidr='10.64.0.0/15': must have a netmask between /16 and /28",
        ),
        (lambda s: _network(s, cidr="10.64.0.0/29"), r"cidr='10.64.0.0/29': must have a netmask between /16"),
        (
            lambda s: _network(s, cidr="10.64.1.0/16"),
            r"cidr='10.64.1.0/16': has host bits set: the network is",
        ),
        (lambda s: _network(s, cidr="10.64.0.0"), r"cidr='10.64.0.0': must be an IPv4 CIDR block a.b.c.d/n"),
        (
            lambda s: _network(s, cidr="10.64.0.0/18"),
            r"cidr='10.64.0.0/18': is too small for a /19 private and a /24 public subnet in each of 3 zones "
            r"\(25344 addresses\): use a /17 or larger",
        ),
        (
            lambda s: _network(s, cidr="10.64.0.0/17", max_azs=4),
            r"cidr='10.64.0.0/17': is too small .* in each of 4 zones \(33792 addresses\): use a /16 or larger",
        ),
    ],
)
def test_aws_limits_are_refused(stack, factory, message):
    with pytest.raises(EksAiDataValidationError, match=message) as info:
        factory(stack)
    assert info.value.where.startswith("Opts/")


def test_aws_limits_themselves_are_accepted(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Edges")
    name = "P" + "l-_0" * 24 + "xyz"  # 100 characters, EKS's limit
    cidrs = [f"198.51.{i}.0/24" for i in range(39)] + ["203.0.113.7/32"]  # 40, EKS's quota
    platform = AiCluster(
        stack,
        "Platform",
        cluster_name=name,
        admin_principal_arn="arn:aws-us-gov:iam::111122223333:role/teams/ml/Platform+Admin=1,a.b@c-d_e",
        public_access_cidrs=tuple(cidrs),
        addon_versions={"vpc-cni": "v10.200.3000-eksbuild.12"},
    )
    cfn = platform.cluster.node.default_child
    assert len(name) == 100 and cfn.name == name
    assert stack.resolve(cfn.resources_vpc_config)["publicAccessCidrs"] == cidrs
    entry = stack.resolve(platform.admin_access[0].node.default_child.principal_arn)
    assert entry == "arn:aws-us-gov:iam::111122223333:role/teams/ml/Platform+Admin=1,a.b@c-d_e"
    AiCluster(stack, "User", admin_principal_arn="arn:aws:iam::111122223333:user/alice", cluster_name="0")
    # /16 with six zones, /17 with three: the largest layouts that fit
    _network(stack, cidr="10.0.0.0/17")
    six = ZonalStack(app, "Six", availability_zones=[f"eu-west-1{z}" for z in "abcdef"], env=_ENV)
    ClusterNetwork(six, "Net", logs_key=DataKeys(six, "Keys").data_key, max_azs=6, cidr="172.16.0.0/16")


_ENV = cdk.Environment(account="111122223333", region="eu-west-1")


@pytest.mark.parametrize(
    ("zones", "stack_zones", "message"),
    [
        (
            ["eu-west-1a", "us-east-1b"],
            None,
            r"availability_zones='us-east-1b': must be an availability zone of the stack's Region eu-west-1 "
            r"\(eu-west-1a, eu-west-1b, ...\)",
        ),
        (
            ["eu-west-1a", "eu-west-1-bos-1a"],
            None,
            r"availability_zones='eu-west-1-bos-1a': must be an availability",
        ),
        (["eu-west-1a", "euw1-az1"], None, r"availability_zones='euw1-az1': must be an availability zone"),
        (
            ["eu-west-1a", "eu-west-1d"],
            ["eu-west-1a", "eu-west-1b"],
            r"availability_zones=\['eu-west-1d'\]: must be among the stack's availability zones "
            r"\['eu-west-1a', 'eu-west-1b'\]",
        ),
        (
            None,
            ["eu-west-1a", "us-west-2b"],
            r"ZonalStack.availability_zones='us-west-2b': must be an availability zone of the stack's Region",
        ),
    ],
)
def test_zones_outside_the_region_are_refused(zones, stack_zones, message):
    stack = ZonalStack(
        cdk.App(),
        "Zonal",
        env=_ENV,
        availability_zones=stack_zones or ["eu-west-1a", "eu-west-1b", "eu-west-1d"],
    )
    with pytest.raises(EksAiDataValidationError, match=message) as info:
        ClusterNetwork(stack, "Network", logs_key=DataKeys(stack, "Keys").data_key, availability_zones=zones)
    assert info.value.where == "Zonal/Network"


def test_zones_of_an_environment_agnostic_stack_are_not_matched_to_a_region():
    stack = cdk.Stack(cdk.App(), "Agnostic")
    network = _network(stack, availability_zones=["us-east-1-bos-1a", "us-east-1a"])
    assert network.vpc.availability_zones == ["us-east-1-bos-1a", "us-east-1a"]
