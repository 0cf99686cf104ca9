"""The EKS node monitoring agent (:class:`NodeMonitoringAgent`), which node auto repair of GPU groups relies on.

The agent (EKS add-on ``eks-node-monitoring-agent``, source aws/eks-node-monitoring-agent) watches each node's
kernel, container runtime, network, storage and accelerators (NVIDIA through DCGM, Neuron) and reports faults as
node conditions, ``AcceleratedHardwareReady`` among them. EKS node auto repair of a managed node group
(``NodeRepairConfig``, :class:`~eks_ai_data.node_repair.NodeRepair`) acts on those conditions: without the agent
it sees only ``Ready``, and a GPU that fails while its node stays Ready stalls a training job silently.

"This add-on doesn't require additional permissions" (EKS user guide ``workloads/eks-add-ons``): no role. Its
DaemonSet tolerates every taint, so it runs on GPU, Neuron and NVMe nodes alike. :class:`~eks_ai_data.cluster.AiCluster`
installs it by default; for an imported cluster create one (unless the cluster has it already).
"""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from .._validate import require, unresolved
from ..capacity_versions import NODE_MONITORING_AGENT_ADDON
from ..cluster_interface import IAiCluster, require_ai_cluster


class NodeMonitoringAgent(Construct):
    """The ``eks-node-monitoring-agent`` EKS add-on on ``cluster``.

    :param cluster: the cluster (created or imported). Required.
    :param version: pin the add-on version (``v1.7.0-eksbuild.1``). Default: EKS's default for the cluster version.

    Attribute: ``addon``.
    """

    def __init__(self, scope: Construct, id: str, *, cluster: IAiCluster, version: str | None = None) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        if version is not None and not unresolved(version):
            require(
                self,
                isinstance(version, str) and version.startswith("v"),
                "version",
                version,
                "must be an add-on version (v1.2.3-eksbuild.N)",
            )
        self.addon = eks.Addon(
            self,
            "Addon",
            cluster=cluster.cluster,
            addon_name=NODE_MONITORING_AGENT_ADDON,
            addon_version=version,
            preserve_on_delete=False,
        )
