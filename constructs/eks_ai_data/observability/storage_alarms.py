"""Alarms and dashboard rows for the platform's data stores: FSx for Lustre, EFS, S3 and AWS Backup.

Metric names, namespaces, dimensions and statistics are the ones each service documents:

- FSx for Lustre, ``AWS/FSx`` with the one dimension ``FileSystemId`` (FSx for Lustre user guide, "Amazon FSx
  for Lustre metrics and dimensions", fs-metrics.html): ``FreeDataStorageCapacity`` (``Sum`` over one minute:
  the bytes free in the whole file system), ``DataReadBytes``/``DataWriteBytes`` (``Sum`` divided by the period:
  bytes per second, "How to use FSx for Lustre CloudWatch metrics": total client throughput),
  ``MetadataOperations`` (``Sum``/period: operations per second) and ``ClientConnections``. FSx publishes one
  datapoint per storage target every minute, so a ``Sum`` of a capacity metric is taken over 60 seconds.
- EFS, ``AWS/EFS`` with ``FileSystemId`` (EFS user guide, "CloudWatch metrics for Amazon EFS"):
  ``PercentIOLimit`` (General Purpose performance mode only), ``BurstCreditBalance`` (Bursting throughput),
  ``PermittedThroughput`` (bytes per second) and ``MeteredIOBytes`` (``Sum``/period: metered throughput).
- S3 request metrics, ``AWS/S3`` with ``BucketName`` and ``FilterId`` (S3 user guide, "Metrics and dimensions":
  request metrics exist only for a bucket's metrics configuration, whose id is the ``FilterId``):
  ``4xxErrors``/``5xxErrors``, whose ``Average`` is the share of requests that failed.
- AWS Backup, ``AWS/Backup`` with ``BackupVaultName`` (AWS Backup developer guide, "Monitoring AWS Backup
  metrics with CloudWatch"): ``NumberOfBackupJobsFailed`` and ``NumberOfBackupJobsExpired`` (``Sum``).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_efs as efs

from .. import lustre_sizing as sizing

GIB = 1024**3
#: FSx quotes throughput in MB/s; 1 MB is taken as 10**6 bytes, the smaller reading, so the percent errs high.
MB = 10**6
#: Baseline throughput of the scratch deployment types, MB/s per TiB (FSx for Lustre user guide, "Performance
#: characteristics of SSD and HDD storage classes": SCRATCH_1 and SCRATCH_2 baseline 200 MBps/TiB).
SCRATCH_BASELINE_MBPS_PER_TIB = 200
ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)


def _fsx(metric: str, fs_id: str, statistic: str, period: Duration = ONE_MINUTE) -> cw.Metric:
    return cw.Metric(
        namespace="AWS/FSx",
        metric_name=metric,
        dimensions_map={"FileSystemId": fs_id},
        statistic=statistic,
        period=period,
    )


def _efs(metric: str, fs_id: str, statistic: str, period: Duration) -> cw.Metric:
    return cw.Metric(
        namespace="AWS/EFS",
        metric_name=metric,
        dimensions_map={"FileSystemId": fs_id},
        statistic=statistic,
        period=period,
    )


def lustre(mon: Any, store: Any, *, metadata_iops: int | None = None) -> None:
    """Free capacity, throughput and (user-provisioned) metadata utilization alarms of one LustreStore."""
    t = mon.thresholds
    fs_id = store.file_system_id
    path = store.node.path
    capacity_bytes = store.storage_capacity_gib * GIB
    free = cw.MathExpression(
        expression=f"100 * free / {capacity_bytes}",
        using_metrics={"free": _fsx("FreeDataStorageCapacity", fs_id, "Sum")},
        period=ONE_MINUTE,
        label="free capacity (% of StorageCapacity)",
    )
    alarms = [
        mon.alarm(
            store,
            "LustreFreeCapacity",
            free,
            threshold=t.lustre_free_capacity_percent,
            comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            periods=5,
            description=f"FSx for Lustre {path}: free data capacity below {t.lustre_free_capacity_percent:g}% "
            f"of {store.storage_capacity_gib} GiB for 5 minutes",
            missing=cw.TreatMissingData.MISSING,
        )
    ]
    per_unit = store.per_unit_storage_throughput or SCRATCH_BASELINE_MBPS_PER_TIB
    provisioned = sizing.aggregate_throughput_mbps(store.storage_capacity_gib, per_unit) * MB
    throughput = cw.MathExpression(
        expression=f"100 * (readb + writeb) / PERIOD(readb) / {provisioned:.0f}",
        using_metrics={
            "readb": _fsx("DataReadBytes", fs_id, "Sum", FIVE_MINUTES),
            "writeb": _fsx("DataWriteBytes", fs_id, "Sum", FIVE_MINUTES),
        },
        period=FIVE_MINUTES,
        label="client throughput (% of provisioned)",
    )
    alarms.append(
        mon.alarm(
            store,
            "LustreThroughput",
            throughput,
            threshold=t.lustre_throughput_percent,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            periods=3,
            description=f"FSx for Lustre {path}: client throughput above {t.lustre_throughput_percent:g}% of the "
            f"provisioned {provisioned / MB:.0f} MB/s for 15 minutes",
        )
    )
    ops = cw.MathExpression(
        expression="mdops / PERIOD(mdops)",
        using_metrics={"mdops": _fsx("MetadataOperations", fs_id, "Sum", FIVE_MINUTES)},
        period=FIVE_MINUTES,
        label="metadata operations/s",
    )
    if metadata_iops is not None:
        metadata = cw.MathExpression(
            expression=f"100 * mdops / PERIOD(mdops) / {metadata_iops}",
            using_metrics={"mdops": _fsx("MetadataOperations", fs_id, "Sum", FIVE_MINUTES)},
            period=FIVE_MINUTES,
            label="metadata operations (% of provisioned Metadata IOPS)",
        )
        alarms.append(
            mon.alarm(
                store,
                "LustreMetadata",
                metadata,
                threshold=t.lustre_metadata_percent,
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                periods=3,
                description=f"FSx for Lustre {path}: metadata operations above {t.lustre_metadata_percent:g}% of "
                f"{metadata_iops} provisioned Metadata IOPS for 15 minutes",
            )
        )
    connections = _fsx("ClientConnections", fs_id, "Maximum", FIVE_MINUTES)
    mon.row(
        f"FSx for Lustre {path}",
        [
            cw.GraphWidget(title="Free capacity (%)", left=[free], width=6),
            cw.GraphWidget(title="Client throughput (% of provisioned)", left=[throughput], width=6),
            cw.GraphWidget(title="Metadata operations/s", left=[ops], width=6),
            cw.GraphWidget(title="Client connections", left=[connections], width=6),
        ],
        alarms,
    )


def efs_modes(file_system: efs.IFileSystem) -> tuple[str, str]:
    """(throughput mode, performance mode) of a file system created here, as EFS spells them; EFS's defaults
    (``bursting``, ``generalPurpose``) when the template leaves them unset."""
    cfn = file_system.node.default_child
    stack = Stack.of(file_system)
    throughput = stack.resolve(getattr(cfn, "throughput_mode", None)) or "bursting"
    performance = stack.resolve(getattr(cfn, "performance_mode", None)) or "generalPurpose"
    return str(throughput), str(performance)


def efs_alarms(mon: Any, shared: Any) -> None:
    """Throughput utilization, and PercentIOLimit / BurstCreditBalance where the file system reports them."""
    t = mon.thresholds
    fs_id = shared.file_system_id
    path = shared.node.path
    throughput_mode, performance_mode = efs_modes(shared.file_system)
    utilization = cw.MathExpression(
        expression="100 * (metered / PERIOD(metered)) / permitted",
        using_metrics={
            "metered": _efs("MeteredIOBytes", fs_id, "Sum", FIVE_MINUTES),
            "permitted": _efs("PermittedThroughput", fs_id, "Average", FIVE_MINUTES),
        },
        period=FIVE_MINUTES,
        label="throughput (% of permitted)",
    )
    alarms = [
        mon.alarm(
            shared,
            "EfsThroughput",
            utilization,
            threshold=t.efs_throughput_percent,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            periods=3,
            description=f"EFS {path}: metered throughput above {t.efs_throughput_percent:g}% of "
            "PermittedThroughput for 15 minutes",
        )
    ]
    widgets = [cw.GraphWidget(title="Throughput (% of permitted)", left=[utilization], width=6)]
    if performance_mode == "generalPurpose":
        io_limit = _efs("PercentIOLimit", fs_id, "Maximum", ONE_MINUTE)
        alarms.append(
            mon.alarm(
                shared,
                "EfsIoLimit",
                io_limit,
                threshold=t.efs_io_limit_percent,
                comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                periods=15,
                description=f"EFS {path}: PercentIOLimit at {t.efs_io_limit_percent:g}% of the General Purpose "
                "I/O limit for 15 minutes",
            )
        )
        widgets.append(cw.GraphWidget(title="PercentIOLimit", left=[io_limit], width=6))
    if throughput_mode == "bursting":
        credits = _efs("BurstCreditBalance", fs_id, "Minimum", ONE_MINUTE)
        alarms.append(
            mon.alarm(
                shared,
                "EfsBurstCredits",
                credits,
                threshold=t.efs_burst_credit_bytes,
                comparison=cw.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
                periods=15,
                description=f"EFS {path}: burst credits at {t.efs_burst_credit_bytes:g} bytes for 15 minutes "
                "(throughput falls to the baseline)",
            )
        )
        widgets.append(cw.GraphWidget(title="Burst credit balance", left=[credits], width=6))
    widgets.append(
        cw.GraphWidget(
            title="Client connections", left=[_efs("ClientConnections", fs_id, "Sum", ONE_MINUTE)], width=6
        )
    )
    mon.row(f"EFS {path} ({throughput_mode} throughput, {performance_mode})", widgets, alarms)


def bucket(mon: Any, construct: Any, bucket_name: str, filter_id: str) -> None:
    """4xx and 5xx error-rate alarms from a bucket's request metrics (``filter_id``: its metrics configuration)."""
    t = mon.thresholds
    path = construct.node.path
    alarms = []
    widgets = []
    for code in ("4xx", "5xx"):
        metric = cw.Metric(
            namespace="AWS/S3",
            metric_name=f"{code}Errors",
            dimensions_map={"BucketName": bucket_name, "FilterId": filter_id},
            statistic="Average",
            period=ONE_MINUTE,
        )
        alarms.append(
            mon.alarm(
                construct,
                f"S3{code.upper()}Errors",
                metric,
                threshold=t.s3_error_rate,
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                periods=15,
                description=f"S3 {path}: more than {t.s3_error_rate:.0%} of requests answered {code.upper()} "
                "for 15 minutes",
            )
        )
        widgets.append(cw.GraphWidget(title=f"{code.upper()} error rate", left=[metric], width=6))
    mon.row(f"S3 bucket {path} (request metrics {filter_id})", widgets, alarms)


def backup_plan(mon: Any, plan: Any) -> None:
    """Failed and expired backup jobs of a DataBackupPlan's vault."""
    path = plan.node.path
    vault = plan.vault.backup_vault_name
    alarms = []
    widgets = []
    for metric_name, what in (
        ("NumberOfBackupJobsFailed", "failed"),
        ("NumberOfBackupJobsExpired", "expired (did not start in the start window or finish in time)"),
    ):
        metric = cw.Metric(
            namespace="AWS/Backup",
            metric_name=metric_name,
            dimensions_map={"BackupVaultName": vault},
            statistic="Sum",
            period=FIVE_MINUTES,
        )
        alarms.append(
            mon.alarm(
                plan,
                metric_name.removeprefix("NumberOf"),
                metric,
                threshold=0,
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                periods=1,
                description=f"AWS Backup {path}: a backup job {what}; the plan's notification topic carries "
                "the job's details",
            )
        )
        widgets.append(cw.GraphWidget(title=metric_name, left=[metric], width=6))
    mon.row(f"AWS Backup {path}", widgets, alarms)
