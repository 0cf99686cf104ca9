"""Compute capacity for accelerated work (layer 2): what scales GPU and NVMe nodes up from zero, what equips them.

- :class:`~eks_ai_data.compute.autoscaler.ClusterAutoscaler`: the Cluster Autoscaler for managed node groups (the
  default engine); each :class:`~eks_ai_data.nodegroups.GpuNodeGroup` and
  :class:`~eks_ai_data.nodegroups.NvmeNodeGroup` tags its EKS-created Auto Scaling group so that CA discovers it
  and knows its nodes before one exists (:mod:`~eks_ai_data.compute.asg_tags`).
- :class:`~eks_ai_data.compute.karpenter.Karpenter` with :class:`~eks_ai_data.compute.node_pools.GpuNodePool` and
  :class:`~eks_ai_data.compute.node_pools.NvmeNodePool`: the alternative engine.
- :mod:`~eks_ai_data.compute.device_plugins`: the EFA and Neuron device plugins, installed once per cluster by the
  node groups and pools that have the hardware.
- :class:`~eks_ai_data.compute.node_health.NodeMonitoringAgent`: the EKS node monitoring agent, which node auto
  repair of GPU groups needs.
"""
