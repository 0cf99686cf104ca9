"""``eks-ai-data cost CDK_OUT``: an itemized monthly estimate of a synthesized cloud assembly.

Reads the templates on disk (never the CDK), prices each resource by what its properties say
(:mod:`eks_ai_data.ops.cost_resources`, :mod:`eks_ai_data.ops.cost_nodes`) with the shipped price
table (:mod:`eks_ai_data.ops.prices`) and the stated usage assumptions, and reports every item at
the desired and at the maximum size. Each item's amounts are rounded to cents; totals are the sums
of the rounded items. Items that cannot be priced are listed and counted, never taken as $0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from .assembly import AssemblyError, StackTemplate, read_stacks
from .cost_model import ASSUMPTIONS, ZERO, Amount, Context, Item, SpotRange, money
from .cost_resources import FREE, PRICERS, USAGE_BASED, classify
from .prices import PriceTable, PriceTableError

DEFAULT_REGION = "us-east-1"


class CostError(Exception):
    """The estimate cannot be made (unreadable assembly or price table, Region without prices)."""


@dataclass(frozen=True)
class Resource:
    stack: str
    logical_id: str
    resource_type: str
    classification: str
    reason: str


@dataclass
class Report:
    assembly: str
    table: PriceTable
    regions: dict[str, str]
    assumptions: dict[str, float]
    spot: SpotRange
    today: dt.date
    items: list[Item] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def priced(self) -> list[Item]:
        return [i for i in self.items if i.priced]

    @property
    def unpriced(self) -> list[Item]:
        return [i for i in self.items if not i.priced]

    def totals(self, stack: str | None = None) -> tuple[Amount, Amount]:
        desired, maximum = ZERO, ZERO
        for item in self.priced:
            if stack is None or item.stack == stack:
                desired, maximum = desired + (item.desired or ZERO), maximum + (item.max or ZERO)
        return desired.rounded(), maximum.rounded()

    def of_class(self, classification: str) -> Counter[str]:
        return Counter(r.resource_type for r in self.resources if r.classification == classification)


def _round(item: Item) -> Item:
    return dataclasses.replace(
        item,
        desired=item.desired.rounded() if item.desired else None,
        max=item.max.rounded() if item.max else None,
    )


def estimate(
    directory: str | os.PathLike[str],
    *,
    table: PriceTable | None = None,
    region: str | None = None,
    assumptions: dict[str, float] | None = None,
    spot: SpotRange | None = None,
    today: dt.date | None = None,
    stored: dict[str, float] | None = None,
) -> Report:
    """Price every resource of the assembly at ``directory``; raises :class:`CostError`."""
    try:
        stacks = read_stacks(directory)
        table = table or PriceTable.load()
    except (AssemblyError, PriceTableError) as exc:
        raise CostError(str(exc)) from exc
    if not stacks:
        raise CostError(f"{directory} holds no CloudFormation stack")
    values = {a.name: a.default for a in ASSUMPTIONS} | (assumptions or {})
    report = Report(
        assembly=str(directory),
        table=table,
        regions={},
        assumptions=values,
        spot=spot or SpotRange(),
        today=today or dt.datetime.now(dt.UTC).date(),
    )
    for stack in stacks:
        _estimate_stack(report, stack, region, stored or {})
    return report


def _estimate_stack(
    report: Report, stack: StackTemplate, region: str | None, stored: dict[str, float]
) -> None:
    chosen = region or stack.region
    if chosen is None:
        chosen = DEFAULT_REGION
        report.notes.append(
            f"{stack.name} is environment-agnostic: priced for {DEFAULT_REGION} (use --region)"
        )
    if not report.table.has_region(chosen):
        known = ", ".join(sorted(report.table.regions))
        raise CostError(f"the price table has no prices for {chosen} (stack {stack.name}); it has {known}")
    report.regions[stack.name] = chosen
    ctx = Context(
        report.table,
        chosen,
        stack.name,
        stack.template,
        report.assumptions,
        report.spot,
        report.today,
        stored,
    )
    for logical_id, resource in sorted(stack.resources.items()):
        rtype = resource.get("Type", "") if isinstance(resource, dict) else ""
        kind = classify(rtype)
        reason = FREE.get(rtype) or USAGE_BASED.get(rtype) or ""
        if kind == "priced":
            report.items.extend(_round(i) for i in PRICERS[rtype](logical_id, resource, ctx))
        elif kind == "unknown":
            reason = "resource type not in the cost model (neither priced, free nor usage-based)"
            report.items.append(Item(stack.name, logical_id, rtype, "resource", rtype, unpriced=reason))
        report.resources.append(Resource(stack.name, logical_id, rtype, kind, reason))


# --------------------------------------------------------------------------- rendering


def _amount(amount: Amount | None, estimated: bool) -> str:
    if amount is None:
        return "unpriced"
    text = money(amount.low) if amount.low == amount.high else f"{money(amount.low)}-{money(amount.high)}"
    return text + ("~" if estimated else "")


def _short(resource_type: str) -> str:
    return resource_type.removeprefix("AWS::")


def _assumption_text(report: Report) -> str:
    parts = [f"{a.name}={report.assumptions[a.name]:g} {a.unit}" for a in ASSUMPTIONS]
    return ", ".join(parts)


def render_table(report: Report) -> str:
    headers = ("LOGICAL ID", "TYPE", "WHAT", "DESIRED/MONTH", "MAX/MONTH")
    lines = [
        f"Monthly estimate of {report.assembly} in USD, prices as of {report.table.as_of} "
        f"(eks-ai-data price table), EKS support as of {report.today.isoformat()}",
    ]
    for stack in dict.fromkeys(r.stack for r in report.resources):
        rows = [
            (
                i.logical_id,
                _short(i.resource_type),
                i.what,
                _amount(i.desired, i.estimated),
                _amount(i.max, i.estimated),
            )
            for i in report.items
            if i.stack == stack
        ]
        desired, maximum = report.totals(stack)
        rows.append(("subtotal", "", "", _amount(desired, False), _amount(maximum, False)))
        widths = [max(len(r[c]) for r in [headers, *rows]) for c in range(len(headers))]
        lines += ["", f"{stack} ({report.regions[stack]})"]
        for row in [headers, *rows]:
            cells = [cell.rjust(widths[c]) if c >= 3 else cell.ljust(widths[c]) for c, cell in enumerate(row)]
            lines.append("  " + "  ".join(cells).rstrip())
    desired, maximum = report.totals()
    lines += [
        "",
        f"TOTAL ({len(report.regions)} stacks, {len(report.priced)} priced items, "
        f"{len(report.unpriced)} unpriced): {_amount(desired, False)} a month at desired size, "
        f"{_amount(maximum, False)} at maximum size",
    ]
    for item in report.unpriced:
        lines.append(f"unpriced: {item.stack}/{item.logical_id} {item.component}: {item.unpriced}")
    usage = report.of_class("usage-based")
    if usage:
        listed = "; ".join(f"{_short(t)} x{n} ({USAGE_BASED[t]})" for t, n in sorted(usage.items()))
        lines.append(f"not priced, usage-based: {listed}")
    # CDK's own bookkeeping resource is there only when the CLI synthesizes with version reporting on
    free = {t: n for t, n in report.of_class("free").items() if t != "AWS::CDK::Metadata"}
    lines.append(f"no charge: {sum(free.values())} resources of {len(free)} types (listed with --json)")
    lines.append(
        f"~ price derived or estimated, not read from the Price List; Spot at {report.spot.low:.0%}-"
        f"{report.spot.high:.0%} of on-demand (aws ec2 describe-spot-price-history gives the live price)"
    )
    lines.append(f"assumptions: {_assumption_text(report)}")
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines)


def render_json(report: Report) -> str:
    desired, maximum = report.totals()
    document: dict[str, Any] = {
        "command": "cost",
        "assembly": report.assembly,
        "prices": {
            "as_of": report.table.as_of,
            "source": report.table.source,
            "file": str(report.table.path) if report.table.path else None,
            "overrides": report.table.overrides,
            "basis": {r: report.table.basis(r) for r in sorted(set(report.regions.values()))},
        },
        "date": report.today.isoformat(),
        "regions": report.regions,
        "assumptions": {
            a.name: {"value": report.assumptions[a.name], "unit": a.unit, "meaning": a.help}
            for a in ASSUMPTIONS
        },
        "spot_share_of_on_demand": {"low": report.spot.low, "high": report.spot.high},
        "stacks": [
            {"name": s, "region": r, "monthly_desired": d.as_dict(), "monthly_max": m.as_dict()}
            for s, r in report.regions.items()
            for d, m in [report.totals(s)]
        ],
        "totals": {"monthly_desired": desired.as_dict(), "monthly_max": maximum.as_dict()},
        "unpriced_count": len(report.unpriced),
        "items": [i.as_dict() for i in report.items],
        "resources": [dataclasses.asdict(r) for r in report.resources],
        "notes": report.notes,
    }
    return json.dumps(document, indent=2)


def cost_main(
    directory: str,
    *,
    stream: TextIO = sys.stdout,
    errors: TextIO = sys.stderr,
    as_json: bool = False,
    fail_on_unpriced: bool = False,
    **options: Any,
) -> int:
    """The ``cost`` command: 0 printed, 1 unpriced items with ``fail_on_unpriced``, 2 could not run."""
    try:
        report = estimate(directory, **options)
    except CostError as exc:
        print(f"eks-ai-data: error: {exc}", file=errors)
        return 2
    print(render_json(report) if as_json else render_table(report), file=stream)
    if report.unpriced and fail_on_unpriced:
        print(f"eks-ai-data cost: {len(report.unpriced)} item(s) unpriced", file=errors)
        return 1
    return 0
