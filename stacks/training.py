"""The training platform: cluster with system, GPU and NVMe node groups; distributed dataset; checkpoints;
a shared EFS with per-team access points; a backup plan."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from constructs import Construct

from eks_ai_data import catalog
from eks_ai_data.backup import DataBackupPlan
from eks_ai_data.backup_rules import BackupRuleSpec
from eks_ai_data.efs import SharedEfs
from eks_ai_data.identity import WorkloadIdentity
from eks_ai_data.k8s import EfsClassSpec, EfsVolumeSpec, ServiceAccountSpec, TeamSpec
from eks_ai_data.network import ZonalStack
from eks_ai_data.nodegroups import NvmeNodeGroup
from eks_ai_data.patterns.cluster_storage import ClusterStorage
from eks_ai_data.patterns.distributed_dataset import DistributedDataset
from eks_ai_data.patterns.training_checkpoints import TrainingCheckpoints

from .config import PlatformConfig

TRAINING_NAMESPACE = "training"
#: Team namespaces: ``team-<name>``, POSIX ids from ``TEAM_FIRST_ID`` in the order of ``teams`` (the order fixes a
#: team's uid/gid on the shared EFS: append new teams), storage each team's claims may request per class.
TEAM_FIRST_ID = 2000
TEAM_STORAGE_QUOTAS = {"gp3": "2Ti", "efs-ap": "10Ti", "local-nvme": "30Ti"}


class TrainingPlatformStack(ZonalStack):
    """Distributed training: datasets on Lustre next to the GPUs, checkpoints from NVMe to S3, shared team storage."""

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        super().__init__(
            scope, id, env=config.env, availability_zones=config.availability_zones or None, **kwargs
        )
        self.keys, self.platform = config.cluster(self)
        self.shared_efs = SharedEfs(
            self,
            "SharedEfs",
            vpc=self.platform.vpc,
            node_security_groups=[self.platform.node_security_group],
            kms_key=self.keys.data_key,
        )
        self.teams = self.team_specs(config)
        self.storage = ClusterStorage(
            self,
            "InCluster",
            cluster=self.platform,
            shared_efs=[self.shared_efs],
            namespaces=[TRAINING_NAMESPACE],
            teams=self.teams,
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
            gpu_node_group_props={"efa": config.training_gpu_efa, "max_size": config.training_gpu_max_nodes},
            storage_capacity_gib=config.lustre_storage_gib,
            per_unit_storage_throughput=config.lustre_throughput,
        )
        self.nvme_nodes = NvmeNodeGroup(
            self,
            "NvmeNodes",
            cluster=self.platform,
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

        # One access point (and claim) per team on the shared EFS, acting as the team's own uid/gid.
        team_volumes = []
        for team, spec in zip(config.teams, self.teams, strict=True):
            access_point = self.shared_efs.add_access_point(
                team, path=f"/teams/{team}", uid=spec.uid, gid=spec.gid, permissions="770"
            )
            team_volumes.append(
                EfsVolumeSpec(
                    name=f"{spec.name}-shared",
                    file_system_id=self.shared_efs.file_system_id,
                    access_point_id=access_point.access_point_id,
                    namespace=spec.name,
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

    @staticmethod
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


__all__ = ["TrainingPlatformStack"]
