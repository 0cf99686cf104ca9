"""The inference platform, in two kinds of stacks (see :mod:`stacks.training` for the split).

- :class:`InferenceDataStack`: keys, the VPC, the model bucket, the model cache (an EFS access point
  ``/inference/models``, or an FSx for Lustre file system linked to ``s3://<bucket>/models/``), backups.
- :class:`InferenceClusterStack`: one cluster serving from that cache through a static volume and claim, with a
  read-only identity on the models and its nodes admitted to the cache (rules created here).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from constructs import Construct

from eks_ai_data.backup import DataBackupPlan
from eks_ai_data.backup_restore_testing import RestoreTestSpec
from eks_ai_data.backup_rules import BackupRuleSpec
from eks_ai_data.bucket import DataBucket
from eks_ai_data.compute.karpenter import Karpenter
from eks_ai_data.compute.node_pools import GpuNodePool
from eks_ai_data.efs import SharedEfs
from eks_ai_data.governance import DatasetCatalog, DatasetSpec
from eks_ai_data.lustre import DataRepositoryLink, LustreStore
from eks_ai_data.nodegroups import GpuNodeGroup
from eks_ai_data.observability import StorageMonitoring
from eks_ai_data.patterns.cluster_storage import ClusterStorage
from eks_ai_data.patterns.model_repository import ModelRepository

from .base import ClusterStack, DataStack
from .config import PlatformConfig

INFERENCE_NAMESPACE = "inference"
MODELS_PREFIX = "models"
#: POSIX owner of the model files on the EFS access point (ModelRepository's default).
MODEL_UID = 1000


class InferenceDataStack(DataStack):
    """Keys, VPC, model bucket, model cache and backups of the inference platform."""

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, config=config, platform="inference", **kwargs)
        vpc = self.network.vpc
        models = Construct(self, "Models")
        self.model_bucket = DataBucket(models, "Bucket", encryption_key=self.keys.data_key)
        self.network.allow_bucket(self.model_bucket.bucket)
        self.efs: SharedEfs | None = None
        self.lustre: LustreStore | None = None
        if config.model_cache == "efs":
            self.efs = SharedEfs(
                models, "Cache", vpc=vpc, node_security_groups=[], kms_key=self.keys.data_key
            )
            self.access_point = self.efs.add_access_point(
                f"{INFERENCE_NAMESPACE}-models",
                path=f"/{INFERENCE_NAMESPACE}/models",
                uid=MODEL_UID,
                gid=MODEL_UID,
                permissions="755",
            )
        else:
            self.lustre = LustreStore(
                models,
                "Cache",
                vpc=vpc,
                subnet=vpc.private_subnets[0],
                node_security_groups=[],
                kms_key=self.keys.data_key,
                data_repositories=[
                    DataRepositoryLink(
                        file_system_path="/models",
                        bucket=self.model_bucket.bucket,
                        prefix=f"{MODELS_PREFIX}/",
                    )
                ],
            )
        self.backups = DataBackupPlan(
            self,
            "Backups",
            backup_key=self.keys.backup_key,
            rules=[BackupRuleSpec.daily(retention=Duration.days(config.backup_retention_days))],
            # restore tests monthly (EFS, EBS, S3); EBS volumes restore with their snapshot's key, the data key
            restore_testing=RestoreTestSpec(keys=[self.keys.data_key]),
        )
        if self.efs is not None:
            self.backups.add_efs(self.efs.file_system)
        # A Lustre cache is linked to the model bucket, which FSx does not back up: the bucket is the durable copy.
        self.backups.add_bucket(self.model_bucket.bucket)
        self.backups.add_ebs_by_tag()

        # -- Monitoring of the data and the model catalog (kept last: the monitoring finds what the stack holds)
        self.monitoring = StorageMonitoring(
            self, "Monitoring", topic_key=self.keys.data_key, alarm_email=config.alarm_email
        )
        self.catalog = DatasetCatalog(
            self,
            "Catalog",
            key=self.keys.data_key,
            datasets=[
                DatasetSpec(name="models", bucket=self.model_bucket.bucket, prefix=f"{MODELS_PREFIX}/")
            ],
        )


class InferenceClusterStack(ClusterStack):
    """One inference cluster serving an :class:`InferenceDataStack`'s models."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        data: InferenceDataStack,
        kubernetes_version: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            id,
            config=config,
            data=data,
            kubernetes_version=kubernetes_version,
            platform="inference",
            **kwargs,
        )
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
            model_bucket=data.model_bucket.bucket,
            models_prefix=MODELS_PREFIX,
            uid=MODEL_UID,
            efs=data.efs,
            access_point=data.access_point if data.efs is not None else None,
            lustre=data.lustre,
        )
        # With a Lustre cache, serve from the cache's AZ; an EFS cache is reachable from every AZ.
        subnet = data.lustre.subnet if data.lustre is not None else None
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
        # The cluster's Kubernetes state in the data stack's plan (the selection is created here).
        data.backups.add_eks_cluster(self.platform)
        data.catalog.grant_read(self.models.identity)

        # -- Monitoring of this cluster's GPU nodes, pending pods and EBS volumes (Container Insights), kept last
        self.monitoring = StorageMonitoring(
            self, "Monitoring", topic_key=data.keys.data_key, alarm_email=config.alarm_email
        )


__all__ = ["InferenceClusterStack", "InferenceDataStack"]
