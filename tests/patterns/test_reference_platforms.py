"""The reference platforms end to end: data locality, claims, identities, and every in-cluster object the
cluster applies (validated against the cluster's Kubernetes version)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eks_ai_data.versions import DEFAULT_KUBERNETES_VERSION
from stacks import INFERENCE_DATA_STACK, INFERENCE_STACK, TRAINING_DATA_STACK, TRAINING_STACK
from tests.k8s.k8s_support import validate

# the cluster stacks (objects applied in-cluster, identities, node groups) and the data stacks (file systems,
# buckets, keys, backups); cross-stack references are read through reference.unimport
TRAINING, INFERENCE = TRAINING_STACK, INFERENCE_STACK
TRAINING_DATA, INFERENCE_DATA = TRAINING_DATA_STACK, INFERENCE_DATA_STACK
MANIFEST_TYPE = "Custom::AWSCDK-EKS-KubernetesResource"


def _placeholder(value: Any) -> str:
    """A stand-in for an intrinsic function inside a manifest: names the resource it points at."""
    if "Ref" in value:
        return f"<Ref:{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<GetAtt:{'.'.join(value['Fn::GetAtt'])}>"
    return "<intrinsic>"


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(p if isinstance(p, str) else _placeholder(p) for p in parts)
    raise AssertionError(f"unexpected manifest value {value!r}")


def manifests(reference, stack: str) -> dict[str, list[dict[str, Any]]]:
    """Each applied chart's Kubernetes objects by logical id, with CloudFormation references as placeholders."""
    return {
        logical_id: json.loads(_render(reference.unimport(resource["Properties"]["Manifest"])))
        for logical_id, resource in reference.resources(stack, MANIFEST_TYPE).items()
    }


def objects(reference, stack: str, kind: str) -> dict[str, dict[str, Any]]:
    found = {}
    for objs in manifests(reference, stack).values():
        for obj in objs:
            if obj["kind"] == kind:
                found[f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"] = obj
    return found


def _logical_prefix(reference, stack: str, type_: str, prefix: str) -> str:
    (logical_id,) = [k for k in reference.resources(stack, type_) if k.startswith(prefix)]
    return logical_id


@pytest.mark.parametrize("stack", [TRAINING, INFERENCE])
def test_every_applied_object_is_valid_for_the_cluster_version(reference, stack):
    assert DEFAULT_KUBERNETES_VERSION == "1.36"
    checked = 0
    for logical_id, objs in manifests(reference, stack).items():
        for obj in objs:
            try:
                validate(obj)
            except Exception as error:  # report which object, then fail
                pytest.fail(f"{stack}/{logical_id} {obj['kind']} {obj['metadata'].get('name')}: {error}")
            checked += 1
    assert checked >= 5


def test_training_cluster_gets_drivers_classes_volumes_nvme_and_gpu_software(reference):
    addons = {a["Properties"]["AddonName"] for a in reference.resources(TRAINING, "AWS::EKS::Addon").values()}
    assert {"aws-ebs-csi-driver", "aws-efs-csi-driver", "aws-fsx-csi-driver", "snapshot-controller"} <= addons
    classes = objects(reference, TRAINING, "StorageClass")
    assert set(classes) == {"/gp3", "/efs-ap", "/local-nvme"}
    assert objects(reference, TRAINING, "VolumeSnapshotClass")
    assert "kube-system/local-volume-provisioner" in objects(reference, TRAINING, "DaemonSet")
    assert "kube-system/nvidia-device-plugin" in objects(reference, TRAINING, "DaemonSet")


def test_gp3_class_encrypts_with_the_data_key(reference):
    gp3 = objects(reference, TRAINING, "StorageClass")["/gp3"]
    data_key = _logical_prefix(reference, TRAINING_DATA, "AWS::KMS::Key", "KeysDataKey")
    assert gp3["parameters"]["kmsKeyId"] == f"<GetAtt:{data_key}.Arn>"
    assert gp3["parameters"]["encrypted"] == "true"
    assert gp3["volumeBindingMode"] == "WaitForFirstConsumer"
    efs_ap = objects(reference, TRAINING, "StorageClass")["/efs-ap"]
    efs = _logical_prefix(reference, TRAINING_DATA, "AWS::EFS::FileSystem", "SharedEfs")
    assert efs_ap["parameters"]["fileSystemId"] == f"<Ref:{efs}>"


def test_data_locality_file_system_and_gpu_nodes_share_one_subnet(reference):
    data = reference.template(TRAINING_DATA)["Resources"]
    lustre = data[_logical_prefix(reference, TRAINING_DATA, "AWS::FSx::FileSystem", "DatasetLustre")][
        "Properties"
    ]
    cluster = reference.template(TRAINING)["Resources"]
    gpu = cluster[_logical_prefix(reference, TRAINING, "AWS::EKS::Nodegroup", "DatasetGpuNodes")][
        "Properties"
    ]
    assert len(lustre["SubnetIds"]) == 1
    assert reference.unimport(gpu["Subnets"]) == lustre["SubnetIds"]


def test_dataset_claim_is_bound_to_the_lustre_file_system(reference):
    lustre = _logical_prefix(reference, TRAINING_DATA, "AWS::FSx::FileSystem", "DatasetLustre")
    pv = objects(reference, TRAINING, "PersistentVolume")["/training-datasets"]
    csi = pv["spec"]["csi"]
    assert csi["driver"] == "fsx.csi.aws.com"
    assert csi["volumeHandle"] == f"<Ref:{lustre}>"
    assert csi["volumeAttributes"]["dnsname"].startswith(f"<Ref:{lustre}>.fsx.")
    assert csi["volumeAttributes"]["mountname"] == f"<GetAtt:{lustre}.LustreMountName>"
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert "flock" in pv["spec"]["mountOptions"]
    claim = objects(reference, TRAINING, "PersistentVolumeClaim")["training/datasets"]
    assert claim["spec"]["volumeName"] == "training-datasets"
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]


def test_lustre_links_dataset_with_auto_import_and_checkpoints_with_auto_export(reference):
    links = {
        r["Properties"]["FileSystemPath"]: r["Properties"]
        for r in reference.resources(TRAINING_DATA, "AWS::FSx::DataRepositoryAssociation").values()
    }
    assert set(links) == {"/datasets", "/checkpoints"}
    imports = links["/datasets"]["S3"]["AutoImportPolicy"]["Events"]
    assert sorted(imports) == ["CHANGED", "DELETED", "NEW"]
    assert "AutoExportPolicy" not in links["/datasets"]["S3"]
    # a checkpoint removed on Lustre stays in S3 (expired by the lifecycle rule instead)
    assert sorted(links["/checkpoints"]["S3"]["AutoExportPolicy"]["Events"]) == ["CHANGED", "NEW"]
    checkpoints = _logical_prefix(reference, TRAINING_DATA, "AWS::S3::Bucket", "CheckpointsBucketC")
    assert checkpoints in json.dumps(links["/checkpoints"]["DataRepositoryPath"])


def test_team_access_points_have_claims_mounted_with_tls(reference):
    volumes = objects(reference, TRAINING, "PersistentVolume")
    for team in ("research", "platform"):
        pv = volumes[f"/team-{team}-shared"]
        assert pv["spec"]["csi"]["driver"] == "efs.csi.aws.com"
        assert pv["spec"]["csi"]["volumeHandle"].count("::") == 1
        assert pv["spec"]["csi"]["volumeAttributes"]["encryptInTransit"] == "true"  # the driver adds tls
        assert "iam" in pv["spec"]["mountOptions"]
        assert f"team-{team}/shared" in objects(reference, TRAINING, "PersistentVolumeClaim")


def _role(reference, stack: str, prefix: str) -> tuple[str, dict, list[dict]]:
    role_id = _logical_prefix(reference, stack, "AWS::IAM::Role", prefix)
    resources = reference.template(stack)["Resources"]
    statements = [
        s
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]
        for s in reference.unimport(r["Properties"]["PolicyDocument"])["Statement"]
    ]
    return role_id, resources[role_id]["Properties"]["AssumeRolePolicyDocument"], statements


def _sub(trust: dict) -> Any:
    (statement,) = trust["Statement"]
    assert set(statement["Condition"]) == {"StringEquals"}
    return statement["Condition"]["StringEquals"]


def test_trainer_identity_reads_datasets_and_writes_checkpoints_only(reference):
    role_id, trust, statements = _role(reference, TRAINING, "TrainerRole")
    conditions = _sub(trust)  # a CfnJson value: its keys are qualified by the OIDC issuer
    cfn_json = reference.template(TRAINING)["Resources"][conditions["Fn::GetAtt"][0]]
    rendered = _render(cfn_json["Properties"]["Value"])
    assert ':sub":"system:serviceaccount:training:trainer"' in rendered
    assert ':aud":"sts.amazonaws.com"' in rendered
    actions = {
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "s3:GetObject" in actions and "s3:PutObject" in actions
    assert "s3:DeleteObject" not in actions
    dataset = _logical_prefix(reference, TRAINING_DATA, "AWS::S3::Bucket", "DatasetBucket1")
    checkpoints = _logical_prefix(reference, TRAINING_DATA, "AWS::S3::Bucket", "CheckpointsBucketC")
    for statement in statements:
        assert statement["Resource"] != "*", statement
        text = json.dumps(statement["Resource"])
        if "s3:PutObject" in json.dumps(statement["Action"]):
            assert checkpoints in text and "/checkpoints/*" in text and dataset not in text
    serviceaccount = objects(reference, TRAINING, "ServiceAccount")["training/trainer"]
    assert (
        serviceaccount["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == f"<GetAtt:{role_id}.Arn>"
    )


def test_model_repository_reader_is_read_only_on_the_bucket_and_claim_is_rwx(reference):
    _, _, statements = _role(reference, INFERENCE, "ModelsReaderRole")
    actions = {
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "s3:GetObject" in actions
    assert not {"s3:PutObject", "s3:DeleteObject"} & actions
    assert all(s["Resource"] != "*" for s in statements)
    claim = objects(reference, INFERENCE, "PersistentVolumeClaim")["inference/models"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    pv = objects(reference, INFERENCE, "PersistentVolume")["/inference-models"]
    efs = _logical_prefix(reference, INFERENCE_DATA, "AWS::EFS::FileSystem", "ModelsCache")
    assert pv["spec"]["csi"]["volumeHandle"].startswith(f"<Ref:{efs}>::")


def test_backup_plans_cover_efs_ebs_and_the_buckets_lustre_is_linked_to(reference):
    selections = reference.resources(TRAINING_DATA, "AWS::Backup::BackupSelection")
    text = json.dumps(selections)
    assert _logical_prefix(reference, TRAINING_DATA, "AWS::EFS::FileSystem", "SharedEfs") in text
    # the linked Lustre file system is not backed up (FSx cannot): the buckets it imports from and exports to are
    lustre = _logical_prefix(reference, TRAINING_DATA, "AWS::FSx::FileSystem", "DatasetLustre")
    assert lustre not in text
    assert "eks-ai-data:backup" in text  # CSI-created EBS volumes, by tag
    assert _logical_prefix(reference, TRAINING_DATA, "AWS::S3::Bucket", "CheckpointsBucketC") in text
    assert _logical_prefix(reference, TRAINING_DATA, "AWS::S3::Bucket", "DatasetBucket1") in text
    inference = json.dumps(reference.resources(INFERENCE_DATA, "AWS::Backup::BackupSelection"))
    assert _logical_prefix(reference, INFERENCE_DATA, "AWS::EFS::FileSystem", "ModelsCache") in inference
