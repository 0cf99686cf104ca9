"""StorageClasses: EBS gp3 (the default), EFS access points, FSx for Lustre (optional), local NVMe."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import cdk8s
from constructs import Construct

from .. import lustre_sizing as sizing
from ..labels import BACKUP_TAG_KEY, BACKUP_TAG_VALUE, CSI_OWNER_TAG_KEY, LOCAL_NVME_STORAGE_CLASS
from ._common import (
    FILE_SYSTEM_ID,
    KMS_KEY_ARN,
    MANAGED_BY,
    SECURITY_GROUP_ID,
    SUBNET_ID,
    api_object,
    fail,
    metadata,
    require,
    require_bool,
    require_int_range,
    require_mapping,
    require_one_of,
    require_pattern,
    require_subdomain,
    require_tags,
    require_unique,
    tag_specifications,
    unresolved,
)

EBS_CSI_DRIVER = "ebs.csi.aws.com"
EFS_CSI_DRIVER = "efs.csi.aws.com"
FSX_CSI_DRIVER = "fsx.csi.aws.com"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"

# gp3 limits (Amazon EBS volume types, checked 2026-11; the EBS CSI driver reports "maximum is 80000"):
# 3,000-80,000 IOPS, at most 500 IOPS per GiB; 125-2,000 MiB/s, at most 0.25 MiB/s per provisioned IOPS.
GP3_IOPS_MIN, GP3_IOPS_MAX = 3000, 80000
GP3_IOPS_PER_GIB_MAX = 500
GP3_THROUGHPUT_MIN, GP3_THROUGHPUT_MAX = 125, 2000
GP3_THROUGHPUT_PER_IOPS = 0.25

ReclaimPolicy = Literal["Retain", "Delete"]
RECLAIM_POLICIES = ("Retain", "Delete")

LUSTRE_VERSIONS = ("2.10", "2.12", "2.15")
LUSTRE_COMPRESSION = ("NONE", "LZ4")
_OCTAL_PERMS = re.compile(r"[0-7]{3,4}")


def efs_mount_options(iam: bool) -> list[str]:
    """EFS mount options: ``iam`` when mounts must be IAM-authorized.

    TLS is not listed: the EFS CSI node plugin adds ``tls`` itself whenever ``encryptInTransit`` is true (its
    default) and for every access-point mount, and warns about ``tls`` in ``mountOptions`` (aws-efs-csi-driver
    pkg/driver/node.go, NodePublishVolume). efs-utils refuses ``iam`` without ``tls``, which therefore always holds.
    """
    return ["iam"] if iam else []


@dataclass(frozen=True)
class EfsClassSpec:
    """A dynamic EFS StorageClass: each claim gets its own access point (``provisioningMode: efs-ap``).

    :param file_system_id: the EFS file system (``fs-...``, or a token).
    :param name: the StorageClass name. Default: ``"efs-ap"`` (give each file system its own name).
    :param directory_perms: octal permissions of each access point's root directory. Default: ``"700"``.
    :param gid_range_start: first POSIX uid/gid the driver assigns to access points. Default: the
        driver's (50000). Give both ends of the range or neither.
    :param gid_range_end: last POSIX uid/gid of the range. Default: the driver's (7000000).
    :param base_path: directory under which access points' directories are created. Default:
        ``"/dynamic_provisioning"``.
    :param reclaim_policy: what happens to the access point when its claim is deleted. Default:
        ``"Retain"`` (durable: the directory and its data stay).
    :param default: whether this is the cluster's default class. Default: False.
    :param iam: mount with ``iam`` (efs-utils authorizes each mount with the EFS CSI node plugin's role; the driver
        adds ``tls`` itself for access points, but never ``iam``). A file-system policy without an Allow statement
        (:class:`~eks_ai_data.efs.SharedEfs`) denies every mount that is not IAM-authorized. Default: True.
    """

    file_system_id: str
    name: str = "efs-ap"
    directory_perms: str = "700"
    gid_range_start: int | None = None
    gid_range_end: int | None = None
    base_path: str = "/dynamic_provisioning"
    reclaim_policy: ReclaimPolicy = "Retain"
    default: bool = False
    iam: bool = True


@dataclass(frozen=True)
class LustreClassSpec:
    """A dynamic FSx for Lustre StorageClass: each claim creates a file system.

    :param subnet_id: the subnet the file systems are created in.
    :param security_group_ids: security groups of the file systems (at least one).
    :param kms_key_id: KMS key ARN encrypting PERSISTENT file systems (required for them, refused
        for SCRATCH ones, which AWS encrypts with its own keys).
    :param name: the StorageClass name. Default: ``"fsx-lustre"``.
    :param deployment_type: ``SCRATCH_1``, ``SCRATCH_2``, ``PERSISTENT_1`` or ``PERSISTENT_2``.
        Default: ``"PERSISTENT_2"``.
    :param per_unit_storage_throughput: MB/s per TiB, PERSISTENT only (PERSISTENT_1: 50, 100, 200;
        PERSISTENT_2: 125, 250, 500, 1000). Default: 250 for PERSISTENT_2, 200 for PERSISTENT_1.
    :param data_compression_type: ``"LZ4"`` or ``"NONE"``. Default: ``"LZ4"``.
    :param file_system_type_version: Lustre version. Default: ``"2.15"``.
    :param mount_options: mount options of the volumes. Default: ``("flock",)``.
    :param reclaim_policy: Default: ``"Retain"`` (the file system survives its claim).
    :param default: whether this is the cluster's default class. Default: False.
    :param cluster_name: the EKS cluster's name (or a token), written on every file system the driver creates as
        ``extraTags`` ``eks-ai-data:csi-cluster=<name>``: the FSx driver's role may create, update and delete only
        file systems with that tag (``StorageDrivers``). Required (``ClusterStorage`` fills it in).
    """

    subnet_id: str
    security_group_ids: Sequence[str]
    kms_key_id: str | None = None
    name: str = "fsx-lustre"
    deployment_type: str = "PERSISTENT_2"
    per_unit_storage_throughput: int | None = None
    data_compression_type: str = "LZ4"
    file_system_type_version: str = "2.15"
    mount_options: Sequence[str] = ("flock",)
    reclaim_policy: ReclaimPolicy = "Retain"
    default: bool = False
    cluster_name: str | None = None


@dataclass
class _Class:
    name: str
    default: bool
    body: dict = field(default_factory=dict)


class StorageClassesChart(cdk8s.Chart):
    """The cluster's StorageClasses, one chart so names and the default class are checked together.

    - ``gp3`` (name configurable): EBS gp3, the default class, encrypted with ``kms_key_arn``,
      ``WaitForFirstConsumer``, expandable, every volume tagged ``eks-ai-data:backup=true`` for the
      backup plan;
    - one ``efs-ap`` class per :class:`EfsClassSpec`;
    - an optional FSx for Lustre class (:class:`LustreClassSpec`);
    - ``local-nvme``: local NVMe volumes published by :class:`~eks_ai_data.k8s.LocalNvmeChart`.

    :param kms_key_arn: ARN of the KMS key that encrypts gp3 volumes (usually a token). Required.
    :param gp3_name: Default: ``"gp3"``.
    :param gp3_default: whether gp3 is the default class. Default: True.
    :param gp3_iops: provisioned IOPS per volume (3,000-80,000). Default: None (gp3's 3,000).
        Exclusive with ``gp3_iops_per_gib``.
    :param gp3_iops_per_gib: IOPS per GiB of volume size (1-500); small volumes are raised to 3,000
        IOPS. Default: None.
    :param gp3_throughput: MiB/s per volume (125-2,000, at most 0.25 per IOPS). Default: None (125).
    :param gp3_fs_type: ``"ext4"`` or ``"xfs"``. Default: ``"ext4"``.
    :param gp3_reclaim_policy: Default: ``"Retain"`` (a volume survives its claim, and its backups).
    :param gp3_tags: extra tags for gp3 volumes. Default: none (the backup tag is always set).
    :param efs_classes: Default: none.
    :param lustre_class: Default: None (no dynamic Lustre class).
    :param local_nvme: whether to create the ``local-nvme`` class. Default: True.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        kms_key_arn: str,
        gp3_name: str = "gp3",
        gp3_default: bool = True,
        gp3_iops: int | None = None,
        gp3_iops_per_gib: int | None = None,
        gp3_throughput: int | None = None,
        gp3_fs_type: str = "ext4",
        gp3_reclaim_policy: ReclaimPolicy = "Retain",
        gp3_tags: Mapping[str, str] | None = None,
        efs_classes: Sequence[EfsClassSpec] = (),
        lustre_class: LustreClassSpec | None = None,
        local_nvme: bool = True,
    ) -> None:
        super().__init__(scope, id, labels=MANAGED_BY)
        require_bool(self, "gp3_default", gp3_default)
        require_bool(self, "local_nvme", local_nvme)
        gp3_tags = require_mapping(self, "gp3_tags", gp3_tags, "a mapping of tag keys to values")
        classes = [
            self._gp3(
                kms_key_arn,
                gp3_name,
                gp3_default,
                gp3_iops,
                gp3_iops_per_gib,
                gp3_throughput,
                gp3_fs_type,
                gp3_reclaim_policy,
                dict(gp3_tags or {}),
            )
        ]
        classes += [self._efs(spec) for spec in efs_classes]
        if lustre_class is not None:
            classes.append(self._lustre(lustre_class))
        if local_nvme:
            classes.append(
                _Class(
                    LOCAL_NVME_STORAGE_CLASS,
                    False,
                    {
                        "provisioner": NO_PROVISIONER,
                        "volumeBindingMode": "WaitForFirstConsumer",
                        # the provisioner wipes a released volume and publishes it again
                        "reclaimPolicy": "Delete",
                    },
                )
            )
        require_unique(self, "StorageClass name", (c.name for c in classes))
        defaults = [c.name for c in classes if c.default]
        if len(defaults) > 1:
            raise fail(self, "default", defaults, "at most one StorageClass may be the default")

        self.storage_classes: dict[str, cdk8s.ApiObject] = {}
        for cls in classes:
            annotations = {DEFAULT_CLASS_ANNOTATION: "true"} if cls.default else None
            self.storage_classes[cls.name] = api_object(
                self,
                f"sc-{cls.name}",
                api_version="storage.k8s.io/v1",
                kind="StorageClass",
                meta=metadata(cls.name, annotations=annotations),
                **cls.body,
            )
        self.default_class: str | None = defaults[0] if defaults else None

    # -- gp3 ---------------------------------------------------------------------------------------
    def _gp3(
        self, kms_key_arn, name, default, iops, iops_per_gib, throughput, fs_type, reclaim, tags
    ) -> _Class:
        require_subdomain(self, "gp3_name", name)
        require(
            self, isinstance(kms_key_arn, str) and bool(kms_key_arn), "kms_key_arn", kms_key_arn, "required"
        )
        require_pattern(self, "kms_key_arn", kms_key_arn, KMS_KEY_ARN, "must be the ARN of a KMS key")
        require_int_range(self, "gp3_iops", iops, GP3_IOPS_MIN, GP3_IOPS_MAX)
        require_int_range(self, "gp3_iops_per_gib", iops_per_gib, 1, GP3_IOPS_PER_GIB_MAX)
        if iops is not None and iops_per_gib is not None:
            raise fail(self, "gp3_iops_per_gib", iops_per_gib, "give either gp3_iops or gp3_iops_per_gib")
        require_int_range(self, "gp3_throughput", throughput, GP3_THROUGHPUT_MIN, GP3_THROUGHPUT_MAX)
        if throughput is not None and iops_per_gib is None and not unresolved([iops, throughput]):
            limit = int((iops or GP3_IOPS_MIN) * GP3_THROUGHPUT_PER_IOPS)
            require(
                self,
                throughput <= limit,
                "gp3_throughput",
                throughput,
                f"gp3 allows at most {GP3_THROUGHPUT_PER_IOPS} MiB/s per IOPS: at most {limit} "
                f"with {iops or GP3_IOPS_MIN} IOPS",
            )
        require_one_of(self, "gp3_fs_type", fs_type, ("ext4", "xfs"))
        require_one_of(self, "gp3_reclaim_policy", reclaim, RECLAIM_POLICIES)
        require_tags(self, "gp3_tags", tags)
        if BACKUP_TAG_KEY in tags:
            raise fail(self, "gp3_tags", BACKUP_TAG_KEY, "the backup tag is set by the chart")
        parameters = {
            "type": "gp3",
            "csi.storage.k8s.io/fstype": fs_type,
            "encrypted": "true",
            "kmsKeyId": kms_key_arn,
        }
        if iops is not None:
            parameters["iops"] = str(iops)
        if iops_per_gib is not None:
            parameters["iopsPerGB"] = str(iops_per_gib)
            parameters["allowAutoIOPSPerGBIncrease"] = "true"
        if throughput is not None:
            parameters["throughput"] = str(throughput)
        parameters |= tag_specifications({BACKUP_TAG_KEY: BACKUP_TAG_VALUE, **tags})
        return _Class(
            name,
            default,
            {
                "provisioner": EBS_CSI_DRIVER,
                "parameters": parameters,
                "volumeBindingMode": "WaitForFirstConsumer",
                "allowVolumeExpansion": True,
                "reclaimPolicy": reclaim,
            },
        )

    # -- EFS ---------------------------------------------------------------------------------------
    def _efs(self, spec: EfsClassSpec) -> _Class:
        require_subdomain(self, "efs_classes.name", spec.name)
        require_pattern(
            self, "efs_classes.file_system_id", spec.file_system_id, FILE_SYSTEM_ID, "must be fs-<hex>"
        )
        require_pattern(
            self,
            "efs_classes.directory_perms",
            spec.directory_perms,
            _OCTAL_PERMS,
            "must be 3 or 4 octal digits",
        )
        if (spec.gid_range_start is None) != (spec.gid_range_end is None):
            raise fail(
                self,
                "efs_classes.gid_range",
                (spec.gid_range_start, spec.gid_range_end),
                "give both ends or neither",
            )
        require_int_range(self, "efs_classes.gid_range_start", spec.gid_range_start, 1, 2**31 - 1)
        require_int_range(self, "efs_classes.gid_range_end", spec.gid_range_end, 1, 2**31 - 1)
        if (
            spec.gid_range_start is not None
            and spec.gid_range_end is not None
            and not unresolved([spec.gid_range_start, spec.gid_range_end])
        ):
            require(
                self,
                spec.gid_range_start < spec.gid_range_end,
                "efs_classes.gid_range",
                (spec.gid_range_start, spec.gid_range_end),
                "gid_range_start must be below gid_range_end",
            )
        require(
            self,
            isinstance(spec.base_path, str) and spec.base_path.startswith("/") and ".." not in spec.base_path,
            "efs_classes.base_path",
            spec.base_path,
            "must be an absolute path without '..'",
        )
        require_one_of(self, "efs_classes.reclaim_policy", spec.reclaim_policy, RECLAIM_POLICIES)
        for flag in ("default", "iam"):
            require_bool(self, f"efs_classes.{flag}", getattr(spec, flag))
        parameters = {
            "provisioningMode": "efs-ap",
            "fileSystemId": spec.file_system_id,
            "directoryPerms": spec.directory_perms,
            "basePath": spec.base_path,
        }
        if spec.gid_range_start is not None:
            parameters["gidRangeStart"] = str(spec.gid_range_start)
            parameters["gidRangeEnd"] = str(spec.gid_range_end)
        return _Class(
            spec.name,
            spec.default,
            {
                "provisioner": EFS_CSI_DRIVER,
                "parameters": parameters,
                # external-provisioner copies a class's mountOptions onto each PersistentVolume it creates, and the
                # node plugin passes them to mount.efs (aws-efs-csi-driver pkg/driver/node.go) after its own "tls"
                # and "accesspoint=": "iam" must come from here, the driver never adds it.
                **({"mountOptions": efs_mount_options(spec.iam)} if spec.iam else {}),
                "volumeBindingMode": "Immediate",
                "reclaimPolicy": spec.reclaim_policy,
            },
        )

    # -- FSx for Lustre ----------------------------------------------------------------------------
    def _lustre(self, spec: LustreClassSpec) -> _Class:
        require_subdomain(self, "lustre_class.name", spec.name)
        require_bool(self, "lustre_class.default", spec.default)
        require_pattern(self, "lustre_class.subnet_id", spec.subnet_id, SUBNET_ID, "must be subnet-<hex>")
        groups = list(spec.security_group_ids)
        if not groups:
            raise fail(self, "lustre_class.security_group_ids", groups, "at least one security group")
        for group in groups:
            require_pattern(
                self, "lustre_class.security_group_ids", group, SECURITY_GROUP_ID, "must be sg-<hex>"
            )
        # the dynamic class provisions SSD file systems: the FSx facts are lustre_sizing's (one table for the library)
        require_one_of(self, "lustre_class.deployment_type", spec.deployment_type, sizing.DEPLOYMENT_TYPES)
        persistent = str(spec.deployment_type).startswith("PERSISTENT")
        throughput = spec.per_unit_storage_throughput
        if throughput is None and persistent:
            throughput = 250 if spec.deployment_type == "PERSISTENT_2" else 200
        allowed = sizing.allowed_throughputs(str(spec.deployment_type), sizing.SSD)
        if throughput is not None and not persistent:
            raise fail(
                self, "lustre_class.per_unit_storage_throughput", throughput, "only for PERSISTENT types"
            )
        if persistent:
            require_one_of(self, "lustre_class.per_unit_storage_throughput", throughput, allowed)
        require_one_of(
            self, "lustre_class.data_compression_type", spec.data_compression_type, LUSTRE_COMPRESSION
        )
        require_one_of(
            self, "lustre_class.file_system_type_version", spec.file_system_type_version, LUSTRE_VERSIONS
        )
        if spec.deployment_type == "PERSISTENT_2" and spec.file_system_type_version == "2.10":
            raise fail(
                self, "lustre_class.file_system_type_version", "2.10", "PERSISTENT_2 needs 2.12 or later"
            )
        if persistent and not spec.kms_key_id:
            raise fail(
                self, "lustre_class.kms_key_id", spec.kms_key_id, "required for PERSISTENT file systems"
            )
        if not persistent and spec.kms_key_id:
            raise fail(
                self, "lustre_class.kms_key_id", spec.kms_key_id, "SCRATCH file systems take no KMS key"
            )
        if spec.kms_key_id:
            require_pattern(
                self, "lustre_class.kms_key_id", spec.kms_key_id, KMS_KEY_ARN, "must be a KMS key ARN"
            )
        require_one_of(self, "lustre_class.reclaim_policy", spec.reclaim_policy, RECLAIM_POLICIES)
        if not spec.cluster_name:
            raise fail(
                self,
                "lustre_class.cluster_name",
                spec.cluster_name,
                "is required: the FSx driver may create only file systems tagged with its cluster's name",
            )
        parameters = {
            "subnetId": spec.subnet_id,
            "securityGroupIds": ",".join(groups),
            "deploymentType": spec.deployment_type,
            "dataCompressionType": spec.data_compression_type,
            "fileSystemTypeVersion": spec.file_system_type_version,
            # comma-separated key=value tags the driver adds to CreateFileSystem (aws-fsx-csi-driver controller.go)
            "extraTags": f"{CSI_OWNER_TAG_KEY}={spec.cluster_name}",
        }
        if persistent:
            parameters["perUnitStorageThroughput"] = str(throughput)
            parameters["kmsKeyId"] = str(spec.kms_key_id)
        return _Class(
            spec.name,
            spec.default,
            {
                "provisioner": FSX_CSI_DRIVER,
                "parameters": parameters,
                "mountOptions": list(spec.mount_options),
                "volumeBindingMode": "Immediate",
                "reclaimPolicy": spec.reclaim_policy,
                "allowVolumeExpansion": persistent,
            },
        )
