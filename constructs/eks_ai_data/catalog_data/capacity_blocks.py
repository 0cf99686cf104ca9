"""EC2 Capacity Blocks for ML: which instance types AWS sells as capacity blocks (layer 1: no CDK import).

Sources:

- DescribeInstanceTypes lists ``capacity-block`` in ``SupportedUsageClasses`` of exactly the types
  below except p6e-gb200.36xlarge (moto 5.2.5's copy of that data: 12 types). Support is per instance
  type, not per family: trn1.32xlarge is sold as capacity blocks, trn1.2xlarge and trn1n.32xlarge are not.
- "Capacity Blocks for ML", supported instance types and Regions, in the EC2 User Guide
  (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-capacity-blocks.html), and "Launch instances
  using Capacity Blocks" (capacity-blocks-launch.html) for P6e-GB200 UltraServer capacity blocks, which
  reserve p6e-gb200.36xlarge instances (not in moto's data).
- A capacity block is delivered as a *targeted* Capacity Reservation in a single Availability Zone:
  instances launch only with its reservation id (``cr-`` and 17 hex digits, EC2's long resource-id form,
  e.g. ``cr-56fac701cc1951b03`` in the EKS Auto Mode guide) and ``MarketType: capacity-block``, in
  that zone, between its start and end dates (capacity-blocks-using.html). EKS managed node groups need a
  custom launch template carrying both, and a desired size of 0 when the node group is created or
  updated outside the block's window (https://docs.aws.amazon.com/eks/latest/userguide/capacity-blocks-mng.html).
"""

from __future__ import annotations

#: Instance types that EC2 sells as Capacity Blocks for ML.
CAPACITY_BLOCK_INSTANCE_TYPES: frozenset[str] = frozenset(
    {
        "p4d.24xlarge",
        "p4de.24xlarge",
        "p5.4xlarge",
        "p5.48xlarge",
        "p5e.48xlarge",
        "p5en.48xlarge",
        "p6-b200.48xlarge",
        "p6-b300.48xlarge",
        "p6e-gb200.36xlarge",
        "trn1.32xlarge",
        "trn2.3xlarge",
        "trn2.48xlarge",
        "trn2u.48xlarge",
    }
)

#: ``CapacityReservationId`` of a capacity block: ``cr-`` and 17 lowercase hex digits.
CAPACITY_RESERVATION_ID_PATTERN = r"cr-[0-9a-f]{17}"
