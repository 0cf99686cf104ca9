"""The vault of a :class:`~eks_ai_data.backup.DataBackupPlan`: encryption, notifications, lock, and an access policy
for backups that survive an attacker.

What a vault access policy can and cannot do (AWS Backup developer guide, "Vault access policies"):

- it controls access to AWS Backup's APIs only; EBS snapshots can also be reached through EC2's APIs, so it
  is one layer, with Vault Lock and a copy in another account the others;
- ``Action`` takes no wildcard: every action is listed;
- cross-account requests for anything but ``backup:CopyIntoBackupVault`` are rejected whatever the policy says,
  so a break-glass role must be in the vault's account.

The deny does not stop recovery points from expiring: AWS Backup runs a recovery point's lifecycle itself, with
the selection's service role against the source service (AWS Backup developer guide, "Identity and access
management": "AWS Backup uses the same IAM role that you chose when assigning resources to manage your recovery
point lifecycle"), not by calling ``backup:DeleteRecoveryPoint``: the vault AWS creates for EFS automatic
backups (``aws/efs/automatic-backup-vault``) has a default access policy denying ``backup:DeleteRecoveryPoint``
and ``backup:UpdateRecoveryPointLifecycle`` to every principal, and the EFS user guide ("Automatic backups")
gives those recovery points a 35-day retention. AWS Config's ``backup-recovery-point-manual-deletion-disabled`` rule checks for exactly this
statement (``DeleteRecoveryPoint``, ``UpdateRecoveryPointLifecycle``, ``PutBackupVaultAccessPolicy``, with a
wildcard principal and resource).

Two shapes:

- with a break-glass role: :data:`DENIED_EXCEPT_BREAK_GLASS` to every principal but that role (matched on
  ``aws:PrincipalArn``, so any session of the role): nobody else can delete or shorten a recovery point, delete
  the vault, change or remove this policy, or remove a governance-mode Vault Lock. A change to the policy must then
  be deployed by the break-glass role (``cdk deploy --role-arn <break-glass role>`` makes CloudFormation act as
  it); CloudFormation's own role is denied like everyone else.
- without one: :data:`DENIED_TO_ALL` to every principal: nobody can delete or shorten a recovery point early;
  administrators can still change the policy (so CloudFormation can update it), which makes early deletion a
  deliberate two-step act that CloudTrail records.

``backup:PutBackupVaultLockConfiguration`` is not denied: CloudFormation applies a vault's lock and its access
policy on the same resource in an order it does not document, and a lock only constrains backup and copy jobs
made after it ("Recovery points already saved in the vault prior to Vault Lock are not affected", API reference,
PutBackupVaultLockConfiguration), so it cannot delete what the vault holds.
"""

from __future__ import annotations

import re

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ._cfn import default_child
from ._validate import fail, unresolved
from .backup_rules import VaultLock

DENIED_TO_ALL: tuple[str, ...] = ("backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle")
"""Denied to every principal when no break-glass role is named: no early deletion, no shortened retention."""

DENIED_EXCEPT_BREAK_GLASS: tuple[str, ...] = (
    *DENIED_TO_ALL,
    "backup:DeleteBackupVault",
    "backup:PutBackupVaultAccessPolicy",
    "backup:DeleteBackupVaultAccessPolicy",
    "backup:DeleteBackupVaultLockConfiguration",
)
"""Denied to every principal but the break-glass role."""

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>[0-9]{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")


def check_break_glass(
    scope: Construct, stack: Stack, arn: str | None, removal_policy: RemovalPolicy, deny_deletion: bool
) -> None:
    """A break-glass role: an IAM role ARN in the stack's account, with the access policy it is the exception to,
    and not with ``RemovalPolicy.DESTROY``."""
    if arn is None:
        return
    if not deny_deletion:
        raise fail(
            scope,
            "break_glass_role_arn",
            arn,
            "needs deny_recovery_point_deletion=True: the break-glass role is the exception to the vault access "
            "policy's deny",
        )
    if not isinstance(arn, str):
        raise fail(scope, "break_glass_role_arn", arn, "must be an IAM role ARN string")
    if not unresolved(arn):
        match = ROLE_ARN.match(arn)
        if not match:
            raise fail(
                scope,
                "break_glass_role_arn",
                arn,
                "must be an IAM role ARN: arn:<partition>:iam::<account>:role/<path/><name>",
            )
        if not unresolved(stack.account) and match["account"] != stack.account:
            raise fail(
                scope,
                "break_glass_role_arn",
                arn,
                f"must be a role in the vault's account ({stack.account}): AWS Backup rejects cross-account "
                "requests to a vault other than backup:CopyIntoBackupVault",
            )
    if removal_policy == RemovalPolicy.DESTROY:
        raise fail(
            scope,
            "removal_policy",
            "DESTROY",
            "cannot delete a vault whose access policy denies backup:DeleteBackupVault to all but the break-glass "
            "role: keep RETAIN, or leave break_glass_role_arn out",
        )


def vault_access_policy(break_glass_role_arn: str | None) -> iam.PolicyDocument:
    """The vault's access policy (see the module documentation for the two shapes)."""
    glass = break_glass_role_arn is not None
    statement = iam.PolicyStatement(
        sid="DenyDeletionAndVaultChangesExceptBreakGlass" if glass else "DenyEarlyRecoveryPointDeletion",
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=list(DENIED_EXCEPT_BREAK_GLASS if glass else DENIED_TO_ALL),
        resources=["*"],
        conditions={"ArnNotEquals": {"aws:PrincipalArn": break_glass_role_arn}} if glass else None,
    )
    return iam.PolicyDocument(statements=[statement])


def vault_with_notifications(
    scope: Construct,
    *,
    backup_key: kms.IKey,
    notification_key: kms.IKey | None,
    vault_lock: VaultLock | None,
    vault_name: str | None,
    removal_policy: RemovalPolicy,
    access_policy: iam.PolicyDocument | None,
    events: list[str],
) -> tuple[sns.Topic, backup.BackupVault]:
    """The encrypted, SSL-only notification topic (``Notifications``) and the vault (``Vault``) under ``scope``."""
    stack = Stack.of(scope)
    topic = sns.Topic(scope, "Notifications", master_key=notification_key or backup_key, enforce_ssl=True)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowBackupNotifications",
            principals=[iam.ServicePrincipal("backup.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )
    lock = None
    if vault_lock is not None:
        lock = backup.LockConfiguration(
            min_retention=vault_lock.min_retention,
            max_retention=vault_lock.max_retention,
            changeable_for=vault_lock.grace_period,
        )
    vault = backup.BackupVault(
        scope,
        "Vault",
        backup_vault_name=vault_name,
        encryption_key=backup_key,
        lock_configuration=lock,
        removal_policy=removal_policy,
        access_policy=access_policy,
    )
    # Notifications on the L1: the L2 would also grant the topic to backup.amazonaws.com without the
    # aws:SourceAccount condition the statement above carries.
    cfn_vault = default_child(vault, backup.CfnBackupVault)
    cfn_vault.notifications = backup.CfnBackupVault.NotificationObjectTypeProperty(
        backup_vault_events=events, sns_topic_arn=topic.topic_arn
    )
    return topic, vault


__all__ = [
    "DENIED_EXCEPT_BREAK_GLASS",
    "DENIED_TO_ALL",
    "ROLE_ARN",
    "check_break_glass",
    "vault_access_policy",
    "vault_with_notifications",
]
