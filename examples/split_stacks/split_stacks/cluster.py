"""A cluster stack: one EKS cluster on the data stack's VPC, keys, file systems and bucket."""

from __future__ import annotations

from typing import Any

from aws_cdk import CrossStackReferences, ReferenceStrength, Stack
from constructs import Construct

from eks_ai_data import (
    AiCluster,
    ClusterStorage,
    DistributedDataset,
    EfsVolumeSpec,
    ServiceAccountSpec,
    WorkloadIdentity,
)

from .data import DATASETS_PATH, PlatformDataStack

NAMESPACE = "ml"
TRAINER = "trainer"


class PlatformClusterStack(Stack):
    """An EKS cluster, GPU nodes next to the Lustre file system, the storage drivers and classes, the claims
    ``ml/datasets`` (Lustre) and ``ml/shared`` (the EFS access point), and the trainer's identity.

    Two of these can run on one data stack at a time (blue and green): they mount the same file systems through
    the same claims, and each admits its own nodes to the file systems with rules in its own stack.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data: PlatformDataStack,
        kubernetes_version: str,
        admin_principal_arn: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        # The data stack's values arrive as CloudFormation exports: CloudFormation refuses to change or delete
        # one while this stack uses it (cdk init's flags would make them weak references, which do not).
        CrossStackReferences.of(self).consume(ReferenceStrength.STRONG)
        self.platform = AiCluster(
            self,
            "Platform",
            version=kubernetes_version,
            vpc=data.network.vpc,
            keys=data.keys,
            admin_principal_arn=admin_principal_arn,
        )
        data.efs.allow_clients(self.platform.node_security_group)  # the NFS rule lives here
        self.storage = ClusterStorage(
            self, "InCluster", cluster=self.platform, shared_efs=[data.efs], namespaces=[NAMESPACE]
        )
        self.dataset = DistributedDataset(
            self,
            "Dataset",
            cluster=self.platform,
            storage=self.storage,
            namespace=NAMESPACE,
            gpu_instance_types=["p5.48xlarge"],
            gpu_node_group_props={"efa": True, "max_size": 2},
            lustre=data.lustre,
            file_system_path=DATASETS_PATH,
        )
        self.storage.add_static_volumes(
            "Shared",
            efs_volumes=[
                EfsVolumeSpec(
                    name=f"{NAMESPACE}-shared",
                    file_system_id=data.efs.file_system_id,
                    access_point_id=data.team_access_point.access_point_id,
                    namespace=NAMESPACE,
                    claim_name="shared",
                )
            ],
        )
        self.trainer = WorkloadIdentity(
            self, "Trainer", cluster=self.platform.cluster, namespace=NAMESPACE, service_account=TRAINER
        )
        self.trainer.read_prefix(data.datasets.bucket, "datasets")
        self.storage.add_service_accounts(
            "Trainer",
            [ServiceAccountSpec(name=TRAINER, namespace=NAMESPACE, role_arn=self.trainer.irsa_role_arn)],
        )
