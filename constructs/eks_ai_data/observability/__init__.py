"""Observability (layer 2): CloudWatch alarms, a dashboard and Container Insights for a platform.

- :class:`StorageMonitoring`: alarms on every data store, backup plan, accelerator node group and cluster, one
  dashboard, an encrypted SNS topic.
- :class:`ContainerInsights`: the ``amazon-cloudwatch-observability`` EKS add-on with GPU metrics and its identity.
- :class:`AlarmThresholds`: the thresholds, each default with its source.
"""

from __future__ import annotations

from .container_insights import ContainerInsights, ContainerInsightsOptions
from .monitoring import StorageMonitoring
from .thresholds import AlarmThresholds

__all__ = ["AlarmThresholds", "ContainerInsights", "ContainerInsightsOptions", "StorageMonitoring"]
