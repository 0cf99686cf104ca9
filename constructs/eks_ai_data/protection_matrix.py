"""Which mechanism can protect which resource, each rule with its documentation source (layer 1: no CDK).

:class:`~eks_ai_data.backup.DataBackupPlan` and the tests consult these facts; nothing here imports aws_cdk.

Mechanisms (:data:`MECHANISMS`): AWS Backup (per resource type, :data:`BACKUP_TYPES`), FSx automatic daily backups,
EFS automatic backups. Resources that need no backup say why (:data:`NO_BACKUP_NEEDED`): what protects them
instead (retention, deletion windows) or where their durable copy is (caches and scratch space filled from S3).

Sources, cited per rule below:

- AWS Backup developer guide: "Feature availability by resource" (cold storage, continuous backup), "Restore
  testing" (the resource types a restore testing plan can hold), "Amazon EKS backups" and "Restore an Amazon EKS
  cluster", "Vault access policies", "AWS Backup Vault Lock"; the AWS Backup API reference (botocore's
  ``backup`` model): ``ProtectedResourceType`` of ``CreateRestoreTestingSelection``, ``ResourceType`` names,
  ``PutBackupVaultLockConfiguration`` limits;
- Amazon FSx API reference, ``CreateBackup``: "For Amazon FSx for Lustre file systems, you can create a backup only
  for file systems that have ... a Persistent deployment type ... [and] are not linked to a data repository"; FSx
  for Lustre user guide, "Working with backups": "File system backups aren't supported on file systems that are
  linked to an Amazon S3 data repository";
- Amazon EFS user guide, "Backing up EFS file systems" (automatic backups use AWS Backup's default plan);
- Amazon EKS user guide, "Back up your EKS clusters with AWS Backup" (API or API_AND_CONFIG_MAP authentication,
  AWSBackupServiceRolePolicyForBackup, S3 persistent volumes need the S3 backup policy);
- AWS KMS developer guide, "Deleting AWS KMS keys" (a waiting period of 7-30 days; key material cannot be exported
  from KMS, so a key cannot be backed up);
- Amazon CloudWatch Logs user guide, "Change log data retention".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --------------------------------------------------------------------------- AWS Backup resource types

FEATURE_TABLE = "AWS Backup developer guide, Feature availability by resource"
RESTORE_TESTING_SOURCE = (
    "AWS Backup API reference, CreateRestoreTestingSelection ProtectedResourceType (botocore backup model); "
    "AWS Backup developer guide, Restore testing"
)


@dataclass(frozen=True)
class BackupType:
    """A resource type as AWS Backup names it (``EFS``, ``EKS``, ...) and what AWS Backup offers for it.

    :param name: AWS Backup's resource type name (selections, restore testing, region settings).
    :param service: the service, for messages.
    :param cfn_types: the CloudFormation types whose resources are backed up as this type.
    :param arn: the ARN form AWS Backup selects (``<partition>``, ``<region>``, ``<account>`` placeholders).
    :param cold_storage: recovery points can move to cold storage (the library opts in where needed).
    :param continuous: continuous backup (point-in-time restore) is offered.
    :param restore_testing: a restore testing selection may name this type.
    :param requires: what the resource must have for AWS Backup to protect it.
    :param source: where these facts come from.
    """

    name: str
    service: str
    cfn_types: tuple[str, ...]
    arn: str
    cold_storage: bool
    continuous: bool
    restore_testing: bool
    requires: str
    source: str


BACKUP_TYPES: dict[str, BackupType] = {
    t.name: t
    for t in (
        BackupType(
            "EFS",
            "Amazon EFS",
            ("AWS::EFS::FileSystem",),
            "arn:<partition>:elasticfilesystem:<region>:<account>:file-system/fs-<id>",
            cold_storage=True,
            continuous=False,
            restore_testing=True,
            requires="-",
            source=f"{FEATURE_TABLE}; Amazon EFS user guide, Backing up EFS file systems",
        ),
        BackupType(
            "EBS",
            "Amazon EBS",
            ("AWS::EC2::Volume",),
            "arn:<partition>:ec2:<region>:<account>:volume/vol-<id>",
            # the EBS Snapshots Archive tier (OptInToArchiveForSupportedResources); not in the China and
            # GovCloud (US) Regions
            cold_storage=True,
            continuous=False,
            restore_testing=True,
            requires="selected by the tag the gp3 StorageClass puts on CSI volumes",
            source=FEATURE_TABLE,
        ),
        BackupType(
            "S3",
            "Amazon S3",
            ("AWS::S3::Bucket",),
            "arn:<partition>:s3:::<bucket>",
            cold_storage=False,
            continuous=True,
            restore_testing=True,
            requires="versioning on",
            source=f"{FEATURE_TABLE}; AWS Backup developer guide, Amazon S3 backups (prerequisites)",
        ),
        BackupType(
            "FSx",
            "Amazon FSx",
            ("AWS::FSx::FileSystem",),
            "arn:<partition>:fsx:<region>:<account>:file-system/fs-<id>",
            cold_storage=False,
            continuous=False,
            restore_testing=True,
            requires="Lustre: persistent and not linked to S3 (lustre_backup_problem)",
            source="Amazon FSx API reference, CreateBackup; FSx for Lustre user guide, Working with backups",
        ),
        BackupType(
            "EKS",
            "Amazon EKS",
            ("AWS::EKS::Cluster",),
            "arn:<partition>:eks:<region>:<account>:cluster/<name>",
            # cold storage: not relied on (the plan's cold-storage check does not count EKS)
            cold_storage=False,
            continuous=False,
            # not among the ProtectedResourceType values the restore testing API accepts
            restore_testing=False,
            # the service role needs AWSBackupServiceRolePolicyForBackup, and the S3 backup policy for Mountpoint
            # S3 volumes (EKS user guide)
            requires="authentication mode API or API_AND_CONFIG_MAP (AWS Backup creates its own access entry)",
            source=(
                "AWS Backup developer guide, Amazon EKS backups; Amazon EKS user guide, Back up your EKS "
                f"clusters with AWS Backup; {RESTORE_TESTING_SOURCE}"
            ),
        ),
    )
}
"""The AWS Backup resource types this library selects, by AWS Backup name."""

COLD_STORAGE_TYPES: frozenset[str] = frozenset(n for n, t in BACKUP_TYPES.items() if t.cold_storage)
"""Types whose recovery points move to cold storage; AWS Backup silently ignores cold storage for the others."""

CONTINUOUS_BACKUP_TYPES: frozenset[str] = frozenset(n for n, t in BACKUP_TYPES.items() if t.continuous)
"""Selectable types with continuous backup (point-in-time restore); RDS and Aurora have it too, not selected here."""

RESTORE_TESTING_TYPES: frozenset[str] = frozenset(
    {"Aurora", "DocumentDB", "DynamoDB", "EBS", "EC2", "EFS", "FSx", "Neptune", "RDS", "S3"}
)
"""Every ``ProtectedResourceType`` a restore testing selection accepts (EKS is not one; see RESTORE_TESTING_SOURCE)."""

EKS_BACKUP_AUTHENTICATION_MODES: frozenset[str] = frozenset({"API", "API_AND_CONFIG_MAP"})
"""Cluster authentication modes AWS Backup can back up: it reaches the cluster through an access entry."""

EKS_CLUSTER_ARN = re.compile(
    r"^arn:aws[a-z-]*:eks:[a-z0-9-]+:[0-9]{12}:cluster/[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$"
)
"""An EKS cluster ARN (cluster names: 1-100 of letters, digits, ``-``, ``_``, starting with a letter or digit)."""

EKS_BACKUP_EVENTS: tuple[str, ...] = (
    "EKS_BACKUP_OBJECT_FAILED",
    "EKS_RESTORE_OBJECT_FAILED",
    "EKS_RESTORE_OBJECT_SKIPPED",
)
"""Vault events for Kubernetes objects a cluster backup or restore failed on or skipped (restores never overwrite
existing objects: a skipped object is reported, AWS Backup API reference, BackupVaultEvent)."""

# --------------------------------------------------------------------------- FSx for Lustre

LUSTRE_LINKED_RULE = (
    "FSx does not back up file systems linked to an S3 data repository (\"File system backups aren't supported on "
    'file systems that are linked to an Amazon S3 data repository", FSx for Lustre user guide, Working with '
    "backups; Amazon FSx API reference, CreateBackup)"
)
LUSTRE_SCRATCH_RULE = (
    "FSx does not back up scratch file systems (Amazon FSx API reference, CreateBackup: persistent deployment "
    "types only)"
)


def lustre_backup_problem(deployment_type: str | None, linked: bool) -> str | None:
    """Why FSx (automatic backups or AWS Backup) cannot back up this Lustre file system, or ``None`` if it can.

    :param deployment_type: ``SCRATCH_1``, ``SCRATCH_2``, ``PERSISTENT_1``, ``PERSISTENT_2`` (``None``: unknown).
    :param linked: the file system has data repository associations or an ``ImportPath``/``ExportPath``.
    """
    if deployment_type and deployment_type.upper().startswith("SCRATCH"):
        return LUSTRE_SCRATCH_RULE
    if linked:
        return LUSTRE_LINKED_RULE
    return None


# --------------------------------------------------------------------------- mechanisms and exemptions


@dataclass(frozen=True)
class Mechanism:
    """A way to get a restorable copy of a resource's data.

    :param key: short name used by the tests' walk.
    :param title: what it is.
    :param applies_to: CloudFormation types it can protect.
    :param condition: when it applies.
    :param source: documentation.
    """

    key: str
    title: str
    applies_to: tuple[str, ...]
    condition: str
    source: str


MECHANISMS: dict[str, Mechanism] = {
    m.key: m
    for m in (
        Mechanism(
            "aws-backup",
            "AWS Backup plan (DataBackupPlan): selected by ARN, EBS volumes by tag",
            tuple(c for t in BACKUP_TYPES.values() for c in t.cfn_types),
            "per resource type, see BACKUP_TYPES",
            FEATURE_TABLE,
        ),
        Mechanism(
            "fsx-automatic-backups",
            "FSx automatic backups (daily, AutomaticBackupRetentionDays 1-90)",
            ("AWS::FSx::FileSystem",),
            "Lustre: persistent and not linked to S3",
            "FSx for Lustre user guide, Working with backups",
        ),
        Mechanism(
            "efs-automatic-backups",
            "EFS automatic backups (BackupPolicy ENABLED: AWS Backup's default plan, 35 days)",
            ("AWS::EFS::FileSystem",),
            "BackupPolicy ENABLED",
            "Amazon EFS user guide, Backing up EFS file systems",
        ),
    )
}
"""Mechanisms that produce a restorable copy."""


@dataclass(frozen=True)
class NoBackupNeeded:
    """Why a kind of stateful resource needs no backup, and what protects it instead.

    :param key: short name used by the tests' walk.
    :param title: the kind of resource, for the matrix.
    :param applies_to: CloudFormation types.
    :param summary: the reason in a few words (the matrix's cell).
    :param reason: why, and what protects it.
    :param source: documentation.
    """

    key: str
    title: str
    applies_to: tuple[str, ...]
    summary: str
    reason: str
    source: str


NO_BACKUP_NEEDED: dict[str, NoBackupNeeded] = {
    n.key: n
    for n in (
        NoBackupNeeded(
            "kms-key",
            "KMS keys",
            ("AWS::KMS::Key", "AWS::KMS::ReplicaKey"),
            "cannot be backed up; retained, and a deletion waits 7-30 days",
            "key material cannot be exported from KMS, so a key cannot be backed up; it is retained on stack "
            "deletion and replacement, and a scheduled deletion waits 7-30 days and can be cancelled",
            "AWS KMS developer guide, Deleting AWS KMS keys",
        ),
        NoBackupNeeded(
            "log-group",
            "CloudWatch log groups",
            ("AWS::Logs::LogGroup",),
            "telemetry: kept for its retention period, retained",
            "telemetry, not data: kept for its retention period (RetentionInDays) and retained on stack deletion",
            "Amazon CloudWatch Logs user guide, Change log data retention",
        ),
        NoBackupNeeded(
            "access-log-bucket",
            "S3 server access log buckets",
            ("AWS::S3::Bucket",),
            "audit logs: kept by the expiration rule, retained",
            "S3 server access logs (an audit trail S3 delivers on a best-effort basis): kept by the log bucket's "
            "expiration rule, versioned and retained on stack deletion",
            "Amazon S3 user guide, Logging requests with server access logging",
        ),
        NoBackupNeeded(
            "backup-vault",
            "Backup vaults",
            ("AWS::Backup::BackupVault", "AWS::Backup::LogicallyAirGappedBackupVault"),
            "hold the recovery points: access policy, Vault Lock, cross-account copy",
            "holds the recovery points themselves: protected by its access policy (no early deletion), an optional "
            "Vault Lock, and copies to a vault in another account or Region",
            "AWS Backup developer guide, Vault access policies; AWS Backup Vault Lock; Creating backup copies "
            "across AWS accounts",
        ),
        NoBackupNeeded(
            "lustre-linked",
            "FSx for Lustre linked to S3",
            ("AWS::FSx::FileSystem",),
            "not supported; a cache of S3: the linked buckets are the durable copy, backed up",
            "a cache of S3: "
            + LUSTRE_LINKED_RULE
            + "; the durable copy is the linked bucket, which must be backed up",
            "FSx for Lustre user guide, Working with backups; Amazon FSx API reference, CreateBackup",
        ),
        NoBackupNeeded(
            "lustre-scratch",
            "FSx for Lustre, scratch",
            ("AWS::FSx::FileSystem",),
            "not supported; scratch space: its data lives in S3",
            "scratch space: " + LUSTRE_SCRATCH_RULE + "; keep its data in S3",
            "Amazon FSx API reference, CreateBackup",
        ),
    )
}
"""Stateful resources that need no backup, each with what protects it instead."""


MATRIX_COLUMNS = (
    "Resource",
    "Mechanism",
    "Cold storage",
    "Continuous",
    "Restore testing",
    "Condition or reason",
    "Source",
)


def support_matrix() -> list[tuple[str, ...]]:
    """The support matrix as rows of :data:`MATRIX_COLUMNS`: one per AWS Backup type, one per service's own
    backups, then one per resource kind that needs no backup (the README's table is this list)."""

    def yes(flag: bool) -> str:
        return "yes" if flag else "no"

    rows: list[tuple[str, ...]] = [
        (
            t.service,
            f"AWS Backup ({t.name})",
            yes(t.cold_storage),
            yes(t.continuous),
            yes(t.restore_testing),
            t.requires,
            t.source.split("; ")[0],
        )
        for t in BACKUP_TYPES.values()
    ]
    for key, service in (
        ("fsx-automatic-backups", "Amazon FSx for Lustre"),
        ("efs-automatic-backups", "Amazon EFS"),
    ):
        m = MECHANISMS[key]
        rows.append((service, m.title.split(" (")[0], "-", "no", "-", m.condition, m.source))
    rows += [
        (n.title, "none needed", "-", "-", "-", n.summary, n.source.split("; ")[0])
        for n in NO_BACKUP_NEEDED.values()
    ]
    return rows


def render_matrix() -> str:
    """:func:`support_matrix` as a Markdown table."""
    lines = ["| " + " | ".join(MATRIX_COLUMNS) + " |", "|" + " --- |" * len(MATRIX_COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in support_matrix()]
    return "\n".join(lines)


__all__ = [
    "BACKUP_TYPES",
    "COLD_STORAGE_TYPES",
    "CONTINUOUS_BACKUP_TYPES",
    "EKS_BACKUP_AUTHENTICATION_MODES",
    "EKS_BACKUP_EVENTS",
    "EKS_CLUSTER_ARN",
    "LUSTRE_LINKED_RULE",
    "LUSTRE_SCRATCH_RULE",
    "MATRIX_COLUMNS",
    "MECHANISMS",
    "NO_BACKUP_NEEDED",
    "RESTORE_TESTING_TYPES",
    "BackupType",
    "Mechanism",
    "NoBackupNeeded",
    "lustre_backup_problem",
    "render_matrix",
    "support_matrix",
]
