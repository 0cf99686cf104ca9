"""What Example Corp already has in its ML account: a VPC, a KMS key and the bucket its datasets live in.

Replace these values with yours. Nothing is looked up at synth time: the ids are written down here, so a
synth (and the snapshot test) gives the same template on every machine, with or without AWS credentials.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExistingResources:
    """Existing resources the ML platform is built into.

    :param account: the AWS account the platform is deployed to.
    :param region: the AWS Region.
    :param vpc_id: the VPC.
    :param vpc_cidr_block: the VPC's primary CIDR block.
    :param availability_zones: the VPC's Availability Zones, one per private subnet, in the same order.
    :param private_subnet_ids: private subnets with a route to a NAT gateway (nodes, file systems, the
        EKS control-plane ENIs and the kubectl Lambda run in them).
    :param private_subnet_route_table_ids: the route table of each private subnet, in the same order.
    :param data_key_arn: the customer-managed KMS key that encrypts the dataset bucket; the platform also
        encrypts node volumes and the Lustre file system with it.
    :param dataset_bucket_name: the bucket that holds datasets (under ``datasets/``) and receives
        checkpoints (under ``checkpoints/``).
    :param platform_admin_role_arn: the IAM role the platform team assumes; it becomes cluster admin.
    """

    account: str
    region: str
    vpc_id: str
    vpc_cidr_block: str
    availability_zones: tuple[str, ...]
    private_subnet_ids: tuple[str, ...]
    private_subnet_route_table_ids: tuple[str, ...]
    data_key_arn: str
    dataset_bucket_name: str
    platform_admin_role_arn: str


#: Example Corp's production ML account in eu-west-1 (replace with yours).
PRODUCTION = ExistingResources(
    account="111122223333",
    region="eu-west-1",
    vpc_id="vpc-0a1b2c3d4e5f60001",
    vpc_cidr_block="10.20.0.0/16",
    availability_zones=("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    private_subnet_ids=(
        "subnet-0a1b2c3d4e5f60011",
        "subnet-0a1b2c3d4e5f60012",
        "subnet-0a1b2c3d4e5f60013",
    ),
    private_subnet_route_table_ids=(
        "rtb-0a1b2c3d4e5f60021",
        "rtb-0a1b2c3d4e5f60022",
        "rtb-0a1b2c3d4e5f60023",
    ),
    data_key_arn="arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-4697-8877-665544332211",
    dataset_bucket_name="example-corp-ml-data-eu-west-1",
    platform_admin_role_arn="arn:aws:iam::111122223333:role/PlatformAdmins",
)
