"""A training data platform added to an EKS cluster that exists already (``AiCluster.from_existing``)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from eks_ai_data import (
    AiCluster,
    ClusterStorage,
    DistributedDataset,
    PlatformKeys,
    ServiceAccountSpec,
    WorkloadIdentity,
)

from .existing import ExistingCluster

TRAINING_NAMESPACE = "training"
TRAINER_SERVICE_ACCOUNT = "trainer"
DATASETS_PREFIX = "datasets"


class TrainingOnExistingClusterStack(Stack):
    """GPU nodes, storage drivers and classes, FSx for Lustre linked to the dataset bucket and a trainer identity,
    added to an existing cluster. The cluster itself (endpoint, logging, add-ons, access) is not changed: the
    stack adds node groups, EKS add-ons, access entries and in-cluster objects, and a kubectl function of its own
    (in the private subnets, with the cluster security group) that applies them.
    """

    def __init__(self, scope: Construct, id: str, *, existing: ExistingCluster, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=existing.vpc_id,
            vpc_cidr_block=existing.vpc_cidr_block,
            availability_zones=list(existing.availability_zones),
            private_subnet_ids=list(existing.private_subnet_ids),
            private_subnet_route_table_ids=list(existing.private_subnet_route_table_ids),
        )
        data_key = kms.Key.from_key_arn(self, "DataKey", existing.data_key_arn)
        bucket = s3.Bucket.from_bucket_attributes(
            self, "DatasetBucket", bucket_name=existing.dataset_bucket_name, encryption_key=data_key
        )
        self.platform = AiCluster.from_existing(
            self,
            "Cluster",
            cluster_name=existing.cluster_name,
            kubernetes_version=existing.kubernetes_version,
            vpc=vpc,
            cluster_security_group_id=existing.cluster_security_group_id,
            keys=PlatformKeys(data_key=data_key),
            open_id_connect_provider=iam.OpenIdConnectProvider.from_open_id_connect_provider_arn(
                self, "Oidc", existing.oidc_provider_arn
            ),
        )
        self.storage = ClusterStorage(
            self, "InCluster", cluster=self.platform, namespaces=[TRAINING_NAMESPACE]
        )
        # A new Lustre file system next to new GPU nodes (one subnet, one AZ), linked to the existing bucket.
        self.dataset = DistributedDataset(
            self,
            "Dataset",
            cluster=self.platform,
            storage=self.storage,
            namespace=TRAINING_NAMESPACE,
            gpu_instance_types=["g6e.12xlarge"],
            gpu_node_group_props={"max_size": 4},
            dataset_bucket=bucket,
            dataset_prefix=f"{DATASETS_PREFIX}/",
            storage_capacity_gib=1200,
        )
        # The key is not this app's: its policy must let FSx's S3 role use it (README, "Before you deploy").
        Annotations.of(self.dataset.lustre).acknowledge_warning(
            "eks-ai-data:LustreBucketKeyPolicy",
            "the data key's policy allows AWSServiceRoleForFSxS3Access_fs-* through s3 (set by the security team)",
        )
        self.trainer = WorkloadIdentity(
            self,
            "Trainer",
            cluster=self.platform.cluster,
            namespace=TRAINING_NAMESPACE,
            service_account=TRAINER_SERVICE_ACCOUNT,
        )
        self.trainer.read_prefix(bucket, DATASETS_PREFIX)
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
