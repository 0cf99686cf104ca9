"""FSx for Lustre capacity rules and the sizing helper (layer 1, no synthesis)."""

from __future__ import annotations

import itertools

import pytest

from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.lustre_sizing import (
    aggregate_throughput_mbps,
    allowed_throughputs,
    is_valid_metadata_iops,
    is_valid_storage_capacity,
    next_valid_capacity,
    size_lustre,
)


@pytest.mark.parametrize(
    ("capacity", "deployment", "storage", "per_unit", "valid"),
    [
        (1200, "PERSISTENT_2", "SSD", 250, True),
        (2400, "PERSISTENT_2", "SSD", 250, True),
        (4800, "PERSISTENT_2", "SSD", 250, True),
        (3600, "PERSISTENT_2", "SSD", 250, False),
        (1800, "SCRATCH_2", "SSD", None, False),
        (3600, "SCRATCH_1", "SSD", None, True),
        (4800, "SCRATCH_1", "SSD", None, False),
        (2400, "PERSISTENT_1", "SSD", 200, True),
        (6000, "PERSISTENT_1", "HDD", 12, True),
        (1800, "PERSISTENT_1", "HDD", 12, False),
        (5400, "PERSISTENT_1", "HDD", 40, True),
        (0, "PERSISTENT_2", "SSD", 250, False),
    ],
)
def test_storage_capacity_rules(capacity, deployment, storage, per_unit, valid):
    assert is_valid_storage_capacity(capacity, deployment, storage, per_unit) is valid


def test_throughput_tiers():
    assert allowed_throughputs("PERSISTENT_2") == (125, 250, 500, 1000)
    assert allowed_throughputs("PERSISTENT_1", "SSD") == (50, 100, 200)
    assert allowed_throughputs("PERSISTENT_1", "HDD") == (12, 40)
    assert allowed_throughputs("SCRATCH_2") == ()


def test_metadata_iops_values():
    good = [1500, 3000, 6000, 12000, 24000, 96000, 192000]
    bad = [0, 1000, 4500, 18000, 204000, True]
    assert all(is_valid_metadata_iops(v) for v in good)
    assert not any(is_valid_metadata_iops(v) for v in bad)


def test_formula_is_capacity_tib_times_per_unit():
    assert aggregate_throughput_mbps(2400, 1000) == pytest.approx(2343.75)
    assert aggregate_throughput_mbps(1024, 125) == 125


def test_examples():
    # 10 GB/s over 1 TiB of data: the 1000 MB/s/TiB tier needs the least storage (10240 -> 12000 GiB)
    assert size_lustre(read_throughput_mbps=10_000, dataset_gib=1024).storage_capacity_gib == 12_000
    assert size_lustre(read_throughput_mbps=10_000, dataset_gib=1024).per_unit_storage_throughput == 1000
    # a big, slow dataset: capacity is set by the data, so the cheapest tier suffices
    big = size_lustre(read_throughput_mbps=100, dataset_gib=50_000)
    assert (big.storage_capacity_gib, big.per_unit_storage_throughput) == (50_400, 125)
    # exact boundary: 2400 GiB at 1000 MB/s/TiB gives exactly 2343.75 MB/s (no float round-up)
    assert size_lustre(read_throughput_mbps=2343.75, dataset_gib=0).storage_capacity_gib == 2400
    hdd = size_lustre(
        read_throughput_mbps=100, dataset_gib=1000, deployment_type="PERSISTENT_1", storage_type="HDD"
    )
    assert (hdd.storage_capacity_gib, hdd.per_unit_storage_throughput) == (3600, 40)


def test_next_valid_capacity():
    assert [next_valid_capacity(x, "PERSISTENT_2") for x in (1, 1200, 1201, 2400, 2401)] == [
        1200,
        1200,
        2400,
        2400,
        4800,
    ]
    assert [next_valid_capacity(x, "SCRATCH_1") for x in (2401, 3601)] == [3600, 7200]


TARGETS = [1, 100, 500, 1171.875, 2000, 5000, 12_345, 50_000, 200_000]
DATASETS = [0, 1, 1200, 1201, 5000, 24_000, 100_000]
CONFIGS = [("PERSISTENT_2", "SSD"), ("PERSISTENT_1", "SSD"), ("PERSISTENT_1", "HDD")]


@pytest.mark.parametrize(("deployment", "storage"), CONFIGS)
def test_sizing_properties_over_a_grid(deployment, storage):
    for target, dataset in itertools.product(TARGETS, DATASETS):
        size = size_lustre(
            read_throughput_mbps=target, dataset_gib=dataset, deployment_type=deployment, storage_type=storage
        )
        per_unit = size.per_unit_storage_throughput
        # valid for the configuration
        assert per_unit in allowed_throughputs(deployment, storage)
        assert is_valid_storage_capacity(size.storage_capacity_gib, deployment, storage, per_unit)
        # meets both targets
        assert size.storage_capacity_gib >= dataset
        assert size.throughput_mbps >= target
        # minimal: no valid capacity below it meets both targets at any tier
        for tier in allowed_throughputs(deployment, storage):
            smaller = [
                c
                for c in range(600, size.storage_capacity_gib, 600)
                if is_valid_storage_capacity(c, deployment, storage, tier)
            ]
            assert not any(c >= dataset and aggregate_throughput_mbps(c, tier) >= target for c in smaller)
        # ties go to the lowest tier
        for tier in allowed_throughputs(deployment, storage):
            if tier < per_unit and is_valid_storage_capacity(
                size.storage_capacity_gib, deployment, storage, tier
            ):
                assert aggregate_throughput_mbps(size.storage_capacity_gib, tier) < target


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"read_throughput_mbps": 0, "dataset_gib": 10}, "read_throughput_mbps=0: must be a positive number"),
        ({"read_throughput_mbps": 10, "dataset_gib": -1}, "dataset_gib=-1: must be a non-negative number"),
        (
            {"read_throughput_mbps": 10, "dataset_gib": 1, "deployment_type": "SCRATCH_2"},
            "deployment_type='SCRATCH_2/SSD': must be PERSISTENT_2/SSD",
        ),
    ],
)
def test_sizing_rejects_bad_input(kwargs, match):
    with pytest.raises(EksAiDataValidationError, match=match):
        size_lustre(**kwargs)
