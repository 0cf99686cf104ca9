"""What Example Corp already runs: an EKS cluster (made with Terraform), its VPC, OIDC provider and a KMS key.

Replace these values with yours (``aws eks describe-cluster --name NAME`` shows the cluster security group, the
OIDC issuer and the Kubernetes version). Nothing is looked up at synth time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExistingCluster:
    """An existing EKS cluster and what the platform needs to know about it.

    :param account: the AWS account. :param region: the AWS Region.
    :param cluster_name: the EKS cluster's name.
    :param kubernetes_version: its Kubernetes minor version (``1.36``).
    :param cluster_security_group_id: the security group EKS created for the cluster (managed nodes carry it).
    :param oidc_provider_arn: the cluster's IAM OIDC provider (for IRSA).
    :param vpc_id: the cluster's VPC. :param vpc_cidr_block: its CIDR.
    :param availability_zones: the private subnets' AZs, in order.
    :param private_subnet_ids: private subnets with NAT egress (nodes, the file system, the kubectl function).
    :param private_subnet_route_table_ids: their route tables, in order.
    :param data_key_arn: the customer-managed key that encrypts the dataset bucket (and the new file system).
    :param dataset_bucket_name: the bucket with datasets under ``datasets/``.
    """

    account: str
    region: str
    cluster_name: str
    kubernetes_version: str
    cluster_security_group_id: str
    oidc_provider_arn: str
    vpc_id: str
    vpc_cidr_block: str
    availability_zones: tuple[str, ...]
    private_subnet_ids: tuple[str, ...]
    private_subnet_route_table_ids: tuple[str, ...]
    data_key_arn: str
    dataset_bucket_name: str


#: Example Corp's research cluster in us-west-2 (replace with yours).
RESEARCH = ExistingCluster(
    account="111122223333",
    region="us-west-2",
    cluster_name="research",
    kubernetes_version="1.36",
    cluster_security_group_id="sg-0a1b2c3d4e5f60031",
    oidc_provider_arn=(
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
    ),
    vpc_id="vpc-0a1b2c3d4e5f60041",
    vpc_cidr_block="10.30.0.0/16",
    availability_zones=("us-west-2a", "us-west-2b"),
    private_subnet_ids=("subnet-0a1b2c3d4e5f60051", "subnet-0a1b2c3d4e5f60052"),
    private_subnet_route_table_ids=("rtb-0a1b2c3d4e5f60061", "rtb-0a1b2c3d4e5f60062"),
    data_key_arn="arn:aws:kms:us-west-2:111122223333:key/6f5e4d3c-2b1a-4098-8776-554433221100",
    dataset_bucket_name="example-corp-research-datasets",
)
