"""Customer-managed KMS keys for the platform (:class:`DataKeys`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ._validate import fail, require, unresolved

ALIAS_PREFIX = re.compile(r"^alias/(?!aws/)[a-zA-Z0-9/_-]+$")

# Actions a service needs to use a key for envelope encryption on a caller's behalf.
_USE_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]

#: Services (endpoint prefixes for ``kms:ViaService``) allowed to use each key on behalf of a caller in the
#: account. EBS volumes (node root volumes and CSI-created volumes) come through EC2.
SECRETS_KEY_SERVICES = ("eks",)
DATA_KEY_SERVICES = ("ec2", "fsx", "elasticfilesystem", "s3")
BACKUP_KEY_SERVICES = ("backup",)


class DataKeys(Construct):
    """The platform's customer-managed KMS keys: cluster secrets, data at rest and backups.

    Each key has automatic rotation on, an alias, and ``RemovalPolicy.RETAIN`` (a deleted key makes every
    volume, file system, bucket and recovery point it encrypts unreadable). Key policies keep the account's
    default administration statement (IAM policies decide who administers the key) and add, per key, only
    the services that must use it, scoped with ``kms:CallerAccount`` and ``kms:ViaService``:

    - ``secrets_key``: EKS envelope encryption of Kubernetes secrets (through ``eks``).
    - ``data_key``: data at rest: EBS through EC2 (node root volumes, CSI volumes), FSx, EFS and S3; the EC2
      Auto Scaling service-linked role (managed node groups launch encrypted root volumes with it, and it
      must be able to create grants for EC2); CloudWatch Logs for this account's log groups (encryption
      context pinned to the account's log-group ARNs).
    - ``backup_key``: AWS Backup vaults (through ``backup``), and the AWS Backup service principal for the
      encrypted SNS topic that carries backup notifications (``aws:SourceAccount`` pinned).

    Existing keys can be passed instead of created (``secrets_key``, ``data_key``, ``backup_key``); their key
    policies are then yours to manage, and :attr:`managed_keys` does not include them.

    :param shared_key: use one key for all three purposes (fewer keys to manage; a blast radius of one).
        Default: ``False`` (three keys).
    :param alias_prefix: prefix of the aliases (``<prefix>/secrets``, ``/data``, ``/backup`` or ``/shared``).
        Default: ``alias/eks-ai-data/<stack name>``.
    :param secrets_key: an existing key for cluster secrets. Default: a new key.
    :param data_key: an existing key for data at rest. Default: a new key.
    :param backup_key: an existing key for backups. Default: a new key.
    :param create_backup_key: create the backup key when none is given; ``False`` for a platform without an
        AWS Backup plan (a key costs money every month). Default: ``True``.
    :param admins: principals that administer (not use) the created keys. Default: none beyond the account.
    :param pending_window: waiting period before a scheduled deletion completes (7-30 days). Default: 30 days.
    :param removal_policy: what happens to created keys when they leave the stack. Default: ``RETAIN``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        shared_key: bool = False,
        alias_prefix: str | None = None,
        secrets_key: kms.IKey | None = None,
        data_key: kms.IKey | None = None,
        backup_key: kms.IKey | None = None,
        create_backup_key: bool = True,
        admins: Sequence[iam.IPrincipal] = (),
        pending_window: Duration | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        prefix = alias_prefix if alias_prefix is not None else f"alias/eks-ai-data/{stack.stack_name}"
        require(
            self,
            bool(ALIAS_PREFIX.match(prefix)) and len(prefix) <= 240,
            "alias_prefix",
            prefix,
            "must start with 'alias/' (not 'alias/aws/'), use only letters, digits, '/', '_' and '-', "
            "and be at most 240 characters",
        )
        if pending_window is not None and not unresolved(pending_window.to_days()):
            days = pending_window.to_days()
            if not 7 <= days <= 30:
                raise fail(self, "pending_window", f"{days} days", "must be between 7 and 30 days")
        if shared_key and any(k is not None for k in (secrets_key, data_key, backup_key)):
            raise fail(
                self,
                "shared_key",
                shared_key,
                "cannot be combined with existing secrets_key/data_key/backup_key; pass one existing key "
                "as all three instead",
            )
        self._stack = stack
        self._prefix = prefix
        self._admins = list(admins)
        self._pending_window = pending_window or Duration.days(30)
        self._removal_policy = removal_policy
        self.managed_keys: list[kms.Key] = []

        if shared_key:
            shared = self._create("Shared", "shared", "cluster secrets, data at rest and backups")
            self.secrets_key: kms.IKey = shared
            self.data_key: kms.IKey = shared
            self.backup_key: kms.IKey | None = shared
            services = (*SECRETS_KEY_SERVICES, *DATA_KEY_SERVICES, *BACKUP_KEY_SERVICES)
            self._allow_services(shared, "AllowPlatformServices", services)
            self._allow_data_principals(shared)
            self._allow_backup_notifications(shared)
            return

        if secrets_key is None:
            created = self._create("SecretsKey", "secrets", "EKS envelope encryption of Kubernetes secrets")
            self._allow_services(created, "AllowEksViaService", SECRETS_KEY_SERVICES)
            secrets_key = created
        if data_key is None:
            created = self._create("DataKey", "data", "data at rest: EBS, FSx for Lustre, EFS, S3, logs")
            self._allow_services(created, "AllowStorageServicesViaService", DATA_KEY_SERVICES)
            self._allow_data_principals(created)
            data_key = created
        if backup_key is None and create_backup_key:
            created = self._create("BackupKey", "backup", "AWS Backup vaults and backup notifications")
            self._allow_services(created, "AllowBackupViaService", BACKUP_KEY_SERVICES)
            self._allow_backup_notifications(created)
            backup_key = created
        self.secrets_key = secrets_key
        self.data_key = data_key
        #: ``None`` only with ``create_backup_key=False`` and no existing backup key.
        self.backup_key: kms.IKey | None = backup_key

    # -- construction helpers -------------------------------------------------------------------------
    def _create(self, cid: str, purpose: str, description: str) -> kms.Key:
        key = kms.Key(
            self,
            cid,
            alias=f"{self._prefix}/{purpose}",
            description=f"eks-ai-data {purpose} key: {description}",
            enable_key_rotation=True,
            pending_window=self._pending_window,
            removal_policy=self._removal_policy,
            admins=self._admins or None,
        )
        self.managed_keys.append(key)
        return key

    def _allow_services(self, key: kms.Key, sid: str, services: Sequence[str]) -> None:
        stack = self._stack
        via = [f"{service}.{stack.region}.amazonaws.com" for service in services]
        conditions = {"StringEquals": {"kms:CallerAccount": stack.account, "kms:ViaService": via}}
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.AnyPrincipal()],
                actions=[*_USE_ACTIONS, "kms:CreateGrant", "kms:ListGrants"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions=conditions,
            )
        )

    def _allow_data_principals(self, key: kms.Key) -> None:
        stack = self._stack
        asg_role = iam.ArnPrincipal(
            stack.format_arn(
                service="iam",
                region="",
                resource="role",
                resource_name="aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAutoScalingServiceLinkedRoleUse",
                principals=[asg_role],
                actions=_USE_ACTIONS,
                resources=["*"],
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAutoScalingServiceLinkedRoleGrants",
                principals=[asg_role],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogs",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=_USE_ACTIONS,
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

    def _allow_backup_notifications(self, key: kms.Key) -> None:
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBackupNotificationsToEncryptedTopic",
                principals=[iam.ServicePrincipal("backup.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self._stack.account}},
            )
        )
