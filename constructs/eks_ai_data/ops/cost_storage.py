"""Storage in an estimate: FSx for Lustre, EFS, S3 buckets and AWS Backup plans.

The rules, with the AWS pricing page each follows, are listed in :mod:`eks_ai_data.ops.cost_resources`.
"""

from __future__ import annotations

from typing import Any

from .cost_model import Context, Item, Pricing, fixed_item, number, ref_target, stored_gib, unpriced_item


def price_lustre(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    props = resource.get("Properties") or {}
    if props.get("FileSystemType") != "LUSTRE":
        return [
            unpriced_item(
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
            unpriced_item(
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
            unpriced_item(
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
        fixed_item(
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
            fixed_item(
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
                unpriced_item(
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
                fixed_item(
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
            fixed_item(
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
    gib = stored_gib(ctx, logical_id, "efs_gib")
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
        fixed_item(
            ctx, logical_id, resource, "storage", f"EFS {kind}, assumed {gib:g} GiB: {mix}", pricing, usd
        )
    ]
    mode = props.get("ThroughputMode", "bursting")
    throughput = Pricing(ctx)
    if mode == "elastic":
        read, write = ctx.assumptions["efs_read_gib"], ctx.assumptions["efs_write_gib"]
        usd = read * throughput.usd("efs:elastic:read-gb") + write * throughput.usd("efs:elastic:write-gb")
        items.append(
            fixed_item(
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
                unpriced_item(
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
                fixed_item(
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
    gib = stored_gib(ctx, logical_id, "s3_log_gib" if logs else "s3_gib")
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
        fixed_item(
            ctx,
            logical_id,
            resource,
            "storage",
            f"S3 {cls}, {role}, assumed {gib:g} GiB",
            pricing,
            gib * pricing.usd(key),
        )
    ]


def price_backup_plan(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    rules = ((resource.get("Properties") or {}).get("BackupPlan") or {}).get("BackupPlanRule") or []
    gib = stored_gib(ctx, logical_id, "backup_gib")
    cold = any(
        isinstance(r, dict) and (r.get("Lifecycle") or {}).get("MoveToColdStorageAfterDays") for r in rules
    )
    note = "; cold tier priced as warm (upper bound)" if cold else ""
    pricing = Pricing(ctx)
    what = (
        f"backup storage, {len(rules)} rule{'s' if len(rules) != 1 else ''}, assumed {gib:g} GiB warm{note}"
    )
    return [
        fixed_item(
            ctx, logical_id, resource, "storage", what, pricing, gib * pricing.usd("backup:warm:gb-month")
        )
    ]
