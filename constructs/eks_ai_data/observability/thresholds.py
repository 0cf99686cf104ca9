"""Alarm thresholds of :class:`~eks_ai_data.observability.StorageMonitoring` (:class:`AlarmThresholds`).

Each default says where it comes from. Where AWS publishes a recommended alarm for the metric (CloudWatch user
guide, "Recommended alarms", Best_Practice_Recommended_Alarms_AWS_Services.html) the default is AWS's, statistic,
period and datapoints included; where AWS publishes no number the default is the project's, with its reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from constructs import Construct

from .._validate import fail


@dataclass(frozen=True)
class AlarmThresholds:
    """Thresholds of the storage, backup and accelerator alarms (percentages are 0-100).

    :param lustre_free_capacity_percent: alarm when an FSx for Lustre file system's free data capacity
        (``FreeDataStorageCapacity`` as a percent of its ``StorageCapacity``) falls below this. Default: 15
        (the FSx for Lustre user guide's troubleshooting of ``lfs migrate`` treats storage targets over 85%
        used as the point to act: doc_source/lfs-migrate-ts.md of awsdocs/amazon-fsx-lustre-user-guide).
    :param lustre_throughput_percent: alarm when client throughput (``DataReadBytes`` + ``DataWriteBytes`` per
        second) exceeds this percent of the provisioned throughput (capacity in TiB x MB/s/TiB) for 15 minutes.
        Default: 80 (the project's: AWS publishes no Lustre number; sustained use near the provisioned baseline
        leaves no headroom for bursts and background S3 import/export).
    :param lustre_metadata_percent: alarm when metadata operations per second exceed this percent of the
        user-provisioned Metadata IOPS for 15 minutes (file systems in USER_PROVISIONED metadata mode only).
        Default: 80 (the project's, as for throughput).
    :param efs_throughput_percent: alarm when EFS metered throughput (``MeteredIOBytes`` per second) exceeds
        this percent of ``PermittedThroughput`` for 15 minutes. Default: 80 (the project's: AWS publishes none).
    :param efs_io_limit_percent: alarm when ``PercentIOLimit`` (General Purpose mode) reaches this. Default: 100
        (CloudWatch recommended alarms for Amazon EFS: Maximum >= 100 for 15 of 15 one-minute periods).
    :param efs_burst_credit_bytes: alarm when ``BurstCreditBalance`` (Bursting throughput) falls to this.
        Default: 0 (CloudWatch recommended alarms for Amazon EFS: Minimum <= 0 for 15 of 15 one-minute periods).
    :param s3_error_rate: alarm when the share of requests answered with 4xx (or 5xx) errors exceeds this, as
        a fraction of 1 (``4xxErrors``/``5xxErrors`` Average: each request reports 0 or 1). Default: 0.05
        (CloudWatch recommended alarms for Amazon S3: Average > 0.05 for 15 of 15 one-minute periods).
    :param gpu_memory_percent: alarm when the highest GPU frame-buffer use of a node group's GPUs
        (``node_gpu_memory_utilization``) reaches this for 15 minutes (out-of-memory is next). Default: 90 (the
        project's: NVIDIA and AWS publish no threshold).
    :param gpu_idle_percent: alarm when the average utilization of a node group's GPUs (``node_gpu_utilization``,
        Neuron: ``node_neuroncore_utilization``) stays below this for an hour while nodes run (paid-for GPUs
        idle). Default: 10 (the project's).
    :param pending_pods: alarm when at least this many pods of the cluster are pending (``pod_status_pending``)
        for 30 minutes (a GPU node that cannot launch: quota, capacity, placement). Default: 1 (the project's:
        GPU nodes scale from zero and take minutes to join, so the alarm waits 30 minutes).
    :param ebs_queue_length: alarm when the longest queue of any EBS volume of the cluster's nodes
        (``node_diskio_ebs_volume_queue_length``) exceeds this for 15 minutes. Default: 3 (Amazon EBS user
        guide, "I/O characteristics and monitoring": SSD volumes perform best with a queue of about 1 per 1,000
        IOPS; the platform's gp3 volumes have gp3's baseline of 3,000 IOPS).
    """

    lustre_free_capacity_percent: float = 15
    lustre_throughput_percent: float = 80
    lustre_metadata_percent: float = 80
    efs_throughput_percent: float = 80
    efs_io_limit_percent: float = 100
    efs_burst_credit_bytes: float = 0
    s3_error_rate: float = 0.05
    gpu_memory_percent: float = 90
    gpu_idle_percent: float = 10
    pending_pods: float = 1
    ebs_queue_length: float = 3

    def check(self, scope: Construct, prop: str = "thresholds") -> None:
        """Raise unless every threshold is a number in its range (percentages 0-100, a rate 0-1, counts >= 0)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise fail(scope, f"{prop}.{f.name}", value, "must be a number")
            if not math.isfinite(value):
                # a CloudWatch alarm's Threshold is a finite double (the template is JSON: no Infinity or NaN)
                raise fail(scope, f"{prop}.{f.name}", value, "must be a finite number")
            if f.name.endswith("_percent"):
                ok, allowed = 0 < value <= 100, "must be a percentage above 0 and at most 100"
            elif f.name == "s3_error_rate":
                ok, allowed = 0 < value < 1, "must be a fraction of requests above 0 and below 1"
            elif f.name == "pending_pods":
                ok, allowed = value >= 1 and value == int(value), "must be a whole number of pods, at least 1"
            else:
                ok, allowed = value >= 0, "must be 0 or more"
            if not ok:
                raise fail(scope, f"{prop}.{f.name}", value, allowed)
