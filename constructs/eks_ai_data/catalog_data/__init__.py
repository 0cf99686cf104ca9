"""Published EC2 instance-type facts behind :mod:`eks_ai_data.catalog` (layer 1: no CDK import).

- :mod:`.accelerated`: every current NVIDIA GPU and AWS Neuron type, full specifications.
- :mod:`.storage`: every NVMe SSD instance-store type without accelerators, full specifications.
- :mod:`.capacity_blocks`: the types EC2 sells as Capacity Blocks for ML, and the reservation id form.
- :mod:`.ec2_types`: GENERATED (scripts/generate_ec2_types.py) from moto's DescribeInstanceTypes data:
  architecture, vCPUs, memory, EFA and accelerator kind of every EC2 instance type. It is large, so
  :mod:`eks_ai_data.catalog` imports it only when a name is not found in the two tables above.

Each module cites its sources; tests/test_catalog_crosscheck.py holds the rows to DescribeInstanceTypes.
"""

from __future__ import annotations

from .accelerated import ROWS as ACCELERATED_ROWS
from .accelerated import AcceleratedRow
from .capacity_blocks import CAPACITY_BLOCK_INSTANCE_TYPES, CAPACITY_RESERVATION_ID_PATTERN
from .storage import ROWS as STORAGE_ROWS
from .storage import StorageRow

__all__ = [
    "ACCELERATED_ROWS",
    "CAPACITY_BLOCK_INSTANCE_TYPES",
    "CAPACITY_RESERVATION_ID_PATTERN",
    "STORAGE_ROWS",
    "AcceleratedRow",
    "StorageRow",
]
