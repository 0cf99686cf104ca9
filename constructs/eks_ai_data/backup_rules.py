"""Backup rules, vault lock and their checks for :class:`~eks_ai_data.backup.DataBackupPlan`.

Facts the checks rely on (AWS Backup developer guide and API reference):

- a rule's schedule is a cron expression (no ``rate``), at most hourly (:mod:`eks_ai_data.schedule`);
- lifecycle days are whole days, at most 36,500 (100 years); a recovery point moved to cold storage stays
  there at least 90 days, so ``retention >= move_to_cold_after + 90 days``;
- a rule name is 1-50 of letters, digits, ``-``, ``_``, ``.``; a start window is at least 60 minutes;
- vault lock: minimum retention at least 1 day, maximum at most 36,500 days and above the minimum, and a
  grace period (``changeable_for``) of at least 3 days (72 hours) before the lock becomes immutable;
- cold storage applies to some resource types only (:data:`COLD_STORAGE_TYPES`); AWS Backup silently ignores
  it for the others (S3, FSx), so a plan whose cold storage would apply to nothing is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from constructs import Construct

from ._validate import fail, unresolved
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

#: Resource types (AWS Backup names) whose recovery points can move to cold storage ("Lifecycle to cold
#: storage" in AWS Backup's feature-availability table). EBS goes to the EBS Snapshots Archive tier, which
#: is not offered in the China and GovCloud (US) Regions; the plan opts rules in with
#: ``OptInToArchiveForSupportedResources``.
COLD_STORAGE_TYPES = frozenset({"EFS", "EBS"})
#: Resource types this library selects: EFS and FSx (Lustre) file systems, EBS volumes, S3 buckets.
SELECTABLE_TYPES = ("EFS", "FSx", "EBS", "S3")


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


@dataclass(frozen=True)
class VaultLock:
    """AWS Backup Vault Lock: every recovery point in the vault is kept between the two retentions.

    :param min_retention: shortest retention a recovery point may have (at least 1 day).
    :param max_retention: longest retention (at most 36,500 days, above the minimum). Default: no maximum.
    :param changeable_for: grace period (at least 3 days) after which the lock is immutable (compliance mode):
        nobody, AWS included, can then remove it or shorten the retention. Default: ``None``: governance mode,
        the lock can be removed by principals allowed ``backup:DeleteBackupVaultLockConfiguration``.
    """

    min_retention: Duration
    max_retention: Duration | None = None
    changeable_for: Duration | None = None


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
    if not unresolved(rule.name) and not RULE_NAME.match(str(rule.name)):
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
    match = VAULT_ARN.match(arn)
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
