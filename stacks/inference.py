"""The inference platform: cluster with a GPU inference node group, a model repository, and a backup plan."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from constructs import Construct

from eks_ai_data.backup import DataBackupPlan
from eks_ai_data.backup_restore_testing import RestoreTestSpec
from eks_ai_data.backup_rules import BackupRuleSpec
from eks_ai_data.governance import DatasetCatalog, DatasetSpec
from eks_ai_data.network import ZonalStack
from eks_ai_data.nodegroups import GpuNodeGroup
from eks_ai_data.observability import StorageMonitoring
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
        self.gpu_nodes = GpuNodeGroup(
            self,
            "InferenceGpuNodes",
            cluster=self.platform,
            instance_types=config.inference_gpu_instance_types,
            max_size=config.inference_gpu_max_nodes,
            subnet=self.models.lustre.subnet if self.models.lustre is not None else None,
        )
        # Restore tests monthly (EFS, EBS, S3); EBS volumes restore with their snapshot's key, the data key.
        self.backups = DataBackupPlan(
            self,
            "Backups",
            backup_key=self.keys.backup_key,
            rules=[BackupRuleSpec.daily(retention=Duration.days(config.backup_retention_days))],
            restore_testing=RestoreTestSpec(keys=[self.keys.data_key]),
        )
        if self.models.efs is not None:
            self.backups.add_efs(self.models.efs.file_system)
        # A Lustre cache is linked to the model bucket, which FSx does not back up: the bucket is the durable copy.
        self.backups.add_bucket(self.models.bucket)
        self.backups.add_ebs_by_tag()
        # The cluster's Kubernetes state (and the volumes its claims use) as one composite recovery point.
        self.backups.add_eks_cluster(self.platform)

        # -- Monitoring and the model catalog (kept last: the monitoring finds what the stack contains) --------
        self.monitoring = StorageMonitoring(
            self, "Monitoring", topic_key=self.keys.data_key, alarm_email=config.alarm_email
        )
        self.catalog = DatasetCatalog(
            self,
            "Catalog",
            key=self.keys.data_key,
            datasets=[
                DatasetSpec(
                    name="models", bucket=self.models.data_bucket or self.models.bucket, prefix="models/"
                )
            ],
        )
        self.catalog.grant_read(self.models.identity)
