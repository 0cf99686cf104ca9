"""SharedEfs.from_existing (ImportedSharedEfs): an EFS file system created elsewhere serves ClusterStorage and
ModelRepository through the ISharedEfs interface; its ``requires_iam`` drives the IAM-mount check; nothing of the file
system itself is created. Public API only; the app is synthesized once (module fixture)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs

from eks_ai_data import (
    ClusterStorage,
    EfsVolumeSpec,
    EksAiDataValidationError,
    ImportedSharedEfs,
    ISharedEfs,
    ModelRepository,
    SharedEfs,
)
from tests._existing import ENV, FS_SG, NODE_SG, OTHER_SG, ZONES, existing_cluster
from tests._gates import cfn_lint_errors
from tests.conftest import Synthesized, synthesize
from tests.k8s.k8s_support import validate
from tests.platform.k8s_model import ClusterModel

FS_ID = "fs-0123456789abcdef0"
OPEN_ID = "fs-0aaaabbbbccccdddd"


def _file_system(stack: cdk.Stack, id: str = "Fs", fs_id: str = FS_ID) -> efs.IFileSystem:
    return efs.FileSystem.from_file_system_attributes(
        stack,
        id,
        file_system_id=fs_id,
        security_group=ec2.SecurityGroup.from_security_group_id(stack, f"{id}Sg", FS_SG),
    )


def _imported(stack: cdk.Stack, id: str = "Efs", **props: Any) -> ImportedSharedEfs:
    fs = props.pop("file_system", None) or _file_system(stack, f"{id}Fs", props.pop("fs_id", FS_ID))
    return SharedEfs.from_existing(stack, id, file_system=fs, **{"requires_iam": True, **props})


def _build(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Inference", env=ENV)
    cluster = existing_cluster(stack)
    shared = _imported(stack)
    storage = ClusterStorage(
        stack, "InCluster", cluster=cluster, namespaces=["inference"], shared_efs=[shared]
    )
    ModelRepository(stack, "Models", cluster=cluster, storage=storage, namespace="inference", efs=shared)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(_build, tmp_path_factory.mktemp("efs-import"))


def _of(synth: Synthesized, type_: str) -> dict[str, dict[str, Any]]:
    return synth.resources("Inference", type_)


def test_gates(synth):
    assert synth.nag_findings == []
    assert cfn_lint_errors(synth.template("Inference")) == []


def test_no_file_system_or_mount_target_is_created_only_the_access_point(synth):
    assert _of(synth, "AWS::EFS::FileSystem") == {} and _of(synth, "AWS::EFS::MountTarget") == {}
    assert _of(synth, "AWS::EC2::SecurityGroup") == {}
    ((point_id, point),) = _of(synth, "AWS::EFS::AccessPoint").items()
    assert point["Properties"]["FileSystemId"] == FS_ID
    assert point["Properties"]["RootDirectory"]["Path"] == "/inference/models"
    assert (
        "DeletionPolicy" not in point or point["DeletionPolicy"] == "Delete"
    )  # an access point holds no data
    assert point_id.startswith("Efs")  # under the imported file system's construct


def test_the_volume_mounts_the_access_point_with_iam_and_the_driver_may_mount(synth):
    model = ClusterModel(synth.templates, "Inference", subnet_zones=ZONES, region="us-east-1")
    for obj in model.objects:
        validate(obj)
    (claim,) = [c for c in model.claims("inference") if c["metadata"]["name"] == "models"]
    volume = model.volume_of(claim)
    assert volume is not None
    handle = volume["spec"]["csi"]["volumeHandle"]
    assert handle.startswith(f"{FS_ID}::fsap-")  # the imported file system, through the new access point
    assert volume["spec"]["csi"]["volumeAttributes"] == {"encryptInTransit": "true"}
    assert "iam" in volume["spec"]["mountOptions"]
    statements = [
        s
        for p in _of(synth, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    granted = [s for s in statements if f"file-system/{FS_ID}" in str(s.get("Resource"))]
    actions = {a for s in granted for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"} <= actions


def test_nfs_is_admitted_from_the_nodes_in_the_consuming_scope(synth):
    rules = {k: r["Properties"] for k, r in _of(synth, "AWS::EC2::SecurityGroupIngress").items()}
    nfs = {k: r for k, r in rules.items() if r["FromPort"] == 2049}
    assert len(nfs) == 1
    ((rule_id, rule),) = nfs.items()
    assert rule["GroupId"] == FS_SG and rule["SourceSecurityGroupId"] == NODE_SG and rule["ToPort"] == 2049
    assert rule_id.startswith("Models")


def test_requires_iam_decides_whether_a_mount_without_iam_is_refused():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    cluster = existing_cluster(stack)
    strict = _imported(stack, "Strict")
    open_ = _imported(stack, "Open", fs_id=OPEN_ID, requires_iam=False)
    assert isinstance(strict, ISharedEfs) and strict.created is False
    storage = ClusterStorage(
        stack, "InCluster", cluster=cluster, namespaces=["inference"], shared_efs=[strict, open_]
    )
    point = "fsap-0123456789abcdef0"
    storage.add_static_volumes(
        "Volumes",
        efs_volumes=[
            EfsVolumeSpec(
                name="a", file_system_id=FS_ID, access_point_id=point, namespace="inference", iam=False
            ),
            EfsVolumeSpec(
                name="b", file_system_id=OPEN_ID, access_point_id=point, namespace="inference", iam=False
            ),
        ],
    )
    (problem,) = storage.efs_mount_problems()
    assert "efs_volumes.iam" in problem and "S/Strict" in problem
    assert (
        "refuses anonymous clients (requires_iam=True): only IAM-authorized mounts (tls,iam) succeed"
        in problem
    )


def test_existing_access_points_are_offered_by_name():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    fs = _file_system(stack)
    point = efs.AccessPoint.from_access_point_attributes(
        stack, "Ap", access_point_id="fsap-0123456789abcdef0", file_system=fs
    )
    imported = _imported(stack, file_system=fs, access_points={"models": point})
    assert imported.access_points == {"models": point}


@pytest.mark.parametrize(
    ("props", "match"),
    [
        ({"fs_id": "fs-123"}, r"S/Efs.*file_system.*fs-123.*8 to 40 hexadecimal digits"),
        ({"requires_iam": "yes"}, r"S/Efs.*requires_iam.*yes.*must be True"),
        ({"access_points": {"Models": None}}, r"S/Efs.*access_points.*Models"),
    ],
)
def test_a_bad_description_is_refused(props, match):
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    if props.get("access_points"):
        fs = _file_system(stack)
        props = {
            "file_system": fs,
            "access_points": {
                "Models": efs.AccessPoint.from_access_point_attributes(
                    stack, "Ap", access_point_id="fsap-0123456789abcdef0", file_system=fs
                )
            },
        }
    with pytest.raises(EksAiDataValidationError, match=match):
        _imported(stack, **props)


def test_a_bad_access_point_id_is_refused():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    fs = _file_system(stack)
    point = efs.AccessPoint.from_access_point_attributes(stack, "Ap", access_point_id="ap-1", file_system=fs)
    with pytest.raises(EksAiDataValidationError, match=r"S/Efs.*access_points.*ap-1.*fsap- and 8 to 40"):
        _imported(stack, file_system=fs, access_points={"models": point})


def test_a_file_system_with_two_security_groups_is_refused():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    fs = _file_system(stack)
    fs.connections.add_security_group(ec2.SecurityGroup.from_security_group_id(stack, "Other", OTHER_SG))
    with pytest.raises(
        EksAiDataValidationError, match=r"S/Efs.*exactly one security group in its connections"
    ):
        _imported(stack, file_system=fs)


def test_the_patterns_refuse_a_bare_efs_file_system_and_name_from_existing():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    cluster = existing_cluster(stack)
    with pytest.raises(EksAiDataValidationError, match=r"S/InCluster.*efs.*SharedEfs.from_existing"):
        ClusterStorage(stack, "InCluster", cluster=cluster, shared_efs=[_file_system(stack)])  # type: ignore[list-item]
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    cluster = existing_cluster(stack)
    storage = ClusterStorage(stack, "Storage", cluster=cluster, namespaces=["inference"])
    with pytest.raises(EksAiDataValidationError, match=r"S/Models.*efs.*requires_iam"):
        ModelRepository(
            stack,
            "Models",
            cluster=cluster,
            storage=storage,
            namespace="inference",
            efs=_file_system(stack, "B"),
        )  # type: ignore[arg-type]


def test_file_systems_sharing_a_security_group_admit_a_client_with_one_rule():
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    nodes = ec2.SecurityGroup.from_security_group_id(stack, "Nodes", NODE_SG)
    first, second = _imported(stack, "A"), _imported(stack, "B", fs_id=OPEN_ID)  # both in FS_SG
    (rule,) = first.allow_clients(nodes)
    assert second.allow_clients(nodes) == [rule]  # EC2 refuses a duplicate rule (InvalidPermission.Duplicate)
    template = cdk.assertions.Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 1)
