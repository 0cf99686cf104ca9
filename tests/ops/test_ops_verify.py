"""`eks-ai-data verify` against a platform built in moto (plus the documented gap fillers)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto import mock_aws
from ops_fakes import ApiError, FakeAws, fake_credentials, isolate_aws_environment, stack_handlers

from eks_ai_data.cli import main

STACK = "AiDataPlatform"
CLUSTER = "ai-platform"


class Platform:
    """A deployed platform: resources made through moto's APIs, described by a stack template."""

    def __init__(self, fake: FakeAws) -> None:
        self.fake = fake
        ec2 = fake.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.subnets = {
            zone: ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
            for zone, cidr in (("us-east-1a", "10.0.1.0/24"), ("us-east-1b", "10.0.2.0/24"))
        }
        subnet_ids = list(self.subnets.values())

        eks = fake.client("eks")
        eks.create_cluster(
            name=CLUSTER,
            version="1.33",
            roleArn="arn:aws:iam::123456789012:role/cluster",
            resourcesVpcConfig={"subnetIds": subnet_ids},
        )
        eks.create_nodegroup(
            clusterName=CLUSTER,
            nodegroupName="gpu",
            subnets=subnet_ids,
            nodeRole="arn:aws:iam::123456789012:role/node",
            instanceTypes=["p5.48xlarge"],
            scalingConfig={"minSize": 0, "maxSize": 4, "desiredSize": 2},
        )

        self.lustre = fake.client("fsx").create_file_system(
            FileSystemType="LUSTRE",
            StorageCapacity=1200,
            SubnetIds=[self.subnets["us-east-1a"]],
            LustreConfiguration={"DeploymentType": "PERSISTENT_2", "PerUnitStorageThroughput": 250},
        )["FileSystem"]["FileSystemId"]
        self.lustre_lifecycle = "AVAILABLE"
        self.association = {
            "AssociationId": "dra-0123456789abcdef0",
            "FileSystemId": self.lustre,
            "Lifecycle": "AVAILABLE",
            "FileSystemPath": "/datasets",
            "DataRepositoryPath": "s3://ai-datasets-123456789012/train",
        }

        efs = fake.client("efs")
        self.efs = efs.create_file_system(CreationToken="models", Encrypted=True)["FileSystemId"]
        self.mount_targets = {
            zone: efs.create_mount_target(FileSystemId=self.efs, SubnetId=subnet)["MountTargetId"]
            for zone, subnet in self.subnets.items()
        }

        kms = fake.client("kms")
        self.key = kms.create_key(Description="platform data")["KeyMetadata"]["KeyId"]
        kms.enable_key_rotation(KeyId=self.key)

        self.plan = fake.client("backup").create_backup_plan(
            BackupPlan={
                "BackupPlanName": "platform-daily",
                "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "platform-vault"}],
            }
        )["BackupPlanId"]
        self.selections = [
            {
                "SelectionId": "8b0e5c3a-5d7f-4a35-9a3e-5c1f1e3f2a10",
                "SelectionName": "platform-storage",
                "BackupPlanId": self.plan,
                "IamRoleArn": "arn:aws:iam::123456789012:role/backup",
            }
        ]
        self.addons = {"vpc-cni": "ACTIVE", "aws-efs-csi-driver": "ACTIVE"}
        self.stack_status = "CREATE_COMPLETE"
        self._answer()

    def template(self) -> dict[str, Any]:
        return {
            "Resources": {
                "Cluster": {"Type": "AWS::EKS::Cluster", "Properties": {"Name": CLUSTER}},
                "GpuNodes": {
                    "Type": "AWS::EKS::Nodegroup",
                    "Properties": {"ClusterName": {"Ref": "Cluster"}},
                },
                "VpcCni": {"Type": "AWS::EKS::Addon", "Properties": {"AddonName": "vpc-cni"}},
                "EfsCsi": {"Type": "AWS::EKS::Addon", "Properties": {"AddonName": "aws-efs-csi-driver"}},
                "Lustre": {"Type": "AWS::FSx::FileSystem", "Properties": {"FileSystemType": "LUSTRE"}},
                "Datasets": {
                    "Type": "AWS::FSx::DataRepositoryAssociation",
                    "Properties": {
                        "FileSystemId": {"Ref": "Lustre"},
                        "FileSystemPath": "/datasets",
                        "DataRepositoryPath": {"Fn::Join": ["", ["s3://", {"Ref": "Bucket"}, "/train"]]},
                    },
                },
                "Models": {"Type": "AWS::EFS::FileSystem", "Properties": {"Encrypted": True}},
                "ModelsMountA": {
                    "Type": "AWS::EFS::MountTarget",
                    "Properties": {"FileSystemId": {"Ref": "Models"}},
                },
                "ModelsMountB": {
                    "Type": "AWS::EFS::MountTarget",
                    "Properties": {"FileSystemId": {"Ref": "Models"}},
                },
                "DataKey": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
                "Plan": {"Type": "AWS::Backup::BackupPlan", "Properties": {}},
                "PlanSelection": {
                    "Type": "AWS::Backup::BackupSelection",
                    "Properties": {
                        "BackupPlanId": {"Fn::GetAtt": ["Plan", "BackupPlanId"]},
                        "BackupSelection": {"SelectionName": "platform-storage", "IamRoleArn": "x"},
                    },
                },
            },
            "Outputs": {"ClusterName": {"Value": {"Ref": "Cluster"}}},
        }

    def physical_ids(self) -> dict[str, str]:
        return {
            "Cluster": CLUSTER,
            "GpuNodes": f"{CLUSTER}/gpu",
            "VpcCni": f"{CLUSTER}|vpc-cni",
            "EfsCsi": f"{CLUSTER}|aws-efs-csi-driver",
            "Lustre": self.lustre,
            "Datasets": self.association["AssociationId"],
            "Models": self.efs,
            "ModelsMountA": self.mount_targets["us-east-1a"],
            "ModelsMountB": self.mount_targets["us-east-1b"],
            "DataKey": self.key,
            "Plan": self.plan,
            "PlanSelection": f"{self.plan}_{self.selections[0]['SelectionId']}",
        }

    def _answer(self) -> None:
        responder = self.fake.responder
        stack_handlers(
            responder,
            name=STACK,
            template=self.template(),
            physical_ids=self.physical_ids(),
            outputs={"ClusterName": CLUSTER},
            status="CREATE_COMPLETE",
        )

        def list_addons(params: dict[str, Any]) -> dict[str, Any]:
            assert params["clusterName"] == CLUSTER
            return {"addons": sorted(self.addons)}

        def describe_addon(params: dict[str, Any]) -> dict[str, Any]:
            name = params["addonName"]
            if name not in self.addons:
                raise ApiError(
                    "ResourceNotFoundException", f"No addon: {name} found in cluster: {CLUSTER}", 404
                )
            addon = {
                "addonName": name,
                "clusterName": CLUSTER,
                "status": self.addons[name],
                "addonVersion": "v1.0.0-eksbuild.1",
            }
            if self.addons[name] == "DEGRADED":
                addon["health"] = {
                    "issues": [{"code": "InsufficientNumberOfReplicas", "message": "0 of 2 ready"}]
                }
            return {"addon": addon}

        def describe_associations(params: dict[str, Any]) -> dict[str, Any]:
            wanted = params.get("AssociationIds", [])
            if self.association["AssociationId"] not in wanted:
                raise ApiError("DataRepositoryAssociationNotFound", "No data repository association found")
            return {"Associations": [dict(self.association)]}

        def set_lifecycle(parsed: dict[str, Any]) -> None:
            for fs in parsed.get("FileSystems", []):
                fs["Lifecycle"] = self.lustre_lifecycle

        responder.answer("eks", "ListAddons", list_addons)
        responder.answer("eks", "DescribeAddon", describe_addon)
        responder.answer("fsx", "DescribeDataRepositoryAssociations", describe_associations)
        responder.answer(
            "backup", "ListBackupSelections", lambda _p: {"BackupSelectionsList": list(self.selections)}
        )
        responder.amend("fsx", "DescribeFileSystems", set_lifecycle)


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    isolate_aws_environment(monkeypatch, tmp_path)
    fake_credentials(monkeypatch)
    with mock_aws():
        yield Platform(FakeAws())


def verify(platform: Platform, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(
        ["verify", "--stack", STACK, "--region", "us-east-1", *args], session_factory=platform.fake.factory
    )
    out, err = capsys.readouterr()
    return code, out, err


def report(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[tuple[str, str], tuple[str, str]], str]:
    code, out, err = verify(platform, capsys, "--json")
    document = json.loads(out)
    return code, {(c["check"], c["subject"]): (c["status"], c["detail"]) for c in document["checks"]}, err


def test_ready_platform_passes(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, err = report(platform, capsys)
    assert code == 0, err
    assert err == ""
    assert rows[("stack", STACK)] == ("ok", "CREATE_COMPLETE, 12 resources")
    assert rows[("eks-cluster", CLUSTER)][0] == "ok"
    assert rows[("eks-cluster", CLUSTER)][1].startswith("ACTIVE, Kubernetes 1.33")
    assert rows[("eks-nodegroup", f"{CLUSTER}/gpu")] == ("ok", "ACTIVE, p5.48xlarge, desired 2")
    assert rows[("eks-addon", f"{CLUSTER}|vpc-cni")] == ("ok", "ACTIVE, v1.0.0-eksbuild.1")
    assert rows[("fsx-filesystem", platform.lustre)] == ("ok", "AVAILABLE, LUSTRE PERSISTENT_2, 1200 GiB")
    assert rows[("fsx-association", "dra-0123456789abcdef0")] == (
        "ok",
        f"AVAILABLE, {platform.lustre}:/datasets <-> s3://ai-datasets-123456789012/train",
    )
    assert rows[("efs-mount-targets", platform.efs)] == ("ok", "available in us-east-1a, us-east-1b")
    assert rows[("kms-key", platform.key)] == ("ok", "Enabled, rotation on")
    assert rows[("backup-plan", platform.plan)] == ("ok", "plan platform-daily, 1 rule(s), 1 selection(s)")
    assert rows[("backup-selection", "platform-storage")] == ("ok", "in plan platform-daily")


def test_table_and_outputs(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(platform, capsys)
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split() == ["CHECK", "SUBJECT", "STATUS", "DETAIL"]
    assert any(line.split()[:3] == ["kms-key", platform.key, "OK"] for line in lines)
    assert f"  ClusterName = {CLUSTER}" in out


def test_json_has_outputs(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = verify(platform, capsys, "--json")
    document = json.loads(out)
    assert document["outputs"] == {"ClusterName": CLUSTER}
    assert document["ok"] is True


def test_lustre_not_available_fails(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    platform.lustre_lifecycle = "CREATING"
    code, _, err = verify(platform, capsys)
    assert code == 1
    assert f"fsx-filesystem {platform.lustre}: CREATING, LUSTRE PERSISTENT_2, 1200 GiB" in err


def test_association_on_wrong_path_or_not_available_fails(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    platform.association.update(FileSystemPath="/data", Lifecycle="MISCONFIGURED")
    code, _, err = verify(platform, capsys)
    assert code == 1
    assert "lifecycle is MISCONFIGURED; file system path is '/data', the stack expects '/datasets'" in err


def test_association_path_ignores_a_trailing_slash(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    platform.association["FileSystemPath"] = "/datasets/"
    code, rows, err = report(platform, capsys)
    assert code == 0, err
    assert rows[("fsx-association", "dra-0123456789abcdef0")][0] == "ok"


def test_missing_mount_target_in_a_node_zone_fails(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    platform.fake.client("efs").delete_mount_target(MountTargetId=platform.mount_targets["us-east-1b"])
    code, _, err = verify(platform, capsys)
    assert code == 1
    assert (
        f"efs-mount-targets {platform.efs}: no available mount target in us-east-1b, where nodes run" in err
    )


def test_key_rotation_off_fails(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    platform.fake.client("kms").disable_key_rotation(KeyId=platform.key)
    code, _, err = verify(platform, capsys)
    assert code == 1
    assert f"kms-key {platform.key}: Enabled, rotation off: automatic key rotation is off" in err


def test_disabled_key_fails(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    platform.fake.client("kms").disable_key(KeyId=platform.key)
    code, _, err = verify(platform, capsys)
    assert code == 1
    assert "key state is Disabled" in err


def test_degraded_or_missing_addon_fails(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    platform.addons["vpc-cni"] = "DEGRADED"
    del platform.addons["aws-efs-csi-driver"]
    code, _, err = verify(platform, capsys)
    assert code == 1
    assert (
        f"eks-addon {CLUSTER}|vpc-cni: DEGRADED, v1.0.0-eksbuild.1; InsufficientNumberOfReplicas: 0 of 2 ready"
        in err
    )
    assert f"eks-addon {CLUSTER}|aws-efs-csi-driver: in the stack but not installed on the cluster" in err


def test_missing_nodegroup_fails(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    platform.fake.client("eks").delete_nodegroup(clusterName=CLUSTER, nodegroupName="gpu")
    code, _, err = verify(platform, capsys)
    assert code == 1
    assert f"eks-nodegroup {CLUSTER}/gpu: node group not found" in err


def test_backup_plan_without_selections_fails(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    platform.selections.clear()
    code, _, err = verify(platform, capsys)
    assert code == 1
    assert "plan platform-daily has no selections: it backs nothing up" in err
    assert "backup-selection platform-storage: not attached to plan platform-daily" in err


def test_stack_in_progress_with_a_failed_resource_fails(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_handlers(
        platform.fake.responder,
        name=STACK,
        template=platform.template(),
        physical_ids=platform.physical_ids(),
        status="UPDATE_ROLLBACK_IN_PROGRESS",
        resource_status={"GpuNodes": "UPDATE_FAILED"},
    )
    code, _, err = verify(platform, capsys)
    assert code == 1
    assert f"stack {STACK}: stack is UPDATE_ROLLBACK_IN_PROGRESS" in err
    assert "resource GpuNodes: AWS::EKS::Nodegroup is UPDATE_FAILED" in err


def test_unknown_stack_is_an_error(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["verify", "--stack", "NoSuchStack", "--region", "us-east-1"], session_factory=platform.fake.factory
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == (
        "eks-ai-data: error: stack 'NoSuchStack' does not exist in us-east-1 (check --stack and --region)\n"
    )
