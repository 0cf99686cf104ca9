"""Example Corp's ML platform: an EKS cluster with GPU nodes and FSx for Lustre, inside resources it already has."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from eks_ai_data import (
    AiCluster,
    ClusterAutoscaler,
    ClusterStorage,
    DataKeys,
    DataRepositoryLink,
    GpuNodeGroup,
    LustreStore,
    LustreVolumeSpec,
    ServiceAccountSpec,
    WorkloadIdentity,
)

from .existing import ExistingResources

#: Where training jobs run, and the names they use (examples/training_job uses the same).
TRAINING_NAMESPACE = "training"
TRAINER_SERVICE_ACCOUNT = "trainer"
DATASET_CLAIM = "datasets"
#: S3 key prefixes in the dataset bucket, and where they appear on the Lustre file system.
DATASETS_PREFIX = "datasets"
CHECKPOINTS_PREFIX = "checkpoints"


class MlPlatformStack(Stack):
    """An EKS cluster in the existing VPC, with p5 GPU nodes next to a Lustre file system linked to the bucket.

    - Keys: the existing data key encrypts node volumes and the file system (it already encrypts the bucket);
      only the cluster's secrets key is created (no AWS Backup plan here, so no backup key to pay for: the
      Lustre file system is linked to the bucket, which FSx does not back up, and the bucket, Example Corp's own,
      is the durable copy of both the datasets and the exported checkpoints).
    - The Lustre file system and the GPU node group share the first private subnet (one AZ): reads of the
      dataset never cross AZs.
    - ``/datasets`` on the file system imports ``s3://<bucket>/datasets/`` (new, changed and deleted objects);
      ``/checkpoints`` exports to ``s3://<bucket>/checkpoints/``.
    - In the cluster: the storage drivers and classes, the ``training`` namespace, the ``datasets`` claim
      (the whole file system) and the ``trainer`` service account, whose IAM role reads ``datasets/`` and
      writes ``checkpoints/``.
    """

    def __init__(self, scope: Construct, id: str, *, existing: ExistingResources, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=existing.vpc_id,
            vpc_cidr_block=existing.vpc_cidr_block,
            availability_zones=list(existing.availability_zones),
            private_subnet_ids=list(existing.private_subnet_ids),
            private_subnet_route_table_ids=list(existing.private_subnet_route_table_ids),
        )
        self.data_key = kms.Key.from_key_arn(self, "DataKey", existing.data_key_arn)
        self.dataset_bucket = s3.Bucket.from_bucket_attributes(
            self, "DatasetBucket", bucket_name=existing.dataset_bucket_name, encryption_key=self.data_key
        )

        self.keys = DataKeys(self, "Keys", data_key=self.data_key, create_backup_key=False)
        self.platform = AiCluster(
            self,
            "Platform",
            vpc=self.vpc,
            keys=self.keys,
            admin_principal_arn=existing.platform_admin_role_arn,
        )
        # The subnets are not this app's to tag; the network team has tagged them (README, "Before you deploy").
        Annotations.of(self.platform.cluster).acknowledge_warning(
            "@aws-cdk/aws-eks:clusterMustManuallyTagSubnet",
            "the existing private subnets carry kubernetes.io/role/internal-elb=1 (set by the network team)",
        )
        self.storage = ClusterStorage(
            self, "InCluster", cluster=self.platform, namespaces=[TRAINING_NAMESPACE]
        )

        # Data locality: the file system and the GPU nodes in one subnet, so in one Availability Zone.
        subnet = self.vpc.private_subnets[0]
        self.lustre = LustreStore(
            self,
            "Lustre",
            vpc=self.vpc,
            subnet=subnet,
            node_security_groups=[self.platform.node_security_group],
            kms_key=self.keys.data_key,
            storage_capacity_gib=4800,
            per_unit_storage_throughput=500,
            data_repositories=[
                DataRepositoryLink(
                    file_system_path=f"/{DATASETS_PREFIX}",
                    bucket=self.dataset_bucket,
                    prefix=f"{DATASETS_PREFIX}/",
                ),
                DataRepositoryLink(
                    file_system_path=f"/{CHECKPOINTS_PREFIX}",
                    bucket=self.dataset_bucket,
                    prefix=f"{CHECKPOINTS_PREFIX}/",
                    auto_export=True,
                ),
            ],
        )
        # The data key is not this app's: its key policy allows the FSx service-linked role through S3
        # (README, "Before you deploy"), so the associations can read and write encrypted objects.
        Annotations.of(self.lustre).acknowledge_warning(
            "eks-ai-data:LustreBucketKeyPolicy",
            "the data key's policy allows AWSServiceRoleForFSxS3Access_fs-* through s3 (set by the security team)",
        )
        self.gpu_nodes = GpuNodeGroup(
            self,
            "GpuNodes",
            cluster=self.platform,
            instance_types=["p5.48xlarge"],
            subnet=subnet,
            efa=True,
            max_size=4,
        )
        # What brings the GPU nodes up from zero for pending pods (and removes them when they empty).
        self.autoscaler = ClusterAutoscaler(self, "Autoscaler", cluster=self.platform)

        self.storage.add_static_volumes(
            "Datasets",
            lustre_volumes=[
                LustreVolumeSpec(
                    name=f"{TRAINING_NAMESPACE}-{DATASET_CLAIM}",
                    file_system_id=self.lustre.file_system_id,
                    dns_name=self.lustre.dns_name,
                    mount_name=self.lustre.mount_name,
                    storage_capacity_gib=self.lustre.storage_capacity_gib,
                    namespace=TRAINING_NAMESPACE,
                    availability_zone=self.lustre.availability_zone,
                    claim_name=DATASET_CLAIM,
                )
            ],
        )

        # The training jobs' identity: read the datasets, write checkpoints, nothing else.
        self.trainer = WorkloadIdentity(
            self,
            "Trainer",
            cluster=self.platform.cluster,
            namespace=TRAINING_NAMESPACE,
            service_account=TRAINER_SERVICE_ACCOUNT,
        )
        self.trainer.read_prefix(self.dataset_bucket, DATASETS_PREFIX)
        self.trainer.write_prefix(self.dataset_bucket, CHECKPOINTS_PREFIX)
        self.storage.add_service_accounts(
            "Trainer",
            [
                ServiceAccountSpec(
                    name=TRAINER_SERVICE_ACCOUNT,
                    namespace=TRAINING_NAMESPACE,
                    role_arn=self.trainer.irsa_role_arn,
                )
            ],
        )
