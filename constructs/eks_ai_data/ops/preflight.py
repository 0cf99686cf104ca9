"""Preflight: can the planned node groups launch in a Region, before ``cdk deploy``?

For each planned instance type it reads (all read-only calls):

- ``ec2:DescribeInstanceTypes``: vCPUs (and accelerators) of the type, and whether it runs as Spot;
- ``ec2:DescribeInstanceTypeOfferings`` by availability zone: the AZs that offer it;
- ``servicequotas:GetServiceQuota`` (falling back to ``GetAWSDefaultServiceQuota``): the vCPU
  quota of its family (see :mod:`eks_ai_data.ops.quotas`), against the vCPUs the planned nodes
  need plus those already running in that quota (``ec2:DescribeInstances``);
- the instance catalog against that same ``DescribeInstanceTypes`` answer (see
  :mod:`eks_ai_data.ops.catalog_check`): a difference in what the node groups are synthesized from
  fails, other differences warn, and a type the catalog does not know warns with the ``register``
  call that makes the node groups accept it;
- ``ec2:DescribeCapacityReservations`` for each ``--capacity-reservation`` (see
  :mod:`eks_ai_data.ops.capacity_blocks`): a capacity block of the planned type, zone and size,
  active or scheduled, not ended; a type it covers needs no zone offering check;
- ``eks:DescribeClusterVersions``: whether EKS offers the requested Kubernetes version;
- FSx for Lustre: whether FSx is in the Region (botocore's endpoint data, then
  ``fsx:DescribeFileSystems``). No AWS API reports which Lustre deployment types a Region
  offers, so PERSISTENT_2 is confirmed only when a PERSISTENT_2 file system already exists in
  the Region; otherwise the row is a warning that points to the FSx for Lustre documentation.

A planned node group that could not launch (no AZ offers the type, a quota is short, the type
does not exist or cannot run as Spot) is a failed check; the command then exits with code 1.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from . import capacity_blocks, catalog_check
from .aws import Aws, error_code, error_message
from .capacity_blocks import PlannedReservation, parse_reservation
from .quotas import SERVICE_CODE, CapacityType, QuotaClass, quota_class
from .table import Check, Status

LUSTRE_DEPLOYMENT_DOC = "https://docs.aws.amazon.com/fsx/latest/LustreGuide/using-fsx-lustre.html"
INVALID_TYPE_CODES = frozenset({"InvalidInstanceType", "InvalidParameterValue"})


@dataclass(frozen=True)
class PlannedNodes:
    """A planned node group: ``nodes`` instances of ``instance_type``."""

    instance_type: str
    nodes: int


@dataclass(frozen=True)
class InstanceFacts:
    instance_type: str
    vcpus: int
    accelerators: str
    spot: bool
    info: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def parse_plan(spec: str, default_nodes: int) -> list[PlannedNodes]:
    """Parse ``p5.48xlarge:4,g6e.12xlarge`` (a count per type, else ``default_nodes``)."""
    plans: list[PlannedNodes] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, count = item.partition(":")
        nodes = default_nodes
        if count:
            if not count.isdigit() or int(count) < 1:
                raise ValueError(f"invalid node count {count!r} in {item!r}: use TYPE or TYPE:N with N >= 1")
            nodes = int(count)
        plans.append(PlannedNodes(name.strip().lower(), nodes))
    if not plans:
        raise ValueError("no instance types given: use e.g. --instance-types p5.48xlarge,g6e.12xlarge")
    return plans


def parse_reservations(specs: list[str] | None, plan: list[PlannedNodes]) -> list[PlannedReservation]:
    """Parse each ``--capacity-reservation cr-...:TYPE[:AZ]`` against the plan's instance types."""
    types = [p.instance_type for p in plan]
    parsed = [parse_reservation(spec, types) for spec in specs or []]
    ids = [r.reservation_id for r in parsed]
    if len(set(ids)) != len(ids):
        raise ValueError("each --capacity-reservation must name a different reservation")
    return parsed


def run(
    aws: Aws,
    *,
    plan: list[PlannedNodes],
    capacity_type: CapacityType = "on-demand",
    kubernetes_version: str | None = None,
    availability_zones: list[str] | None = None,
    capacity_reservations: list[PlannedReservation] | None = None,
    now: dt.datetime | None = None,
) -> list[Check]:
    """Run every preflight check and return the rows of the report."""
    checks: list[Check] = []
    azs = _zones(aws, availability_zones, checks)
    facts = {p.instance_type: _describe_type(aws, p.instance_type) for p in plan}
    reservations = capacity_reservations or []
    reserved = {r.instance_type for r in reservations}
    offered = _offerings(aws, [t for t, f in facts.items() if f is not None and t not in reserved])

    for p in plan:
        fact = facts[p.instance_type]
        if fact is None:
            checks.append(
                Check(
                    "instance-type", p.instance_type, Status.FAIL, f"not an EC2 instance type in {aws.region}"
                )
            )
            continue
        checks.append(Check("instance-type", p.instance_type, Status.OK, _describe_fact(fact)))
        checks.extend(catalog_check.check(p.instance_type, fact.info))
        if capacity_type == "spot" and not fact.spot:
            checks.append(
                Check("capacity", p.instance_type, Status.FAIL, "this instance type cannot run as Spot")
            )
        if p.instance_type not in reserved:  # a capacity block's own zone is checked below
            checks.append(
                _offering_check(p.instance_type, offered.get(p.instance_type, set()), azs, aws.region)
            )

    nodes = {p.instance_type: p.nodes for p in plan}
    moment = now or dt.datetime.now(dt.UTC)
    for reservation in reservations:
        checks.extend(
            capacity_blocks.check(
                aws, reservation, nodes[reservation.instance_type], availability_zones or None, moment
            )
        )

    known = [p for p in plan if facts[p.instance_type] is not None]
    checks.extend(_quota_checks(aws, known, facts, capacity_type))
    checks.append(_eks_version_check(aws, kubernetes_version))
    checks.append(_lustre_check(aws))
    return checks


def _zones(aws: Aws, wanted: list[str] | None, checks: list[Check]) -> list[str]:
    response = aws.client("ec2").describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}]
    )
    region_azs = sorted(z["ZoneName"] for z in response["AvailabilityZones"] if z.get("State") == "available")
    if not wanted:
        return region_azs
    unknown = [z for z in wanted if z not in region_azs]
    if unknown:
        checks.append(
            Check(
                "zones",
                ",".join(unknown),
                Status.FAIL,
                f"not an available zone of {aws.region} (zones: {', '.join(region_azs)})",
            )
        )
    return [z for z in wanted if z in region_azs]


def _describe_type(aws: Aws, instance_type: str) -> InstanceFacts | None:
    try:
        response = aws.client("ec2").describe_instance_types(InstanceTypes=[instance_type])
    except ClientError as exc:
        if error_code(exc) in INVALID_TYPE_CODES:
            return None
        raise
    if not response.get("InstanceTypes"):
        return None
    info = response["InstanceTypes"][0]
    accelerators = []
    for kind, key in (("GpuInfo", "Gpus"), ("InferenceAcceleratorInfo", "Accelerators")):
        for acc in info.get(kind, {}).get(key, []):
            accelerators.append(
                f"{acc.get('Count', 0)} x {acc.get('Manufacturer', '')} {acc.get('Name', '')}"
            )
    for acc in info.get("NeuronInfo", {}).get("NeuronDevices", []):
        accelerators.append(f"{acc.get('Count', 0)} x {acc.get('Name', 'Neuron')}")
    return InstanceFacts(
        instance_type=instance_type,
        vcpus=int(info["VCpuInfo"]["DefaultVCpus"]),
        accelerators=", ".join(" ".join(a.split()) for a in accelerators),
        spot="spot" in info.get("SupportedUsageClasses", ["on-demand", "spot"]),
        info=info,
    )


def _describe_fact(fact: InstanceFacts) -> str:
    text = f"{fact.vcpus} vCPUs"
    return f"{text}, {fact.accelerators}" if fact.accelerators else text


def _offerings(aws: Aws, instance_types: list[str]) -> dict[str, set[str]]:
    offered: dict[str, set[str]] = defaultdict(set)
    if not instance_types:
        return offered
    for offer in aws.paginate(
        "ec2",
        "describe_instance_type_offerings",
        "InstanceTypeOfferings",
        LocationType="availability-zone",
        Filters=[{"Name": "instance-type", "Values": instance_types}],
    ):
        offered[offer["InstanceType"]].add(offer["Location"])
    return offered


def _offering_check(instance_type: str, offered: set[str], azs: list[str], region: str) -> Check:
    usable = sorted(offered.intersection(azs))
    if usable:
        return Check(
            "offering",
            instance_type,
            Status.OK,
            f"offered in {len(usable)} of {len(azs)} zones: {', '.join(usable)}",
        )
    if not offered:
        why = f"no availability zone of {region} offers {instance_type}"
    else:
        why = (
            f"none of the chosen zones ({', '.join(azs) or 'none'}) offers {instance_type}; "
            f"offered in {', '.join(sorted(offered))}"
        )
    return Check("offering", instance_type, Status.FAIL, why)


def _quota_checks(
    aws: Aws, plan: list[PlannedNodes], facts: dict[str, InstanceFacts | None], capacity_type: CapacityType
) -> list[Check]:
    by_class: dict[str, list[PlannedNodes]] = defaultdict(list)
    classes: dict[str, QuotaClass] = {}
    for p in plan:
        qc = quota_class(p.instance_type)
        classes[qc.key] = qc
        by_class[qc.key].append(p)
    if not by_class:
        return []
    vcpus = {
        name: fact.vcpus for name, fact in facts.items() if fact is not None
    }  # the plan's types are known
    in_use = _vcpus_in_use(aws, capacity_type)
    checks = []
    for key, planned in by_class.items():
        qc = classes[key]
        types = ", ".join(p.instance_type for p in planned)
        code = qc.code(capacity_type)
        if code is None:
            checks.append(
                Check("quota", types, Status.FAIL, f"{qc.label} instances cannot run as Spot (no Spot quota)")
            )
            continue
        breakdown = " + ".join(f"{p.nodes} x {vcpus[p.instance_type]}" for p in planned)
        need = sum(p.nodes * vcpus[p.instance_type] for p in planned)
        used = in_use.get(key, 0)
        value, source = _quota_value(aws, code)
        label = f"{qc.quota_name(capacity_type)} ({code})"
        if value is None:
            checks.append(
                Check(
                    "quota",
                    types,
                    Status.WARN,
                    f"{label}: could not read the quota ({source}); need {need} vCPUs",
                )
            )
            continue
        limit = math.floor(value)
        detail = f"{label}: need {need} vCPUs ({breakdown}) + {used} in use, quota {limit} ({source})"
        if need + used > limit:
            short = need + used - limit
            checks.append(
                Check("quota", types, Status.FAIL, f"{detail}: short by {short} vCPUs; request an increase")
            )
        else:
            checks.append(Check("quota", types, Status.OK, detail))
    return checks


def _quota_value(aws: Aws, code: str) -> tuple[float | None, str]:
    client = aws.client("service-quotas")
    try:
        return float(
            client.get_service_quota(ServiceCode=SERVICE_CODE, QuotaCode=code)["Quota"]["Value"]
        ), "applied"
    except ClientError as exc:
        if error_code(exc) != "NoSuchResourceException":
            raise
    try:
        response = client.get_aws_default_service_quota(ServiceCode=SERVICE_CODE, QuotaCode=code)
        return float(response["Quota"]["Value"]), "AWS default"
    except ClientError as exc:
        if error_code(exc) != "NoSuchResourceException":
            raise
        return None, error_message(exc)


def _vcpus_in_use(aws: Aws, capacity_type: CapacityType) -> dict[str, int]:
    """vCPUs of pending and running instances per quota class, for the chosen capacity type."""
    used: dict[str, int] = defaultdict(int)
    unsized: dict[str, int] = defaultdict(int)  # instance type -> count, when CpuOptions is absent
    for reservation in aws.paginate(
        "ec2",
        "describe_instances",
        "Reservations",
        Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}],
    ):
        for instance in reservation.get("Instances", []):
            lifecycle = instance.get("InstanceLifecycle")
            # Capacity Blocks and Scheduled Instances do not count against On-Demand or Spot quotas
            if lifecycle not in (None, "spot") or (lifecycle == "spot") != (capacity_type == "spot"):
                continue
            cpu = instance.get("CpuOptions") or {}
            if "CoreCount" in cpu:
                vcpus = int(cpu["CoreCount"]) * int(cpu.get("ThreadsPerCore", 1))
                used[quota_class(instance["InstanceType"]).key] += vcpus
            else:
                unsized[instance["InstanceType"]] += 1
    types = sorted(unsized)
    for start in range(0, len(types), 100):  # DescribeInstanceTypes takes up to 100 types
        response = aws.client("ec2").describe_instance_types(InstanceTypes=types[start : start + 100])
        for info in response.get("InstanceTypes", []):
            name = info["InstanceType"]
            used[quota_class(name).key] += unsized[name] * int(info["VCpuInfo"]["DefaultVCpus"])
    return used


def _eks_version_check(aws: Aws, version: str | None) -> Check:
    versions = list(aws.paginate("eks", "describe_cluster_versions", "clusterVersions", includeAll=True))
    if version is None:
        default = next((v["clusterVersion"] for v in versions if v.get("defaultVersion")), None)
        detail = f"EKS default version in {aws.region} is {default}" if default else "no default reported"
        return Check(
            "eks-version", "(default)", Status.OK, detail + "; pass --kubernetes-version to check yours"
        )
    found = next((v for v in versions if v.get("clusterVersion") == version), None)
    offered = ", ".join(
        sorted(
            (v["clusterVersion"] for v in versions if v.get("versionStatus") != "UNSUPPORTED"),
            key=_version_key,
        )
    )
    if found is None:
        return Check(
            "eks-version",
            version,
            Status.FAIL,
            f"EKS does not offer {version} in {aws.region}; offered: {offered}",
        )
    status = found.get("versionStatus") or str(found.get("status", "")).upper().replace("-", "_")
    if status == "STANDARD_SUPPORT":
        end = found.get("endOfStandardSupportDate")
        until = f" until {end:%Y-%m-%d}" if end else ""
        return Check("eks-version", version, Status.OK, f"standard support{until}")
    if status == "EXTENDED_SUPPORT":
        end = found.get("endOfExtendedSupportDate")
        until = f" until {end:%Y-%m-%d}" if end else ""
        return Check(
            "eks-version", version, Status.WARN, f"extended support only{until} (billed at a higher rate)"
        )
    return Check(
        "eks-version", version, Status.FAIL, f"{version} is no longer supported by EKS; offered: {offered}"
    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def _lustre_check(aws: Aws) -> Check:
    subject = "PERSISTENT_2"
    if aws.region not in aws.available_regions("fsx"):
        return Check("fsx-lustre", subject, Status.FAIL, f"Amazon FSx is not offered in {aws.region}")
    for fs in aws.paginate("fsx", "describe_file_systems", "FileSystems"):
        deployment = fs.get("LustreConfiguration", {}).get("DeploymentType")
        if fs.get("FileSystemType") == "LUSTRE" and deployment == "PERSISTENT_2":
            return Check(
                "fsx-lustre",
                subject,
                Status.OK,
                f"FSx reachable; PERSISTENT_2 file system {fs['FileSystemId']} already runs in {aws.region}",
            )
    return Check(
        "fsx-lustre",
        subject,
        Status.WARN,
        f"FSx reachable in {aws.region}, but no API reports PERSISTENT_2 availability and none runs "
        f"here yet; confirm the Region in {LUSTRE_DEPLOYMENT_DOC}",
    )
