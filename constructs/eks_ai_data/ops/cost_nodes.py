"""Node capacity in an estimate: EKS managed node groups and Karpenter NodePools.

Node groups (``AWS::EKS::Nodegroup``, EKS API ``CreateNodegroup``): ``InstanceTypes`` (or the
launch template's ``InstanceType``; EKS's default is ``t3.medium``), ``CapacityType``
(``ON_DEMAND``, ``SPOT``, ``CAPACITY_BLOCK``) and ``ScalingConfig`` give nodes x hourly rate at
``DesiredSize`` and at ``MaxSize``. Several instance types make a range from the cheapest to the
dearest (on-demand groups prefer the first type, Spot groups pick by capacity). Each node's root
volumes come from the launch template's ``BlockDeviceMappings`` (EC2 ``EbsBlockDevice``: type
defaults to gp2; gp3 includes 3,000 IOPS and 125 MB/s, more is billed) or, without a launch
template, from ``DiskSize`` (20 GiB by default per the EKS API).

NodePools (``karpenter.sh/v1``, inside the ``Manifest`` of ``Custom::AWSCDK-EKS-KubernetesResource``):
Karpenter launches nodes for pending pods only, so a NodePool costs nothing at rest; at most it
grows until ``spec.limits`` (cpu, memory, ``nvidia.com/gpu``, ``aws.amazon.com/neuron``) would be
exceeded: Karpenter does not launch an instance type whose capacity would take the pool past a
limit (karpenter.sh docs, NodePools, "Limits"), so the maximum is floor(limit / capacity per node)
nodes of the instance types its requirements allow (``node.kubernetes.io/instance-type``, or
``karpenter.k8s.aws/instance-family`` with optional ``instance-size``), at the capacity types
``karpenter.sh/capacity-type`` allows (on-demand when absent; ``reserved`` is billed as on-demand).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from eks_ai_data import catalog

from .cost_model import ZERO, Amount, Context, Item, Pricing, number, ref_target

MONTH_HOURS = 730.0
EKS_DEFAULT_INSTANCE_TYPE = "t3.medium"  # EKS API CreateNodegroup: instanceTypes default
EKS_DEFAULT_DISK_GIB = 20.0  # EKS API CreateNodegroup: diskSize default for Linux
GP3_FREE_IOPS, GP3_FREE_MBPS = 3000.0, 125.0

CAPACITY_LABELS = {"ON_DEMAND": "on-demand", "SPOT": "Spot", "CAPACITY_BLOCK": "capacity block"}
KARPENTER_CAPACITY = {"on-demand": "ON_DEMAND", "spot": "SPOT", "reserved": "ON_DEMAND"}


def hourly_range(types: list[str], capacity: str, ctx: Context) -> tuple[Amount | None, Pricing, list[str]]:
    """USD per node-hour across ``types`` at ``capacity``; the types without a price are returned apart."""
    pricing, missing = Pricing(ctx), []
    lows, highs = [], []
    for name in types:
        key = f"ec2-capacity-block:{name}" if capacity == "CAPACITY_BLOCK" else f"ec2:{name}"
        found = ctx.price(key)
        if found is None:
            missing.append(name)
            continue
        pricing.usd(key)
        low = high = found.usd
        if capacity == "SPOT":
            low, high = found.usd * ctx.spot.low, found.usd * ctx.spot.high
        lows.append(low)
        highs.append(high)
    return (Amount(min(lows), max(highs)) if lows else None), pricing, missing


def _unpriced_types(
    ctx: Context, logical_id: str, rtype: str, component: str, missing: list[str], capacity: str
):
    key = "ec2-capacity-block" if capacity == "CAPACITY_BLOCK" else "ec2"
    return Item(
        ctx.stack,
        logical_id,
        rtype,
        component,
        f"{', '.join(missing)} ({CAPACITY_LABELS.get(capacity, capacity)})",
        unpriced=f"no {key} price in {ctx.region} for {', '.join(missing)} (add --price {key}:TYPE=USD)",
    )


def price_nodegroup(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    props = resource.get("Properties") or {}
    rtype = resource.get("Type", "")
    scaling = props.get("ScalingConfig") or {}
    desired, maximum = number(scaling.get("DesiredSize")), number(scaling.get("MaxSize"))
    template_id = ref_target((props.get("LaunchTemplate") or {}).get("Id"))
    launch_template = ctx.resource(template_id)
    data = ((launch_template or {}).get("Properties") or {}).get("LaunchTemplateData") or {}
    types = props.get("InstanceTypes")
    if types is None:
        types = (
            [data["InstanceType"]]
            if isinstance(data.get("InstanceType"), str)
            else [EKS_DEFAULT_INSTANCE_TYPE]
        )
    capacity = props.get("CapacityType", "ON_DEMAND")
    if (
        desired is None
        or maximum is None
        or not isinstance(types, list)
        or not all(isinstance(t, str) for t in types)
        or capacity not in CAPACITY_LABELS
    ):
        why = "ScalingConfig DesiredSize/MaxSize, InstanceTypes or CapacityType is not a literal the estimate can read"
        return [Item(ctx.stack, logical_id, rtype, "instances", "node group", unpriced=why)]
    items = []
    per_hour, pricing, missing = hourly_range(types, capacity, ctx)
    nodes = f"{desired:g} desired / {maximum:g} max nodes"
    if per_hour is not None:
        priced = [t for t in types if t not in missing]
        monthly = per_hour.scaled(ctx.hours)
        items.append(
            Item(
                ctx.stack,
                logical_id,
                rtype,
                "instances",
                f"{', '.join(priced)} {CAPACITY_LABELS[capacity]}, {nodes}",
                desired=monthly.scaled(desired),
                max=monthly.scaled(maximum),
                estimated=pricing.estimated or capacity == "SPOT",
                prices=pricing.keys,
            )
        )
    if missing:
        items.append(_unpriced_types(ctx, logical_id, rtype, "instances", missing, capacity))
    items.append(
        _root_volumes(logical_id, rtype, props, data, launch_template is not None, desired, maximum, ctx)
    )
    return items


def _root_volumes(
    logical_id: str,
    rtype: str,
    props: dict[str, Any],
    data: dict[str, Any],
    has_template: bool,
    desired: float,
    maximum: float,
    ctx: Context,
) -> Item:
    pricing = Pricing(ctx)
    estimated = False
    if has_template:
        volumes = [
            m.get("Ebs") for m in data.get("BlockDeviceMappings") or [] if isinstance(m.get("Ebs"), dict)
        ]
        if not volumes:
            return Item(
                ctx.stack,
                logical_id,
                rtype,
                "root volumes",
                "EBS root volume per node",
                unpriced="the launch template maps no EBS volume: its size comes from the AMI",
            )
    else:
        size = number(props.get("DiskSize"))
        volumes = [{"VolumeSize": EKS_DEFAULT_DISK_GIB if size is None else size, "VolumeType": "gp3"}]
        estimated = True  # the volume type of EKS's own launch template is assumed
    per_node, parts = 0.0, []
    for ebs in volumes:
        size, kind = number(ebs.get("VolumeSize")), ebs.get("VolumeType", "gp2")
        if size is None or kind not in ("gp3", "gp2"):
            return Item(
                ctx.stack,
                logical_id,
                rtype,
                "root volumes",
                f"EBS {kind} per node",
                unpriced=f"volume size {ebs.get('VolumeSize')!r} or type {kind!r} is not priced (gp2/gp3 sizes only)",
            )
        cost = size * pricing.usd(f"ebs:{kind}:gb-month")
        if kind == "gp3":
            iops, mbps = (
                number(ebs.get("Iops")) or GP3_FREE_IOPS,
                number(ebs.get("Throughput")) or GP3_FREE_MBPS,
            )
            if iops > GP3_FREE_IOPS:
                cost += (iops - GP3_FREE_IOPS) * pricing.usd("ebs:gp3:iops-month")
            if mbps > GP3_FREE_MBPS:
                cost += (mbps - GP3_FREE_MBPS) * pricing.usd("ebs:gp3:mbps-month")
        per_node += cost
        parts.append(f"{size:g} GiB {kind}")
    what = f"{' + '.join(parts)} per node (while nodes run)"
    if pricing.missing:
        return Item(
            ctx.stack,
            logical_id,
            rtype,
            "root volumes",
            what,
            unpriced=f"no {pricing.missing} in {ctx.region}",
        )
    monthly = Amount.fixed(per_node * ctx.hours / MONTH_HOURS)
    return Item(
        ctx.stack,
        logical_id,
        rtype,
        "root volumes",
        what,
        desired=monthly.scaled(desired),
        max=monthly.scaled(maximum),
        estimated=estimated or pricing.estimated,
        prices=pricing.keys,
    )


# --------------------------------------------------------------------------- Karpenter NodePools

_QUANTITY = re.compile(r"^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?\Z")
_SUFFIX = {
    None: 1,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
_INTRINSIC = "__intrinsic__"


def parse_quantity(value: Any) -> float | None:
    """A Kubernetes resource quantity ("1000", "500m", "64Gi") as a number, ``None`` if unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if not match:
        return None
    try:
        return float(match.group(1)) * _SUFFIX[match.group(2)]
    except ValueError:
        return None


def _manifest_text(value: Any) -> str | None:
    """The manifest as a string; the intrinsics of an ``Fn::Join`` become a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Fn::Join"), list) and len(value["Fn::Join"]) == 2:
        separator, parts = value["Fn::Join"]
        if isinstance(separator, str) and isinstance(parts, list):
            return separator.join(p if isinstance(p, str) else _INTRINSIC for p in parts)
    return None


def manifest_objects(value: Any) -> tuple[list[dict[str, Any]], bool]:
    """The Kubernetes objects of a ``Manifest`` property, and whether it could be read."""
    text = _manifest_text(value)
    if text is None:
        return [], False
    try:
        parsed = json.loads(text)
    except ValueError:
        return [], False
    objects = parsed if isinstance(parsed, list) else [parsed]
    return [o for o in objects if isinstance(o, dict)], True


def _requirement(requirements: list[Any], key: str) -> tuple[str, list[str]] | None:
    for requirement in requirements:
        if isinstance(requirement, dict) and requirement.get("key") == key:
            return str(requirement.get("operator")), [str(v) for v in requirement.get("values") or []]
    return None


def _candidates(requirements: list[Any]) -> list[str] | None:
    exact = _requirement(requirements, "node.kubernetes.io/instance-type")
    if exact and exact[0] == "In":
        return exact[1]
    family = _requirement(requirements, "karpenter.k8s.aws/instance-family")
    if not family or family[0] != "In":
        return None
    size = _requirement(requirements, "karpenter.k8s.aws/instance-size")
    sizes = set(size[1]) if size and size[0] == "In" else None
    found = [s.name for f in family[1] for s in catalog.in_family(f) if sizes is None or s.size in sizes]
    if exact and exact[0] == "NotIn":
        found = [name for name in found if name not in exact[1]]
    return found


def _capacity_per_node(spec: catalog.InstanceSpec) -> dict[str, float]:
    return {
        "cpu": float(spec.vcpus),
        "memory": spec.memory_gib * 2**30,
        "nvidia.com/gpu": float(spec.accelerator_count if spec.accelerator_kind == "nvidia" else 0),
        "aws.amazon.com/neuron": float(spec.accelerator_count if spec.accelerator_kind == "neuron" else 0),
    }


def max_nodes(spec: catalog.InstanceSpec, limits: dict[str, float]) -> int | None:
    """How many nodes of ``spec`` fit under ``limits``; ``None`` when no limit bounds this type."""
    bounds = [
        math.floor(limit / per_node + 1e-9)
        for resource, per_node in _capacity_per_node(spec).items()
        if per_node > 0 and (limit := limits.get(resource)) is not None
    ]
    return min(bounds) if bounds else None


def nodepool_items(logical_id: str, rtype: str, pool: dict[str, Any], ctx: Context) -> Iterator[Item]:
    name = (pool.get("metadata") or {}).get("name", "?")
    spec = pool.get("spec") or {}
    component = f"NodePool {name}"
    base = (ctx.stack, logical_id, rtype, component)
    requirements = ((spec.get("template") or {}).get("spec") or {}).get("requirements") or []
    candidates = _candidates(requirements)
    limits = {k: q for k, v in (spec.get("limits") or {}).items() if (q := parse_quantity(v)) is not None}
    if not candidates:
        yield Item(
            *base,
            "Karpenter nodes",
            unpriced="the NodePool's requirements name no instance types or families",
        )
        return
    if not limits:
        yield Item(
            *base,
            f"Karpenter nodes of {', '.join(candidates)}",
            unpriced="no spec.limits: the maximum is unbounded",
        )
        return
    capacity_req = _requirement(requirements, "karpenter.sh/capacity-type")
    capacities = (
        sorted({KARPENTER_CAPACITY.get(c, c) for c in capacity_req[1]}) if capacity_req else ["ON_DEMAND"]
    )
    lows: list[float] = []
    highs: list[float] = []
    keys: list[str] = []
    unbounded: list[str] = []
    missing: list[str] = []
    shown: list[str] = []
    estimated = False
    for name_ in candidates:
        known = catalog.lookup(name_)
        count = max_nodes(known, limits) if known else None
        if known is None:
            missing.append(name_)
            continue
        if count is None:
            unbounded.append(name_)
            continue
        for capacity in capacities:
            per_hour, pricing, lacking = hourly_range([name_], capacity, ctx)
            if per_hour is None:
                missing.extend(t for t in lacking if t not in missing)
                continue
            lows.append(per_hour.low * count * ctx.hours)
            highs.append(per_hour.high * count * ctx.hours)
            keys.extend(pricing.keys)
            estimated = estimated or pricing.estimated or capacity == "SPOT"
            shown.append(f"{count} x {name_}")
    limit_text = ", ".join(f"{k}={v}" for k, v in (spec.get("limits") or {}).items())
    if lows:
        kinds = "/".join(CAPACITY_LABELS.get(c, c) for c in capacities)
        yield Item(
            *base,
            f"Karpenter {kinds}, 0 at rest, up to {' or '.join(dict.fromkeys(shown))} (limits {limit_text})",
            desired=ZERO,
            max=Amount(min(lows), max(highs)),
            estimated=estimated,
            prices=tuple(dict.fromkeys(keys)),
        )
    if unbounded:
        yield Item(
            *base, ", ".join(unbounded), unpriced=f"spec.limits ({limit_text}) do not bound these types"
        )
    if missing:
        yield Item(
            *base,
            ", ".join(missing),
            unpriced=f"no catalog entry or ec2 price in {ctx.region} for these types",
        )


def price_kubernetes_resource(logical_id: str, resource: dict[str, Any], ctx: Context) -> list[Item]:
    """NodePools applied by the cluster; other manifests cost nothing by themselves."""
    manifest = (resource.get("Properties") or {}).get("Manifest")
    objects, readable = manifest_objects(manifest)
    rtype = resource.get("Type", "")
    if not readable:
        if "NodePool" in json.dumps(manifest):
            why = "a manifest that mentions NodePool could not be read as JSON"
            return [Item(ctx.stack, logical_id, rtype, "NodePool", "Karpenter nodes", unpriced=why)]
        return []
    items: list[Item] = []
    for obj in objects:
        if obj.get("kind") == "NodePool" and str(obj.get("apiVersion", "")).startswith("karpenter.sh/"):
            items.extend(nodepool_items(logical_id, rtype, obj, ctx))
    return items
