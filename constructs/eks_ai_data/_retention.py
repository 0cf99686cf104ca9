"""What a retained resource depends on must be retained with it (``cdk destroy`` must not end in DELETE_FAILED)."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2


def retain_network_of(subnets: Iterable[ec2.ISubnet]) -> None:
    """Retain the subnets (and their VPC) that this app creates and a retained resource keeps interfaces in.

    CloudFormation cannot delete a subnet or VPC that still holds network interfaces, and the interfaces of a
    retained FSx file system outlive the stack. Imported subnets and VPCs are not this app's to retain.
    """
    for subnet in subnets:
        cfn = subnet.node.default_child
        if isinstance(cfn, ec2.CfnSubnet):
            cfn.apply_removal_policy(RemovalPolicy.RETAIN)
            vpc = subnet.node.scope
            vpc_cfn = vpc.node.default_child if vpc is not None else None
            if isinstance(vpc_cfn, ec2.CfnVPC):
                vpc_cfn.apply_removal_policy(RemovalPolicy.RETAIN)
