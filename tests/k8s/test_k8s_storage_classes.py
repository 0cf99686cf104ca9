"""StorageClass parameters, snapshot class, and the rules on their inputs."""

from __future__ import annotations

import cdk8s
import pytest
from k8s_support import DEFERRED_KEY_ARN, EFS_MODELS, EFS_SHARED, KMS_ARN, objects_of, reference_app

from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.k8s import EfsClassSpec, LustreClassSpec, SnapshotClassesChart, StorageClassesChart
from eks_ai_data.labels import BACKUP_TAG_KEY, BACKUP_TAG_VALUE


@pytest.fixture(scope="module")
def classes():
    return objects_of(reference_app()["storage-classes"], "StorageClass")


def test_gp3_is_the_encrypted_expandable_default_tagged_for_backup(classes):
    gp3 = classes["gp3"]
    assert gp3["provisioner"] == "ebs.csi.aws.com"
    assert gp3["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert gp3["volumeBindingMode"] == "WaitForFirstConsumer"
    assert gp3["allowVolumeExpansion"] is True
    assert gp3["reclaimPolicy"] == "Retain"
    assert gp3["parameters"] == {
        "type": "gp3",
        "csi.storage.k8s.io/fstype": "ext4",
        "encrypted": "true",
        "kmsKeyId": DEFERRED_KEY_ARN,
        "iops": "6000",
        "throughput": "500",
        "tagSpecification_1": f"{BACKUP_TAG_KEY}={BACKUP_TAG_VALUE}",
        "tagSpecification_2": "team=ml-platform",
    }
    assert reference_app()["storage-classes"].default_class == "gp3"


def test_only_one_default_class(classes):
    defaults = [n for n, c in classes.items() if c["metadata"].get("annotations")]
    assert defaults == ["gp3"]


def test_efs_access_point_classes(classes):
    efs = classes["efs-ap"]
    assert efs["provisioner"] == "efs.csi.aws.com"
    assert efs["parameters"] == {
        "provisioningMode": "efs-ap",
        "fileSystemId": EFS_MODELS,
        "directoryPerms": "700",
        "basePath": "/dynamic_provisioning",
    }
    # IAM-authorized mounts: SharedEfs's file-system policy has no Allow, so a mount without iam is denied
    assert efs["mountOptions"] == ["iam"]  # the driver adds tls for access points itself
    shared = classes["efs-ap-shared"]["parameters"]
    assert shared["fileSystemId"] == EFS_SHARED
    assert (shared["gidRangeStart"], shared["gidRangeEnd"], shared["directoryPerms"]) == (
        "60000",
        "61000",
        "0750",
    )
    assert shared["basePath"] == "/shared"


def test_lustre_dynamic_class(classes):
    lustre = classes["fsx-lustre"]
    assert lustre["provisioner"] == "fsx.csi.aws.com"
    assert lustre["parameters"] == {
        "subnetId": "subnet-0a1b2c3d4e5f60718",
        "securityGroupIds": "sg-0a1b2c3d4e5f60718,sg-0a1b2c3d4e5f60719",
        "deploymentType": "PERSISTENT_2",
        "perUnitStorageThroughput": "250",
        "dataCompressionType": "LZ4",
        "fileSystemTypeVersion": "2.15",
        "kmsKeyId": KMS_ARN,
        # the driver adds these tags to CreateFileSystem; its role may create only with this cluster's value
        "extraTags": "eks-ai-data:csi-cluster=ml-training",
    }
    assert lustre["mountOptions"] == ["flock"]


def test_local_nvme_class(classes):
    local = classes["local-nvme"]
    assert local["provisioner"] == "kubernetes.io/no-provisioner"
    assert local["volumeBindingMode"] == "WaitForFirstConsumer"
    assert local["reclaimPolicy"] == "Delete"


def test_iops_per_gib_lets_the_driver_raise_small_volumes():
    chart = StorageClassesChart(cdk8s.App(), "c", kms_key_arn=KMS_ARN, gp3_iops_per_gib=50, local_nvme=False)
    params = objects_of(chart, "StorageClass")["gp3"]["parameters"]
    assert (params["iopsPerGB"], params["allowAutoIOPSPerGBIncrease"]) == ("50", "true")
    assert "iops" not in params
    assert list(objects_of(chart, "StorageClass")) == ["gp3"]


def test_snapshot_class():
    snap = objects_of(reference_app()["snapshot-classes"], "VolumeSnapshotClass")["ebs-snapshots"]
    assert snap["driver"] == "ebs.csi.aws.com"
    assert snap["deletionPolicy"] == "Retain"
    assert snap["metadata"]["annotations"] == {"snapshot.storage.kubernetes.io/is-default-class": "true"}
    assert snap["parameters"] == {"tagSpecification_1": "team=ml-platform"}


LUSTRE = {
    "subnet_id": "subnet-0a1b2c3d",
    "security_group_ids": ["sg-0a1b2c3d"],
    "kms_key_id": KMS_ARN,
    "cluster_name": "ml",
}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"gp3_name": "GP3"}, r"gp3_name='GP3': must be a DNS-1123 subdomain"),
        ({"kms_key_arn": ""}, r"kms_key_arn='': required"),
        ({"kms_key_arn": "alias/data"}, r"kms_key_arn='alias/data': must be the ARN of a KMS key"),
        ({"gp3_iops": 2000}, r"gp3_iops=2000: must be an integer between 3000 and 80000"),
        ({"gp3_iops": 80001}, r"gp3_iops=80001: must be an integer between 3000 and 80000"),
        ({"gp3_throughput": 100}, r"gp3_throughput=100: must be an integer between 125 and 2000"),
        ({"gp3_throughput": 2001, "gp3_iops": 80000}, r"gp3_throughput=2001: must be an integer between"),
        (
            {"gp3_throughput": 1000},
            r"gp3_throughput=1000: gp3 allows at most 0.25 MiB/s per IOPS: at most 750",
        ),
        ({"gp3_iops_per_gib": 501}, r"gp3_iops_per_gib=501: must be an integer between 1 and 500"),
        ({"gp3_iops": 4000, "gp3_iops_per_gib": 10}, r"give either gp3_iops or gp3_iops_per_gib"),
        ({"gp3_fs_type": "btrfs"}, r"gp3_fs_type='btrfs': must be one of 'ext4', 'xfs'"),
        ({"gp3_reclaim_policy": "Recycle"}, r"gp3_reclaim_policy='Recycle': must be one of"),
        ({"gp3_tags": {"a=b": "c"}}, r"tag keys must be 1-128 characters"),
        (
            {"gp3_tags": {"aws:x": "c"}},
            r"tag keys must be 1-128 characters, without '=' or the 'aws:' prefix",
        ),
        ({"gp3_tags": {"k": "v" * 257}}, r"tag values must be strings of at most 256 characters"),
        ({"gp3_tags": {BACKUP_TAG_KEY: "false"}}, r"the backup tag is set by the chart"),
        (
            {"efs_classes": [EfsClassSpec("fs-0a1b2c3d", name="Efs")]},
            r"efs_classes.name='Efs': must be a DNS-1123",
        ),
        ({"efs_classes": [EfsClassSpec("efs-1")]}, r"efs_classes.file_system_id='efs-1': must be fs-<hex>"),
        (
            {"efs_classes": [EfsClassSpec("fs-0a1b2c3d", directory_perms="rwx")]},
            r"directory_perms='rwx': must be 3 or 4 octal digits",
        ),
        (
            {"efs_classes": [EfsClassSpec("fs-0a1b2c3d", directory_perms="780")]},
            r"directory_perms='780': must be 3 or 4 octal digits",
        ),
        (
            {"efs_classes": [EfsClassSpec("fs-0a1b2c3d", gid_range_start=100)]},
            r"efs_classes.gid_range=\(100, None\): give both ends or neither",
        ),
        (
            {"efs_classes": [EfsClassSpec("fs-0a1b2c3d", gid_range_start=200, gid_range_end=100)]},
            r"gid_range_start must be below gid_range_end",
        ),
        (
            {"efs_classes": [EfsClassSpec("fs-0a1b2c3d", gid_range_start=0, gid_range_end=100)]},
            r"gid_range_start=0: must be an integer between 1 and",
        ),
        (
            {"efs_classes": [EfsClassSpec("fs-0a1b2c3d", base_path="shared")]},
            r"base_path='shared': must be an abs",
        ),
        (
            {"efs_classes": [EfsClassSpec("fs-0a1b2c3d", reclaim_policy="Keep")]},
            r"efs_classes.reclaim_policy='Keep': must be one of",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "subnet_id": "sub-1"})},
            r"subnet_id='sub-1': must be subnet-",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "security_group_ids": []})},
            r"at least one security group",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "security_group_ids": ["g-1"]})},
            r"'g-1': must be sg-<hex>",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "deployment_type": "PERSISTENT_3"})},
            r"deployment_type='PERSISTENT_3': must be one of 'PERSISTENT_2', 'PERSISTENT_1', 'SCRATCH_2', 'SCRATCH_1'",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "per_unit_storage_throughput": 200})},
            r"per_unit_storage_throughput=200: must be one of 125, 250, 500, 1000",
        ),
        (
            {
                "lustre_class": LustreClassSpec(
                    **{**LUSTRE, "deployment_type": "PERSISTENT_1", "per_unit_storage_throughput": 125}
                )
            },
            r"per_unit_storage_throughput=125: must be one of 50, 100, 200",
        ),
        (
            {
                "lustre_class": LustreClassSpec(
                    **{
                        **LUSTRE,
                        "kms_key_id": None,
                        "deployment_type": "SCRATCH_2",
                        "per_unit_storage_throughput": 50,
                    }
                )
            },
            r"per_unit_storage_throughput=50: only for PERSISTENT types",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "deployment_type": "SCRATCH_2"})},
            r"SCRATCH file systems take no KMS key",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "cluster_name": None})},
            r"lustre_class.cluster_name=None: is required: the FSx driver may create only file systems tagged",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "kms_key_id": None})},
            r"kms_key_id=None: required for PERSISTENT file systems",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "kms_key_id": "key-1"})},
            r"kms_key_id='key-1': must be a KMS key ARN",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "data_compression_type": "ZSTD"})},
            r"data_compression_type='ZSTD': must be one of 'NONE', 'LZ4'",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "file_system_type_version": "2.10"})},
            r"PERSISTENT_2 needs 2.12 or later",
        ),
        (
            {"lustre_class": LustreClassSpec(**{**LUSTRE, "file_system_type_version": "3.0"})},
            r"file_system_type_version='3.0': must be one of",
        ),
    ],
)
def test_invalid_storage_class_input(props, message):
    with pytest.raises(EksAiDataValidationError, match=r"^bad: invalid .*" + message):
        StorageClassesChart(cdk8s.App(), "bad", **{"kms_key_arn": KMS_ARN, **props})


def test_duplicate_storage_class_names():
    with pytest.raises(
        EksAiDataValidationError, match=r"bad: invalid StorageClass name='gp3': must be unique"
    ):
        StorageClassesChart(
            cdk8s.App(), "bad", kms_key_arn=KMS_ARN, efs_classes=[EfsClassSpec(EFS_MODELS, name="gp3")]
        )
    with pytest.raises(EksAiDataValidationError, match=r"StorageClass name='local-nvme': must be unique"):
        StorageClassesChart(
            cdk8s.App(), "bad", kms_key_arn=KMS_ARN, efs_classes=[EfsClassSpec(EFS_MODELS, name="local-nvme")]
        )


def test_two_default_storage_classes():
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid default=\['gp3', 'efs-ap'\]: at most one StorageClass may be the default",
    ):
        StorageClassesChart(
            cdk8s.App(), "bad", kms_key_arn=KMS_ARN, efs_classes=[EfsClassSpec(EFS_MODELS, default=True)]
        )
    # moving the default is fine
    chart = StorageClassesChart(
        cdk8s.App(),
        "ok",
        kms_key_arn=KMS_ARN,
        gp3_default=False,
        efs_classes=[EfsClassSpec(EFS_MODELS, default=True)],
    )
    assert chart.default_class == "efs-ap"
    assert "annotations" not in objects_of(chart, "StorageClass")["gp3"]["metadata"]


def test_tokens_are_not_validated():
    chart = StorageClassesChart(
        cdk8s.App(),
        "tokens",
        kms_key_arn=DEFERRED_KEY_ARN,
        gp3_iops="${Token[TOKEN.7]}",
        efs_classes=[EfsClassSpec("${Token[TOKEN.8]}")],
        lustre_class=LustreClassSpec(
            subnet_id="${Token[TOKEN.9]}",
            security_group_ids=["${Token[TOKEN.10]}"],
            kms_key_id=DEFERRED_KEY_ARN,
            cluster_name="${Token[TOKEN.11]}",
        ),
    )
    params = objects_of(chart, "StorageClass")
    assert params["efs-ap"]["parameters"]["fileSystemId"] == "${Token[TOKEN.8]}"
    assert params["fsx-lustre"]["parameters"]["subnetId"] == "${Token[TOKEN.9]}"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"name": "Snap"}, r"name='Snap': must be a DNS-1123 subdomain"),
        ({"deletion_policy": "Keep"}, r"deletion_policy='Keep': must be one of 'Retain', 'Delete'"),
        ({"tags": {BACKUP_TAG_KEY: "true"}}, r"the backup tag belongs on volumes, not snapshots"),
        ({"tags": {"": "x"}}, r"tag keys must be 1-128 characters"),
    ],
)
def test_invalid_snapshot_class_input(props, message):
    with pytest.raises(EksAiDataValidationError, match=r"^bad: invalid .*" + message):
        SnapshotClassesChart(cdk8s.App(), "bad", **props)
