"""The training platform reference stack."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from eks_ai_data.cluster import AiCluster
from eks_ai_data.keys import DataKeys
from eks_ai_data.nodegroups import GpuNodeGroup, NvmeNodeGroup

from constructs import Construct


class TrainingPlatformStack(Stack):
    """Cluster with system, GPU and NVMe node groups, for distributed training."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.keys = DataKeys(self, "Keys")
        self.platform = AiCluster(self, "Platform", keys=self.keys)
        self.gpu_nodes = GpuNodeGroup(
            self, "GpuNodes", cluster=self.platform, instance_types=["p5.48xlarge"], efa=True, max_size=2
        )
        self.nvme_nodes = NvmeNodeGroup(
            self, "NvmeNodes", cluster=self.platform, instance_types=["i4i.8xlarge", "i4i.16xlarge"]
        )
