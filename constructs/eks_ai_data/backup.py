"""AWS Backup for the platform's stateful resources (:class:`DataBackupPlan`)."""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import IStableListProducer, Lazy, Names, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_efs as efs
from aws_cdk import aws_events as events
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct, IValidation

from ._nag import acknowledge, acknowledge_inline_policy, managed_policy_finding
from ._validate import fail, require, unresolved
from .backup_rules import (
    EFS_ARN,
    FSX_ARN,
    PLAN_NAME,
    TAG_KEY,
    TAG_VALUE,
    VAULT_NAME,
    BackupRuleSpec,
    VaultLock,
    check_destination,
    check_lock,
    check_rule,
    cold_storage_problem,
)
from .errors import EksAiDataValidationError
from .keys import grant_backup_key_use
from .labels import BACKUP_TAG_KEY, BACKUP_TAG_VALUE

#: AWS-managed policies of the backup service role: always, and when S3 buckets are selected.
BACKUP_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
)
S3_BACKUP_POLICIES = ("AWSBackupServiceRolePolicyForS3Backup", "AWSBackupServiceRolePolicyForS3Restore")

#: Vault events sent to the topic. AWS Backup no longer emits BACKUP_JOB_FAILED / _EXPIRED: a failed or
#: expired backup job is a BACKUP_JOB_COMPLETED message whose ``State`` is not ``COMPLETED``
#: (see :meth:`DataBackupPlan.failure_filter`).
NOTIFICATION_EVENTS = (
    "BACKUP_JOB_COMPLETED",
    "COPY_JOB_FAILED",
    "RESTORE_JOB_COMPLETED",
    "S3_BACKUP_OBJECT_FAILED",
    "S3_RESTORE_OBJECT_FAILED",
)


class DataBackupPlan(Construct):
    """A backup plan, its KMS-encrypted vault, its service role and its failure notifications.

    Select what to back up with :meth:`add_efs`, :meth:`add_lustre`, :meth:`add_file_system` (by ARN),
    :meth:`add_ebs_by_tag` and :meth:`add_bucket`. Each call validates its input at once. Two rules need the
    whole selection and run when the app synthesizes (``node.add_validation``; ``cdk synth`` fails with the
    construct path, the prop and what is allowed): the plan must select something, and cold storage must apply
    to at least one selected resource type (EFS or EBS; AWS Backup ignores it for S3 and FSx). Call
    :meth:`check_selection` to run them yourself.

    :param backup_key: KMS key of the vault (recovery points of EFS and S3; EBS and FSx snapshots keep their
        source key).
    :param rules: the rules. Default: ``(BackupRuleSpec.daily(),)``: daily at 05:00 UTC, kept 35 days.
    :param vault_lock: AWS Backup Vault Lock. Default: none.
    :param notification_key: KMS key of the notification topic; its key policy must let
        ``backup.amazonaws.com`` use it (``DataKeys.backup_key`` does). Default: ``backup_key``.
    :param copy_to_vault_arn: a vault in another Region or account that every rule copies to (cross-account
        copies need AWS Organizations and the destination vault's access policy). Default: no copy.
    :param vault_name: the vault's name (2-50 of letters, digits, ``-``, ``_``). Default: generated.
    :param plan_name: the plan's name (1-50 of letters, digits, ``-_.``). Default: generated from the
        construct path (unique in the app).
    :param removal_policy: of the vault. Default: ``RETAIN``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        backup_key: kms.IKey,
        rules: Sequence[BackupRuleSpec] = (BackupRuleSpec.daily(),),
        vault_lock: VaultLock | None = None,
        notification_key: kms.IKey | None = None,
        copy_to_vault_arn: str | None = None,
        vault_name: str | None = None,
        plan_name: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        if backup_key is None:
            raise fail(self, "backup_key", None, "is required: the vault's customer-managed KMS key")
        rules = list(rules)
        if not rules:
            raise fail(self, "rules", rules, "must hold at least one BackupRuleSpec")
        check_lock(self, vault_lock)
        for index, rule in enumerate(rules):
            check_rule(self, index, rule, vault_lock)
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise fail(self, "rules", names, "rule names must be unique within the plan")
        if vault_name is not None:
            require(
                self,
                bool(VAULT_NAME.match(str(vault_name))),
                "vault_name",
                vault_name,
                "must be 2-50 letters, digits, '-' or '_'",
            )
        if plan_name is not None:
            require(
                self,
                bool(PLAN_NAME.match(str(plan_name))),
                "plan_name",
                plan_name,
                "must be 1-50 letters, digits, '-', '_' or '.'",
            )
        if copy_to_vault_arn is not None:
            check_destination(self, stack, copy_to_vault_arn)
        self._stack = stack
        self._rules = rules
        self._types: set[str] = set()
        self._arns: list[str] = []
        self._ebs_tags: list[tuple[str, str]] = []

        self.topic = sns.Topic(
            self, "Notifications", master_key=notification_key or backup_key, enforce_ssl=True
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBackupNotifications",
                principals=[iam.ServicePrincipal("backup.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

        lock = None
        if vault_lock is not None:
            lock = backup.LockConfiguration(
                min_retention=vault_lock.min_retention,
                max_retention=vault_lock.max_retention,
                changeable_for=vault_lock.changeable_for,
            )
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=vault_name,
            encryption_key=backup_key,
            lock_configuration=lock,
            removal_policy=removal_policy,
        )
        # Notifications on the L1: the L2 would also grant the topic to backup.amazonaws.com without the
        # aws:SourceAccount condition the statement above carries.
        cfn_vault: backup.CfnBackupVault = self.vault.node.default_child  # type: ignore[assignment]
        cfn_vault.notifications = backup.CfnBackupVault.NotificationObjectTypeProperty(
            backup_vault_events=list(NOTIFICATION_EVENTS), sns_topic_arn=self.topic.topic_arn
        )

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description="eks-ai-data AWS Backup service role: back up and restore the selected resources",
        )
        self._attach_managed(BACKUP_POLICIES)
        # The vault's key policy delegates to IAM: the role needs the key to back up and restore ("Your IAM role
        # must have access to the KMS key being used to back up and restore", AWS Backup developer guide).
        grant_backup_key_use(self.role, backup_key)
        acknowledge_inline_policy(self.role)

        destination = (
            backup.BackupVault.from_backup_vault_arn(self, "CopyDestination", copy_to_vault_arn)
            if copy_to_vault_arn is not None
            else None
        )
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_plan_name=plan_name or Names.unique_resource_name(self, max_length=50),
            backup_vault=self.vault,
            backup_plan_rules=[self._rule(rule, destination) for rule in rules],
        )
        self.selection: backup.CfnBackupSelection | None = None
        self.ebs_selections: list[backup.CfnBackupSelection] = []
        self.node.add_validation(_SelectionCheck(self))

    # -- selection ---------------------------------------------------------------------------------------
    def add_efs(self, file_system: efs.IFileSystem) -> None:
        """Back up an EFS file system (supports cold storage)."""
        self._add_arn("EFS", file_system.file_system_arn, "file_system")

    def add_lustre(self, file_system: fsx.LustreFileSystem | str) -> None:
        """Back up an FSx for Lustre file system (a construct or its ARN).

        FSx backs up only persistent file systems that are not linked to an S3 data repository; for a
        construct created here, scratch deployment types and ``import_path``/``export_path`` links are
        refused. (Data repository associations are separate resources: keep file systems that have them out
        of the plan.)
        """
        if isinstance(file_system, str):
            self.add_file_system(file_system)
            return
        cfn = file_system.node.default_child
        config = Stack.of(self).resolve(getattr(cfn, "lustre_configuration", None)) or {}
        deployment = str(config.get("deploymentType", config.get("DeploymentType", "")))
        if deployment.startswith("SCRATCH"):
            raise fail(
                self,
                "file_system",
                f"{file_system.node.path} ({deployment})",
                "must be a PERSISTENT_1/PERSISTENT_2 file system: FSx does not back up scratch file systems",
            )
        if (
            config.get("importPath")
            or config.get("ImportPath")
            or config.get("exportPath")
            or config.get("ExportPath")
        ):
            raise fail(
                self,
                "file_system",
                file_system.node.path,
                "must not be linked to S3 (import_path/export_path): FSx does not back up linked "
                "file systems",
            )
        arn = Stack.of(file_system).format_arn(
            service="fsx", resource="file-system", resource_name=file_system.file_system_id
        )
        self._add_arn("FSx", arn, "file_system")

    def add_file_system(self, arn: str) -> None:
        """Back up an EFS or FSx for Lustre file system by ARN."""
        if unresolved(arn):
            raise fail(
                self,
                "arn",
                arn,
                "must be a literal ARN (the resource type is read from it); pass the "
                "construct to add_efs/add_lustre instead",
            )
        if EFS_ARN.match(arn):
            self._add_arn("EFS", arn, "arn")
        elif FSX_ARN.match(arn):
            self._add_arn("FSx", arn, "arn")
        else:
            raise fail(
                self,
                "arn",
                arn,
                "must be an EFS (arn:<partition>:elasticfilesystem:<region>:<account>:"
                "file-system/fs-<id>) or FSx (arn:<partition>:fsx:<region>:<account>:file-system/fs-<id>) "
                "ARN",
            )

    def add_ebs_by_tag(self, key: str = BACKUP_TAG_KEY, value: str = BACKUP_TAG_VALUE) -> None:
        """Back up the EBS volumes of this account and Region that carry the tag ``key=value``.

        The default is the tag the gp3 StorageClass puts on every volume the EBS CSI driver creates. The
        selection ANDs the resource type (EBS volumes) with the tag (``Conditions``), so no other tagged
        resource is swept in.
        """
        require(
            self,
            bool(TAG_KEY.match(str(key))) and not str(key).startswith("aws:"),
            "key",
            key,
            "must be a tag key: 1-128 letters, digits, spaces or _.:/=+-@, not starting with 'aws:'",
        )
        require(
            self,
            bool(TAG_VALUE.match(str(value))),
            "value",
            value,
            "must be a tag value: 0-256 letters, digits, spaces or _.:/=+-@",
        )
        if (key, value) in self._ebs_tags:
            raise fail(self, "key", f"{key}={value}", "is already selected")
        self._ebs_tags.append((key, value))
        self._types.add("EBS")
        n = len(self._ebs_tags)
        volumes = self._stack.format_arn(service="ec2", resource="volume", resource_name="*")
        selection = backup.CfnBackupSelection(
            self,
            "EbsSelection" if n == 1 else f"EbsSelection{n}",
            backup_plan_id=self.plan.backup_plan_id,
            backup_selection=backup.CfnBackupSelection.BackupSelectionResourceTypeProperty(
                selection_name=f"ebs-by-tag-{n}",
                iam_role_arn=self.role.role_arn,
                resources=[volumes],
                conditions={
                    "StringEquals": [{"ConditionKey": f"aws:ResourceTag/{key}", "ConditionValue": value}]
                },
            ),
        )
        self.ebs_selections.append(selection)
        cfn_plan: backup.CfnBackupPlan = self.plan.node.default_child  # type: ignore[assignment]
        for index, rule in enumerate(self._rules):
            if rule.move_to_cold_after is not None:
                cfn_plan.add_property_override(
                    f"BackupPlan.BackupPlanRule.{index}.Lifecycle.OptInToArchiveForSupportedResources", True
                )

    def add_bucket(self, bucket: s3.IBucket) -> None:
        """Back up an S3 bucket; adds the S3 backup and restore managed policies to the role.

        S3 backups need versioning: a bucket created in this app must have it on (an imported bucket cannot
        be inspected: make sure it has).
        """
        cfn = bucket.node.default_child
        if isinstance(cfn, s3.CfnBucket):
            versioning = Stack.of(cfn).resolve(cfn.versioning_configuration) or {}
            status = versioning.get("status", versioning.get("Status"))
            if status != "Enabled":
                raise fail(
                    self,
                    "bucket",
                    bucket.node.path,
                    "must have versioning enabled (s3.Bucket(versioned=True)): AWS Backup needs it for S3",
                )
        if "S3" not in self._types:
            self._attach_managed(S3_BACKUP_POLICIES)
        self._add_arn("S3", bucket.bucket_arn, "bucket")

    # -- validation needing the whole selection -------------------------------------------------------------
    def check_selection(self) -> None:
        """Raise if the plan selects nothing, or if its cold storage applies to no selected resource type."""
        if not self._types:
            raise fail(
                self,
                "selection",
                [],
                "must select at least one resource: call add_efs, add_lustre, "
                "add_file_system, add_ebs_by_tag or add_bucket",
            )
        problem = cold_storage_problem(self._rules, self._types)
        if problem:
            raise fail(self, "rules", [r.name for r in self._rules if r.move_to_cold_after], problem)

    @property
    def selected_types(self) -> frozenset[str]:
        """The resource types selected so far (``EFS``, ``FSx``, ``EBS``, ``S3``)."""
        return frozenset(self._types)

    @staticmethod
    def failure_filter() -> dict[str, sns.SubscriptionFilter]:
        """An SNS subscription filter keeping only jobs that did not succeed (``State`` not ``COMPLETED``)."""
        return {"State": sns.SubscriptionFilter.string_filter(denylist=["COMPLETED"])}

    # -- helpers ---------------------------------------------------------------------------------------
    def _add_arn(self, kind: str, arn: str, prop: str) -> None:
        if arn in self._arns:
            raise fail(self, prop, arn, "is already selected")
        self._arns.append(arn)
        self._types.add(kind)
        if self.selection is None:
            self.selection = backup.CfnBackupSelection(
                self,
                "Selection",
                backup_plan_id=self.plan.backup_plan_id,
                backup_selection=backup.CfnBackupSelection.BackupSelectionResourceTypeProperty(
                    selection_name="file-systems-and-buckets",
                    iam_role_arn=self.role.role_arn,
                    resources=Lazy.list(_Listed(self._arns)),
                ),
            )

    def _attach_managed(self, names: Sequence[str]) -> None:
        for name in names:
            self.role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(name))
            acknowledge(
                self.role,
                "IAM4",
                f"{name.rsplit('/', 1)[-1]} is the AWS-maintained policy AWS Backup documents for its "
                "service role; AWS updates it as resource types are added",
                finding=managed_policy_finding(name),
            )

    def _rule(self, rule: BackupRuleSpec, destination: backup.IBackupVault | None) -> backup.BackupPlanRule:
        copies = []
        if destination is not None:
            copies.append(
                backup.BackupPlanCopyActionProps(
                    destination_backup_vault=destination,
                    delete_after=rule.copy_retention,
                )
            )
        return backup.BackupPlanRule(
            rule_name=rule.name,
            schedule_expression=events.Schedule.expression(rule.schedule.strip()),
            delete_after=rule.retention,
            move_to_cold_storage_after=rule.move_to_cold_after,
            start_window=rule.start_window,
            completion_window=rule.completion_window,
            copy_actions=copies or None,
        )


@jsii.implements(IValidation)
class _SelectionCheck:
    """Runs :meth:`DataBackupPlan.check_selection` when the app synthesizes."""

    def __init__(self, plan: DataBackupPlan) -> None:
        self._plan = plan

    def validate(self) -> list[str]:
        try:
            self._plan.check_selection()
        except EksAiDataValidationError as error:
            return [str(error)]
        return []


@jsii.implements(IStableListProducer)
class _Listed:
    """The selected ARNs, read when the template is rendered (``add_*`` calls may follow the first one)."""

    def __init__(self, items: list[str]) -> None:
        self._items = items

    def produce(self) -> list[str]:
        return list(self._items)
