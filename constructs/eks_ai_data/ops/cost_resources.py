"""Which resource types cost what, read from what their templates say.

Every CloudFormation resource type an estimate meets is in exactly one of three lists:
:data:`PRICERS` (priced from its properties), :data:`FREE` (no charge of its own, with the reason)
and :data:`USAGE_BASED` (billed per request or per GB the templates cannot know; not priced, with
the reason). A type in none of them is reported as unpriced and counted, so a new type cannot
slip into a platform silently. Prices are the table's (:mod:`eks_ai_data.ops.prices`); the rules,
per type, with the AWS pricing page or API reference each follows:

- EKS cluster: per cluster-hour, the extended-support rate once the version's end of standard
  support (EKS release calendar, UTC) is past on the estimate's date (Amazon EKS pricing).
- FSx for Lustre: StorageCapacity GiB x the GB-month rate of its DeploymentType, StorageType and
  PerUnitStorageThroughput (the rate includes the throughput tier); LZ4 compression does not change
  the provisioned capacity billed; user-provisioned metadata IOPS are billed per IOPS-month;
  automatic backups per GB-month of backup stored (Amazon FSx for Lustre pricing).
- EFS: stored GiB split into Standard / Infrequent Access / Archive by the assumed shares (only
  where a LifecyclePolicies transition allows each class), One Zone classes when
  AvailabilityZoneName is set; Elastic throughput per GB read and written, Provisioned per MiB/s-month,
  Bursting included (Amazon EFS pricing).
- S3 bucket: assumed stored GiB at Standard, or at the Intelligent-Tiering frequent tier (an upper
  bound) when the bucket moves objects there from day 0; a bucket another bucket's
  LoggingConfiguration writes to is an access-log bucket (Amazon S3 pricing).
- NAT gateway: per hour plus per GB processed; Elastic IPs and every public IPv4 address per hour
  (Amazon VPC pricing, public IPv4 charge since 2024-02-01); interface VPC endpoints per AZ-hour
  (one ENI per subnet) plus per GB; gateway endpoints have no charge.
- KMS key: per key-month (AWS KMS pricing). AWS Backup plan: assumed warm storage per GB-month.
  CloudWatch: alarms per alarm-month (high resolution under 60 s periods), dashboards per month,
  log groups per GB ingested plus storage of what the retention keeps. SSM parameters: the
  Advanced tier per parameter-month, Standard free.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from .cost_model import Context, Item, Pricing, fixed_item, number, unpriced_item
from .cost_nodes import price_kubernetes_resource, price_nodegroup
from .cost_storage import price_backup_plan, price_bucket, price_efs, price_lustre

Pricer = Callable[[str, dict[str, Any], Context], list[Item]]
DEFAULT_LOG_RETENTION_DAYS = 365  # never-expiring groups: the storage of a year's ingestion


def price_cluster(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    props = resource.get("Properties") or {}
    version = props.get("Version")
    support = ctx.table.eks_versions.get(version) if isinstance(version, str) else None
    pricing = Pricing(ctx)
    if support is None:
        rate = pricing.usd("eks:standard:hour")
        what = f"EKS {version or '(default version)'} control plane: version not in the price table's calendar, standard rate"
        item = fixed_item(ctx, logical_id, resource, "control plane", what, pricing, rate * ctx.hours)
        items = [dataclasses.replace(item, estimated=True) if item.priced else item]
    else:
        extended = ctx.today >= support.end_of_standard
        rate = pricing.usd("eks:extended:hour" if extended else "eks:standard:hour")
        until = support.end_of_extended if extended else support.end_of_standard
        approx = "~" if support.approximate else ""
        status = "extended" if extended else "standard"
        what = f"EKS {version} control plane, {status} support (until {approx}{until.isoformat()})"
        items = [fixed_item(ctx, logical_id, resource, "control plane", what, pricing, rate * ctx.hours)]
    if (props.get("ComputeConfig") or {}).get("Enabled") is True:
        items.append(
            unpriced_item(
                ctx,
                logical_id,
                resource,
                "auto mode",
                "EKS Auto Mode management fee per instance",
                "not in the price table",
            )
        )
    return items


def price_nat(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    props = resource.get("Properties") or {}
    if props.get("ConnectivityType") == "private":
        what_ip = "private NAT gateway"
    else:
        what_ip = "NAT gateway (its Elastic IP is priced apart)"
    gb = ctx.assumptions["nat_gb"]
    pricing = Pricing(ctx)
    usd = ctx.hours * pricing.usd("nat:hour") + gb * pricing.usd("nat:gb")
    return [
        fixed_item(
            ctx,
            logical_id,
            resource,
            "gateway",
            f"{what_ip}, {ctx.hours:g} h + assumed {gb:g} GB processed",
            pricing,
            usd,
        )
    ]


def price_eip(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    pricing = Pricing(ctx)
    return [
        fixed_item(
            ctx,
            logical_id,
            resource,
            "public IPv4",
            f"public IPv4 address, {ctx.hours:g} h",
            pricing,
            ctx.hours * pricing.usd("ipv4:hour"),
        )
    ]


def price_endpoint(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    props = resource.get("Properties") or {}
    kind = props.get("VpcEndpointType", "Gateway")
    pricing = Pricing(ctx)
    if kind == "Gateway":
        return [
            fixed_item(
                ctx,
                logical_id,
                resource,
                "endpoint",
                "gateway endpoint (S3/DynamoDB): no charge",
                pricing,
                0.0,
            )
        ]
    if kind != "Interface":
        return [
            unpriced_item(
                ctx,
                logical_id,
                resource,
                "endpoint",
                f"{kind} endpoint",
                "only Interface and Gateway endpoints are priced",
            )
        ]
    subnets = props.get("SubnetIds")
    if not isinstance(subnets, list):
        return [
            unpriced_item(
                ctx, logical_id, resource, "endpoint", "interface endpoint", "SubnetIds is not a literal list"
            )
        ]
    gb = ctx.assumptions["vpce_gb"]
    usd = len(subnets) * ctx.hours * pricing.usd("vpce:interface:az-hour") + gb * pricing.usd(
        "vpce:interface:gb"
    )
    return [
        fixed_item(
            ctx,
            logical_id,
            resource,
            "endpoint",
            f"interface endpoint in {len(subnets)} AZs + assumed {gb:g} GB",
            pricing,
            usd,
        )
    ]


def price_key(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    pricing = Pricing(ctx)
    return [
        fixed_item(
            ctx,
            logical_id,
            resource,
            "key",
            "customer managed key (requests usage-based)",
            pricing,
            pricing.usd("kms:key-month"),
        )
    ]


def price_log_group(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    retention = number((resource.get("Properties") or {}).get("RetentionInDays"))
    days = min(retention or DEFAULT_LOG_RETENTION_DAYS, DEFAULT_LOG_RETENTION_DAYS)
    ingest = ctx.assumptions["log_ingest_gib"]
    stored = ingest * days / 30.0
    pricing = Pricing(ctx)
    usd = ingest * pricing.usd("logs:ingest-gb") + stored * pricing.usd("logs:storage-gb-month")
    kept = f"{retention:g} days" if retention else "never expires"
    what = (
        f"log group ({kept}), assumed {ingest:g} GiB/month ingested, {stored:.0f} GiB stored at steady state"
    )
    return [fixed_item(ctx, logical_id, resource, "logs", what, pricing, usd)]


def price_alarm(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    period = number((resource.get("Properties") or {}).get("Period"))
    high = period is not None and period < 60
    key = "cloudwatch:alarm-high-resolution-month" if high else "cloudwatch:alarm-month"
    pricing = Pricing(ctx)
    return [
        fixed_item(
            ctx,
            logical_id,
            resource,
            "alarm",
            f"{'high' if high else 'standard'}-resolution alarm",
            pricing,
            pricing.usd(key),
        )
    ]


def _fixed_price(component: str, what: str, key: str) -> Callable[[str, dict[str, Any], Context], list[Item]]:
    """A pricer for a resource with one flat monthly price (``key`` in the price table)."""

    def price(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
        pricing = Pricing(ctx)
        return [fixed_item(ctx, logical_id, resource, component, what, pricing, pricing.usd(key))]

    return price


price_composite_alarm = _fixed_price("alarm", "composite alarm", "cloudwatch:composite-alarm-month")
price_dashboard = _fixed_price(
    "dashboard", "dashboard (an account's first 3 are free; not applied)", "cloudwatch:dashboard-month"
)


def price_parameter(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    pricing = Pricing(ctx)
    if (resource.get("Properties") or {}).get("Tier") == "Advanced":
        return [
            fixed_item(
                ctx,
                logical_id,
                resource,
                "parameter",
                "Advanced-tier parameter",
                pricing,
                pricing.usd("ssm:advanced-parameter-month"),
            )
        ]
    return [
        fixed_item(ctx, logical_id, resource, "parameter", "Standard-tier parameter: no charge", pricing, 0.0)
    ]


PRICERS: dict[str, Pricer] = {
    "AWS::EKS::Cluster": price_cluster,
    "AWS::EKS::Nodegroup": price_nodegroup,
    "AWS::FSx::FileSystem": price_lustre,
    "AWS::EFS::FileSystem": price_efs,
    "AWS::S3::Bucket": price_bucket,
    "AWS::EC2::NatGateway": price_nat,
    "AWS::EC2::EIP": price_eip,
    "AWS::EC2::VPCEndpoint": price_endpoint,
    "AWS::KMS::Key": price_key,
    "AWS::Backup::BackupPlan": price_backup_plan,
    "AWS::Logs::LogGroup": price_log_group,
    "AWS::CloudWatch::Alarm": price_alarm,
    "AWS::CloudWatch::CompositeAlarm": price_composite_alarm,
    "AWS::CloudWatch::Dashboard": price_dashboard,
    "AWS::SSM::Parameter": price_parameter,
    # no charge of its own, but the NodePools it applies are capacity (see cost_nodes)
    "Custom::AWSCDK-EKS-KubernetesResource": price_kubernetes_resource,
}

FREE: dict[str, str] = {
    **dict.fromkeys(
        (
            "AWS::IAM::Role",
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::InstanceProfile",
            "AWS::IAM::OIDCProvider",
        ),
        "IAM has no charge",
    ),
    **dict.fromkeys(
        (
            "AWS::EC2::VPC",
            "AWS::EC2::Subnet",
            "AWS::EC2::RouteTable",
            "AWS::EC2::Route",
            "AWS::EC2::SubnetRouteTableAssociation",
            "AWS::EC2::InternetGateway",
            "AWS::EC2::VPCGatewayAttachment",
            "AWS::EC2::SecurityGroup",
            "AWS::EC2::SecurityGroupIngress",
            "AWS::EC2::SecurityGroupEgress",
            "AWS::EC2::PlacementGroup",
        ),
        "VPC building blocks have no charge (traffic through NAT, endpoints and IPv4 is priced there)",
    ),
    "AWS::EC2::LaunchTemplate": "no charge; the volumes it gives each node are priced with the node group",
    "AWS::EKS::Addon": "EKS add-ons have no charge of their own (their pods run on the priced nodes)",
    "AWS::EKS::AccessEntry": "no charge",
    "AWS::EKS::PodIdentityAssociation": "no charge",
    "AWS::EFS::MountTarget": "no charge (storage and throughput are priced with the file system)",
    "AWS::EFS::AccessPoint": "no charge",
    "AWS::FSx::DataRepositoryAssociation": "no charge of its own (S3 requests are usage-based)",
    "AWS::KMS::Alias": "no charge",
    "AWS::S3::BucketPolicy": "no charge",
    "AWS::SNS::TopicPolicy": "no charge",
    "AWS::SNS::Subscription": "no charge (deliveries are priced with the topic)",
    "AWS::Glue::Database": "no charge: the Data Catalog's first million objects a month are free",
    "AWS::Glue::SecurityConfiguration": "no charge",
    "AWS::LakeFormation::Resource": "no charge (registering a location is free; Lake Formation bills no storage)",
    "AWS::Backup::BackupVault": "no charge (the storage of recovery points is priced with the plan)",
    "AWS::Backup::BackupSelection": "no charge (priced with the plan)",
    "AWS::Backup::RestoreTestingSelection": "no charge of its own (restore tests are usage-based, with the plan)",
    "AWS::Lambda::LayerVersion": "no charge (counts against the Lambda code-storage quota)",
    "AWS::Lambda::Permission": "no charge",
    "AWS::CDK::Metadata": "CDK bookkeeping, not an AWS resource",
    "AWS::CloudFormation::Stack": "its resources are priced as the nested stack",
    "Custom::AWSCDKCfnJson": "CDK custom resource: a Lambda invocation per deployment, negligible",
    "Custom::VpcRestrictDefaultSG": "CDK custom resource: a Lambda invocation per deployment, negligible",
    "Custom::AWSCDK-EKS-HelmChart": "no charge of its own (the controllers and device plugins it installs run on "
    "the priced nodes)",
    "Custom::EksAiDataAsgTags": "eks-ai-data custom resource: a Lambda invocation per deployment, negligible",
    "AWS::Events::Rule": "no charge for AWS service events matched by a rule (the queue's requests are usage-based)",
    "AWS::SQS::QueuePolicy": "no charge",
}

USAGE_BASED: dict[str, str] = {
    "AWS::Lambda::Function": "per request and GB-second; the CDK's provider functions run per deployment: negligible",
    "AWS::SNS::Topic": "per publish and delivery; failure and alarm notifications only: negligible",
    "AWS::SQS::Queue": "per request (first million a month free)",
    "AWS::EC2::FlowLog": "billed as log ingestion, priced with its destination log group",
    "AWS::Backup::RestoreTestingPlan": (
        "per restore test job, plus each restore (per GB restored for EFS and S3) and the restored copy until AWS "
        "Backup deletes it; monthly by default"
    ),
    "AWS::Glue::Crawler": "per DPU-hour of each run (billed per second, 10-minute minimum): scheduled runs over "
    "the dataset prefix",
}


def classify(resource_type: str) -> str:
    """``"priced"``, ``"free"``, ``"usage-based"`` or ``"unknown"``."""
    if resource_type in PRICERS:
        return "priced"
    if resource_type in FREE:
        return "free"
    if resource_type in USAGE_BASED:
        return "usage-based"
    return "unknown"
