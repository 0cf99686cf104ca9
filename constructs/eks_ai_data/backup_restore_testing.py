"""Scheduled restore tests of a :class:`~eks_ai_data.backup.DataBackupPlan`'s recovery points (:class:`RestoreTesting`).

AWS Backup restore testing (AWS Backup developer guide, "Restore testing"; API reference,
``CreateRestoreTestingPlan`` / ``CreateRestoreTestingSelection``): on the plan's schedule AWS Backup picks one
recovery point per protected resource (here: the latest within ``selection_window`` from this plan's vault),
restores it to a new resource tagged ``awsbackup-restore-test``, waits the validation window, and deletes the
restored resource. Restore jobs appear as restore type *Test*. Restore testing uses the ``AWSServiceRoleForBackupRestoreTesting`` service-linked role, created with
the first plan, which passes the restore role to AWS Backup (``iam:PassRole`` to ``backup.amazonaws.com``, managed
policy ``AWSServiceRolePolicyForBackupRestoreTesting``). The restore role is the plan's service role: it has the
restore permissions ("The IAM role you choose for restore testing must contain the permissions found in
AWSBackupServiceRolePolicyForRestores"), the S3 restore policy when buckets are selected and the vault's key; restore
tests add the keys of the restored resources.

Selections, one per resource type and restore metadata (``ProtectedResourceType`` takes a single value):

- EFS: one selection per file system, restored to a new file system (``newFileSystem``, inferred) encrypted with
  the source file system's key when this app created it (``kmsKeyId`` override; AWS Backup would otherwise infer
  ``alias/aws/elasticfilesystem``, restore testing inferred metadata);
- EBS: one selection per backup tag, ``ProtectedResourceArns: ["*"]`` with the tag as a condition (evaluated on the
  tags of each volume's latest recovery point; the condition key is the bare tag key, API reference
  ``KeyValue``); each volume restores in a random Availability Zone with its snapshot's key (inferred);
- S3: one selection for the plan's buckets (at most 30 ARNs), each restored to a new bucket whose name starts with
  ``awsbackup-restore-test`` (inferred).

Not tested: FSx (AWS Backup cannot infer a complete set of restore metadata for FSx; pass the selection yourself
with ``RestoreMetadataOverrides``) and EKS clusters (not a ``ProtectedResourceType`` restore testing accepts).

Cost: each run restores every selected resource once (an S3 restore copies every object of the bucket into the new
bucket); the default monthly schedule and no validation window keep that to one restore a month, deleted when the
restore job completes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration, Lazy, Names
from aws_cdk import aws_backup as backup
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ._validate import fail, require_resources, unresolved
from .backup_rules import whole_days
from .backup_selection import Listed
from .errors import EksAiDataValidationError
from .protection_matrix import RESTORE_TESTING_TYPES
from .schedule import backup_schedule_problem

#: What a restore of an encrypted volume or file system needs on its key, through AWS services (Amazon EBS user
#: guide, "How EBS encryption works": CreateGrant, Decrypt, DescribeKey, GenerateDataKeyWithoutPlaintext,
#: ReEncrypt; EFS encryption at rest: the same for file system creation).
RESTORE_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
MAX_ARNS_PER_SELECTION = 30
MAX_SELECTIONS = 30


@dataclass(frozen=True)
class RestoreTestSpec:
    """When and how restore tests run.

    :param schedule: AWS cron expression in UTC. Default: ``cron(0 9 1 * ? *)``, the 1st of every month at 09:00,
        after that day's 05:00 backups.
    :param start_window: how long after the scheduled time the restore jobs may start (whole hours, 1-168).
        Default: 24 hours.
    :param selection_window: how far back the latest recovery point may be (whole days, 1-365). Default: 7 days.
    :param validation_window: how long a restored resource is kept for a validation script before AWS Backup
        deletes it (whole hours, 0-168). Default: none (deleted when the restore job completes).
    :param keys: keys of the backed-up resources that restores need (EBS volumes restore with their snapshot's
        key, e.g. ``DataKeys.data_key``); keys of EFS file systems created in this app are added by themselves.
        Default: none.
    :param exclude: resources the plan backs up but restore tests skip (buckets, file systems or their ARNs), e.g.
        a bucket too large to copy every month. Default: none.
    :param plan_name: the restore testing plan's name (1-50 letters, digits, ``_``). Default: generated.
    """

    schedule: str = "cron(0 9 1 * ? *)"
    start_window: Duration | None = None
    selection_window: Duration | None = None
    validation_window: Duration | None = None
    keys: Sequence[kms.IKey] = field(default_factory=tuple)
    exclude: Sequence[object] = field(default_factory=tuple)
    plan_name: str | None = None


def check_spec(scope: Construct, spec: object) -> None:
    """Validate a :class:`RestoreTestSpec` (props ``restore_testing.<field>``)."""
    if not isinstance(spec, RestoreTestSpec):
        raise fail(scope, "restore_testing", spec, "must be a RestoreTestSpec (or None for no restore tests)")
    if not unresolved(spec.schedule):
        problem = backup_schedule_problem(spec.schedule)
        if problem:
            raise fail(scope, "restore_testing.schedule", spec.schedule, problem)
    _hours(scope, "start_window", spec.start_window, 1, 168)
    whole_days(scope, "restore_testing.selection_window", spec.selection_window, 1, 365)
    _hours(scope, "validation_window", spec.validation_window, 0, 168)
    require_resources(
        scope, "restore_testing.keys", spec.keys, "key_arn", "a list of kms.IKey (e.g. [DataKeys.data_key])"
    )
    if isinstance(spec.exclude, str):
        raise fail(
            scope,
            "restore_testing.exclude",
            spec.exclude,
            f"must be a list, not a string: [{spec.exclude!r}]",
        )
    for item in spec.exclude:
        if isinstance(item, str) and not unresolved(item) and not item.startswith("arn:"):
            raise fail(
                scope, "restore_testing.exclude", item, "must hold buckets, file systems or their ARNs"
            )
        if not isinstance(item, str) and not any(
            isinstance(getattr(item, a, None), str) for a in ("bucket_arn", "file_system_arn")
        ):
            raise fail(
                scope, "restore_testing.exclude", item, "must hold buckets, file systems or their ARNs"
            )
    name = spec.plan_name
    if name is not None and not (
        isinstance(name, str) and 0 < len(name) <= 50 and name.replace("_", "a").isalnum()
    ):
        raise fail(scope, "restore_testing.plan_name", name, "must be 1-50 letters, digits or '_'")


def _hours(scope: Construct, prop: str, value: Duration | None, low: int, high: int) -> None:
    if value is None or (isinstance(value, Duration) and value.is_unresolved()):
        return
    if not isinstance(value, Duration):
        raise fail(scope, f"restore_testing.{prop}", value, "must be an aws_cdk.Duration")
    hours = value.to_hours(integral=False)
    if not float(hours).is_integer() or not low <= hours <= high:
        raise fail(
            scope,
            f"restore_testing.{prop}",
            value.to_human_string(),
            f"must be a whole number of hours between {low} and {high}",
        )


class RestoreTesting(Construct):
    """The restore testing plan of a vault and its selections (created as resources are added).

    Made by :class:`~eks_ai_data.backup.DataBackupPlan` (``restore_testing=RestoreTestSpec()``); the plan calls
    :meth:`add_efs`, :meth:`add_ebs_tag` and :meth:`add_bucket` as it selects resources.

    :param vault: the vault whose recovery points are restored.
    :param role: the role restores run as: the plan's service role, which has the restore policies and the vault's
        key already; the keys of the restored resources are added to it.
    :param spec: schedule, windows, keys and exclusions.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vault: backup.IBackupVault,
        role: iam.Role,
        spec: RestoreTestSpec,
    ) -> None:
        super().__init__(scope, id)
        check_spec(self, spec)
        self._vault = vault
        self.role = role
        self._spec = spec
        self._excluded = [self._arn_of(item) for item in spec.exclude]
        self.plan: backup.CfnRestoreTestingPlan | None = None
        self.selections: list[backup.CfnRestoreTestingSelection] = []
        self._buckets: list[str] = []
        self._keys: list[str] = []
        for key in spec.keys:
            self._use_key(key.key_arn)

    # -- what the backup plan selects ------------------------------------------------------------------
    def add_efs(self, arn: str, kms_key_arn: str | None) -> None:
        """Restore-test an EFS file system into a new one (encrypted with ``kms_key_arn`` when given)."""
        if self._skipped(arn):
            return
        n = sum(1 for s in self.selections if s.protected_resource_type == "EFS") + 1
        overrides = {"kmsKeyId": kms_key_arn} if kms_key_arn is not None else None
        if kms_key_arn is not None:
            self._use_key(kms_key_arn)
        self._selection(f"Efs{n}", f"efs_{n}", "EFS", arns=[arn], overrides=overrides)

    def add_ebs_tag(self, key: str, value: str) -> None:
        """Restore-test the EBS volumes whose latest recovery point carries the tag ``key=value``."""
        n = sum(1 for s in self.selections if s.protected_resource_type == "EBS") + 1
        conditions = backup.CfnRestoreTestingSelection.ProtectedResourceConditionsProperty(
            string_equals=[backup.CfnRestoreTestingSelection.KeyValueProperty(key=key, value=value)]
        )
        self._selection(f"Ebs{n}", f"ebs_by_tag_{n}", "EBS", arns=["*"], conditions=conditions)

    def add_bucket(self, arn: str) -> None:
        """Restore-test an S3 bucket into a new bucket."""
        if self._skipped(arn):
            return
        self._buckets.append(arn)
        if len(self._buckets) == 1:
            self._selection("S3", "s3", "S3", arns=Lazy.list(Listed(self._buckets)))

    @property
    def tested_types(self) -> frozenset[str]:
        """The resource types (AWS Backup names) restore tests cover so far."""
        return frozenset(str(s.protected_resource_type) for s in self.selections)

    def problems(self) -> list[EksAiDataValidationError]:
        """What only the whole selection shows: more buckets than one restore testing selection can name."""
        if len(self._buckets) > MAX_ARNS_PER_SELECTION:
            return [
                fail(
                    self,
                    "buckets",
                    len(self._buckets),
                    f"a restore testing selection names at most {MAX_ARNS_PER_SELECTION} resources: leave some out "
                    "with RestoreTestSpec(exclude=...)",
                )
            ]
        return []

    # -- helpers -----------------------------------------------------------------------------------------
    @staticmethod
    def _arn_of(item: object) -> str:
        if isinstance(item, str):
            return item
        return next(
            getattr(item, a)
            for a in ("bucket_arn", "file_system_arn")
            if isinstance(getattr(item, a, None), str)
        )

    def _skipped(self, arn: str) -> bool:
        return any(arn == other for other in self._excluded)

    def _ensure_plan(self) -> backup.CfnRestoreTestingPlan:
        if self.plan is None:
            spec = self._spec
            window = spec.selection_window or Duration.days(7)
            self.plan = backup.CfnRestoreTestingPlan(
                self,
                "Plan",
                restore_testing_plan_name=spec.plan_name or Names.unique_resource_name(self, max_length=50),
                schedule_expression=spec.schedule.strip(),
                start_window_hours=int((spec.start_window or Duration.hours(24)).to_hours()),
                recovery_point_selection=backup.CfnRestoreTestingPlan.RestoreTestingRecoveryPointSelectionProperty(
                    algorithm="LATEST_WITHIN_WINDOW",
                    include_vaults=[self._vault.backup_vault_arn],
                    recovery_point_types=["SNAPSHOT"],
                    selection_window_days=int(window.to_days()),
                ),
            )
        return self.plan

    def _use_key(self, key_arn: str) -> None:
        role = self.role
        if key_arn in self._keys:
            return
        self._keys.append(key_arn)
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(RESTORE_KEY_ACTIONS), resources=[key_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )

    def _selection(
        self,
        cid: str,
        name: str,
        resource_type: str,
        *,
        arns: Sequence[str],
        conditions: backup.CfnRestoreTestingSelection.ProtectedResourceConditionsProperty | None = None,
        overrides: dict[str, str] | None = None,
    ) -> None:
        assert resource_type in RESTORE_TESTING_TYPES
        if len(self.selections) >= MAX_SELECTIONS:
            raise fail(
                self,
                "selections",
                len(self.selections) + 1,
                f"a restore testing plan holds at most {MAX_SELECTIONS} selections",
            )
        plan = self._ensure_plan()
        role = self.role
        validation = self._spec.validation_window
        self.selections.append(
            backup.CfnRestoreTestingSelection(
                self,
                cid,
                restore_testing_plan_name=plan.ref,
                restore_testing_selection_name=name,
                protected_resource_type=resource_type,
                iam_role_arn=role.role_arn,
                protected_resource_arns=arns,
                protected_resource_conditions=conditions,
                restore_metadata_overrides=overrides,
                validation_window_hours=int(validation.to_hours()) if validation is not None else None,
            )
        )


__all__ = ["RestoreTestSpec", "RestoreTesting", "check_spec"]
