"""Refresh the shipped price table (``prices.json``) from the AWS Price List API.

``pricing:GetProducts`` (boto3 ``pricing`` client; the API answers in us-east-1) returns, per
product, a JSON string with ``product.attributes`` (``usagetype``, ``instanceType``, ...) and
``terms.OnDemand.*.priceDimensions.*`` (``unit``, ``beginRange``, ``pricePerUnit.USD``); see the
AWS Price List API guide ("Getting products") and botocore's pricing service model.

- EC2 instances: one query per instance type and Region with the filters of Linux on-demand
  capacity on shared tenancy (operatingSystem Linux, tenancy Shared, preInstalledSw NA,
  capacitystatus Used, licenseModel "No License required", operation RunInstances), unit Hrs.
- Other services: one query per key (:data:`SERVICE_QUERIES`), the product whose ``usagetype``
  ends with the named suffix (usage types carry a Region prefix such as ``USW2-``, none in
  us-east-1 for EC2), first price tier.

A key is updated only when exactly one price answers it; keys with no query (FSx for Lustre,
whose Price List attributes could not be verified offline, Capacity Blocks, ...), no answer or
several distinct answers keep their previous figure and are reported. Refreshed keys stop being
estimated; the date and source of the table record the refresh.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .prices import DATA_FILE, PriceTable, PriceTableError

PRICING_REGION = "us-east-1"
EC2_FILTERS = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
    "licenseModel": "No License required",
    "operation": "RunInstances",
}


@dataclass(frozen=True)
class Query:
    """How one key of the table is asked of GetProducts."""

    key: str
    service: str
    filters: dict[str, str]
    usagetype_suffix: str | None = None
    unit: str | None = None
    scale: float = 1.0
    """Multiplier from the Price List unit to the table's (per-hour rates of per-month keys)."""


SERVICE_QUERIES: tuple[Query, ...] = (
    Query(
        "ebs:gp3:gb-month",
        "AmazonEC2",
        {"productFamily": "Storage", "volumeApiName": "gp3"},
        "EBS:VolumeUsage.gp3",
    ),
    Query(
        "ebs:gp2:gb-month",
        "AmazonEC2",
        {"productFamily": "Storage", "volumeApiName": "gp2"},
        "EBS:VolumeUsage.gp2",
    ),
    Query("ebs:gp3:iops-month", "AmazonEC2", {"volumeApiName": "gp3"}, "EBS:VolumeP-IOPS.gp3"),
    Query("ebs:gp3:mbps-month", "AmazonEC2", {"volumeApiName": "gp3"}, "EBS:VolumeP-Throughput.gp3"),
    Query("ebs:snapshot:gb-month", "AmazonEC2", {"productFamily": "Storage Snapshot"}, "EBS:SnapshotUsage"),
    Query("nat:hour", "AmazonEC2", {"productFamily": "NAT Gateway"}, "NatGateway-Hours"),
    Query("nat:gb", "AmazonEC2", {"productFamily": "NAT Gateway"}, "NatGateway-Bytes"),
    Query("eks:standard:hour", "AmazonEKS", {}, "AmazonEKS-Hours:perCluster"),
    Query("eks:extended:hour", "AmazonEKS", {}, "AmazonEKS-Hours:extendedSupport"),
    Query("kms:key-month", "awskms", {}, "KMS-Keys"),
    Query("s3:standard:gb-month", "AmazonS3", {}, "TimedStorage-ByteHrs"),
    Query("s3:standard-ia:gb-month", "AmazonS3", {}, "TimedStorage-SIA-ByteHrs"),
    Query("efs:standard:gb-month", "AmazonEFS", {}, "TimedStorage-ByteHrs"),
    Query("efs:ia:gb-month", "AmazonEFS", {}, "IATimedStorage-ByteHrs"),
    Query("logs:ingest-gb", "AmazonCloudWatch", {}, "DataProcessing-Bytes"),
    Query("logs:storage-gb-month", "AmazonCloudWatch", {}, "TimedStorage-ByteHrs"),
    Query("cloudwatch:alarm-month", "AmazonCloudWatch", {}, "CW:AlarmMonitorUsage"),
)


def ec2_query(instance_type: str) -> Query:
    return Query(
        f"ec2:{instance_type}", "AmazonEC2", {"instanceType": instance_type, **EC2_FILTERS}, unit="Hrs"
    )


def on_demand_usd(item: str, query: Query) -> float | None:
    """The first-tier on-demand USD price of one PriceList item, if it is the product ``query`` asks for."""
    try:
        product = json.loads(item)
    except ValueError:
        return None
    usagetype = ((product.get("product") or {}).get("attributes") or {}).get("usagetype", "")
    if query.usagetype_suffix and not str(usagetype).endswith(query.usagetype_suffix):
        return None
    for term in ((product.get("terms") or {}).get("OnDemand") or {}).values():
        for dimension in (term.get("priceDimensions") or {}).values():
            if query.unit and dimension.get("unit") != query.unit:
                continue
            if str(dimension.get("beginRange", "0")) != "0":
                continue  # a later tier of a tiered price (S3, CloudWatch Logs)
            try:
                return float(dimension["pricePerUnit"]["USD"]) * query.scale
            except (KeyError, TypeError, ValueError):
                continue
    return None


def fetch(client: Any, region: str, query: Query) -> list[float]:
    """Distinct positive prices that answer ``query`` in ``region`` (every page of GetProducts)."""
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    filters += [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in query.filters.items()]
    found: set[float] = set()
    for page in client.get_paginator("get_products").paginate(
        ServiceCode=query.service, Filters=filters, FormatVersion="aws_v1"
    ):
        for item in page.get("PriceList", []):
            usd = on_demand_usd(item, query)
            if usd is not None and usd > 0:
                found.add(round(usd, 8))
    return sorted(found)


@dataclass
class RefreshResult:
    document: dict[str, Any]
    updated: list[tuple[str, str, float | None, float]] = field(default_factory=list)
    not_found: list[tuple[str, str]] = field(default_factory=list)
    ambiguous: list[tuple[str, str, list[float]]] = field(default_factory=list)
    kept: dict[str, int] = field(default_factory=dict)


def queries_for(prices: dict[str, Any], instance_types: Iterable[str]) -> list[Query]:
    types = sorted({k.removeprefix("ec2:") for k in prices if k.startswith("ec2:")} | set(instance_types))
    return [*map(ec2_query, types), *SERVICE_QUERIES]


def refresh(
    document: dict[str, Any],
    client: Any,
    *,
    regions: Iterable[str] | None = None,
    instance_types: Iterable[str] = (),
    today: dt.date | None = None,
) -> RefreshResult:
    """A copy of the price table ``document`` with the figures the Price List API gives."""
    PriceTable.from_document(document)  # refuse to refresh a malformed table
    new = json.loads(json.dumps(document))
    result = RefreshResult(new)
    day = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    chosen = list(regions or new["regions"])
    for region in chosen:
        entry = new["regions"].setdefault(region, {"prices": {}, "estimated": []})
        prices, patterns = entry["prices"], entry.get("estimated") or []
        refreshed = set()
        for query in queries_for(prices, instance_types):
            answers = fetch(client, region, query)
            if len(answers) == 1:
                result.updated.append((region, query.key, prices.get(query.key), answers[0]))
                prices[query.key] = answers[0]
                refreshed.add(query.key)
            elif answers:
                result.ambiguous.append((region, query.key, answers))
            else:
                result.not_found.append((region, query.key))
        entry["estimated"] = sorted(
            k for k in prices if k not in refreshed and any(fnmatch.fnmatchcase(k, p) for p in patterns)
        )
        result.kept[region] = len(prices) - len(refreshed)
        entry["basis"] = (
            f"Refreshed from the AWS Price List API on {day}: {len(refreshed)} prices; the other "
            f"{result.kept[region]} kept from the table as of {document['as_of']} "
            f"(previous basis: {document['regions'].get(region, {}).get('basis', 'none')})"
        )
    new["as_of"] = day
    new["source"] = (
        f"AWS Price List API (pricing:GetProducts, {PRICING_REGION} endpoint) on {day} for "
        f"{len({k for _, k, _, _ in result.updated})} price keys in {', '.join(chosen)}; keys it did not "
        f"answer kept from the table as of {document['as_of']} (source: {document['source']})"
    )
    return result


def summary(result: RefreshResult) -> str:
    lines = [f"updated {len(result.updated)} prices"]
    changed = [(r, k, old, new) for r, k, old, new in result.updated if old != new]
    lines += [f"  {r} {k}: {old} -> {new}" for r, k, old, new in changed]
    lines += [f"kept (no answer): {r} {k}" for r, k in result.not_found]
    lines += [f"kept (several answers {v}): {r} {k}" for r, k, v in result.ambiguous]
    return "\n".join(lines)


def main(argv: list[str] | None = None, *, client: Any = None) -> int:
    """``scripts/refresh_prices.py``: 0 written (or printed with --dry-run), 2 could not run."""
    parser = argparse.ArgumentParser(
        prog="refresh_prices.py", description="Refresh eks-ai-data's price table from the AWS Price List API."
    )
    parser.add_argument(
        "--output", type=Path, default=DATA_FILE, help=f"table to write (default: {DATA_FILE})"
    )
    parser.add_argument("--regions", help="comma-separated Regions (default: those in the table)")
    parser.add_argument("--profile", help="AWS named profile (default: the default chain)")
    parser.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")
    args = parser.parse_args(argv)
    from eks_ai_data import catalog

    try:
        document = json.loads(
            Path(args.output if args.output.exists() else DATA_FILE).read_text(encoding="utf-8")
        )
        if client is None:
            from .aws import Aws

            client = Aws.open(region=PRICING_REGION, profile=args.profile).client("pricing")
        regions = [r.strip() for r in args.regions.split(",") if r.strip()] if args.regions else None
        types = [s.name for s in catalog.all_instance_types()]
        result = refresh(document, client, regions=regions, instance_types=types)
    except (OSError, ValueError, PriceTableError) as exc:
        print(f"refresh_prices: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # boto3/botocore errors: no credentials, access denied, throttled
        from .aws import AWS_ERRORS, translate

        if not isinstance(exc, AWS_ERRORS):
            raise
        print(f"refresh_prices: error: {translate(exc)}", file=sys.stderr)
        return 2
    print(summary(result))
    if not args.dry_run:
        args.output.write_text(json.dumps(result.document, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.output}")
    return 0
