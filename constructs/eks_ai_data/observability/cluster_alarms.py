"""Alarms and dashboard rows from Container Insights: GPU (and Neuron) node groups, pending pods, EBS volumes.

Names and dimensions are the ``ContainerInsights`` namespace's (CloudWatch user guide, "Amazon EKS and Kubernetes
Container Insights with enhanced observability metrics", Container-Insights-metrics-enhanced-EKS.html):

- ``node_gpu_utilization`` and ``node_gpu_memory_utilization`` (percent) with ``ClusterName``, or
  ``ClusterName``/``InstanceId``/``NodeName``, or ``ClusterName``/``InstanceId``/``InstanceType``/``NodeName``/
  ``GpuDevice``; ``node_neuroncore_utilization`` with ``ClusterName``/``InstanceType``/``InstanceId``/
  ``NodeName``/``NeuronDevice``/``NeuronCore``. The list has no XID-error metric (the DCGM exporter the add-on runs
  feeds only the metrics listed), so there is no XID alarm: watch XIDs with EKS node health (node auto repair is
  on for every node group) or your own DCGM exporter scrape.
- ``pod_status_pending`` with ``ClusterName`` (also per pod, never per node group: a pending pod has no node).
- ``node_diskio_ebs_volume_queue_length`` with ``ClusterName``/``NodeName``/``InstanceId``/``VolumeId``, and
  ``node_diskio_ebs_total_read_bytes``/``_write_bytes``/``node_diskio_ebs_volume_performance_exceeded_tp``
  (EBS NVMe driver metrics: CloudWatch Observability add-on 4.1.0 or later and the EBS CSI driver with
  ``node.enableMetrics``, see :meth:`ContainerInsights.enable_ebs_metrics`).

Dimensions that cannot be known at synth time (instance ids, node names, volume ids, GPU devices: nodes come and go)
are handled with CloudWatch Metrics Insights queries, which aggregate over them: ``SELECT MAX(...) FROM
SCHEMA(ContainerInsights, <the metric's full dimension set>) WHERE ClusterName = '<cluster>' AND InstanceType =
'<type>'`` selects a node group's GPUs by the instance types it launches. An alarm on such a query returns one
time series, as metric alarms require (CloudWatch user guide, "Create alarms on Metrics Insights queries").
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

FIVE_MINUTES = Duration.minutes(5)
#: The full dimension sets the queries name (Metrics Insights ``SCHEMA`` needs every key of a set).
GPU_SCHEMA = "SCHEMA(ContainerInsights, ClusterName, GpuDevice, InstanceId, InstanceType, NodeName)"
NEURON_SCHEMA = (
    "SCHEMA(ContainerInsights, ClusterName, InstanceId, InstanceType, NeuronCore, NeuronDevice, NodeName)"
)
EBS_SCHEMA = "SCHEMA(ContainerInsights, ClusterName, InstanceId, NodeName, VolumeId)"


def _insights(function: str, metric: str, schema: str, where: str, label: str) -> cw.MathExpression:
    return cw.MathExpression(
        # a CloudWatch Metrics Insights query built from constants, instance types and the cluster name
        expression=f"SELECT {function}({metric}) FROM {schema} WHERE {where}",  # noqa: S608
        using_metrics={},
        period=FIVE_MINUTES,
        label=label,
    )


def _types_clause(instance_types: list[str]) -> str:
    return " OR ".join(f"InstanceType = '{name}'" for name in instance_types)


def node_group(mon: Any, group: Any, cluster_name: str) -> None:
    """GPU memory (NVIDIA) and idle-accelerator alarms of one GpuNodeGroup, selected by its instance types."""
    t = mon.thresholds
    path = group.node.path
    types = [spec.name for spec in group.instance_specs]
    where = f"ClusterName = '{cluster_name}' AND ({_types_clause(types)})"
    alarms = []
    widgets = []
    if group.accelerator_kind == "nvidia":
        utilization = _insights("AVG", "node_gpu_utilization", GPU_SCHEMA, where, "GPU utilization (avg %)")
        memory = _insights(
            "MAX", "node_gpu_memory_utilization", GPU_SCHEMA, where, "GPU memory utilization (max %)"
        )
        alarms.append(
            mon.alarm(
                group,
                "GpuMemory",
                memory,
                threshold=t.gpu_memory_percent,
                comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                periods=3,
                description=f"GPU node group {path} ({', '.join(types)}): a GPU's memory at "
                f"{t.gpu_memory_percent:g}% or more for 15 minutes",
            )
        )
        widgets += [
            cw.GraphWidget(title="GPU utilization (avg %)", left=[utilization], width=8),
            cw.GraphWidget(title="GPU memory utilization (max %)", left=[memory], width=8),
        ]
    else:
        utilization = _insights(
            "AVG", "node_neuroncore_utilization", NEURON_SCHEMA, where, "NeuronCore utilization (avg %)"
        )
        widgets.append(cw.GraphWidget(title="NeuronCore utilization (avg %)", left=[utilization], width=8))
    alarms.append(
        mon.alarm(
            group,
            "AcceleratorsIdle",
            utilization,
            threshold=t.gpu_idle_percent,
            comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            periods=12,
            description=f"Node group {path} ({', '.join(types)}): accelerators below {t.gpu_idle_percent:g}% "
            "utilization on average for an hour while nodes run (idle capacity is still billed)",
        )
    )
    mon.row(f"Accelerator node group {path}", widgets, alarms)


def cluster(mon: Any, ai_cluster: Any) -> None:
    """Pending pods and EBS volume queue length of one cluster."""
    t = mon.thresholds
    path = ai_cluster.node.path
    name = ai_cluster.cluster.cluster_name
    pending = cw.Metric(
        namespace="ContainerInsights",
        metric_name="pod_status_pending",
        dimensions_map={"ClusterName": name},
        statistic="Maximum",
        period=FIVE_MINUTES,
    )
    queue = _insights(
        "MAX",
        "node_diskio_ebs_volume_queue_length",
        EBS_SCHEMA,
        f"ClusterName = '{name}'",
        "EBS volume queue length (max over volumes)",
    )
    alarms = [
        mon.alarm(
            ai_cluster,
            "PendingPods",
            pending,
            threshold=t.pending_pods,
            comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            periods=6,
            description=f"Cluster {path}: {t.pending_pods:g} or more pods pending for 30 minutes (a node that "
            "cannot launch: quota, capacity, zone, taints)",
        ),
        mon.alarm(
            ai_cluster,
            "EbsQueueLength",
            queue,
            threshold=t.ebs_queue_length,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            periods=3,
            description=f"Cluster {path}: an EBS volume's queue above {t.ebs_queue_length:g} operations for "
            "15 minutes (the volume is saturated)",
        ),
    ]

    def ebs(metric: str) -> cw.Metric:
        return cw.Metric(
            namespace="ContainerInsights",
            metric_name=metric,
            dimensions_map={"ClusterName": name},
            statistic="Sum",
            period=FIVE_MINUTES,
        )

    mon.row(
        f"Cluster {path}",
        [
            cw.GraphWidget(title="Pending pods", left=[pending], width=6),
            cw.GraphWidget(title="EBS queue length (max)", left=[queue], width=6),
            cw.GraphWidget(
                title="EBS bytes read / written",
                left=[ebs("node_diskio_ebs_total_read_bytes"), ebs("node_diskio_ebs_total_write_bytes")],
                width=6,
            ),
            cw.GraphWidget(
                title="EBS throughput limit exceeded (µs)",
                left=[ebs("node_diskio_ebs_volume_performance_exceeded_tp")],
                width=6,
            ),
        ],
        alarms,
    )
