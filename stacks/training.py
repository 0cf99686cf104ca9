"""The training platform: cluster with system, GPU and NVMe node groups; distributed dataset; checkpoints;
a shared EFS with per-team access points; a backup plan."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from constructs import Construct

from eks_ai_data.backup import DataBackupPlan
from eks_ai_data.backup_rules import BackupRuleSpec
from eks_ai_data.compute.karpenter import Karpenter
from eks_ai_data.compute.node_pools import NvmeNodePool
from eks_ai_data.efs import SharedEfs
from eks_ai_data.identity import WorkloadIdentity
from eks_ai_data.k8s import EfsClassSpec, EfsVolumeSpec, ServiceAccountSpec
from eks_ai_data.network import ZonalStack
from eks_ai_data.nodegroups import NvmeNodeGroup
from eks_ai_data.patterns.cluster_storage import ClusterStorage
from eks_ai_data.patterns.distributed_dataset import DistributedDataset
from eks_ai_data.patterns.training_checkpoints import TrainingCheckpoints

from .config import PlatformConfig

TRAINING_NAMESPACE = "training"


class TrainingPlatformStack(ZonalStack):
    """Distributed training: datasets on Lustre next to the GPUs, checkpoints from NVMe to S3, shared team storage."""

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        super().__init__(
            scope, id, env=config.env, availability_zones=config.availability_zones or None, **kwargs
        )
        self.keys, self.platform = config.cluster(self)
        # Capacity: what brings the GPU and NVMe nodes up from zero (config.capacity_engine).
        self.engine = config.engine(self, self.platform)
        karpenter = self.engine if isinstance(self.engine, Karpenter) else None
        self.shared_efs = SharedEfs(
            self,
            "SharedEfs",
            vpc=self.platform.vpc,
            node_security_groups=[self.platform.node_security_group],
            kms_key=self.keys.data_key,
        )
        team_namespaces = [f"team-{team}" for team in config.teams]
        self.storage = ClusterStorage(
            self,
            "InCluster",
            cluster=self.platform,
            shared_efs=[self.shared_efs],
            namespaces=[TRAINING_NAMESPACE, *team_namespaces],
            efs_classes=[EfsClassSpec(file_system_id=self.shared_efs.file_system_id, name="efs-ap")],
            local_volumes=config.nvme_mode == "local-volumes",
        )

        self.dataset = DistributedDataset(
            self,
            "Dataset",
            cluster=self.platform,
            storage=self.storage,
            namespace=TRAINING_NAMESPACE,
            gpu_instance_types=config.training_gpu_instance_types,
            gpu_node_group_props=None
            if karpenter
            else {"efa": config.training_gpu_efa, "max_size": config.training_gpu_max_nodes},
            karpenter=karpenter,
            gpu_node_pool_props={
                "efa": config.training_gpu_efa,
                "gpu_limit": config.gpu_limit(
                    config.training_gpu_instance_types, config.training_gpu_max_nodes
                ),
            }
            if karpenter
            else None,
            storage_capacity_gib=config.lustre_storage_gib,
            per_unit_storage_throughput=config.lustre_throughput,
        )
        self.nvme_nodes: NvmeNodeGroup | NvmeNodePool
        if karpenter is None:
            self.nvme_nodes = NvmeNodeGroup(
                self,
                "NvmeNodes",
                cluster=self.platform,
                instance_types=config.nvme_instance_types,
                mode=config.nvme_mode,
                taint=True,
            )
        else:
            self.nvme_nodes = NvmeNodePool(
                self,
                "NvmeNodePool",
                karpenter=karpenter,
                instance_types=config.nvme_instance_types,
                mode=config.nvme_mode,
                taint=True,
            )
        self.checkpoints = TrainingCheckpoints(
            self,
            "Checkpoints",
            cluster=self.platform,
            storage=self.storage,
            namespace=TRAINING_NAMESPACE,
            scratch_node_groups=[self.dataset.gpu_nodes],
            lustre=self.dataset.lustre,
            expire_after=Duration.days(config.checkpoint_retention_days),
        )

        # The training job's identity: read the dataset, write checkpoints (and nothing else).
        self.trainer = WorkloadIdentity(
            self,
            "Trainer",
            cluster=self.platform.cluster,
            namespace=TRAINING_NAMESPACE,
            service_account="trainer",
        )
        self.trainer.read_prefix(self.dataset.bucket, "datasets")
        self.trainer.write_prefix(self.checkpoints.bucket, self.checkpoints.prefix)
        self.storage.add_service_accounts(
            "Trainer",
            [
                ServiceAccountSpec(
                    name="trainer", namespace=TRAINING_NAMESPACE, role_arn=self.trainer.irsa_role_arn
                )
            ],
        )

        # One access point (and claim) per team on the shared EFS.
        team_volumes = []
        for team, namespace in zip(config.teams, team_namespaces, strict=True):
            access_point = self.shared_efs.add_access_point(
                team, path=f"/teams/{team}", uid=2000, gid=2000, permissions="770"
            )
            team_volumes.append(
                EfsVolumeSpec(
                    name=f"{namespace}-shared",
                    file_system_id=self.shared_efs.file_system_id,
                    access_point_id=access_point.access_point_id,
                    namespace=namespace,
                    claim_name="shared",
                )
            )
        self.storage.add_static_volumes("Teams", efs_volumes=team_volumes)

        self.backups = DataBackupPlan(
            self,
            "Backups",
            backup_key=self.keys.backup_key,
            rules=[
                BackupRuleSpec.daily(retention=Duration.days(config.backup_retention_days)),
                BackupRuleSpec.weekly(),
            ],
        )
        self.backups.add_efs(self.shared_efs.file_system)
        # The Lustre file system is linked to S3, which FSx does not back up: its durable copies are the buckets it
        # imports from and exports to, and those are backed up.
        self.backups.add_bucket(self.dataset.bucket)
        self.backups.add_bucket(self.checkpoints.bucket)
        self.backups.add_ebs_by_tag()


__all__ = ["TrainingPlatformStack"]
