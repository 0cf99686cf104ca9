"""FSx for Lustre capacity and throughput rules, and a sizing helper (layer 1: no CDK import).

Throughput of a Lustre file system scales with its storage::

    aggregate throughput (MB/s) = storage capacity (TiB) x per-unit storage throughput (MB/s/TiB)
    storage capacity (TiB)      = storage capacity (GiB) / 1024

FSx rounds 1200 GiB to "1.2 TiB" in its prose; this module divides by 1024, which gives the lower (safe)
figure, so a size that meets a target here meets it in AWS's arithmetic too.

Valid storage capacities (GiB) per deployment and storage type:

- ``PERSISTENT_2``, ``SCRATCH_2`` and ``PERSISTENT_1`` with SSD: 1200, 2400, then multiples of 2400.
- ``SCRATCH_1``: 1200, 2400, then multiples of 3600.
- ``PERSISTENT_1`` with HDD: multiples of 6000 at 12 MB/s/TiB, multiples of 1800 at 40 MB/s/TiB.

Per-unit storage throughput (MB/s/TiB): ``PERSISTENT_2`` SSD 125, 250, 500, 1000; ``PERSISTENT_1`` SSD 50,
100, 200; ``PERSISTENT_1`` HDD 12, 40. Scratch types take none (their throughput is fixed by AWS).

User-provisioned metadata IOPS (``PERSISTENT_2`` SSD): 1500, 3000, 6000, 12000, then multiples of 12000
up to 192000.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .errors import EksAiDataValidationError, check

PERSISTENT_2 = "PERSISTENT_2"
PERSISTENT_1 = "PERSISTENT_1"
SCRATCH_2 = "SCRATCH_2"
SCRATCH_1 = "SCRATCH_1"
DEPLOYMENT_TYPES = (PERSISTENT_2, PERSISTENT_1, SCRATCH_2, SCRATCH_1)
SCRATCH_TYPES = frozenset({SCRATCH_1, SCRATCH_2})

SSD = "SSD"
HDD = "HDD"

#: allowed per-unit storage throughput (MB/s/TiB) per (deployment type, storage type)
PER_UNIT_THROUGHPUT: dict[tuple[str, str], tuple[int, ...]] = {
    (PERSISTENT_2, SSD): (125, 250, 500, 1000),
    (PERSISTENT_1, SSD): (50, 100, 200),
    (PERSISTENT_1, HDD): (12, 40),
}

#: storage types each deployment type supports
STORAGE_TYPES: dict[str, tuple[str, ...]] = {
    PERSISTENT_2: (SSD,),
    PERSISTENT_1: (SSD, HDD),
    SCRATCH_2: (SSD,),
    SCRATCH_1: (SSD,),
}

METADATA_IOPS_MAX = 192_000


def allowed_throughputs(deployment_type: str, storage_type: str = SSD) -> tuple[int, ...]:
    """Per-unit storage throughput values (MB/s/TiB) allowed; empty for scratch types."""
    return PER_UNIT_THROUGHPUT.get((deployment_type, storage_type), ())


def storage_capacity_rule(deployment_type: str, storage_type: str = SSD, per_unit: int | None = None) -> str:
    """The valid storage capacities for a configuration, in words (used in error messages)."""
    if deployment_type == SCRATCH_1:
        return "1200, 2400, or a multiple of 3600 GiB for SCRATCH_1"
    if storage_type == HDD:
        if per_unit == 12:
            return "a multiple of 6000 GiB for PERSISTENT_1 HDD at 12 MB/s/TiB"
        if per_unit == 40:
            return "a multiple of 1800 GiB for PERSISTENT_1 HDD at 40 MB/s/TiB"
        return "PERSISTENT_1 HDD needs per-unit throughput 12 (6000 GiB steps) or 40 (1800 GiB steps)"
    return f"1200, 2400, or a multiple of 2400 GiB for {deployment_type} {storage_type}"


def _step(deployment_type: str, storage_type: str, per_unit: int | None) -> int | None:
    if deployment_type == SCRATCH_1:
        return 3600
    if storage_type == HDD:
        return {12: 6000, 40: 1800}.get(per_unit or 0)
    return 2400


def is_valid_storage_capacity(
    capacity_gib: int, deployment_type: str, storage_type: str = SSD, per_unit: int | None = None
) -> bool:
    """Whether ``capacity_gib`` is a storage capacity FSx accepts for the configuration."""
    if not isinstance(capacity_gib, int) or isinstance(capacity_gib, bool) or capacity_gib <= 0:
        return False
    step = _step(deployment_type, storage_type, per_unit)
    if step is None:
        return False
    if storage_type == HDD:
        return capacity_gib % step == 0
    return capacity_gib in (1200, 2400) or capacity_gib % step == 0


def next_valid_capacity(
    minimum_gib: float | Fraction, deployment_type: str, storage_type: str = SSD, per_unit: int | None = None
) -> int:
    """The smallest valid storage capacity (GiB) that is at least ``minimum_gib``."""
    step = _step(deployment_type, storage_type, per_unit)
    if step is None:
        raise EksAiDataValidationError(
            "next_valid_capacity", "per_unit", per_unit, storage_capacity_rule(deployment_type, storage_type)
        )
    if storage_type == HDD:
        return max(1, math.ceil(minimum_gib / step)) * step
    if minimum_gib <= 1200:
        return 1200
    if minimum_gib <= 2400:
        return 2400
    return math.ceil(minimum_gib / step) * step


def aggregate_throughput_mbps(capacity_gib: int, per_unit: int) -> float:
    """Aggregate baseline throughput (MB/s) = capacity (GiB) / 1024 x per-unit throughput (MB/s/TiB)."""
    return capacity_gib / 1024 * per_unit


def is_valid_metadata_iops(iops: int) -> bool:
    """1500, 3000, 6000, 12000, or a multiple of 12000 up to 192000."""
    if not isinstance(iops, int) or isinstance(iops, bool):
        return False
    return iops in (1500, 3000, 6000, 12000) or (0 < iops <= METADATA_IOPS_MAX and iops % 12000 == 0)


@dataclass(frozen=True)
class LustreSize:
    """A storage capacity and per-unit throughput chosen by :func:`size_lustre`.

    :param storage_capacity_gib: the file system's ``StorageCapacity`` (GiB).
    :param per_unit_storage_throughput: MB/s per TiB of storage (``PerUnitStorageThroughput``).
    :param deployment_type: FSx for Lustre deployment type. Default: ``PERSISTENT_2``.
    :param storage_type: ``SSD`` or ``HDD``. Default: ``SSD``.
    """

    storage_capacity_gib: int
    per_unit_storage_throughput: int
    deployment_type: str = PERSISTENT_2
    storage_type: str = SSD

    @property
    def throughput_mbps(self) -> float:
        """Aggregate baseline throughput in MB/s."""
        return aggregate_throughput_mbps(self.storage_capacity_gib, self.per_unit_storage_throughput)


def size_lustre(
    *,
    read_throughput_mbps: float,
    dataset_gib: float,
    deployment_type: str = PERSISTENT_2,
    storage_type: str = SSD,
) -> LustreSize:
    """The smallest valid storage capacity, then the lowest per-unit throughput, meeting both targets.

    For each allowed per-unit throughput ``t`` the capacity must hold the dataset
    (``capacity >= dataset_gib``) and deliver the throughput
    (``capacity / 1024 * t >= read_throughput_mbps``, i.e. ``capacity >= 1024 * target / t``); that
    minimum is rounded up to the next valid capacity for the configuration. Among the candidates the
    smallest capacity wins, and on a tie the lowest per-unit throughput (the cheaper tier).

    :param read_throughput_mbps: target aggregate read throughput in MB/s (> 0).
    :param dataset_gib: data the file system must hold, in GiB (>= 0).
    :param deployment_type: a deployment type with provisioned per-unit throughput. Default: PERSISTENT_2.
    :param storage_type: SSD or HDD (HDD only with PERSISTENT_1). Default: SSD.
    """
    where = "size_lustre"
    tiers = allowed_throughputs(deployment_type, storage_type)
    check(
        bool(tiers),
        where,
        "deployment_type",
        f"{deployment_type}/{storage_type}",
        "must be PERSISTENT_2/SSD, PERSISTENT_1/SSD or PERSISTENT_1/HDD (scratch throughput is not provisioned)",
    )
    check(
        isinstance(read_throughput_mbps, (int, float))
        and not isinstance(read_throughput_mbps, bool)
        and math.isfinite(read_throughput_mbps)
        and read_throughput_mbps > 0,
        where,
        "read_throughput_mbps",
        read_throughput_mbps,
        "must be a positive number of MB/s",
    )
    check(
        isinstance(dataset_gib, (int, float))
        and not isinstance(dataset_gib, bool)
        and math.isfinite(dataset_gib)
        and dataset_gib >= 0,
        where,
        "dataset_gib",
        dataset_gib,
        "must be a non-negative number of GiB",
    )
    candidates = []
    for per_unit in tiers:
        # exact arithmetic: a float quotient such as 2400.0000000001 must not round up a whole step
        minimum = max(Fraction(dataset_gib), Fraction(read_throughput_mbps) * 1024 / per_unit)
        capacity = next_valid_capacity(minimum, deployment_type, storage_type, per_unit)
        candidates.append((capacity, per_unit))
    capacity, per_unit = min(candidates)
    return LustreSize(capacity, per_unit, deployment_type, storage_type)
