"""Customer-managed KMS keys for the platform (:class:`DataKeys`)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ._validate import (
    KEY,
    fail,
    require_bool,
    require_duration,
    require_enum,
    require_resource,
    require_resources,
    unresolved,
    whole_days,
)
from .key_aliases import claim_aliases, default_alias_prefix, key_aliases
from .service_roles import autoscaling_service_linked_role_arn

# Actions a service needs to use a key for envelope encryption on its own behalf.
_USE_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]

#: What the EKS cluster role needs on the secrets key, through IAM: EKS calls KMS with the cluster role's
#: session (CloudTrail shows ``invokedBy: eks.amazonaws.com`` for kms:ListGrants health checks,
#: terraform-aws-modules/terraform-aws-eks#1913); the same four actions that module grants its cluster role.
SECRETS_ENCRYPTION_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants")

#: What an AWS Backup service role needs on its vault's key, through IAM ("Your IAM role must have access to
#: the KMS key being used to back up and restore", AWS Backup developer guide, Encryption for backups;
#: the vault-creation permissions in "Backup vault creation and deletion" list the same data-key actions).
BACKUP_VAULT_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")


def grant_backup_key_use(grantee: iam.IGrantable, key: kms.IKey) -> iam.Grant:
    """IAM use of a vault's key by an AWS Backup role: :data:`BACKUP_VAULT_ACTIONS`, and ``kms:CreateGrant`` for
    AWS resources only (``kms:GrantIsForAWSResource``)."""
    arn = key.key_arn
    grant = iam.Grant.add_to_principal(
        grantee=grantee, actions=list(BACKUP_VAULT_ACTIONS), resource_arns=[arn]
    )
    return grant.combine(
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:CreateGrant"],
            resource_arns=[arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
    )


#: Service principal of CloudWatch alarms, which publish to an alarm topic. The re:Post knowledge center article
#: "How do I configure a CloudWatch alarm with an encrypted Amazon SNS topic?" names the two actions it needs in
#: the topic key's policy (an AWS managed key, such as alias/aws/sns, cannot carry them).
CLOUDWATCH_ALARMS_PRINCIPAL = "cloudwatch.amazonaws.com"
ALARM_TOPIC_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def allow_alarm_notifications(key: kms.IKey) -> bool:
    """Let CloudWatch alarms publish to SNS topics encrypted with ``key``: ``kms:Decrypt`` and
    ``kms:GenerateDataKey*`` for ``cloudwatch.amazonaws.com`` in the key policy.

    The statement has no condition: CloudWatch's requests through SNS carry none that the article documents, and
    the topic policy (``aws:SourceArn`` of this account's alarms) decides who publishes. Returns whether the
    statement was added: ``False`` for a key this app does not manage (add the statement to its policy yourself).
    """
    statement = iam.PolicyStatement(
        sid="AllowCloudWatchAlarmsToEncryptedTopic",
        principals=[iam.ServicePrincipal(CLOUDWATCH_ALARMS_PRINCIPAL)],
        actions=list(ALARM_TOPIC_KEY_ACTIONS),
        resources=["*"],  # in a key policy, "*" means this key
    )
    return key.add_to_resource_policy(statement).statement_added


class DataKeys(Construct):
    """The platform's customer-managed KMS keys: cluster secrets, data at rest and backups.

    Each key has automatic rotation on, an alias, and ``RemovalPolicy.RETAIN`` (a deleted key makes every
    volume, file system, bucket and recovery point it encrypts unreadable).

    Key policies name who may use each key, and nothing account-wide:

    - every key keeps the account's default statement (the account root, ``kms:*``): IAM policies decide who
      administers and uses the key. This is how workload roles, CSI drivers, the EKS cluster role and the
      AWS Backup role get key use (:meth:`grant_secrets_encryption`, :meth:`grant_backup_vault`,
      ``DataBucket.grant_read``, ``WorkloadIdentity.read_prefix``): a principal with no IAM grant on a key
      cannot use it, whatever it can do on the bucket or file system the key protects.
    - ``data_key`` also names the principals that act with their own identity and cannot be given IAM
      permissions: the EC2 Auto Scaling service-linked role (managed node groups launch their encrypted root
      volumes through it; it may create grants for AWS resources only), and the CloudWatch Logs service
      principal for this account's log groups (encryption context pinned to their ARNs). ``LustreStore``
      adds FSx's S3 service-linked roles when it links a bucket encrypted with the key.
    - ``backup_key`` also names the AWS Backup service principal, for the encrypted SNS topic that carries
      backup notifications (``aws:SourceAccount`` pinned).
    - ``secrets_key`` names nobody else.

    Aliases are unique per account and Region: the default prefix is
    ``alias/eks-ai-data/<stack name>/<construct path in the stack>`` (hashed when the path has characters
    aliases cannot hold or is too long), and two ``DataKeys`` of one app whose aliases could meet in the same
    account and Region (stacks without a concrete account or Region may deploy anywhere) are refused.

    Existing keys can be passed instead of created (``secrets_key``, ``data_key``, ``backup_key``); their key
    policies are then yours to manage, and :attr:`managed_keys` does not include them.

    :param shared_key: use one key for all three purposes (fewer keys to manage; a blast radius of one).
        Default: ``False`` (three keys).
    :param alias_prefix: prefix of the aliases (``<prefix>/secrets``, ``/data``, ``/backup`` or ``/shared``);
        each alias must be at most 256 characters of letters, digits, ``/``, ``_`` and ``-``, and not start with
        ``alias/aws/``. Default: ``alias/eks-ai-data/<stack name>/<construct path in the stack>``.
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
        require_bool(self, "shared_key", shared_key)
        require_bool(self, "create_backup_key", create_backup_key)
        for prop, given in (("secrets_key", secrets_key), ("data_key", data_key), ("backup_key", backup_key)):
            if given is not None:
                require_resource(self, prop, given, *KEY)
        require_resources(
            self,
            "admins",
            admins,
            "policy_fragment",
            "a list of iam.IPrincipal (e.g. [iam.ArnPrincipal(arn)])",
        )
        require_duration(self, "pending_window", pending_window)
        require_enum(self, "removal_policy", removal_policy, RemovalPolicy)
        if pending_window is not None and not unresolved(pending_window.to_hours(integral=False)):
            # KMS ScheduleKeyDeletion PendingWindowInDays: a whole number of days, 7-30
            days = whole_days(self, "pending_window", pending_window)
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
        purposes = (
            ["shared"]
            if shared_key
            else [
                purpose
                for purpose, given in (("secrets", secrets_key), ("data", data_key), ("backup", backup_key))
                if given is None and (purpose != "backup" or create_backup_key)
            ]
        )
        prefix = alias_prefix if alias_prefix is not None else default_alias_prefix(self)
        self.aliases: dict[str, str] = key_aliases(self, prefix, purposes, given=alias_prefix is not None)
        claim_aliases(self, prefix, list(self.aliases.values()))

        self._stack = stack
        self._admins = list(admins)
        self._pending_window = pending_window or Duration.days(30)
        self._removal_policy = removal_policy
        self.managed_keys: list[kms.Key] = []

        if shared_key:
            shared = self._create("Shared", "shared", "cluster secrets, data at rest and backups")
            self.secrets_key: kms.IKey = shared
            self.data_key: kms.IKey = shared
            self.backup_key: kms.IKey | None = shared
            self._allow_data_principals(shared)
            self._allow_backup_notifications(shared)
            return

        if secrets_key is None:
            secrets_key = self._create(
                "SecretsKey", "secrets", "EKS envelope encryption of Kubernetes secrets"
            )
        if data_key is None:
            created = self._create("DataKey", "data", "data at rest: EBS, FSx for Lustre, EFS, S3, logs")
            self._allow_data_principals(created)
            data_key = created
        if backup_key is None and create_backup_key:
            created = self._create("BackupKey", "backup", "AWS Backup vaults and backup notifications")
            self._allow_backup_notifications(created)
            backup_key = created
        self.secrets_key = secrets_key
        self.data_key = data_key
        #: ``None`` only with ``create_backup_key=False`` and no existing backup key.
        self.backup_key = backup_key

    # -- grants (IAM: the key policies delegate to IAM through the account root) ---------------------------
    def grant_secrets_encryption(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let an EKS cluster role use the secrets key for envelope encryption of Kubernetes secrets.

        Adds ``kms:Encrypt``, ``kms:Decrypt``, ``kms:DescribeKey`` and ``kms:ListGrants`` on the secrets key to
        the grantee's identity policy (no ``kms:ViaService`` condition: EKS calls KMS with the cluster role's own
        session, and only ``eks.amazonaws.com`` can assume that role).
        """
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(SECRETS_ENCRYPTION_ACTIONS),
            resource_arns=[self.secrets_key.key_arn],
        )

    def grant_backup_vault(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let an AWS Backup service role use the backup key (the vault's key) to back up and restore.

        Adds ``kms:Decrypt``, ``kms:GenerateDataKey`` and ``kms:DescribeKey`` on the backup key, and
        ``kms:CreateGrant`` on it for AWS resources only (``kms:GrantIsForAWSResource``).
        """
        if self.backup_key is None:
            raise fail(self, "backup_key", None, "does not exist (create_backup_key=False): nothing to grant")
        return grant_backup_key_use(grantee, self.backup_key)

    # -- construction helpers -------------------------------------------------------------------------
    def _create(self, cid: str, purpose: str, description: str) -> kms.Key:
        key = kms.Key(
            self,
            cid,
            alias=self.aliases[purpose],
            description=f"eks-ai-data {purpose} key: {description}",
            enable_key_rotation=True,
            pending_window=self._pending_window,
            removal_policy=self._removal_policy,
            admins=self._admins or None,
        )
        self.managed_keys.append(key)
        return key

    def _allow_data_principals(self, key: kms.Key) -> None:
        stack = self._stack
        # EC2 Auto Scaling user guide, "Required AWS KMS key policy for use with encrypted volumes": the
        # service-linked role needs the key in the key policy (its own policy covers only AWS managed keys).
        # EKS managed node groups launch through it: the node-group service-linked role
        # (AWSServiceRoleForAmazonEKSNodegroup, AWS managed policy reference) has no KMS permission and only
        # passes roles to autoscaling.amazonaws.com.
        asg_role = iam.ArnPrincipal(autoscaling_service_linked_role_arn(stack))
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAutoScalingServiceLinkedRoleUse",
                principals=[asg_role],
                actions=_USE_ACTIONS,
                resources=["*"],  # in a key policy, "*" means this key
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
        # CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS": the regional logs
        # service principal, limited by the encryption context to this account's log groups.
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
        # SNS developer guide, "Configure KMS permissions for AWS services": a service publishing to an
        # encrypted topic needs kms:GenerateDataKey* and kms:Decrypt in the key policy.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBackupNotificationsToEncryptedTopic",
                principals=[iam.ServicePrincipal("backup.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self._stack.account}},
            )
        )
