"""The IAM role of managed nodes (:func:`node_role`)."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from ._nag import acknowledge, managed_policy_finding

#: What a node needs and nothing more: join the cluster, and pull images from ECR (pull-only, not list/describe).
#: The VPC CNI's permissions are not on the node role: the vpc-cni add-on has its own role (IRSA).
NODE_MANAGED_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")


def node_role(scope: Construct, id: str) -> iam.Role:
    """A node role with the two AWS-managed policies EKS nodes need (acknowledged for cdk-nag IAM4)."""
    role = iam.Role(
        scope,
        id,
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        description="EKS managed node role (eks-ai-data): join the cluster and pull images",
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name(name) for name in NODE_MANAGED_POLICIES
        ],
    )
    for name in NODE_MANAGED_POLICIES:
        acknowledge(
            role,
            "IAM4",
            f"{name} is the AWS-maintained minimum an EKS node needs; AWS updates it with EKS releases",
            finding=managed_policy_finding(name),
        )
    return role
