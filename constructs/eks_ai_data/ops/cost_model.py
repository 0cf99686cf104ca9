"""The vocabulary of ``eks-ai-data cost``: amounts, line items, assumptions, and the pricing context.

An :class:`Item` is one priced component of one resource (a node group's instances, its root
volumes, a file system's storage, ...), with a monthly :class:`Amount` at the desired size and
at the maximum size. An amount is a range (``low``..``high``): equal bounds for a fixed price,
apart for Spot (a share of on-demand) or a node group whose instance types differ in price.
An item that cannot be priced carries ``unpriced`` (the reason) and no amounts: it is counted
and shown, never taken as $0. Standard library only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .prices import Price, PriceTable


@dataclass(frozen=True)
class Amount:
    """USD per month, as a range; ``low == high`` for a fixed price."""

    low: float
    high: float

    @classmethod
    def fixed(cls, usd: float) -> Amount:
        return cls(usd, usd)

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.low + other.low, self.high + other.high)

    def scaled(self, factor: float) -> Amount:
        return Amount(self.low * factor, self.high * factor)

    def rounded(self) -> Amount:
        return Amount(round(self.low, 2), round(self.high, 2))

    def as_dict(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high}


ZERO = Amount(0.0, 0.0)


@dataclass(frozen=True)
class Item:
    """One line of the estimate."""

    stack: str
    logical_id: str
    resource_type: str
    component: str
    what: str
    desired: Amount | None = None
    max: Amount | None = None
    unpriced: str | None = None
    estimated: bool = False
    prices: tuple[str, ...] = ()
    """The table keys the amounts were computed from."""

    @property
    def priced(self) -> bool:
        return self.unpriced is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "logical_id": self.logical_id,
            "type": self.resource_type,
            "component": self.component,
            "what": self.what,
            "monthly_desired": self.desired.as_dict() if self.desired else None,
            "monthly_max": self.max.as_dict() if self.max else None,
            "unpriced": self.unpriced,
            "estimated": self.estimated,
            "prices": list(self.prices),
        }


@dataclass(frozen=True)
class Assumption:
    """A usage figure the templates cannot say; each is a command-line flag with this default."""

    name: str
    default: float
    unit: str
    help: str


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption("hours", 730.0, "hours/month", "hours a month that running resources are billed"),
    Assumption("efs_gib", 100.0, "GiB", "data stored in each EFS file system"),
    Assumption(
        "efs_ia_share",
        0.5,
        "fraction",
        "share of EFS data in Infrequent Access where a lifecycle policy moves it there",
    ),
    Assumption(
        "efs_archive_share",
        0.0,
        "fraction",
        "share of EFS data in Archive where a lifecycle policy moves it there",
    ),
    Assumption(
        "efs_read_gib", 100.0, "GiB/month", "data read from each EFS file system (Elastic throughput)"
    ),
    Assumption(
        "efs_write_gib", 20.0, "GiB/month", "data written to each EFS file system (Elastic throughput)"
    ),
    Assumption("s3_gib", 1000.0, "GiB", "data stored in each S3 bucket that is not an access-log bucket"),
    Assumption("s3_log_gib", 5.0, "GiB", "data stored in each S3 access-log bucket"),
    Assumption("nat_gb", 100.0, "GB/month", "data processed by each NAT gateway"),
    Assumption("vpce_gb", 10.0, "GB/month", "data processed by each interface VPC endpoint"),
    Assumption("backup_gib", 500.0, "GiB", "warm backup storage held by each AWS Backup plan"),
    Assumption(
        "lustre_backup_share",
        0.25,
        "fraction",
        "automatic backups of an FSx for Lustre file system, as a share of its storage capacity",
    ),
    Assumption("log_ingest_gib", 5.0, "GiB/month", "data ingested by each CloudWatch Logs log group"),
)
ASSUMPTION_NAMES = frozenset(a.name for a in ASSUMPTIONS)


@dataclass(frozen=True)
class SpotRange:
    """Spot price as a share of on-demand: AWS sets it per zone and hour (describe-spot-price-history)."""

    low: float = 0.3
    high: float = 0.7


@dataclass
class Context:
    """What a pricer needs besides the resource: prices, Region, assumptions, date and the template."""

    table: PriceTable
    region: str
    stack: str
    template: dict[str, Any]
    assumptions: dict[str, float]
    spot: SpotRange = field(default_factory=SpotRange)
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())
    stored: dict[str, float] = field(default_factory=dict)
    """Per-resource stored GiB (``--stored LOGICAL_ID=GIB``), replacing the stored-size assumptions."""

    @property
    def hours(self) -> float:
        return self.assumptions["hours"]

    def price(self, key: str) -> Price | None:
        return self.table.price(self.region, key)

    def resource(self, logical_id: Any) -> dict[str, Any] | None:
        if not isinstance(logical_id, str):
            return None
        found = (self.template.get("Resources") or {}).get(logical_id)
        return found if isinstance(found, dict) else None


class Pricing:
    """Accumulates the prices an item uses; ``missing`` names the first key the table lacks."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.used: list[Price] = []
        self.missing: str | None = None

    def usd(self, key: str) -> float:
        found = self.ctx.price(key)
        if found is None:
            self.missing = self.missing or key
            return 0.0
        self.used.append(found)
        return found.usd

    @property
    def estimated(self) -> bool:
        return any(p.estimated for p in self.used)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.key for p in self.used))


def fixed_item(
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


def unpriced_item(
    ctx: Context, logical_id: str, resource: dict[str, Any], component: str, what: str, why: str
) -> Item:
    return Item(ctx.stack, logical_id, resource.get("Type", ""), component, what, unpriced=why)


def stored_gib(ctx: Context, logical_id: str, assumption: str) -> float:
    return ctx.stored.get(logical_id, ctx.assumptions[assumption])


def ref_target(value: Any) -> str | None:
    """The logical id behind ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, attr]}``."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return value["Ref"]
        target = value.get("Fn::GetAtt")
        if isinstance(target, list) and target and isinstance(target[0], str):
            return target[0]
        if isinstance(target, str):
            return target.split(".", 1)[0]
    return None


def number(value: Any) -> float | None:
    """A literal number (or numeric string) of a template, ``None`` for intrinsics and absent values."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def money(usd: float) -> str:
    return f"${usd:,.2f}"
