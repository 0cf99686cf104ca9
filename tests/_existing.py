"""An existing cluster for the tests of imported file systems (tests/test_lustre_import.py, tests/test_efs_import.py):
described with AiCluster.from_existing through the public API, as a company's app would."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from eks_ai_data import AiCluster, PlatformKeys

ENV = cdk.Environment(account="111122223333", region="us-east-1")
NODE_SG = "sg-0123456789abcdef0"
FS_SG = "sg-0fedcba9876543210"
OTHER_SG = "sg-0aaaabbbbccccdddd"
ZONES = {"subnet-0aaa1111bbbb2222c": "us-east-1a", "subnet-0ddd3333eeee4444f": "us-east-1b"}
OIDC = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def existing_cluster(stack: cdk.Stack) -> Any:
    """The cluster "research" (IRSA through its OIDC provider) in two private subnets, its nodes in NODE_SG."""
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=list(ZONES.values()),
        private_subnet_ids=list(ZONES),
    )
    return AiCluster.from_existing(
        stack,
        "Cluster",
        cluster_name="research",
        kubernetes_version="1.36",
        vpc=vpc,
        cluster_security_group_id=NODE_SG,
        keys=PlatformKeys(data_key=kms.Key.from_key_arn(stack, "Key", KEY)),
        open_id_connect_provider=iam.OpenIdConnectProvider.from_open_id_connect_provider_arn(
            stack, "Oidc", OIDC
        ),
    )
