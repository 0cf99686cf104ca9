"""The cluster's VPC when none is given (:class:`ClusterNetwork`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Acknowledgment, Fn, RemovalPolicy, Stack, Tags, Token, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ._nag import acknowledge_compliance, acknowledge_inline_policy
from ._validate import (
    BUCKET,
    KEY,
    fail,
    require,
    require_bool,
    require_enum,
    require_int,
    require_resource,
    require_string_list,
    unresolved,
)
from .function_logs import own_function_logs
from .naming import ipv4_cidr_problem


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
    NAT gateways, and launch nothing with a public IP address of its own (``MapPublicIpOnLaunch`` false: the NAT
    gateways' Elastic IPs are allocated explicitly). S3 traffic (datasets, models, checkpoints) stays on the gateway endpoint, which is free and
    keeps bulk data off the NAT gateways. Flow logs of all traffic go to a CloudWatch log group encrypted with
    ``logs_key`` and retained on stack deletion.

    The S3 endpoint's policy is restricted (``restrict_s3_endpoint``): requests from the VPC through it may
    reach only the buckets given to :meth:`allow_bucket` (the platform patterns give theirs) and what the
    nodes and the deployment need, in the stack's Region (:func:`aws_owned_s3_access`): ECR image layers,
    the AL2023 package repositories, registry.k8s.io's image layers, and the CloudFormation bucket that
    custom resources running in the VPC (the kubectl provider's functions) answer to. A restricted endpoint
    denies every other bucket in the Region to everything in the VPC, with 403 Access Denied, whatever IAM
    allows (buckets in other Regions are reached through the NAT gateways, not the endpoint): give your
    own buckets to :meth:`allow_bucket` (also the CDK assets bucket if you install Helm charts from S3
    assets, which the kubectl provider downloads from inside the VPC; and the registry's bucket if you pull
    images from a registry that serves layers from S3 in this Region), or turn the restriction off.

    :param availability_zones: the AZs to span (2-6 names, a subset of the stack's). Default: the stack's, up to
        ``max_azs``. A stack with a concrete region must know its zones without a lookup (:class:`ZonalStack`);
        environment-agnostic stacks get two placeholder AZs from CDK.
    :param max_azs: availability zones to span (2-6); with ``availability_zones`` it must be their number. Default: 3.
    :param nat_gateways: NAT gateways; one per AZ keeps an AZ failure from cutting the others' egress.
        Default: one per AZ.
    :param cidr: the VPC's IPv4 CIDR, ``/16`` to ``/28`` (the VPC limits) and large enough for a ``/19`` private and
        a ``/24`` public subnet per zone. Default: ``10.64.0.0/16``.
    :param logs_key: the KMS key for the flow-log group (``DataKeys.data_key``). Required.
    :param flow_log_retention: retention of flow logs. Default: one year.
    :param restrict_s3_endpoint: restrict the S3 endpoint to the allowed buckets. Default: ``True``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        logs_key: kms.IKey,
        availability_zones: Sequence[str] | None = None,
        max_azs: int | None = None,
        nat_gateways: int | None = None,
        cidr: str = "10.64.0.0/16",
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        restrict_s3_endpoint: bool = True,
    ) -> None:
        super().__init__(scope, id)
        require_resource(self, "logs_key", logs_key, *KEY)
        require_enum(self, "flow_log_retention", flow_log_retention, logs.RetentionDays)
        require_bool(self, "restrict_s3_endpoint", restrict_s3_endpoint)
        if max_azs is not None:
            require_int(self, "max_azs", max_azs, 2, 6)
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
            zones = require_string_list(self, "availability_zones", availability_zones, what="zone names")
            require(
                self,
                2 <= len(zones) <= 6 and len(set(zones)) == len(zones),
                "availability_zones",
                zones,
                "must name 2 to 6 distinct availability zones",
            )
            if max_azs is not None and max_azs != len(zones):
                raise fail(
                    self,
                    "max_azs",
                    max_azs,
                    f"differs from the {len(zones)} availability_zones given {zones}: leave max_azs unset or make "
                    "them agree",
                )
            self._check_zones(stack, zones)
            max_azs = len(zones)
        else:
            max_azs = DEFAULT_MAX_AZS if max_azs is None else max_azs
            if isinstance(stack, ZonalStack) and stack.zones is not None:
                self._check_zones(stack, stack.zones[:max_azs], prop="ZonalStack.availability_zones")
        check_vpc_cidr(self, cidr, max_azs)
        if nat_gateways is not None:
            allowed = f"must be between 1 and max_azs ({max_azs}); private subnets need egress"
            if isinstance(nat_gateways, bool) or not isinstance(nat_gateways, int):
                raise fail(self, "nat_gateways", nat_gateways, f"must be a whole number: {allowed}")
            require(self, 1 <= nat_gateways <= max_azs, "nat_gateways", nat_gateways, allowed)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=None if availability_zones is not None else max_azs,
            availability_zones=list(availability_zones) if availability_zones is not None else None,
            nat_gateways=nat_gateways if nat_gateways is not None else max_azs,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=24,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=19
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
            restrict_default_security_group=True,
        )
        self.s3_endpoint: ec2.GatewayVpcEndpoint = self.vpc.node.find_child("S3")  # type: ignore[assignment]
        # The subnet tags EKS and the AWS Load Balancer Controller look for (EKS user guide, "View Amazon EKS
        # networking requirements for VPC and subnets"), set here rather than by the cluster (aws_eks_v2 tags the
        # subnets of the VPC it is given), so that a VPC in a data stack does not change with its clusters.
        for subnet in self.vpc.private_subnets:
            Tags.of(subnet).add("kubernetes.io/role/internal-elb", "1")
        for subnet in self.vpc.public_subnets:
            Tags.of(subnet).add("kubernetes.io/role/elb", "1")
        self.restrict_s3_endpoint = restrict_s3_endpoint
        self._allowed_buckets: iam.PolicyStatement | None = None
        self._allowed_arns: set[str] = set()
        if restrict_s3_endpoint:
            for sid, actions, resources in aws_owned_s3_access(stack):
                self.s3_endpoint.add_to_policy(
                    iam.PolicyStatement(
                        sid=sid, principals=[iam.AnyPrincipal()], actions=actions, resources=resources
                    )
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
        if not Token.is_unresolved(stack.region):
            # aws-cdk-lib's CloudFormation validation (cdk init's @aws-cdk/core:validateAgainstDefaultRules) warns
            # about zone names written in templates (cfn-lint W3010); a subnet must name its zone, and these come
            # from the stack's availability_zones, named so that nothing is looked up at synth time.
            Validations.of(self.vpc).acknowledge(
                Acknowledgment(
                    id="CloudFormation-Validate::W3010",
                    reason="the subnets' zones are the stack's availability_zones, named to avoid a synth-time "
                    "lookup; a subnet cannot be created without its zone",
                )
            )
        # The VPC's restrict-default-security-group custom resource logs into a group under the logs key.
        own_function_logs(self, key=logs_key, retention=flow_log_retention)
        self._acknowledge_compliance()

    def _check_zones(self, stack: Stack, zones: Sequence[str], prop: str = "availability_zones") -> None:
        """Zones of the stack's Region (when it is concrete), and of the stack's zones (when it names them)."""
        region = stack.region
        if not Token.is_unresolved(region):
            for zone in zones:
                if not unresolved(zone) and not region_zone(region, zone):
                    raise fail(
                        self,
                        prop,
                        zone,
                        f"must be an availability zone of the stack's Region {region} ({region}a, {region}b, ...): "
                        "the cluster's control-plane ENIs go in these subnets and EKS does not place them in Local "
                        "or Wavelength Zones (add subnets there yourself for nodes)",
                    )
        if prop == "availability_zones" and isinstance(stack, ZonalStack) and stack.zones is not None:
            outside = [z for z in zones if z not in stack.zones and not unresolved(z)]
            if outside:
                raise fail(
                    self, prop, outside, f"must be among the stack's availability zones {list(stack.zones)}"
                )

    def _acknowledge_compliance(self) -> None:
        """NIST 800-53 / HIPAA findings intrinsic to a VPC with NAT gateways, on the resources that carry them."""
        for subnet in self.vpc.public_subnets:
            route = subnet.node.try_find_child("DefaultRoute")
            if route is not None:
                acknowledge_compliance(
                    route,
                    "VPCNoUnrestrictedRouteToIGW",
                    "the route of a public subnet, which holds only this VPC's NAT gateways: their egress to the "
                    "internet is this route; nodes, file systems and control-plane ENIs are in the private "
                    "subnets, which route to the NAT gateways, and public subnets assign no public IP addresses",
                )
        role = self.flow_log.node.try_find_child("IAMRole")
        if role is not None:
            acknowledge_inline_policy(role)

    def allow_bucket(self, bucket: s3.IBucket) -> None:
        """Let requests from the VPC reach ``bucket`` through the S3 endpoint (any S3 action: IAM and the
        bucket policy decide which). Nothing to do when the endpoint is not restricted; idempotent."""
        require_resource(self, "bucket", bucket, *BUCKET)
        if not self.restrict_s3_endpoint:
            return
        arns = [bucket.bucket_arn, bucket.arn_for_objects("*")]
        new = [arn for arn in arns if arn not in self._allowed_arns]
        if not new:
            return
        self._allowed_arns.update(new)
        if self._allowed_buckets is None:
            self._allowed_buckets = iam.PolicyStatement(
                sid="PlatformBuckets", principals=[iam.AnyPrincipal()], actions=["s3:*"], resources=new
            )
            self.s3_endpoint.add_to_policy(self._allowed_buckets)
        else:
            self._allowed_buckets.add_resources(*new)


#: Zones ClusterNetwork spans when neither ``availability_zones`` nor ``max_azs`` is given.
DEFAULT_MAX_AZS = 3
#: The subnets ClusterNetwork cuts per zone (``subnet_configuration``): a /19 private and a /24 public subnet.
_PRIVATE_MASK, _PUBLIC_MASK = 19, 24
#: VPC IPv4 CIDR blocks: a netmask between /16 and /28 (Amazon VPC user guide, "VPC CIDR blocks").
VPC_PREFIX_RANGE = (16, 28)


def region_zone(region: str, zone: str) -> bool:
    """Whether ``zone`` is a standard availability zone of ``region``: the Region's name and one letter.

    Local Zones (``us-east-1-bos-1a``) and Wavelength Zones (``us-east-1-wl1-bos-wlz-1``) are also named after their
    parent Region but are refused: EKS places no control-plane ENI in them, and they have no NAT gateways.
    """
    return bool(re.fullmatch(re.escape(region) + r"[a-z]", zone))


def check_vpc_cidr(scope: Construct, cidr: str, zones: int) -> None:
    """An IPv4 network of ``/16``-``/28`` with room for ClusterNetwork's subnets in ``zones`` zones."""
    if unresolved(cidr):
        return
    problem = ipv4_cidr_problem(cidr)
    if problem is not None:
        raise fail(scope, "cidr", cidr, problem)
    prefix = int(cidr.rsplit("/", 1)[1])
    low, high = VPC_PREFIX_RANGE
    if not low <= prefix <= high:
        raise fail(scope, "cidr", cidr, f"must have a netmask between /{low} and /{high} (the VPC limits)")
    needed = zones * (2 ** (32 - _PRIVATE_MASK) + 2 ** (32 - _PUBLIC_MASK))
    if needed > 2 ** (32 - prefix):
        raise fail(
            scope,
            "cidr",
            cidr,
            f"is too small for a /{_PRIVATE_MASK} private and a /{_PUBLIC_MASK} public subnet in each of {zones} "
            f"zones ({needed} addresses): use a /{32 - (needed - 1).bit_length()} or larger",
        )


def aws_owned_s3_access(stack: Stack) -> list[tuple[str, list[str], list[str]]]:
    """``(sid, actions, resources)`` of the AWS-owned buckets a restricted S3 endpoint must let through.

    - ``prod-<region>-starport-layer-bucket``: ECR image layers (ECR user guide, "Amazon ECR interface VPC
      endpoints", minimum Amazon S3 bucket permissions); every image on our nodes comes from ECR but the
      ones below.
    - ``al2023-repos-<region>-de612dc2``: the AL2023 package repositories (``dnf`` on AL2023 nodes).
      Bottlerocket needs no entry: its update and TUF repository (``updates.bottlerocket.aws``) is served
      by CloudFront, not by S3 in the Region (bottlerocket-os/bottlerocket#2535).
    - ``prod-registry-k8s-io-<region>``: registry.k8s.io redirects AWS clients to image layers in S3 in
      their Region (kubernetes/registry.k8s.io#82); the local volume provisioner's image comes from there.
    - ``cloudformation-custom-resource-response-<region without dashes>``: custom resources answer
      CloudFormation with a PUT to a presigned URL in this bucket, and the kubectl provider's functions run
      in the VPC (CloudFormation user guide, "Setting up VPC endpoints for AWS CloudFormation").
    """
    region, partition = stack.region, stack.partition
    compact = (
        region.replace("-", "") if not Token.is_unresolved(region) else Fn.join("", Fn.split("-", region))
    )
    return [
        ("EcrImageLayers", ["s3:GetObject"], [f"arn:{partition}:s3:::prod-{region}-starport-layer-bucket/*"]),
        ("Al2023Repositories", ["s3:GetObject"], [f"arn:{partition}:s3:::al2023-repos-{region}-de612dc2/*"]),
        ("RegistryK8sIoLayers", ["s3:GetObject"], [f"arn:{partition}:s3:::prod-registry-k8s-io-{region}/*"]),
        (
            "CloudFormationResponses",
            ["s3:PutObject"],
            [f"arn:{partition}:s3:::cloudformation-custom-resource-response-{compact}/*"],
        ),
    ]
