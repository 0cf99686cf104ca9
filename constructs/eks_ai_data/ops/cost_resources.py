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

from .cost_model import Amount, Context, Item, Pricing, number, ref_target
from .cost_nodes import price_kubernetes_resource, price_nodegroup

Pricer = Callable[[str, dict[str, Any], Context], list[Item]]
DEFAULT_LOG_RETENTION_DAYS = 365  # never-expiring groups: the storage of a year's ingestion


def _item(
    ctx: Context,
    logical_id: str,
    resource: dict[str, Any],
    component: str,
    what: str,
    pricing: Pricing,
    monthly: float,
) -> Item:
    rtype = resource.get("Type", "")
    if pricing.missing:
        why = f"no {pricing.missing} price in {ctx.region} (add --price {pricing.missing}=USD)"
        return Item(ctx.stack, logical_id, rtype, component, what, unpriced=why)
    amount = Amount.fixed(monthly)
    return Item(
        ctx.stack, logical_id, rtype, component, what, amount, amount, None, pricing.estimated, pricing.keys
    )


def _unpriced(
    ctx: Context, logical_id: str, resource: dict[str, Any], component: str, what: str, why: str
) -> Item:
    return Item(ctx.stack, logical_id, resource.get("Type", ""), component, what, unpriced=why)


def _stored(ctx: Context, logical_id: str, assumption: str) -> float:
    return ctx.stored.get(logical_id, ctx.assumptions[assumption])


def price_cluster(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    props = resource.get("Properties") or {}
    version = props.get("Version")
    support = ctx.table.eks_versions.get(version) if isinstance(version, str) else None
    pricing = Pricing(ctx)
    if support is None:
        rate = pricing.usd("eks:standard:hour")
        what = f"EKS {version or '(default version)'} control plane: version not in the price table's calendar, standard rate"
        item = _item(ctx, logical_id, resource, "control plane", what, pricing, rate * ctx.hours)
        items = [dataclasses.replace(item, estimated=True) if item.priced else item]
    else:
        extended = ctx.today >= support.end_of_standard
        rate = pricing.usd("eks:extended:hour" if extended else "eks:standard:hour")
        until = support.end_of_extended if extended else support.end_of_standard
        approx = "~" if support.approximate else ""
        status = "extended" if extended else "standard"
        what = f"EKS {version} control plane, {status} support (until {approx}{until.isoformat()})"
        items = [_item(ctx, logical_id, resource, "control plane", what, pricing, rate * ctx.hours)]
    if (props.get("ComputeConfig") or {}).get("Enabled") is True:
        items.append(
            _unpriced(
                ctx,
                logical_id,
                resource,
                "auto mode",
                "EKS Auto Mode management fee per instance",
                "not in the price table",
            )
        )
    return items


def price_lustre(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    props = resource.get("Properties") or {}
    if props.get("FileSystemType") != "LUSTRE":
        return [
            _unpriced(
                ctx,
                logical_id,
                resource,
                "storage",
                f"FSx for {props.get('FileSystemType')}",
                "only FSx for Lustre is priced",
            )
        ]
    lustre = props.get("LustreConfiguration") or {}
    capacity = number(props.get("StorageCapacity"))
    deployment = lustre.get("DeploymentType", "SCRATCH_1")
    storage = props.get("StorageType", "SSD")
    throughput = number(lustre.get("PerUnitStorageThroughput"))
    if deployment.startswith("SCRATCH"):
        key, tier = "fsx:lustre:scratch:gb-month", deployment
    elif throughput is None:
        return [
            _unpriced(
                ctx,
                logical_id,
                resource,
                "storage",
                f"FSx for Lustre {deployment}",
                "PerUnitStorageThroughput is not a literal",
            )
        ]
    else:
        key, tier = (
            f"fsx:lustre:{deployment}:{storage}:{throughput:g}:gb-month",
            f"{deployment} {storage} {throughput:g} MB/s/TiB",
        )
    if capacity is None:
        return [
            _unpriced(
                ctx,
                logical_id,
                resource,
                "storage",
                f"FSx for Lustre {tier}",
                "StorageCapacity is not a literal",
            )
        ]
    compression = (
        ", LZ4 (billed on provisioned capacity)" if lustre.get("DataCompressionType") == "LZ4" else ""
    )
    pricing = Pricing(ctx)
    items = [
        _item(
            ctx,
            logical_id,
            resource,
            "storage",
            f"FSx for Lustre {tier}, {capacity:g} GiB{compression}",
            pricing,
            capacity * pricing.usd(key),
        )
    ]
    if storage == "HDD" and lustre.get("DriveCacheType") == "READ":
        cache = Pricing(ctx)
        items.append(
            _item(
                ctx,
                logical_id,
                resource,
                "read cache",
                f"SSD read cache, {capacity * 0.2:g} GiB (20%)",
                cache,
                capacity * 0.2 * cache.usd("fsx:lustre:hdd-read-cache:gb-month"),
            )
        )
    metadata = lustre.get("MetadataConfiguration") or {}
    if metadata.get("Mode") == "USER_PROVISIONED":
        iops = number(metadata.get("Iops"))
        meta = Pricing(ctx)
        if iops is None:
            items.append(
                _unpriced(
                    ctx,
                    logical_id,
                    resource,
                    "metadata",
                    "user-provisioned metadata IOPS",
                    "Iops is not a literal",
                )
            )
        else:
            items.append(
                _item(
                    ctx,
                    logical_id,
                    resource,
                    "metadata",
                    f"{iops:g} user-provisioned metadata IOPS",
                    meta,
                    iops * meta.usd("fsx:lustre:metadata-iops-month"),
                )
            )
    retention = number(lustre.get("AutomaticBackupRetentionDays"))
    if not deployment.startswith("SCRATCH") and (retention is None or retention > 0):
        share = ctx.assumptions["lustre_backup_share"]
        backup = Pricing(ctx)
        gib = capacity * share
        what = f"automatic backups ({'default' if retention is None else f'{retention:g} days'}), assumed {gib:g} GiB stored"
        items.append(
            _item(
                ctx,
                logical_id,
                resource,
                "backups",
                what,
                backup,
                gib * backup.usd("fsx:lustre:backup:gb-month"),
            )
        )
    return items


def _efs_shares(props: dict[str, Any], ctx: Context) -> tuple[float, float, float]:
    transitions = {
        k for policy in props.get("LifecyclePolicies") or [] if isinstance(policy, dict) for k in policy
    }
    ia = ctx.assumptions["efs_ia_share"] if "TransitionToIA" in transitions else 0.0
    archive = ctx.assumptions["efs_archive_share"] if "TransitionToArchive" in transitions else 0.0
    return max(0.0, 1.0 - ia - archive), ia, archive


def price_efs(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    props = resource.get("Properties") or {}
    gib = _stored(ctx, logical_id, "efs_gib")
    standard, ia, archive = _efs_shares(props, ctx)
    one_zone = "AvailabilityZoneName" in props
    pricing = Pricing(ctx)
    if one_zone:
        archive, ia = 0.0, ia + archive  # One Zone has no Archive class
        usd = gib * standard * pricing.usd("efs:one-zone:gb-month")
        usd += gib * ia * pricing.usd("efs:one-zone-ia:gb-month") if ia else 0.0
    else:
        usd = gib * standard * pricing.usd("efs:standard:gb-month")
        usd += gib * ia * pricing.usd("efs:ia:gb-month") if ia else 0.0
        usd += gib * archive * pricing.usd("efs:archive:gb-month") if archive else 0.0
    mix = (
        f"{standard:.0%} Standard"
        + (f" / {ia:.0%} IA" if ia else "")
        + (f" / {archive:.0%} Archive" if archive else "")
    )
    kind = "One Zone" if one_zone else "Regional"
    items = [
        _item(ctx, logical_id, resource, "storage", f"EFS {kind}, assumed {gib:g} GiB: {mix}", pricing, usd)
    ]
    mode = props.get("ThroughputMode", "bursting")
    throughput = Pricing(ctx)
    if mode == "elastic":
        read, write = ctx.assumptions["efs_read_gib"], ctx.assumptions["efs_write_gib"]
        usd = read * throughput.usd("efs:elastic:read-gb") + write * throughput.usd("efs:elastic:write-gb")
        items.append(
            _item(
                ctx,
                logical_id,
                resource,
                "throughput",
                f"Elastic throughput, assumed {read:g} GiB read + {write:g} GiB written",
                throughput,
                usd,
            )
        )
    elif mode == "provisioned":
        mibps = number(props.get("ProvisionedThroughputInMibps"))
        if mibps is None:
            items.append(
                _unpriced(
                    ctx,
                    logical_id,
                    resource,
                    "throughput",
                    "Provisioned throughput",
                    "ProvisionedThroughputInMibps is not a literal",
                )
            )
        else:
            items.append(
                _item(
                    ctx,
                    logical_id,
                    resource,
                    "throughput",
                    f"Provisioned throughput {mibps:g} MiB/s",
                    throughput,
                    mibps * throughput.usd("efs:provisioned:mibps-month"),
                )
            )
    return items


def _log_destinations(ctx: Context) -> set[str]:
    found = set()
    for resource in (ctx.template.get("Resources") or {}).values():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::S3::Bucket":
            target = ref_target(
                ((resource.get("Properties") or {}).get("LoggingConfiguration") or {}).get(
                    "DestinationBucketName"
                )
            )
            if target:
                found.add(target)
    return found


def price_bucket(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    props = resource.get("Properties") or {}
    logs = logical_id in _log_destinations(ctx)
    gib = _stored(ctx, logical_id, "s3_log_gib" if logs else "s3_gib")
    rules = ((props.get("LifecycleConfiguration") or {}).get("Rules")) or []
    tiering = bool(props.get("IntelligentTieringConfigurations")) or any(
        t.get("StorageClass") == "INTELLIGENT_TIERING" and number(t.get("TransitionInDays")) == 0
        for rule in rules
        if isinstance(rule, dict)
        for t in rule.get("Transitions") or []
        if isinstance(t, dict)
    )
    pricing = Pricing(ctx)
    key = "s3:intelligent-tiering:frequent:gb-month" if tiering else "s3:standard:gb-month"
    cls = "Intelligent-Tiering (frequent tier, upper bound)" if tiering else "Standard"
    role = "access logs" if logs else "data"
    return [
        _item(
            ctx,
            logical_id,
            resource,
            "storage",
            f"S3 {cls}, {role}, assumed {gib:g} GiB",
            pricing,
            gib * pricing.usd(key),
        )
    ]


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
        _item(
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
        _item(
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
            _item(
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
            _unpriced(
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
            _unpriced(
                ctx, logical_id, resource, "endpoint", "interface endpoint", "SubnetIds is not a literal list"
            )
        ]
    gb = ctx.assumptions["vpce_gb"]
    usd = len(subnets) * ctx.hours * pricing.usd("vpce:interface:az-hour") + gb * pricing.usd(
        "vpce:interface:gb"
    )
    return [
        _item(
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
        _item(
            ctx,
            logical_id,
            resource,
            "key",
            "customer managed key (requests usage-based)",
            pricing,
            pricing.usd("kms:key-month"),
        )
    ]


def price_backup_plan(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    rules = ((resource.get("Properties") or {}).get("BackupPlan") or {}).get("BackupPlanRule") or []
    gib = _stored(ctx, logical_id, "backup_gib")
    cold = any(
        isinstance(r, dict) and (r.get("Lifecycle") or {}).get("MoveToColdStorageAfterDays") for r in rules
    )
    note = "; cold tier priced as warm (upper bound)" if cold else ""
    pricing = Pricing(ctx)
    what = (
        f"backup storage, {len(rules)} rule{'s' if len(rules) != 1 else ''}, assumed {gib:g} GiB warm{note}"
    )
    return [
        _item(ctx, logical_id, resource, "storage", what, pricing, gib * pricing.usd("backup:warm:gb-month"))
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
    return [_item(ctx, logical_id, resource, "logs", what, pricing, usd)]


def price_alarm(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    period = number((resource.get("Properties") or {}).get("Period"))
    high = period is not None and period < 60
    key = "cloudwatch:alarm-high-resolution-month" if high else "cloudwatch:alarm-month"
    pricing = Pricing(ctx)
    return [
        _item(
            ctx,
            logical_id,
            resource,
            "alarm",
            f"{'high' if high else 'standard'}-resolution alarm",
            pricing,
            pricing.usd(key),
        )
    ]


def price_composite_alarm(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    pricing = Pricing(ctx)
    return [
        _item(
            ctx,
            logical_id,
            resource,
            "alarm",
            "composite alarm",
            pricing,
            pricing.usd("cloudwatch:composite-alarm-month"),
        )
    ]


def price_dashboard(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    pricing = Pricing(ctx)
    return [
        _item(
            ctx,
            logical_id,
            resource,
            "dashboard",
            "dashboard (an account's first 3 are free; not applied)",
            pricing,
            pricing.usd("cloudwatch:dashboard-month"),
        )
    ]


def price_parameter(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    pricing = Pricing(ctx)
    if (resource.get("Properties") or {}).get("Tier") == "Advanced":
        return [
            _item(
                ctx,
                logical_id,
                resource,
                "parameter",
                "Advanced-tier parameter",
                pricing,
                pricing.usd("ssm:advanced-parameter-month"),
            )
        ]
    return [_item(ctx, logical_id, resource, "parameter", "Standard-tier parameter: no charge", pricing, 0.0)]


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
    "AWS::Backup::BackupVault": "no charge (the storage of recovery points is priced with the plan)",
    "AWS::Backup::BackupSelection": "no charge (priced with the plan)",
    "AWS::Lambda::LayerVersion": "no charge (counts against the Lambda code-storage quota)",
    "AWS::Lambda::Permission": "no charge",
    "AWS::CDK::Metadata": "CDK bookkeeping, not an AWS resource",
    "AWS::CloudFormation::Stack": "its resources are priced as the nested stack",
    "Custom::AWSCDKCfnJson": "CDK custom resource: a Lambda invocation per deployment, negligible",
    "Custom::VpcRestrictDefaultSG": "CDK custom resource: a Lambda invocation per deployment, negligible",
}

USAGE_BASED: dict[str, str] = {
    "AWS::Lambda::Function": "per request and GB-second; the CDK's provider functions run per deployment: negligible",
    "AWS::SNS::Topic": "per publish and delivery; failure notifications only: negligible",
    "AWS::SQS::Queue": "per request (first million a month free)",
    "AWS::EC2::FlowLog": "billed as log ingestion, priced with its destination log group",
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
