"""SharedEfs: file-system policy, NFS-only security group, mount targets, access points, gates, validation."""

from __future__ import annotations

from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from eks_ai_data.efs import SharedEfs
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.keys import DataKeys
from tests._gates import (
    acknowledge_fixture,
    acknowledge_fixture_vpc,
    gate_problems,
    nag_synth,
    normalize_template,
)

ENV = cdk.Environment(account="111111111111", region="us-east-1")
KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def reference():
    app = cdk.App()
    stack = cdk.Stack(app, "EfsTest", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=3, nat_gateways=1)
    acknowledge_fixture_vpc(vpc)
    keys = DataKeys(stack, "Keys")
    nodes = ec2.SecurityGroup(stack, "Nodes", vpc=vpc)
    shared = SharedEfs(
        stack,
        "Models",
        vpc=vpc,
        node_security_groups=[nodes],
        kms_key=keys.data_key,
        transition_to_archive=efs.LifecyclePolicy.AFTER_90_DAYS,
        replication_region="us-west-2",
    )
    shared.add_access_point("team-a", path="/teams/a", uid=1001, gid=1001, secondary_gids=[2000])
    shared.add_access_point(
        "llama", path="/models/llama", uid=1002, gid=1002, owner_uid=0, owner_gid=0, permissions="755"
    )
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    shared.grant_access_point(reader, "llama", write=False)
    acknowledge_fixture(reader, "the test's own role receives the grant under test", "IAMNoInlinePolicy")
    acknowledge_fixture(shared, "SharedEfs alone, without the stack's DataBackupPlan", "EFSInBackupPlan")
    result = nag_synth(app)
    return SimpleNamespace(
        result=result,
        template=result.template(stack.artifact_id),
        stack=stack,
        efs=shared,
        nodes=nodes,
        vpc=vpc,
    )


@pytest.fixture(scope="module")
def user():
    app = cdk.App()
    stack = cdk.Stack(app, "UserEfs", env=ENV)
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0a1b2c3d4e5f60718",
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    )
    cluster_sg = ec2.SecurityGroup.from_security_group_id(stack, "ClusterSg", "sg-0123456789abcdef0")
    shared = SharedEfs(
        stack,
        "Shared",
        vpc=vpc,
        node_security_groups=[cluster_sg],
        kms_key=kms.Key.from_key_arn(stack, "K", KEY_ARN),
    )
    shared.add_access_point("tenant-1", path="/tenants/1", uid=5000, gid=5000)
    acknowledge_fixture(shared, "SharedEfs alone, without the stack's DataBackupPlan", "EFSInBackupPlan")
    result = nag_synth(app)
    return SimpleNamespace(
        result=result, template=result.template(stack.artifact_id), stack=stack, efs=shared
    )


def _resources(template, type_):
    return [v for v in template["Resources"].values() if v["Type"] == type_]


@pytest.mark.parametrize("name", ["reference", "user"])
def test_gates(name, request):
    built = request.getfixturevalue(name)
    assert gate_problems(built.result, built.template) == []


@pytest.mark.parametrize("name", ["reference", "user"])
def test_snapshot(name, request, snapshot_json):
    assert normalize_template(request.getfixturevalue(name).template) == snapshot_json


def test_file_system_properties(reference):
    (fs,) = _resources(reference.template, "AWS::EFS::FileSystem")
    props = fs["Properties"]
    assert fs["DeletionPolicy"] == fs["UpdateReplacePolicy"] == "Retain"
    assert props["Encrypted"] is True
    assert props["KmsKeyId"] == reference.stack.resolve(
        reference.efs.node.scope.node.find_child("Keys").data_key.key_arn
    )
    assert props["ThroughputMode"] == "elastic"
    assert props["PerformanceMode"] == "generalPurpose"
    assert props["LifecyclePolicies"] == [
        {"TransitionToIA": "AFTER_30_DAYS"},
        {"TransitionToPrimaryStorageClass": "AFTER_1_ACCESS"},
        {"TransitionToArchive": "AFTER_90_DAYS"},
    ]
    (destination,) = props["ReplicationConfiguration"]["Destinations"]
    assert destination["Region"] == "us-west-2"


@pytest.mark.parametrize("name", ["reference", "user"])
def test_file_system_policy(name, request):
    (fs,) = _resources(request.getfixturevalue(name).template, "AWS::EFS::FileSystem")
    statements = fs["Properties"]["FileSystemPolicy"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert set(by_sid) == {"DenyInsecureTransport", "DenyClientAccessNotThroughMountTarget"}
    tls = by_sid["DenyInsecureTransport"]
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", {"AWS": "*"}, "*")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    mount = by_sid["DenyClientAccessNotThroughMountTarget"]
    assert mount["Effect"] == "Deny"
    assert mount["Condition"] == {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "false"}}
    # nothing is allowed to "*": anonymous clients (no IAM identity) get no access at all
    assert not [s for s in statements if s["Effect"] == "Allow"]


@pytest.mark.parametrize("name", ["reference", "user"])
def test_security_group_allows_only_nfs_from_nodes(name, request):
    built = request.getfixturevalue(name)
    own = built.stack.resolve(built.efs.security_group.security_group_id)
    ingress = [r["Properties"] for r in _resources(built.template, "AWS::EC2::SecurityGroupIngress")]
    ours = [r for r in ingress if r["GroupId"] == own]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in ours] == [("tcp", 2049, 2049)]
    assert all("CidrIp" not in r for r in ours)
    egress = [r["Properties"] for r in _resources(built.template, "AWS::EC2::SecurityGroupEgress")]
    # EFS never initiates connections: the only egress rule is CDK's deny-all marker (a rule no traffic matches)
    assert [(r["CidrIp"], r["IpProtocol"]) for r in egress if r["GroupId"] == own] == [
        ("255.255.255.255/32", "icmp")
    ]
    (group,) = [
        g
        for g in _resources(built.template, "AWS::EC2::SecurityGroup")
        if "NFS" in g["Properties"]["GroupDescription"]
    ]
    # no inline rules: rules that name client groups must be deletable resources of their own
    assert "SecurityGroupIngress" not in group["Properties"]
    assert "SecurityGroupEgress" not in group["Properties"]


def test_mount_targets_one_per_az(reference, user):
    assert len(_resources(reference.template, "AWS::EFS::MountTarget")) == 3
    assert reference.efs.availability_zones == reference.vpc.availability_zones
    targets = _resources(user.template, "AWS::EFS::MountTarget")
    assert sorted(t["Properties"]["SubnetId"] for t in targets) == [
        "subnet-0aaaaaaaaaaaaaaa1",
        "subnet-0bbbbbbbbbbbbbbb2",
    ]


def test_access_points(reference):
    points = {
        p["Properties"]["RootDirectory"]["Path"]: p["Properties"]
        for p in _resources(reference.template, "AWS::EFS::AccessPoint")
    }
    team = points["/teams/a"]
    assert team["PosixUser"] == {"Uid": "1001", "Gid": "1001", "SecondaryGids": ["2000"]}
    assert team["RootDirectory"]["CreationInfo"] == {
        "OwnerUid": "1001",
        "OwnerGid": "1001",
        "Permissions": "750",
    }
    llama = points["/models/llama"]
    assert llama["RootDirectory"]["CreationInfo"] == {"OwnerUid": "0", "OwnerGid": "0", "Permissions": "755"}
    assert set(reference.efs.access_points) == {"team-a", "llama"}


def test_access_point_grant(reference):
    policies = [p for p in _resources(reference.template, "AWS::IAM::Policy")]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (statement,) = [s for s in statements if "elasticfilesystem:AccessPointArn" in str(s.get("Condition"))]
    assert statement["Action"] == "elasticfilesystem:ClientMount"
    assert statement["Condition"]["Bool"] == {"elasticfilesystem:AccessedViaMountTarget": "true"}
    assert statement["Resource"] == reference.stack.resolve(reference.efs.file_system_arn)


def test_exposed_attributes(reference):
    stack, shared = reference.stack, reference.efs
    assert stack.resolve(shared.file_system_id) == {
        "Ref": stack.resolve(shared.file_system.node.default_child.logical_id)
    }
    assert stack.resolve(shared.file_system_arn)["Fn::GetAtt"][1] == "Arn"
    assert shared.connections.security_groups == [shared.security_group]


# -- validation ----------------------------------------------------------------------------------------
def _build(access_point=None, **overrides):
    stack = cdk.Stack(env=ENV)
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0a1b2c3d4e5f60718",
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    )
    props = {"vpc": vpc, "node_security_groups": [], "kms_key": kms.Key.from_key_arn(stack, "K", KEY_ARN)}
    props.update(overrides)
    shared = SharedEfs(stack, "Shared", **props)
    for name, kwargs in access_point or ():
        shared.add_access_point(name, **kwargs)
    return shared


AP = {"path": "/teams/a", "uid": 1000, "gid": 1000}
BAD_INPUTS = [
    (
        {"access_point": [("team-a", {**AP, "path": "teams/a"})]},
        r"Shared: invalid path='teams/a': must be '/' or an absolute path",
    ),
    (
        {"access_point": [("team-a", {**AP, "path": "/a/b/c/d/e"})]},
        r"path='/a/b/c/d/e': must be '/' or an absolute path of up to 4",
    ),
    ({"access_point": [("team-a", {**AP, "path": "/a/../b"})]}, r"invalid path='/a/../b'"),
    ({"access_point": [("team-a", {**AP, "permissions": "0x750"})]}, r"invalid permissions='0x750': octal"),
    ({"access_point": [("team-a", {**AP, "permissions": "789"})]}, r"invalid permissions='789'"),
    (
        {"access_point": [("team-a", {**AP, "uid": -1})]},
        r"invalid uid=-1: must be an integer from 0 to 4294967295",
    ),
    ({"access_point": [("team-a", {**AP, "gid": 4294967296})]}, r"invalid gid=4294967296"),
    ({"access_point": [("team-a", {**AP, "owner_uid": 2**40})]}, r"invalid owner_uid="),
    (
        {"access_point": [("team-a", {**AP, "secondary_gids": list(range(17))})]},
        r"secondary_gids=.*at most 16 secondary groups",
    ),
    ({"access_point": [("Team_A", AP)]}, r"invalid name='Team_A'"),
    ({"access_point": [("team-a", AP), ("team-a", AP)]}, r"name='team-a': access point names must be unique"),
    (
        {"transition_to_archive": efs.LifecyclePolicy.AFTER_14_DAYS},
        r"transition_to_archive='AFTER_14_DAYS': must be later than transition_to_ia \(AFTER_30_DAYS\)",
    ),
    (
        {
            "transition_to_archive": efs.LifecyclePolicy.AFTER_90_DAYS,
            "throughput_mode": efs.ThroughputMode.BURSTING,
        },
        r"Archive needs Elastic throughput and General Purpose performance",
    ),
    (
        {"throughput_mode": efs.ThroughputMode.PROVISIONED},
        r"provisioned_throughput_per_second=None: is required",
    ),
    (
        {"provisioned_throughput_per_second": cdk.Size.mebibytes(100)},
        r"provisioned_throughput_per_second=100: applies only",
    ),
    (
        {"performance_mode": efs.PerformanceMode.MAX_IO},
        r"performance_mode='maxIO': Elastic throughput needs General Purpose",
    ),
    (
        {"replication_region": "us-east-1"},
        r"replication_region='us-east-1': must differ from the stack's region",
    ),
    ({"replication_region": "mars"}, r"replication_region='mars': must be a region name"),
    ({"replication_region": "us-west-2\n"}, r"replication_region='us-west-2\\n': must be a region name"),
    ({"file_system_name": "n" * 257}, r"file_system_name='n+': must be 1-256 characters"),
    (
        {
            "throughput_mode": efs.ThroughputMode.PROVISIONED,
            "performance_mode": efs.PerformanceMode.GENERAL_PURPOSE,
            "provisioned_throughput_per_second": cdk.Size.mebibytes(4000),
        },
        r"provisioned_throughput_per_second='4000 MiB/s': must be 1-3414 MiB/s",
    ),
    ({"access_point": [("team-a\n", AP)]}, r"invalid name='team-a\\n'"),
]


@pytest.mark.parametrize(("overrides", "match"), BAD_INPUTS)
def test_rejects_bad_input(overrides, match):
    with pytest.raises((EksAiDataValidationError,), match=match):
        _build(**overrides)


def test_grant_access_point_requires_a_known_name():
    shared = _build(access_point=[("team-a", AP)])
    role = iam.Role(cdk.Stack.of(shared), "R", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    with pytest.raises(
        EksAiDataValidationError, match=r"name='team-b': no such access point \(have: team-a\)"
    ):
        shared.grant_access_point(role, "team-b")


def test_access_point_limit(monkeypatch):
    import eks_ai_data.efs_access as module  # where add_access_point reads it

    monkeypatch.setattr(module, "MAX_ACCESS_POINTS", 2)
    with pytest.raises(
        EksAiDataValidationError, match=r"name='c': a file system has at most 2 access points"
    ):
        _build(access_point=[(n, {**AP, "path": f"/{n}"}) for n in ("a", "b", "c")])


def test_one_mount_target_per_az():
    stack = cdk.Stack(env=ENV)
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0a1b2c3d4e5f60718",
        availability_zones=["us-east-1a"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1"],
    )
    same_az = [
        ec2.Subnet.from_subnet_attributes(
            stack, f"S{i}", subnet_id=f"subnet-0{i}", availability_zone="us-east-1a"
        )
        for i in (1, 2)
    ]
    with pytest.raises(
        EksAiDataValidationError, match=r"vpc_subnets=\['us-east-1a', 'us-east-1a'\]: one mount target per AZ"
    ):
        SharedEfs(
            stack,
            "Shared",
            vpc=vpc,
            node_security_groups=[],
            kms_key=kms.Key.from_key_arn(stack, "K", KEY_ARN),
            vpc_subnets=ec2.SubnetSelection(subnets=same_az),
        )
