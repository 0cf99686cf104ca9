"""Backup rules, vault lock and their checks for :class:`~eks_ai_data.backup.DataBackupPlan`.

Facts the checks rely on (AWS Backup developer guide and API reference):

- a rule's schedule is a cron expression (no ``rate``), at most hourly (:mod:`eks_ai_data.schedule`);
- lifecycle days are whole days, at most 36,500 (100 years); a recovery point moved to cold storage stays
  there at least 90 days, so ``retention >= move_to_cold_after + 90 days``;
- a rule name is 1-50 of letters, digits, ``-``, ``_``, ``.``; a start window is at least 60 minutes;
- vault lock (API reference, PutBackupVaultLockConfiguration): minimum retention at least 1 day, maximum at most
  36,500 days and above the minimum; in compliance mode a grace period (``ChangeableForDays``) of at least 3 days
  (AWS Backup's 72-hour cooling-off period) and at most 36,500 days, after which the lock is immutable; without
  one (governance mode) the lock can be changed or deleted at any time by whoever the vault's access policy
  allows (``PutBackupVaultLockConfiguration``, ``DeleteBackupVaultLockConfiguration``); recovery points saved
  before the lock are not affected by it;
- cold storage applies to some resource types only (:data:`COLD_STORAGE_TYPES`, from
  :mod:`eks_ai_data.protection_matrix`); AWS Backup silently ignores it for the others (S3, FSx), so a plan whose
  cold storage would apply to nothing is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from aws_cdk import Duration, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from constructs import Construct

from ._validate import fail, unresolved
from .protection_matrix import BACKUP_TYPES, COLD_STORAGE_TYPES
from .schedule import backup_schedule_problem

RULE_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,50}\Z")
VAULT_NAME = re.compile(r"^[a-zA-Z0-9_-]{2,50}\Z")
PLAN_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,50}\Z")
VAULT_ARN = re.compile(
    r"^arn:aws[a-z-]*:backup:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):backup-vault:[a-zA-Z0-9_-]{2,50}$"
)
EFS_ARN = re.compile(
    r"^arn:aws[a-z-]*:elasticfilesystem:[a-z0-9-]+:[0-9]{12}:file-system/fs-[0-9a-f]{8,40}\Z"
)
FSX_ARN = re.compile(r"^arn:aws[a-z-]*:fsx:[a-z0-9-]+:[0-9]{12}:file-system/fs-[0-9a-f]{8,40}\Z")
TAG_KEY = re.compile(r"^[\w.:/=+@ -]{1,128}\Z")
TAG_VALUE = re.compile(r"^[\w.:/=+@ -]{0,256}\Z")

MAX_LIFECYCLE_DAYS = 36_500
COLD_MINIMUM_DAYS = 90
LOCK_MIN_GRACE_DAYS = 3

#: Resource types this library selects: EFS and FSx (Lustre) file systems, EBS volumes, S3 buckets, EKS clusters.
#: Cold storage applies to :data:`COLD_STORAGE_TYPES` only (EBS goes to the EBS Snapshots Archive tier, which is
#: not offered in the China and GovCloud (US) Regions; the plan opts rules in with
#: ``OptInToArchiveForSupportedResources``).
SELECTABLE_TYPES = tuple(BACKUP_TYPES)


@dataclass(frozen=True)
class BackupRuleSpec:
    """One backup rule: when to back up and how long to keep the recovery points.

    :param name: rule name (1-50 of letters, digits, ``-_.``), unique in the plan.
    :param schedule: AWS cron expression in UTC, at most hourly, e.g. ``cron(0 5 * * ? *)``.
    :param retention: how long a recovery point is kept (whole days, 1-36,500).
    :param move_to_cold_after: when recovery points move to cold storage (EFS, EBS only). Default: never.
        Retention must then be at least 90 days longer.
    :param start_window: how long after the scheduled time a job may start (at least 1 hour). Default: AWS's
        (8 hours).
    :param completion_window: how long a started job may run before it is cancelled; longer than
        ``start_window``. Default: AWS's (7 days).
    :param copy_retention: retention of the copy in the destination vault (``copy_to_vault_arn``).
        Default: the copy keeps the source recovery point's lifecycle.
    """

    name: str
    schedule: str
    retention: Duration
    move_to_cold_after: Duration | None = None
    start_window: Duration | None = None
    completion_window: Duration | None = None
    copy_retention: Duration | None = None

    @staticmethod
    def daily(
        *,
        retention: Duration | None = None,
        schedule: str = "cron(0 5 * * ? *)",
        move_to_cold_after: Duration | None = None,
        name: str = "Daily",
    ) -> BackupRuleSpec:
        """Every day at 05:00 UTC, kept 35 days (unless ``retention`` says otherwise)."""
        return BackupRuleSpec(name, schedule, retention or Duration.days(35), move_to_cold_after)

    @staticmethod
    def weekly(
        *,
        retention: Duration | None = None,
        schedule: str = "cron(0 5 ? * SAT *)",
        move_to_cold_after: Duration | None = None,
        name: str = "Weekly",
    ) -> BackupRuleSpec:
        """Every Saturday at 05:00 UTC, kept 90 days."""
        return BackupRuleSpec(name, schedule, retention or Duration.days(90), move_to_cold_after)

    @staticmethod
    def monthly(
        *,
        retention: Duration | None = None,
        schedule: str = "cron(0 5 1 * ? *)",
        move_to_cold_after: Duration | None = None,
        name: str = "Monthly",
    ) -> BackupRuleSpec:
        """The first of every month at 05:00 UTC, kept 365 days (pass ``move_to_cold_after`` to archive)."""
        return BackupRuleSpec(name, schedule, retention or Duration.days(365), move_to_cold_after)


class VaultLockMode(Enum):
    """How a Vault Lock can be undone (AWS Backup developer guide, AWS Backup Vault Lock)."""

    #: Removable: principals IAM and the vault's access policy allow can change or delete the lock at any time
    #: (with ``DataBackupPlan(break_glass_role_arn=...)``, only that role can delete it).
    GOVERNANCE = "governance"
    #: Immutable after a grace period (``changeable_for``, at least 3 days): then nobody, the account's root user
    #: and AWS included, can remove it or shorten a recovery point's retention.
    COMPLIANCE = "compliance"


@dataclass(frozen=True)
class VaultLock:
    """AWS Backup Vault Lock: every backup or copy job into the vault must keep its recovery points between the two
    retentions, and no recovery point can be deleted before ``min_retention``.

    :param min_retention: shortest retention a recovery point may have (at least 1 day).
    :param max_retention: longest retention (at most 36,500 days, above the minimum). Default: no maximum.
    :param mode: :attr:`VaultLockMode.GOVERNANCE` (removable) or :attr:`VaultLockMode.COMPLIANCE` (immutable after
        ``changeable_for``). Default: governance, or compliance when ``changeable_for`` is given.
    :param changeable_for: compliance mode's grace period (3-36,500 days) during which the lock can still be
        changed or removed. Default: 3 days in compliance mode; must be omitted in governance mode.
    """

    min_retention: Duration
    max_retention: Duration | None = None
    changeable_for: Duration | None = None
    mode: VaultLockMode | None = None

    @staticmethod
    def governance(*, min_retention: Duration, max_retention: Duration | None = None) -> VaultLock:
        """A lock that principals allowed by the vault's access policy can remove."""
        return VaultLock(min_retention, max_retention, None, VaultLockMode.GOVERNANCE)

    @staticmethod
    def compliance(
        *,
        min_retention: Duration,
        max_retention: Duration | None = None,
        changeable_for: Duration | None = None,
    ) -> VaultLock:
        """A lock that becomes immutable after ``changeable_for`` (default: the 3-day minimum)."""
        return VaultLock(
            min_retention,
            max_retention,
            changeable_for or Duration.days(LOCK_MIN_GRACE_DAYS),
            VaultLockMode.COMPLIANCE,
        )

    @property
    def effective_mode(self) -> VaultLockMode:
        """The mode, inferred from ``changeable_for`` when ``mode`` is not given."""
        if self.mode is not None:
            return self.mode
        return VaultLockMode.COMPLIANCE if self.changeable_for is not None else VaultLockMode.GOVERNANCE

    @property
    def grace_period(self) -> Duration | None:
        """``ChangeableForDays``: ``changeable_for`` (3 days when compliance mode leaves it out), ``None`` in
        governance mode."""
        if self.effective_mode is VaultLockMode.GOVERNANCE:
            return None
        return self.changeable_for or Duration.days(LOCK_MIN_GRACE_DAYS)


def whole_days(scope: Construct, prop: str, value: Duration | None, low: int, high: int) -> int | None:
    """``value`` in whole days within ``[low, high]`` (``None`` and tokens give ``None``), else raise."""
    if value is None:
        return None
    if not isinstance(value, Duration):
        raise fail(scope, prop, value, "must be an aws_cdk.Duration")
    if value.is_unresolved():
        return None
    days = value.to_days(integral=False)
    if not float(days).is_integer() or not low <= days <= high:
        raise fail(
            scope, prop, value.to_human_string(), f"must be a whole number of days between {low} and {high}"
        )
    return int(days)


def check_rule(scope: Construct, index: int, rule: BackupRuleSpec, lock: VaultLock | None) -> None:
    """Validate one rule (props are named ``rules[<index>].<field>``)."""
    where = f"rules[{index}]"
    if not isinstance(rule, BackupRuleSpec):
        raise fail(scope, where, rule, "must be a BackupRuleSpec (e.g. BackupRuleSpec.daily())")
    if not unresolved(rule.name) and not (isinstance(rule.name, str) and RULE_NAME.match(rule.name)):
        raise fail(scope, f"{where}.name", rule.name, "must be 1-50 letters, digits, '-', '_' or '.'")
    if not unresolved(rule.schedule):
        problem = backup_schedule_problem(rule.schedule)
        if problem:
            raise fail(scope, f"{where}.schedule", rule.schedule, problem)
    if rule.retention is None:
        raise fail(scope, f"{where}.retention", None, "is required: at least 1 day")
    retention = whole_days(scope, f"{where}.retention", rule.retention, 1, MAX_LIFECYCLE_DAYS)
    cold = whole_days(scope, f"{where}.move_to_cold_after", rule.move_to_cold_after, 1, MAX_LIFECYCLE_DAYS)
    if retention is not None and cold is not None and retention < cold + COLD_MINIMUM_DAYS:
        raise fail(
            scope,
            f"{where}.retention",
            f"{retention} days",
            f"must be at least {COLD_MINIMUM_DAYS} days after move_to_cold_after ({cold} days): recovery "
            f"points stay in cold storage at least {COLD_MINIMUM_DAYS} days, so at least "
            f"{cold + COLD_MINIMUM_DAYS} days",
        )
    copy = whole_days(scope, f"{where}.copy_retention", rule.copy_retention, 1, MAX_LIFECYCLE_DAYS)
    if copy is not None and cold is not None and copy < cold + COLD_MINIMUM_DAYS:
        raise fail(
            scope,
            f"{where}.copy_retention",
            f"{copy} days",
            f"must be at least {cold + COLD_MINIMUM_DAYS} days (move_to_cold_after + {COLD_MINIMUM_DAYS})",
        )
    _check_windows(scope, where, rule)
    if lock is not None and retention is not None:
        low = _days(lock.min_retention)
        high = _days(lock.max_retention)
        if low is not None and retention < low:
            raise fail(
                scope,
                f"{where}.retention",
                f"{retention} days",
                f"must be at least the vault lock's min_retention ({low} days)",
            )
        if high is not None and retention > high:
            raise fail(
                scope,
                f"{where}.retention",
                f"{retention} days",
                f"must be at most the vault lock's max_retention ({high} days)",
            )


def _check_windows(scope: Construct, where: str, rule: BackupRuleSpec) -> None:
    for field in ("start_window", "completion_window"):
        value = getattr(rule, field)
        if value is not None and not isinstance(value, Duration):
            raise fail(
                scope, f"{where}.{field}", value, "must be an aws_cdk.Duration such as Duration.hours(8)"
            )
    start = _minutes(rule.start_window)
    done = _minutes(rule.completion_window)
    if start is not None and start < 60:
        raise fail(
            scope,
            f"{where}.start_window",
            rule.start_window.to_human_string(),  # type: ignore[union-attr]
            "must be at least 1 hour",
        )
    if done is not None and done <= (start if start is not None else 0):
        raise fail(
            scope,
            f"{where}.completion_window",
            rule.completion_window.to_human_string(),  # type: ignore[union-attr]
            "must be longer than start_window" if start is not None else "must be positive",
        )


def check_lock(scope: Construct, lock: VaultLock | None) -> None:
    """Validate a vault lock (props ``vault_lock.<field>``)."""
    if lock is None:
        return
    if not isinstance(lock, VaultLock):
        raise fail(scope, "vault_lock", lock, "must be a VaultLock")
    low = whole_days(scope, "vault_lock.min_retention", lock.min_retention, 1, MAX_LIFECYCLE_DAYS)
    high = whole_days(scope, "vault_lock.max_retention", lock.max_retention, 1, MAX_LIFECYCLE_DAYS)
    if low is not None and high is not None and low >= high:
        raise fail(
            scope,
            "vault_lock.min_retention",
            f"{low} days",
            f"must be less than vault_lock.max_retention ({high} days)",
        )
    if lock.mode is not None and not isinstance(lock.mode, VaultLockMode):
        raise fail(
            scope,
            "vault_lock.mode",
            lock.mode,
            "must be VaultLockMode.GOVERNANCE or VaultLockMode.COMPLIANCE",
        )
    if lock.effective_mode is VaultLockMode.GOVERNANCE and lock.changeable_for is not None:
        raise fail(
            scope,
            "vault_lock.changeable_for",
            lock.changeable_for.to_human_string(),
            "applies to compliance mode only (the grace period before the lock becomes immutable): use "
            "VaultLock.compliance(...) or drop changeable_for for a governance-mode lock",
        )
    whole_days(
        scope, "vault_lock.changeable_for", lock.changeable_for, LOCK_MIN_GRACE_DAYS, MAX_LIFECYCLE_DAYS
    )


def cold_storage_problem(rules: list[BackupRuleSpec], selected: set[str]) -> str | None:
    """Why the rules' cold storage would apply to none of the ``selected`` resource types, or ``None``."""
    cold_rules = [r.name for r in rules if r.move_to_cold_after is not None]
    if not cold_rules or selected & COLD_STORAGE_TYPES:
        return None
    chosen = ", ".join(sorted(selected)) or "nothing"
    return (
        f"rules {cold_rules} move recovery points to cold storage, but the plan selects {chosen}; only "
        f"{', '.join(sorted(COLD_STORAGE_TYPES))} support cold storage (AWS Backup ignores it for the "
        "others): "
        "select an EFS file system or EBS volumes, or drop move_to_cold_after"
    )


def _days(value: Duration | None) -> int | None:
    if value is None or value.is_unresolved():
        return None
    return int(value.to_days(integral=False))


def _minutes(value: Duration | None) -> float | None:
    if value is None or value.is_unresolved():
        return None
    return value.to_minutes(integral=False)


def check_destination(scope: Construct, stack: Stack, arn: str) -> None:
    """A copy destination: a backup vault ARN in another Region or account than ``stack``."""
    if unresolved(arn):
        return
    match = VAULT_ARN.match(arn) if isinstance(arn, str) else None
    if not match:
        raise fail(
            scope,
            "copy_to_vault_arn",
            arn,
            "must be a backup vault ARN: arn:<partition>:backup:<region>:<account>:backup-vault:<name>",
        )
    same_region = not unresolved(stack.region) and match["region"] == stack.region
    same_account = not unresolved(stack.account) and match["account"] == stack.account
    if same_region and same_account:
        raise fail(
            scope,
            "copy_to_vault_arn",
            arn,
            "must be a vault in another Region or account (a copy next to the source protects against "
            "neither a Region outage nor a compromised account)",
        )


def check_plan_props(
    scope: Construct,
    stack: Stack,
    *,
    rules: Sequence[BackupRuleSpec],
    vault_lock: VaultLock | None,
    vault_name: str | None,
    plan_name: str | None,
    copy_to_vault_arn: str | None,
) -> list[BackupRuleSpec]:
    """Validate a plan's rules, lock, names and copy destination; the rules as a list."""
    if isinstance(rules, BackupRuleSpec):
        raise fail(scope, "rules", rules, f"must be a list of BackupRuleSpec, not one: [{rules!r}]")
    rules = list(rules)
    if not rules:
        raise fail(scope, "rules", rules, "must hold at least one BackupRuleSpec")
    check_lock(scope, vault_lock)
    for index, rule in enumerate(rules):
        check_rule(scope, index, rule, vault_lock)
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise fail(scope, "rules", names, "rule names must be unique within the plan")
    if vault_name is not None and not (isinstance(vault_name, str) and VAULT_NAME.match(vault_name)):
        raise fail(scope, "vault_name", vault_name, "must be 2-50 letters, digits, '-' or '_'")
    if plan_name is not None and not (isinstance(plan_name, str) and PLAN_NAME.match(plan_name)):
        raise fail(scope, "plan_name", plan_name, "must be 1-50 letters, digits, '-', '_' or '.'")
    if copy_to_vault_arn is not None:
        check_destination(scope, stack, copy_to_vault_arn)
    else:
        for index, rule in enumerate(rules):
            if rule.copy_retention is not None:
                # plan_rule copies only to copy_to_vault_arn: without it the retention would be dropped silently
                raise fail(
                    scope,
                    f"rules[{index}].copy_retention",
                    rule.copy_retention.to_string(),
                    "is the retention of copies in copy_to_vault_arn, which is not given: give the copy "
                    "destination or drop copy_retention",
                )
    return rules


def plan_rule(rule: BackupRuleSpec, destination: backup.IBackupVault | None) -> backup.BackupPlanRule:
    """The L2 rule for a validated :class:`BackupRuleSpec` (copying to ``destination`` when given)."""
    copies = []
    if destination is not None:
        copies.append(
            backup.BackupPlanCopyActionProps(
                destination_backup_vault=destination, delete_after=rule.copy_retention
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
