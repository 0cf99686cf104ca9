"""The cluster's VPC when none is given (:class:`ClusterNetwork`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ._validate import fail, require, require_range


class ZonalStack(Stack):
    """A Stack that knows its availability zones, so that an environment-specific stack never looks them up.

    CDK asks AWS for a stack's AZs at synth time when the stack has a concrete region and something (a VPC)
    needs them. Build environment-specific stacks that hold an eks-ai-data VPC as ``ZonalStack`` with
    ``availability_zones`` naming the zones to use; environment-agnostic stacks may omit them.

    :param availability_zones: the zones of this stack's region to use. Default: CDK's behaviour.
    """

    def __init__(
        self, scope: Construct, id: str, *, availability_zones: Sequence[str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.zones: list[str] | None = list(availability_zones) if availability_zones else None

    @property
    def availability_zones(self) -> list[str]:
        return list(self.zones) if self.zones is not None else super().availability_zones


def zones_known(stack: Stack) -> bool:
    """True when ``stack`` knows its availability zones without a context lookup (an overridden
    ``availability_zones``, as :class:`ZonalStack` has, or zones already in the context)."""
    if isinstance(stack, ZonalStack):
        if stack.zones is not None:
            return True
    elif type(stack).availability_zones is not Stack.availability_zones:
        return True
    key = f"availability-zones:account={stack.account}:region={stack.region}"
    return stack.node.try_get_context(key) is not None


class ClusterNetwork(Construct):
    """A VPC for an AI platform: private subnets with egress in ``max_azs`` AZs, an S3 gateway endpoint, flow logs.

    Nodes, file systems and the control-plane ENIs live in the private subnets; public subnets only hold the
    NAT gateways. S3 traffic (datasets, models, checkpoints, FSx data repository links) stays on the gateway
    endpoint, which is free and keeps bulk data off the NAT gateways. Flow logs of all traffic go to a
    CloudWatch log group encrypted with ``logs_key`` and retained on stack deletion.

    :param availability_zones: the AZs to span (2-6 names, a subset of the stack's). Default: the stack's, up to
        ``max_azs``. A stack with a concrete region must know its zones without a lookup (:class:`ZonalStack`);
        environment-agnostic stacks get two placeholder AZs from CDK.
    :param max_azs: availability zones to span when ``availability_zones`` is not given (2-6). Default: 3.
    :param nat_gateways: NAT gateways; one per AZ keeps an AZ failure from cutting the others' egress.
        Default: one per AZ.
    :param cidr: the VPC's IPv4 CIDR. Default: ``10.64.0.0/16``.
    :param logs_key: the KMS key for the flow-log group (``DataKeys.data_key``). Required.
    :param flow_log_retention: retention of flow logs. Default: one year.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        logs_key: kms.IKey,
        availability_zones: Sequence[str] | None = None,
        max_azs: int = 3,
        nat_gateways: int | None = None,
        cidr: str = "10.64.0.0/16",
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, id)
        require_range(self, "max_azs", max_azs, 2, 6)
        stack = Stack.of(self)
        if not Token.is_unresolved(stack.region) and not zones_known(stack):
            raise fail(
                self,
                "availability_zones",
                list(availability_zones) if availability_zones is not None else None,
                f"the stack is in region {stack.region} and would look its availability zones up from AWS at "
                "synth time; build it as eks_ai_data.ZonalStack(..., availability_zones=[...]) (or override "
                "Stack.availability_zones) so that nothing is looked up",
            )
        if availability_zones is not None:
            zones = list(availability_zones)
            require(
                self,
                2 <= len(zones) <= 6 and len(set(zones)) == len(zones),
                "availability_zones",
                zones,
                "must name 2 to 6 distinct availability zones",
            )
            max_azs = len(zones)
        if nat_gateways is not None:
            require(
                self,
                1 <= nat_gateways <= max_azs,
                "nat_gateways",
                nat_gateways,
                f"must be between 1 and max_azs ({max_azs}); private subnets need egress",
            )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=None if availability_zones is not None else max_azs,
            availability_zones=list(availability_zones) if availability_zones is not None else None,
            nat_gateways=nat_gateways if nat_gateways is not None else max_azs,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=19
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
            restrict_default_security_group=True,
        )
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=logs_key,
            retention=flow_log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
