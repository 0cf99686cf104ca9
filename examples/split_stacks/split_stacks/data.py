"""The data stack: everything that must outlive a cluster (keys, VPC, buckets, file systems, backups)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from constructs import Construct

from eks_ai_data import (
    BackupRuleSpec,
    ClusterNetwork,
    DataBackupPlan,
    DataBucket,
    DataKeys,
    DataRepositoryLink,
    LustreStore,
    SharedEfs,
    ZonalStack,
)

#: Where the datasets appear on the Lustre file system, and the shared EFS directory of the ML team.
DATASETS_PATH = "/datasets"
SHARED_PATH = "/ml/shared"


class PlatformDataStack(ZonalStack):
    """Keys, a VPC, the dataset bucket, FSx for Lustre linked to it, an EFS with the team's access point, backups.

    Termination protection is on, and every stateful resource is retained: cluster stacks come and go (blue/green),
    this one stays. It references no cluster stack: cluster stacks admit their nodes to the file systems.
    """

    def __init__(
        self, scope: Construct, id: str, *, availability_zones: Sequence[str], **kwargs: Any
    ) -> None:
        super().__init__(
            scope, id, availability_zones=availability_zones, termination_protection=True, **kwargs
        )
        self.keys = DataKeys(self, "Keys")
        self.network = ClusterNetwork(
            self, "Network", logs_key=self.keys.data_key, availability_zones=availability_zones
        )
        vpc = self.network.vpc
        self.datasets = DataBucket(self, "Datasets", encryption_key=self.keys.data_key)
        self.network.allow_bucket(self.datasets.bucket)
        self.lustre = LustreStore(
            self,
            "Lustre",
            vpc=vpc,
            subnet=vpc.private_subnets[0],
            node_security_groups=[],
            kms_key=self.keys.data_key,
            storage_capacity_gib=2400,
            data_repositories=[
                DataRepositoryLink(file_system_path=DATASETS_PATH, bucket=self.datasets.bucket)
            ],
        )
        self.efs = SharedEfs(self, "Shared", vpc=vpc, node_security_groups=[], kms_key=self.keys.data_key)
        self.team_access_point = self.efs.add_access_point(
            "ml", path=SHARED_PATH, uid=1000, gid=1000, permissions="770"
        )
        self.backups = DataBackupPlan(
            self,
            "Backups",
            backup_key=self.keys.backup_key,
            rules=[BackupRuleSpec.daily(retention=Duration.days(35))],
        )
        self.backups.add_efs(self.efs.file_system)
        self.backups.add_bucket(
            self.datasets.bucket
        )  # the Lustre file system is linked: FSx cannot back it up
        self.backups.add_ebs_by_tag()  # every cluster's gp3 volumes
