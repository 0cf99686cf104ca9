"""The training platform, in two kinds of stacks.

- :class:`TrainingDataStack` holds what must outlive any cluster: keys, the VPC, the dataset and checkpoint
  buckets, the FSx for Lustre file system linked to both, the shared EFS with one access point per team, and the
  backup vault and plan. Termination protection is on.
- :class:`TrainingClusterStack` is one cluster that uses them: the EKS cluster and its node groups (system, GPU
  next to the file system, NVMe), the storage drivers and classes, the static volumes and claims of the data
  stack's file systems, the workload identities, and the security-group rules that admit its nodes to the file
  systems (created here, on the consuming side: the data stack never references a cluster stack). Several of them
  can use one data stack at a time (blue/green cluster replacement, see the README).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from constructs import Construct

from eks_ai_data import catalog
from eks_ai_data.backup import DataBackupPlan
from eks_ai_data.backup_restore_testing import RestoreTestSpec
from eks_ai_data.backup_rules import BackupRuleSpec
from eks_ai_data.bucket import DataBucket
from eks_ai_data.compute.karpenter import Karpenter
from eks_ai_data.compute.node_pools import NvmeNodePool
from eks_ai_data.efs import SharedEfs
from eks_ai_data.governance import DatasetCatalog, DatasetSpec
from eks_ai_data.identity import WorkloadIdentity
from eks_ai_data.k8s import EfsClassSpec, EfsVolumeSpec, ServiceAccountSpec, TeamSpec
from eks_ai_data.lustre import DataRepositoryLink, LustreStore
from eks_ai_data.nodegroups import NvmeNodeGroup
from eks_ai_data.observability import StorageMonitoring
from eks_ai_data.patterns.cluster_storage import ClusterStorage
from eks_ai_data.patterns.distributed_dataset import DistributedDataset
from eks_ai_data.patterns.training_checkpoints import TrainingCheckpoints

from .base import ClusterStack, DataStack
from .config import PlatformConfig

TRAINING_NAMESPACE = "training"
DATASETS_PATH = "/datasets"
CHECKPOINTS_PATH = "/checkpoints"
CHECKPOINTS_PREFIX = "checkpoints"
#: How long overwritten checkpoint versions are kept (TrainingCheckpoints' default).
CHECKPOINT_NONCURRENT_DAYS = 7
#: Team namespaces: ``team-<name>``, POSIX ids from ``TEAM_FIRST_ID`` in the order of ``teams`` (the order fixes a
#: team's uid/gid on the shared EFS: append new teams), storage each team's claims may request per class.
TEAM_FIRST_ID = 2000
TEAM_STORAGE_QUOTAS = {"gp3": "2Ti", "efs-ap": "10Ti", "local-nvme": "30Ti"}


class TrainingDataStack(DataStack):
    """Keys, VPC, buckets, file systems, access points and backups of the training platform."""

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, config=config, platform="training", **kwargs)
        vpc = self.network.vpc

        dataset = Construct(self, "Dataset")
        self.dataset_bucket = DataBucket(dataset, "Bucket", encryption_key=self.keys.data_key)
        checkpoints = Construct(self, "Checkpoints")
        self.checkpoint_bucket = DataBucket(
            checkpoints,
            "Bucket",
            encryption_key=self.keys.data_key,
            noncurrent_version_expiration=Duration.days(CHECKPOINT_NONCURRENT_DAYS),
        )
        # Checkpoints expire here, where the bucket is: a cluster stack must not change the data stack.
        self.checkpoint_bucket.bucket.add_lifecycle_rule(
            id="ExpireOldCheckpoints",
            prefix=f"{CHECKPOINTS_PREFIX}/",
            expiration=Duration.days(config.checkpoint_retention_days),
            noncurrent_version_expiration=Duration.days(CHECKPOINT_NONCURRENT_DAYS),
        )
        for bucket in (self.dataset_bucket, self.checkpoint_bucket):
            self.network.allow_bucket(bucket.bucket)

        # Datasets are imported from S3; checkpoints written under /checkpoints are exported to S3.
        self.lustre = LustreStore(
            dataset,
            "Lustre",
            vpc=vpc,
            subnet=vpc.private_subnets[0],
            node_security_groups=[],
            kms_key=self.keys.data_key,
            storage_capacity_gib=config.lustre_storage_gib,
            per_unit_storage_throughput=config.lustre_throughput,
            data_repositories=[
                DataRepositoryLink(file_system_path=DATASETS_PATH, bucket=self.dataset_bucket.bucket),
                DataRepositoryLink(
                    file_system_path=CHECKPOINTS_PATH,
                    bucket=self.checkpoint_bucket.bucket,
                    prefix=f"{CHECKPOINTS_PREFIX}/",
                    auto_export=True,
                ),
            ],
        )

        self.shared_efs = SharedEfs(
            self, "SharedEfs", vpc=vpc, node_security_groups=[], kms_key=self.keys.data_key
        )
        # One access point per team on the shared EFS, acting as the team's own uid/gid (team_specs).
        self.team_specs = team_specs(config)
        self.team_access_points = {
            team: self.shared_efs.add_access_point(
                team, path=f"/teams/{team}", uid=spec.uid, gid=spec.gid, permissions="770"
            )
            for team, spec in zip(config.teams, self.team_specs, strict=True)
        }

        self.backups = DataBackupPlan(
            self,
            "Backups",
            backup_key=self.keys.backup_key,
            rules=[
                BackupRuleSpec.daily(retention=Duration.days(config.backup_retention_days)),
                BackupRuleSpec.weekly(),
            ],
            # restore tests monthly (EFS, EBS, S3); EBS volumes restore with their snapshot's key, the data key
            restore_testing=RestoreTestSpec(keys=[self.keys.data_key]),
        )
        self.backups.add_efs(self.shared_efs.file_system)
        # The Lustre file system is linked to S3, which FSx does not back up: its durable copies are the buckets it
        # imports from and exports to, and those are backed up.
        self.backups.add_bucket(self.dataset_bucket.bucket)
        self.backups.add_bucket(self.checkpoint_bucket.bucket)
        # The gp3 volumes of every cluster that uses this data (they carry the backup tag).
        self.backups.add_ebs_by_tag()

        # -- Monitoring of the data and the dataset catalog (kept last: the monitoring finds what the stack holds)
        self.monitoring = StorageMonitoring(
            self, "Monitoring", topic_key=self.keys.data_key, alarm_email=config.alarm_email
        )
        self.catalog = DatasetCatalog(
            self,
            "Catalog",
            key=self.keys.data_key,
            datasets=[DatasetSpec(name="datasets", bucket=self.dataset_bucket.bucket, prefix="datasets/")],
        )


class TrainingClusterStack(ClusterStack):
    """One training cluster on a :class:`TrainingDataStack`'s data (its nodes admitted to the file systems here)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        data: TrainingDataStack,
        kubernetes_version: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            id,
            config=config,
            data=data,
            kubernetes_version=kubernetes_version,
            platform="training",
            **kwargs,
        )
        # Capacity: what brings the GPU and NVMe nodes up from zero (config.capacity_engine).
        self.engine = config.engine(self, self.platform)
        karpenter = self.engine if isinstance(self.engine, Karpenter) else None
        nodes = self.platform.node_security_group
        data.shared_efs.allow_clients(nodes)  # NFS rule in this stack (the client group's)
        team_namespaces = [spec.name for spec in data.team_specs]
        self.storage = ClusterStorage(
            self,
            "InCluster",
            cluster=self.platform,
            shared_efs=[data.shared_efs],
            namespaces=[TRAINING_NAMESPACE],
            teams=data.team_specs,
            efs_classes=[EfsClassSpec(file_system_id=data.shared_efs.file_system_id, name="efs-ap")],
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
            lustre=data.lustre,
            file_system_path=DATASETS_PATH,
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
            lustre=data.lustre,
            export_path=CHECKPOINTS_PATH,
            checkpoint_bucket=data.checkpoint_bucket.bucket,
            prefix=CHECKPOINTS_PREFIX,
            lifecycle=False,  # the data stack expires checkpoints
        )

        # The training job's identity: read the dataset, write checkpoints (and nothing else).
        self.trainer = WorkloadIdentity(
            self,
            "Trainer",
            cluster=self.platform.cluster,
            namespace=TRAINING_NAMESPACE,
            service_account="trainer",
        )
        self.trainer.read_prefix(data.dataset_bucket.bucket, "datasets")
        self.trainer.write_prefix(data.checkpoint_bucket.bucket, CHECKPOINTS_PREFIX)
        self.storage.add_service_accounts(
            "Trainer",
            [
                ServiceAccountSpec(
                    name="trainer", namespace=TRAINING_NAMESPACE, role_arn=self.trainer.irsa_role_arn
                )
            ],
        )

        # Each team's access point (in the data stack) as a claim in the team's namespace.
        self.storage.add_static_volumes(
            "Teams",
            efs_volumes=[
                EfsVolumeSpec(
                    name=f"{namespace}-shared",
                    file_system_id=data.shared_efs.file_system_id,
                    access_point_id=data.team_access_points[team].access_point_id,
                    namespace=namespace,
                    claim_name="shared",
                )
                for team, namespace in zip(config.teams, team_namespaces, strict=True)
            ],
        )
        # The cluster's Kubernetes state (and the volumes its claims use) in the data stack's plan, as one
        # composite recovery point (the selection is created here, in the cluster stack).
        data.backups.add_eks_cluster(self.platform)
        data.catalog.grant_read(self.trainer)

        # -- Monitoring of this cluster's GPU nodes, pending pods and EBS volumes (Container Insights), kept last
        self.monitoring = StorageMonitoring(
            self, "Monitoring", topic_key=data.keys.data_key, alarm_email=config.alarm_email
        )


def team_specs(config: PlatformConfig) -> list[TeamSpec]:
    """The teams' namespaces: distinct uid/gid each, every GPU of the training node group at most, and the
    reference storage quotas; members' IAM roles from ``team_role_arns``."""
    principals = config.team_principals
    gpus = config.training_gpu_max_nodes * max(
        catalog.get(t).accelerator_count for t in config.training_gpu_instance_types
    )
    return [
        TeamSpec(
            name=f"team-{team}",
            uid=TEAM_FIRST_ID + index,
            gid=TEAM_FIRST_ID + index,
            iam_role_arns=principals.get(team, ()),
            gpu_quota=gpus,
            storage_quotas=TEAM_STORAGE_QUOTAS,
        )
        for index, team in enumerate(config.teams)
    ]


__all__ = ["TrainingClusterStack", "TrainingDataStack"]
