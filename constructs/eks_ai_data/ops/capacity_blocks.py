"""Preflight: is the planned Capacity Block for ML there, and does it fit the plan?

``--capacity-reservation cr-0123456789abcdef0:p5.48xlarge[:us-east-2b]`` names the block's reservation,
the planned instance type it is for (one of ``--instance-types``) and, optionally, the zone of the node
group's subnet. ``ec2:DescribeCapacityReservations`` is read and checked against the plan:

- it is a capacity block (``ReservationType: capacity-block``): a node group launching with
  ``MarketType: capacity-block`` cannot use an On-Demand Capacity Reservation;
- its instance type is the planned one, its single Availability Zone is the planned zone (and one of
  ``--availability-zones`` when given), and it reserves at least the planned number of nodes;
- its state and dates: ``active`` is ready; ``scheduled`` or ``payment-pending`` (a block that starts
  later) warns with the start date, since the node group must keep a desired size of 0 until then;
  ``pending``, ``assessing`` and ``delayed`` (future-dated reservations still being evaluated) warn;
  ``expired``, ``cancelled``, ``cancelling``, ``failed``, ``payment-failed``, ``unavailable`` and
  ``unsupported``, or an end date in the past, fail. States: ``CapacityReservation.State`` in the EC2 API
  Reference; block life cycle: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/capacity-blocks-using.html
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from eks_ai_data import catalog

from .aws import Aws, error_code, error_message
from .table import Check, Status

CHECK = "capacity-block"
READY_STATES = frozenset({"active"})
FUTURE_STATES = frozenset({"scheduled", "payment-pending"})
PENDING_STATES = frozenset({"pending", "assessing", "delayed"})
NOT_FOUND_CODES = frozenset(
    {"InvalidCapacityReservationId.NotFound", "InvalidCapacityReservationId.Malformed"}
)
_ZONE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+[a-z]")


@dataclass(frozen=True)
class PlannedReservation:
    """A capacity block the plan uses: its reservation id, the planned type and (optionally) zone."""

    reservation_id: str
    instance_type: str
    availability_zone: str | None = None


def parse_reservation(spec: str, planned_types: list[str]) -> PlannedReservation:
    """Parse ``cr-...:TYPE[:AZ]``; TYPE must be one of the planned instance types."""
    parts = [p.strip() for p in spec.split(":")]
    usage = f"use --capacity-reservation cr-<17 hex digits>:TYPE[:AZ], got {spec!r}"
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"invalid capacity reservation: {usage}")
    reservation_id, instance_type = parts[0], parts[1].lower()
    if not catalog.is_capacity_reservation_id(reservation_id):
        raise ValueError(
            f"invalid capacity reservation id {reservation_id!r}: a reservation id is cr- and 17 hex digits"
        )
    if instance_type not in planned_types:
        raise ValueError(
            f"capacity reservation {reservation_id} is for {instance_type}, which is not in --instance-types "
            f"({', '.join(planned_types)})"
        )
    zone = parts[2] if len(parts) == 3 else None
    if zone is not None and not _ZONE.fullmatch(zone):
        raise ValueError(
            f"invalid availability zone {zone!r} for {reservation_id}: use a zone name, e.g. us-east-2b"
        )
    return PlannedReservation(reservation_id, instance_type, zone)


def check(
    aws: Aws, planned: PlannedReservation, nodes: int, zones: list[str] | None, now: dt.datetime
) -> list[Check]:
    """Rows for one planned capacity block: ``nodes`` planned nodes, ``zones`` the chosen zones (or None)."""
    subject = planned.reservation_id
    try:
        response = aws.client("ec2").describe_capacity_reservations(CapacityReservationIds=[subject])
    except ClientError as exc:
        if error_code(exc) not in NOT_FOUND_CODES:
            raise
        return [
            Check(
                CHECK,
                subject,
                Status.FAIL,
                f"no such capacity reservation in {aws.region}: {error_message(exc)}",
            )
        ]
    found = response.get("CapacityReservations", [])
    if not found:
        return [Check(CHECK, subject, Status.FAIL, f"no such capacity reservation in {aws.region}")]
    reservation: dict[str, Any] = found[0]
    rows = _fit(planned, reservation, nodes, zones)
    rows.extend(_timing(reservation, nodes, now))
    if not catalog.supports_capacity_block(planned.instance_type):
        rows.append(
            Check(
                CHECK,
                subject,
                Status.WARN,
                f"the eks-ai-data catalog does not list {planned.instance_type} as a Capacity Block type",
            )
        )
    if not any(row.status is not Status.OK for row in rows):
        rows.append(Check(CHECK, subject, Status.OK, _summary(reservation)))
    return rows


def _fit(planned: PlannedReservation, r: dict[str, Any], nodes: int, zones: list[str] | None) -> list[Check]:
    subject, rows = planned.reservation_id, []
    zone = r.get("AvailabilityZone")
    if r.get("ReservationType", "default") != "capacity-block":
        rows.append(
            Check(
                CHECK,
                subject,
                Status.FAIL,
                f"is an On-Demand Capacity Reservation (ReservationType {r.get('ReservationType', 'default')}), "
                "not a capacity block: a node group with capacity type CAPACITY_BLOCK cannot launch into it",
            )
        )
    if r.get("InstanceType") != planned.instance_type:
        rows.append(
            Check(
                CHECK,
                subject,
                Status.FAIL,
                f"reserves {r.get('InstanceType')}, but the plan uses it for {planned.instance_type}",
            )
        )
    if planned.availability_zone and zone != planned.availability_zone:
        rows.append(
            Check(
                CHECK,
                subject,
                Status.FAIL,
                f"is in {zone}, not {planned.availability_zone}: instances launch only in the block's zone",
            )
        )
    if zones is not None and zone not in zones:
        rows.append(
            Check(
                CHECK,
                subject,
                Status.FAIL,
                f"is in {zone}, which is not one of the chosen zones ({', '.join(zones)})",
            )
        )
    total = int(r.get("TotalInstanceCount", 0))
    if nodes > total:
        rows.append(
            Check(
                CHECK,
                subject,
                Status.FAIL,
                f"the plan has {nodes} x {planned.instance_type}, the block reserves {total}",
            )
        )
    return rows


def _timing(r: dict[str, Any], nodes: int, now: dt.datetime) -> list[Check]:
    subject, state = r["CapacityReservationId"], r.get("State", "")
    start, end = r.get("StartDate"), r.get("EndDate")
    if end is not None and end <= now:
        return [Check(CHECK, subject, Status.FAIL, f"ended at {_when(end)} (state {state})")]
    if state in READY_STATES:
        available = int(r.get("AvailableInstanceCount", 0))
        if available < nodes:
            return [
                Check(
                    CHECK,
                    subject,
                    Status.WARN,
                    f"active, but only {available} of {r.get('TotalInstanceCount')} instances are free now "
                    f"(the plan needs {nodes})",
                )
            ]
        return []
    if state in FUTURE_STATES:
        begins = f"starts at {_when(start)}" if start else "has not started"
        return [
            Check(
                CHECK,
                subject,
                Status.WARN,
                f"{state}: {begins}; keep the node group's desired size at 0 until then (nodes cannot launch before)",
            )
        ]
    if state in PENDING_STATES:
        return [Check(CHECK, subject, Status.WARN, f"{state}: EC2 has not confirmed the reservation yet")]
    return [
        Check(CHECK, subject, Status.FAIL, f"is {state or 'in no state'}: no instance can launch into it")
    ]


def _summary(r: dict[str, Any]) -> str:
    window = (
        f"{_when(r['StartDate'])} to {_when(r['EndDate'])}" if r.get("StartDate") and r.get("EndDate") else ""
    )
    return (
        f"{r.get('State')} capacity block of {r.get('TotalInstanceCount')} x {r.get('InstanceType')} "
        f"in {r.get('AvailabilityZone')}" + (f", {window}" if window else "")
    )


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
