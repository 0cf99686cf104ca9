"""The inference platform: cluster with a GPU inference node group, a model repository, and a backup plan."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from constructs import Construct

from eks_ai_data.backup import DataBackupPlan
from eks_ai_data.backup_rules import BackupRuleSpec
from eks_ai_data.compute.karpenter import Karpenter
from eks_ai_data.compute.node_pools import GpuNodePool
from eks_ai_data.network import ZonalStack
from eks_ai_data.nodegroups import GpuNodeGroup
from eks_ai_data.patterns.cluster_storage import ClusterStorage
from eks_ai_data.patterns.model_repository import ModelRepository

from .config import PlatformConfig

INFERENCE_NAMESPACE = "inference"


class InferencePlatformStack(ZonalStack):
    """Model serving: models in S3, cached on EFS (or Lustre), mounted read-write-many by inference pods."""

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        super().__init__(
            scope, id, env=config.env, availability_zones=config.availability_zones or None, **kwargs
        )
        self.keys, self.platform = config.cluster(self)
        self.engine = config.engine(self, self.platform)  # what brings GPU nodes up from zero
        self.storage = ClusterStorage(
            self, "InCluster", cluster=self.platform, namespaces=[INFERENCE_NAMESPACE]
        )
        self.models = ModelRepository(
            self,
            "Models",
            cluster=self.platform,
            storage=self.storage,
            namespace=INFERENCE_NAMESPACE,
            cache=config.model_cache,
        )
        # With a Lustre cache, serve from the cache's AZ; an EFS cache is reachable from every AZ.
        subnet = self.models.lustre.subnet if self.models.lustre is not None else None
        self.gpu_nodes: GpuNodeGroup | GpuNodePool
        if isinstance(self.engine, Karpenter):
            self.gpu_nodes = GpuNodePool(
                self,
                "InferenceGpuNodePool",
                karpenter=self.engine,
                instance_types=config.inference_gpu_instance_types,
                gpu_limit=config.gpu_limit(
                    config.inference_gpu_instance_types, config.inference_gpu_max_nodes
                ),
                subnet=subnet,
            )
        else:
            self.gpu_nodes = GpuNodeGroup(
                self,
                "InferenceGpuNodes",
                cluster=self.platform,
                instance_types=config.inference_gpu_instance_types,
                max_size=config.inference_gpu_max_nodes,
                subnet=subnet,
            )
        self.backups = DataBackupPlan(
            self,
            "Backups",
            backup_key=self.keys.backup_key,
            rules=[BackupRuleSpec.daily(retention=Duration.days(config.backup_retention_days))],
        )
        if self.models.efs is not None:
            self.backups.add_efs(self.models.efs.file_system)
        # A Lustre cache is linked to the model bucket, which FSx does not back up: the bucket is the durable copy.
        self.backups.add_bucket(self.models.bucket)
        self.backups.add_ebs_by_tag()
