"""Tests for eks_ai_data.catalog: published facts, coverage, invariants and the lookup API."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from eks_ai_data import catalog
from eks_ai_data.catalog import InstanceSpec, UnknownInstanceTypeError

# Published numbers, written out independently of the data table (AWS EC2 Instance Types guide:
# accelerated computing / storage optimized / compute, general purpose and memory optimized
# "instance store specifications"; EFA "supported instance types" and MaximumEfaInterfaces).
# name: (vcpus, memory GiB, arch, kind, count, model, GiB per accelerator, NVMe volumes,
#        GB per volume, max EFA interfaces)
PUBLISHED = {
    "p4d.24xlarge": (96, 1152, "x86_64", "nvidia", 8, "A100", 40, 8, 1000, 4),
    "p4de.24xlarge": (96, 1152, "x86_64", "nvidia", 8, "A100", 80, 8, 1000, 4),
    "p5.4xlarge": (16, 256, "x86_64", "nvidia", 1, "H100", 80, 1, 3800, 1),
    "p5.48xlarge": (192, 2048, "x86_64", "nvidia", 8, "H100", 80, 8, 3800, 32),
    "p5e.48xlarge": (192, 2048, "x86_64", "nvidia", 8, "H200", 141, 8, 3800, 32),
    "p5en.48xlarge": (192, 2048, "x86_64", "nvidia", 8, "H200", 141, 8, 3800, 16),
    "g5.xlarge": (4, 16, "x86_64", "nvidia", 1, "A10G", 24, 1, 250, 0),
    "g5.12xlarge": (48, 192, "x86_64", "nvidia", 4, "A10G", 24, 1, 3800, 1),
    "g5.48xlarge": (192, 768, "x86_64", "nvidia", 8, "A10G", 24, 2, 3800, 1),
    "g6.xlarge": (4, 16, "x86_64", "nvidia", 1, "L4", 24, 1, 250, 0),
    "g6.48xlarge": (192, 768, "x86_64", "nvidia", 8, "L4", 24, 8, 940, 1),
    "g6e.xlarge": (4, 32, "x86_64", "nvidia", 1, "L40S", 48, 1, 250, 0),
    "g6e.24xlarge": (96, 768, "x86_64", "nvidia", 4, "L40S", 48, 2, 1900, 2),
    "g6e.48xlarge": (192, 1536, "x86_64", "nvidia", 8, "L40S", 48, 4, 1900, 4),
    "g5g.16xlarge": (64, 128, "arm64", "nvidia", 2, "T4G", 16, 0, 0, 0),
    "trn1.2xlarge": (8, 32, "x86_64", "neuron", 1, "Trainium", 32, 1, 474, 0),
    "trn1.32xlarge": (128, 512, "x86_64", "neuron", 16, "Trainium", 32, 4, 1900, 8),
    "trn1n.32xlarge": (128, 512, "x86_64", "neuron", 16, "Trainium", 32, 4, 1900, 16),
    "inf2.xlarge": (4, 16, "x86_64", "neuron", 1, "Inferentia2", 32, 0, 0, 0),
    "inf2.48xlarge": (192, 768, "x86_64", "neuron", 12, "Inferentia2", 32, 0, 0, 0),
    "i4i.large": (2, 16, "x86_64", None, 0, None, 0, 1, 468, 0),
    "i4i.32xlarge": (128, 1024, "x86_64", None, 0, None, 0, 8, 3750, 1),
    "c6id.12xlarge": (48, 96, "x86_64", None, 0, None, 0, 2, 1425, 0),
    "m6id.32xlarge": (128, 512, "x86_64", None, 0, None, 0, 4, 1900, 1),
    "r6id.large": (2, 16, "x86_64", None, 0, None, 0, 1, 118, 0),
    "c7gd.16xlarge": (64, 128, "arm64", None, 0, None, 0, 2, 1900, 1),
    "m7gd.medium": (1, 4, "arm64", None, 0, None, 0, 1, 59, 0),
    "r7gd.12xlarge": (48, 384, "arm64", None, 0, None, 0, 2, 1425, 0),
    "m5.large": (2, 8, "x86_64", None, 0, None, 0, 0, 0, 0),
    "m7g.large": (2, 8, "arm64", None, 0, None, 0, 0, 0, 0),
    "t3.large": (2, 8, "x86_64", None, 0, None, 0, 0, 0, 0),
}

_G = ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")
_D6 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")
_D7 = ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "metal")

# Every size AWS offers in each covered family (plus the listed system/negative-test types).
EXPECTED_SIZES: dict[str, tuple[str, ...]] = {
    "p4d": ("24xlarge",),
    "p4de": ("24xlarge",),
    "p5": ("4xlarge", "48xlarge"),
    "p5e": ("48xlarge",),
    "p5en": ("48xlarge",),
    "g5": _G,
    "g6": _G,
    "g6e": _G,
    "g5g": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge", "metal"),
    "trn1": ("2xlarge", "32xlarge"),
    "trn1n": ("32xlarge",),
    "inf2": ("xlarge", "8xlarge", "24xlarge", "48xlarge"),
    "i4i": (*_D6, "32xlarge", "metal"),
    "c6id": (*_D6, "32xlarge", "metal"),
    "m6id": (*_D6, "32xlarge", "metal"),
    "r6id": (*_D6, "32xlarge", "metal"),
    "c7gd": _D7,
    "m7gd": _D7,
    "r7gd": _D7,
    "m5": ("large",),
    "m6i": ("large", "xlarge", "2xlarge"),
    "m7i": ("large",),
    "m7g": ("large",),
    "c7g": ("large",),
    "t3": ("large",),
}

GRAVITON_FAMILIES = {"g5g", "c7g", "c7gd", "m7g", "m7gd", "r7gd"}
NVIDIA_MODELS = {"A100", "H100", "H200", "A10G", "L4", "L40S", "T4G"}
NEURON_MODELS = {"Trainium", "Inferentia2"}

SPECS = catalog.all_instance_types()


# --- published facts -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_facts(name: str) -> None:
    vcpus, mem, arch, kind, count, model, acc_mem, disks, disk_gb, efa = PUBLISHED[name]
    spec = catalog.get(name)
    assert (spec.vcpus, spec.memory_gib, spec.architecture) == (vcpus, mem, arch)
    assert (spec.accelerator_kind, spec.accelerator_count, spec.accelerator_model) == (kind, count, model)
    assert spec.accelerator_memory_gib == acc_mem
    assert (spec.nvme_disk_count, spec.nvme_disk_size_gb) == (disks, disk_gb)
    assert spec.max_efa_interfaces == efa


def test_published_sample_is_broad() -> None:
    assert len(PUBLISHED) >= 15
    assert len({name.split(".")[0] for name in PUBLISHED}) >= 15


@pytest.mark.parametrize(
    ("name", "total_gb"),
    [
        # InstanceStorageInfo.TotalSizeInGB of DescribeInstanceTypes
        ("p5.48xlarge", 30400),
        ("p4d.24xlarge", 8000),
        ("g5.48xlarge", 7600),
        ("g6.12xlarge", 3760),
        ("g6.8xlarge", 900),
        ("g6e.16xlarge", 1900),
        ("trn1.32xlarge", 7600),
        ("i4i.24xlarge", 22500),
        ("i4i.12xlarge", 11250),
        ("c6id.24xlarge", 5700),
        ("r7gd.metal", 3800),
        ("inf2.48xlarge", 0),
    ],
)
def test_nvme_total_matches_describe_instance_types(name: str, total_gb: int) -> None:
    assert catalog.get(name).nvme_total_gb == total_gb


# --- coverage --------------------------------------------------------------------------------


def test_catalog_covers_every_size_of_each_family() -> None:
    for family, sizes in EXPECTED_SIZES.items():
        assert [spec.size for spec in catalog.in_family(family)] == list(sizes), family
    assert set(catalog.families()) == set(EXPECTED_SIZES)
    assert len(SPECS) == sum(len(sizes) for sizes in EXPECTED_SIZES.values())


def test_families_sorted_and_unique() -> None:
    fams = catalog.families()
    assert list(fams) == sorted(set(fams))


def test_in_family_unknown_is_empty() -> None:
    assert catalog.in_family("x9z") == ()


# --- structural invariants -------------------------------------------------------------------


def test_names_unique_and_well_formed() -> None:
    names = [spec.name for spec in SPECS]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9-]*\.(medium|large|\d*xlarge|metal)", name), name


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_row_invariants(spec: InstanceSpec) -> None:
    assert spec.vcpus > 0
    assert spec.memory_gib > 0
    assert isinstance(spec.memory_gib, float)
    for field in ("accelerator_count", "accelerator_memory_gib", "nvme_disk_count", "max_efa_interfaces"):
        assert getattr(spec, field) >= 0, field
    # NVMe: a size exactly when there are volumes
    assert (spec.nvme_disk_size_gb > 0) == (spec.nvme_disk_count > 0)
    assert spec.nvme_disk_size_gb >= 0
    # accelerators: kind, model and memory all present, or all absent
    present = spec.accelerator_count > 0
    assert (spec.accelerator_kind is not None) == present
    assert (spec.accelerator_model is not None) == present
    assert (spec.accelerator_memory_gib > 0) == present
    if spec.accelerator_kind == "nvidia":
        assert spec.accelerator_model in NVIDIA_MODELS
    if spec.accelerator_kind == "neuron":
        assert spec.accelerator_model in NEURON_MODELS
        assert spec.family.startswith(("trn", "inf"))
    # arm64 only for Graviton families
    assert (spec.architecture == "arm64") == (spec.family in GRAVITON_FAMILIES)
    assert spec.architecture in ("x86_64", "arm64")


def test_one_accelerator_model_per_family() -> None:
    for family in catalog.families():
        models = {(s.accelerator_model, s.accelerator_memory_gib) for s in catalog.in_family(family)}
        assert len(models) == 1, (family, models)


def test_arm64_gpu_case_exists() -> None:
    arm_gpu = [s for s in SPECS if s.architecture == "arm64" and s.accelerator_kind == "nvidia"]
    assert {s.family for s in arm_gpu} == {"g5g"}


def test_efa_grows_with_size_within_a_family() -> None:
    for family in catalog.families():
        efa = [s.max_efa_interfaces for s in catalog.in_family(family) if s.size != "metal"]
        vcpus = [s.vcpus for s in catalog.in_family(family) if s.size != "metal"]
        assert vcpus == sorted(vcpus), family
        assert efa == sorted(efa), family


# --- properties ------------------------------------------------------------------------------


def test_derived_properties_of_p5() -> None:
    spec = catalog.get("p5.48xlarge")
    assert spec.family == "p5"
    assert spec.size == "48xlarge"
    assert spec.has_accelerators and spec.has_nvme and spec.supports_efa
    assert spec.nvme_total_gb == 8 * 3800
    assert spec.total_accelerator_memory_gib == 640
    assert spec.kubernetes_arch == "amd64"


def test_derived_properties_of_plain_types() -> None:
    m5 = catalog.get("m5.large")
    assert not m5.has_accelerators and not m5.has_nvme and not m5.supports_efa
    assert m5.nvme_total_gb == 0 and m5.total_accelerator_memory_gib == 0
    c7gd = catalog.get("c7gd.16xlarge")
    assert c7gd.kubernetes_arch == "arm64"
    assert c7gd.family == "c7gd"
    assert c7gd.has_nvme and not c7gd.has_accelerators and c7gd.supports_efa


def test_total_accelerator_memory_of_neuron_and_h200() -> None:
    assert catalog.get("inf2.48xlarge").total_accelerator_memory_gib == 384
    assert catalog.get("trn1.32xlarge").total_accelerator_memory_gib == 512
    assert catalog.get("p5en.48xlarge").total_accelerator_memory_gib == 1128


def test_specs_are_frozen() -> None:
    spec = catalog.get("g5.xlarge")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.vcpus = 99  # type: ignore[misc]


# --- lookup / get ----------------------------------------------------------------------------


def test_lookup_known_and_unknown() -> None:
    assert catalog.lookup("g5.xlarge") is catalog.get("g5.xlarge")
    assert catalog.lookup("g5.xlarge").name == "g5.xlarge"  # type: ignore[union-attr]
    assert catalog.lookup("g9.xlarge") is None
    assert catalog.lookup("") is None
    assert catalog.lookup("P5.48XLARGE") is None  # names are exact, as EC2 spells them
    assert catalog.lookup(None) is None  # type: ignore[arg-type]


def test_get_unknown_suggests_close_names() -> None:
    with pytest.raises(KeyError, match=r"unknown instance type 'p5\.48xlarg'.*did you mean p5\.48xlarge"):
        catalog.get("p5.48xlarg")


def test_get_unknown_suggests_correct_spelling_for_wrong_case() -> None:
    with pytest.raises(UnknownInstanceTypeError) as info:
        catalog.get("G5.XLARGE")
    assert "g5.xlarge" in info.value.suggestions
    assert info.value.name == "G5.XLARGE"


def test_get_unknown_size_of_known_family_lists_its_sizes() -> None:
    with pytest.raises(UnknownInstanceTypeError) as info:
        catalog.get("trn1.metal")
    assert set(info.value.suggestions) >= {"trn1.2xlarge", "trn1.32xlarge"}


def test_get_unknown_family_lists_known_families() -> None:
    with pytest.raises(KeyError, match=r"known families: c6id, c7g, c7gd,") as info:
        catalog.get("zz")
    # str() is the plain message, not a quoted KeyError repr
    assert str(info.value).startswith("unknown instance type 'zz'")


def test_all_instance_types_is_a_stable_tuple() -> None:
    assert isinstance(SPECS, tuple)
    assert catalog.all_instance_types() is SPECS
    assert all(isinstance(s, InstanceSpec) for s in SPECS)


# --- describe --------------------------------------------------------------------------------


def test_describe_gpu_type() -> None:
    assert catalog.describe(catalog.get("p5.48xlarge")) == (
        "p5.48xlarge (192 vCPU, 2048 GiB, x86_64; 8 x NVIDIA H100 80 GiB; NVMe 8 x 3800 GB; EFA up to 32)"
    )


def test_describe_neuron_type() -> None:
    assert catalog.describe("inf2.xlarge") == (
        "inf2.xlarge (4 vCPU, 16 GiB, x86_64; 1 x AWS Inferentia2 32 GiB; no NVMe instance store; no EFA)"
    )


def test_describe_plain_type() -> None:
    assert catalog.describe(catalog.get("m5.large")) == (
        "m5.large (2 vCPU, 8 GiB, x86_64; no accelerator; no NVMe instance store; no EFA)"
    )


def test_describe_unknown_name_raises() -> None:
    with pytest.raises(KeyError, match="unknown instance type"):
        catalog.describe("nope.large")


# --- layering --------------------------------------------------------------------------------


def test_catalog_does_not_import_aws_cdk() -> None:
    src = Path(__file__).resolve().parents[1] / "constructs"
    code = "import sys, eks_ai_data.catalog; print('aws_cdk' in sys.modules, 'constructs' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src)},
    ).stdout.split()
    assert out == ["False", "False"]
