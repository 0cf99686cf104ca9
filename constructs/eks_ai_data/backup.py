"""AWS Backup for the platform's stateful resources (:class:`DataBackupPlan`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from aws_cdk import Lazy, Names, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_efs as efs
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from ._nag import acknowledge, acknowledge_inline_policy, managed_policy_finding
from ._validate import KEY, fail, require_bool, require_enum, require_resource, unresolved
from .backup_restore_testing import RestoreTesting, RestoreTestSpec, check_spec
from .backup_rules import (
    EFS_ARN,
    FSX_ARN,
    BackupRuleSpec,
    VaultLock,
    check_plan_props,
    cold_storage_problem,
    plan_rule,
)
from .backup_selection import (
    Listed,
    LustreEntry,
    SynthCheck,
    authentication_problem,
    check_tag,
    ebs_tag_selection,
    eks_cluster_of,
    linked_lustre_problems,
    lustre_of,
)
from .backup_vault import check_break_glass, vault_access_policy, vault_with_notifications
from .cluster_interface import IAiCluster
from .errors import EksAiDataValidationError
from .keys import grant_backup_key_use
from .labels import BACKUP_TAG_KEY, BACKUP_TAG_VALUE
from .lustre import LustreStore
from .protection_matrix import EKS_BACKUP_EVENTS

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
    """A backup plan, its KMS-encrypted vault, its service role, its failure notifications and its restore tests.

    Select what to back up with :meth:`add_efs`, :meth:`add_lustre`, :meth:`add_file_system` (by ARN),
    :meth:`add_ebs_by_tag`, :meth:`add_bucket` and :meth:`add_eks_cluster`. Each call validates its input at once
    against :mod:`eks_ai_data.protection_matrix`. Rules that need the whole app run when it synthesizes
    (``node.add_validation``; ``cdk synth`` fails with the construct path, the prop and what is allowed): the plan
    must select something, cold storage must apply to at least one selected resource type (EFS or EBS; AWS Backup
    ignores it for the others), no selected Lustre file system may be linked to S3 (data repository associations
    added after :meth:`add_lustre` count), and no selected cluster may use ``CONFIG_MAP`` authentication. Call
    :meth:`check_selection` to run them yourself.

    The vault's access policy (:mod:`eks_ai_data.backup_vault`) denies early deletion of recovery points to
    every principal; with ``break_glass_role_arn`` it also denies deleting the vault, changing its access policy and
    removing a governance-mode lock to everyone but that role.

    :param backup_key: KMS key of the vault (recovery points of EFS and S3; EBS and FSx snapshots keep their
        source key). Required; typed optional to take ``DataKeys.backup_key``, and ``None`` is refused.
    :param rules: the rules. Default: ``(BackupRuleSpec.daily(),)``: daily at 05:00 UTC, kept 35 days.
    :param vault_lock: AWS Backup Vault Lock (``VaultLock.governance(...)`` or ``VaultLock.compliance(...)``).
        Default: none.
    :param notification_key: KMS key of the notification topic; its key policy must let
        ``backup.amazonaws.com`` use it (``DataKeys.backup_key`` does). Default: ``backup_key``.
    :param copy_to_vault_arn: a vault in another Region or account that every rule copies to (cross-account
        copies need AWS Organizations and the destination vault's access policy). Default: no copy.
    :param vault_name: the vault's name (2-50 of letters, digits, ``-``, ``_``). Default: generated.
    :param plan_name: the plan's name (1-50 of letters, digits, ``-_.``). Default: generated from the
        construct path (unique in the app).
    :param removal_policy: of the vault. Default: ``RETAIN``.
    :param break_glass_role_arn: the one IAM role (in the vault's account) that may delete recovery points early,
        delete the vault, change its access policy or remove a governance-mode lock. Default: none: early deletion
        is denied to everyone, and administrators can still change the policy.
    :param deny_recovery_point_deletion: attach the vault access policy. Default: ``True``.
    :param restore_testing: scheduled restore tests of the recovery points (``None``: none). Default:
        ``RestoreTestSpec()``: monthly, latest recovery point of the last 7 days, restored copies deleted when the
        restore completes.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        backup_key: kms.IKey | None,
        rules: Sequence[BackupRuleSpec] = (BackupRuleSpec.daily(),),
        vault_lock: VaultLock | None = None,
        notification_key: kms.IKey | None = None,
        copy_to_vault_arn: str | None = None,
        vault_name: str | None = None,
        plan_name: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        break_glass_role_arn: str | None = None,
        deny_recovery_point_deletion: bool = True,
        restore_testing: RestoreTestSpec | None = RestoreTestSpec(),  # noqa: B008 - frozen, never mutated
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        if backup_key is None:
            raise fail(self, "backup_key", None, "is required: the vault's customer-managed KMS key")
        require_resource(self, "backup_key", backup_key, *KEY)
        if notification_key is not None:
            require_resource(self, "notification_key", notification_key, *KEY)
        require_enum(self, "removal_policy", removal_policy, RemovalPolicy)
        require_bool(self, "deny_recovery_point_deletion", deny_recovery_point_deletion)
        rules = check_plan_props(
            self,
            stack,
            rules=rules,
            vault_lock=vault_lock,
            vault_name=vault_name,
            plan_name=plan_name,
            copy_to_vault_arn=copy_to_vault_arn,
        )
        check_break_glass(self, stack, break_glass_role_arn, removal_policy, deny_recovery_point_deletion)
        if restore_testing is not None:
            check_spec(self, restore_testing)
        self._rules = rules
        self._types: set[str] = set()
        self._arns: list[str] = []
        self._clusters: list[str] = []
        self._cluster_targets: list[tuple[str, object]] = []
        self._remote_clusters: list[str] = []  # clusters of other stacks, selected there
        self._ebs_tags: list[tuple[str, str]] = []
        self._lustre: list[LustreEntry] = []
        self._s3_policies = False
        self.break_glass_role_arn = break_glass_role_arn

        self._events = list(NOTIFICATION_EVENTS)
        self.topic, self.vault = vault_with_notifications(
            self,
            backup_key=backup_key,
            notification_key=notification_key,
            vault_lock=vault_lock,
            vault_name=vault_name,
            removal_policy=removal_policy,
            access_policy=vault_access_policy(break_glass_role_arn) if deny_recovery_point_deletion else None,
            events=Lazy.list(Listed(self._events)),
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
            backup_plan_rules=[plan_rule(rule, destination) for rule in rules],
        )
        self.selection: backup.CfnBackupSelection | None = None
        self.cluster_selection: backup.CfnBackupSelection | None = None
        self.ebs_selections: list[backup.CfnBackupSelection] = []
        #: The restore tests (``None`` with ``restore_testing=None``).
        self.restore_testing: RestoreTesting | None = (
            RestoreTesting(self, "RestoreTesting", vault=self.vault, role=self.role, spec=restore_testing)
            if restore_testing is not None
            else None
        )
        self.node.add_validation(SynthCheck(self._synth_problems))

    # -- selection ---------------------------------------------------------------------------------------
    def add_efs(self, file_system: efs.IFileSystem) -> None:
        """Back up an EFS file system (supports cold storage); restore tests restore it into a new file system
        encrypted with its own key."""
        require_resource(
            self,
            "file_system",
            file_system,
            "file_system_arn",
            "an efs.IFileSystem (e.g. SharedEfs.file_system)",
        )
        arn = file_system.file_system_arn
        self._add_arn("EFS", arn, "file_system")
        if self.restore_testing is not None:
            cfn = file_system.node.default_child
            key = cfn.kms_key_id if isinstance(cfn, efs.CfnFileSystem) else None
            self.restore_testing.add_efs(arn, key)

    def add_lustre(self, file_system: LustreStore | fsx.LustreFileSystem | str) -> None:
        """Back up a persistent FSx for Lustre file system that is not linked to S3 (a LustreStore, an
        ``fsx.LustreFileSystem`` or its ARN).

        Refused: scratch deployment types, ``import_path``/``export_path`` links, a LustreStore with data
        repository links, an imported store (``LustreStore.from_existing``), and (when the app synthesizes) any file system that a ``CfnDataRepositoryAssociation`` in
        the app links to S3: FSx does not back those up, and their durable copy is the linked bucket
        (:meth:`add_bucket`).
        """
        if isinstance(file_system, str):
            self.add_file_system(file_system)
            return
        l2, entry = lustre_of(self, file_system)
        arn = Stack.of(l2).format_arn(service="fsx", resource="file-system", resource_name=l2.file_system_id)
        self._add_arn("FSx", arn, "file_system")
        self._lustre.append(entry)

    def add_file_system(self, arn: str) -> None:
        """Back up an EFS or FSx for Lustre file system by ARN."""
        if not isinstance(arn, str):
            raise fail(
                self,
                "arn",
                arn,
                "must be an EFS or FSx file system ARN (a string); pass a construct to add_efs/add_lustre",
            )
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
            if self.restore_testing is not None:
                self.restore_testing.add_efs(arn, None)
        elif FSX_ARN.match(arn):
            self._add_arn("FSx", arn, "arn")
            self._lustre.append(LustreEntry(arn, arn.rsplit("/", 1)[1]))
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
        check_tag(self, key, value)
        if (key, value) in self._ebs_tags:
            raise fail(self, "key", f"{key}={value}", "is already selected")
        self._ebs_tags.append((key, value))
        self._types.add("EBS")
        n = len(self._ebs_tags)
        selection = ebs_tag_selection(self, n, key, value, plan_id=self.plan.backup_plan_id, role=self.role)
        self.ebs_selections.append(selection)
        cfn_plan: backup.CfnBackupPlan = self.plan.node.default_child  # type: ignore[assignment]
        for index, rule in enumerate(self._rules):
            if rule.move_to_cold_after is not None:
                cfn_plan.add_property_override(
                    f"BackupPlan.BackupPlanRule.{index}.Lifecycle.OptInToArchiveForSupportedResources", True
                )
        if self.restore_testing is not None:
            self.restore_testing.add_ebs_tag(key, value)

    def add_bucket(self, bucket: s3.IBucket) -> None:
        """Back up an S3 bucket; adds the S3 backup and restore managed policies to the role.

        S3 backups need versioning: a bucket created in this app must have it on (an imported bucket cannot
        be inspected: make sure it has).
        """
        require_resource(
            self, "bucket", bucket, "bucket_arn", "an s3.IBucket (e.g. DataBucket.bucket), not its name"
        )
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
        self._attach_s3_policies()
        self._add_arn("S3", bucket.bucket_arn, "bucket")
        if self.restore_testing is not None:
            self.restore_testing.add_bucket(bucket.bucket_arn)

    def add_eks_cluster(self, cluster: IAiCluster | eks.ICluster | str) -> None:
        """Back up an EKS cluster: its Kubernetes state and the EBS, EFS and S3 persistent volumes its claims use,
        as one composite recovery point (AWS Backup developer guide, Amazon EKS backups).

        The cluster's authentication mode must be ``API`` or ``API_AND_CONFIG_MAP``: AWS Backup creates its own
        access entry (an AiCluster uses ``API``; a cluster that this app sets to ``CONFIG_MAP`` is refused, an
        imported one cannot be inspected). The service role keeps AWSBackupServiceRolePolicyForBackup (cluster
        state, EBS and EFS volumes) and gets the S3 backup and restore policies (Mountpoint S3 volumes). Restore
        tests do not cover clusters: restore testing does not take EKS. A cluster in another stack than the plan
        (a cluster stack on a data stack) gets its selection created in its own stack.
        """
        arn, label = eks_cluster_of(self, cluster)
        if arn in self._clusters or any(arn == a for a in self._remote_clusters):
            raise fail(self, "cluster", label, "is already selected")
        self._cluster_targets.append((label, getattr(cluster, "cluster", cluster)))
        self._types.add("EKS")
        self._attach_s3_policies()
        for event in EKS_BACKUP_EVENTS:
            if event not in self._events:
                self._events.append(event)
        # a construct (an AiCluster or an eks.ICluster), not an ARN string
        home = cast("Construct | None", cluster if hasattr(cluster, "node") else None)
        if home is not None and Stack.of(home) is not Stack.of(self):
            # A cluster stack that uses this (data) stack's plan: its selection lives in the cluster stack, the
            # consuming side, so the plan's stack never references a cluster stack (and outlives it).
            self._remote_clusters.append(arn)
            backup.CfnBackupSelection(
                home,
                f"Backup{self.node.addr[-8:]}ClusterSelection",
                backup_plan_id=self.plan.backup_plan_id,
                backup_selection=backup.CfnBackupSelection.BackupSelectionResourceTypeProperty(
                    selection_name=f"eks-cluster-{Names.unique_id(home)[-40:]}",
                    iam_role_arn=self.role.role_arn,
                    resources=[arn],
                ),
            )
            return
        self._clusters.append(arn)
        if self.cluster_selection is None:
            self.cluster_selection = self._arn_selection("ClusterSelection", "eks-clusters", self._clusters)

    # -- validation needing the whole selection -------------------------------------------------------------
    def check_selection(self) -> None:
        """Raise the first of :meth:`selection_problems`."""
        problems = self.selection_problems()
        if problems:
            raise problems[0]

    def selection_problems(self) -> list[EksAiDataValidationError]:
        """What the whole selection shows: nothing selected, cold storage that applies to no selected type, a
        selected Lustre file system linked to S3, a selected cluster with ``CONFIG_MAP`` authentication, too many
        buckets for one restore testing selection."""
        if not self._types:
            return [
                fail(
                    self,
                    "selection",
                    [],
                    "must select at least one resource: call add_efs, add_lustre, "
                    "add_file_system, add_ebs_by_tag, add_bucket or add_eks_cluster",
                )
            ]
        problems = []
        cold = cold_storage_problem(self._rules, self._types)
        if cold:
            problems.append(fail(self, "rules", [r.name for r in self._rules if r.move_to_cold_after], cold))
        problems += linked_lustre_problems(self, self._lustre)
        for label, target in self._cluster_targets:
            problem = authentication_problem(target)
            if problem:
                problems.append(fail(self, "cluster", label, problem))
        if self.restore_testing is not None:
            problems += self.restore_testing.problems()
        return problems

    @property
    def selected_types(self) -> frozenset[str]:
        """The resource types selected so far (``EFS``, ``FSx``, ``EBS``, ``S3``, ``EKS``)."""
        return frozenset(self._types)

    @property
    def notification_events(self) -> tuple[str, ...]:
        """The vault events sent to :attr:`topic` (the EKS object events join when a cluster is selected)."""
        return tuple(self._events)

    @staticmethod
    def failure_filter() -> dict[str, sns.SubscriptionFilter]:
        """An SNS subscription filter keeping only jobs that did not succeed (``State`` not ``COMPLETED``)."""
        return {"State": sns.SubscriptionFilter.string_filter(denylist=["COMPLETED"])}

    # -- helpers ---------------------------------------------------------------------------------------
    def _synth_problems(self) -> list[str]:
        return [str(problem) for problem in self.selection_problems()]

    def _add_arn(self, kind: str, arn: str, prop: str) -> None:
        if arn in self._arns:
            raise fail(self, prop, arn, "is already selected")
        self._arns.append(arn)
        self._types.add(kind)
        if self.selection is None:
            self.selection = self._arn_selection("Selection", "file-systems-and-buckets", self._arns)

    def _arn_selection(self, cid: str, name: str, arns: list[str]) -> backup.CfnBackupSelection:
        """A selection of the ARNs in ``arns``, read when the template is rendered (later ``add_*`` calls count)."""
        return backup.CfnBackupSelection(
            self,
            cid,
            backup_plan_id=self.plan.backup_plan_id,
            backup_selection=backup.CfnBackupSelection.BackupSelectionResourceTypeProperty(
                selection_name=name, iam_role_arn=self.role.role_arn, resources=Lazy.list(Listed(arns))
            ),
        )

    def _attach_s3_policies(self) -> None:
        if not self._s3_policies:
            self._s3_policies = True
            self._attach_managed(S3_BACKUP_POLICIES)

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
