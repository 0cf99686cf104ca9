"""EC2 Capacity Blocks for ML in a managed node group: what EKS and EC2 require, checked at synth time.

EKS user guide ``ml/capacity-blocks-mng`` ("Create a managed node group with Capacity Blocks for ML"):

- a custom launch template with ``InstanceMarketOptions.MarketType: capacity-block``, the reservation's
  ``CapacityReservationId`` and an ``InstanceType`` that EC2 sells as capacity blocks; capacity type
  ``CAPACITY_BLOCK`` ("the create request will be rejected" otherwise);
- "only specify the subnet in the same Availability Zone as the capacity reservation" (a block is a targeted
  reservation in one zone: EC2 user guide, capacity-blocks-using);
- a node group created before the block is active cannot launch instances; with desired size 0 the group is
  scaled up later, by the Cluster Autoscaler among other ways; upgrades need desired size 0. EKS scales the group
  to 0 itself 40 minutes before the block ends (its scheduled action "Amazon EKS Node Group Capacity Scaledown
  Before Reservation End"; EC2 starts shutting instances down 30 minutes before the end).

A block reserves up to 64 instances (EC2 user guide, capacity-blocks-purchase). The platform keeps the group's
minimum and desired size at 0: the Cluster Autoscaler scales it up for pending pods once the block is active (a
scale-up before the block starts fails to launch and CA backs off the group), and down again when nodes empty.
``eks-ai-data preflight --capacity-reservation cr-ID:TYPE:AZ`` checks the reservation itself (state, type, zone,
dates) against the plan before a deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Token
from aws_cdk import aws_ec2 as ec2

from .. import catalog
from .._cfn import default_child
from ..launch_template import NodeLaunchTemplate

#: Instances one capacity block reserves at most (EC2 user guide, "Find and purchase Capacity Blocks").
MAX_BLOCK_INSTANCES = 64


def _block_type_allowed(name: str) -> bool:
    # A type registered with the catalog is newer than its capacity-block list: its user vouches for it.
    return catalog.supports_capacity_block(name) or name in {s.name for s in catalog.registered()}


def capacity_block_problems(
    *,
    specs: Sequence[catalog.InstanceSpec],
    reservation_id: str | None,
    subnet: ec2.ISubnet | None,
    sizes: tuple[int, int, int | None],
) -> list[tuple[str, Any, str]]:
    """``(prop, value, what is allowed)`` for each reason EKS or EC2 would refuse this capacity-block group."""
    found: list[tuple[str, Any, str]] = []
    if not reservation_id:
        found.append(
            (
                "capacity_reservation_id",
                reservation_id,
                "is required when capacity_type is CAPACITY_BLOCK (the capacity block's reservation id, cr-...)",
            )
        )
    elif not Token.is_unresolved(reservation_id) and not catalog.is_capacity_reservation_id(reservation_id):
        found.append(
            (
                "capacity_reservation_id",
                reservation_id,
                "must be a capacity reservation id: 'cr-' and 17 lower-case hexadecimal digits "
                "(e.g. cr-0123456789abcdef0)",
            )
        )
    if len(specs) != 1:
        found.append(
            ("instance_types", [s.name for s in specs], "a capacity block reserves exactly one instance type")
        )
    for spec in specs:
        if not _block_type_allowed(spec.name):
            found.append(
                (
                    "instance_types",
                    spec.name,
                    "is not sold as EC2 Capacity Blocks for ML; capacity-block types: "
                    + ", ".join(catalog.capacity_block_types())
                    + " (a newer type: describe it with eks_ai_data.catalog.register first)",
                )
            )
    if subnet is None:
        found.append(
            (
                "subnet",
                None,
                "is required with CAPACITY_BLOCK: a subnet in the reservation's Availability Zone (a block is a "
                "reservation in one zone, and EKS launches in every subnet of the group)",
            )
        )
    min_size, max_size, desired_size = sizes
    if min_size != 0 or desired_size not in (None, 0):
        found.append(
            (
                "desired_size" if desired_size not in (None, 0) else "min_size",
                desired_size if desired_size not in (None, 0) else min_size,
                "must be 0 with CAPACITY_BLOCK: the group cannot launch before the block starts, EKS upgrades need "
                "it at 0, and the Cluster Autoscaler scales it up for pending pods while the block is active",
            )
        )
    if not Token.is_unresolved(max_size) and max_size > MAX_BLOCK_INSTANCES:
        found.append(
            (
                "max_size",
                max_size,
                f"must be at most {MAX_BLOCK_INSTANCES}: a capacity block reserves up to 64",
            )
        )
    return found


def reserve(launch_template: NodeLaunchTemplate, reservation_id: str, instance_type: str) -> None:
    """Target the capacity block from the node group's launch template (market type, reservation, instance type:
    with a capacity block the instance type belongs in the launch template, not in the node group)."""
    cfn = default_child(launch_template.launch_template, ec2.CfnLaunchTemplate)
    cfn.add_property_override("LaunchTemplateData.InstanceMarketOptions", {"MarketType": "capacity-block"})
    cfn.add_property_override(
        "LaunchTemplateData.CapacityReservationSpecification",
        {"CapacityReservationTarget": {"CapacityReservationId": reservation_id}},
    )
    cfn.add_property_override("LaunchTemplateData.InstanceType", instance_type)
