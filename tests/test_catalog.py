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
    "p6-b200.48xlarge": (192, 2048, "x86_64", "nvidia", 8, "B200", 180, 8, 3800, 8),
    "p6-b300.48xlarge": (192, 4096, "x86_64", "nvidia", 8, "B300", 268, 8, 3800, 16),
    "g4dn.xlarge": (4, 16, "x86_64", "nvidia", 1, "T4", 16, 1, 125, 0),
    "g4dn.metal": (96, 384, "x86_64", "nvidia", 8, "T4", 16, 2, 900, 1),
    "g6f.large": (2, 8, "x86_64", "nvidia", 1, "L4", 3, 1, 100, 0),
    "g6f.4xlarge": (16, 64, "x86_64", "nvidia", 1, "L4", 12, 1, 450, 0),
    "gr6.8xlarge": (32, 256, "x86_64", "nvidia", 1, "L4", 24, 2, 450, 1),
    "trn2.48xlarge": (192, 2048, "x86_64", "neuron", 16, "Trainium2", 96, 4, 1900, 16),
    "trn2.3xlarge": (12, 128, "x86_64", "neuron", 1, "Trainium2", 96, 1, 470, 1),
    "inf1.24xlarge": (96, 192, "x86_64", "neuron", 16, "Inferentia", 8, 0, 0, 1),
    "i4g.large": (2, 16, "arm64", None, 0, None, 0, 1, 468, 0),
    "i7ie.xlarge": (4, 32, "x86_64", None, 0, None, 0, 1, 2500, 0),
    "i8g.large": (2, 16, "arm64", None, 0, None, 0, 1, 468, 0),
    "im4gn.large": (2, 8, "arm64", None, 0, None, 0, 1, 937, 0),
    "is4gen.medium": (1, 6, "arm64", None, 0, None, 0, 1, 937, 0),
    "m5.large": (2, 8, "x86_64", None, 0, None, 0, 0, 0, 0),
    "m7g.large": (2, 8, "arm64", None, 0, None, 0, 0, 0, 0),
    "t3.large": (2, 8, "x86_64", None, 0, None, 0, 0, 0, 0),
}

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


# --- coverage (the full cross-check against DescribeInstanceTypes is tests/test_catalog_crosscheck.py) ---

ACCELERATED_FAMILIES = {
    "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300",
    "g4dn", "g5", "g5g", "g6", "g6e", "g6f", "gr6", "gr6f", "g7", "g7e",
    "inf1", "inf2", "trn1", "trn1n", "trn2", "trn2u",
}  # fmt: skip
NVME_FAMILIES_SAMPLE = {
    "i4i",
    "i4g",
    "i7i",
    "i7ie",
    "i8g",
    "i8ge",
    "im4gn",
    "is4gen",
    "x2idn",
    "m8gd",
    "c6id",
}


def test_catalog_has_every_accelerated_family_and_the_nvme_families() -> None:
    fams = set(catalog.families())
    assert {s.family for s in SPECS if s.has_accelerators} == ACCELERATED_FAMILIES
    assert fams >= ACCELERATED_FAMILIES | NVME_FAMILIES_SAMPLE
    # what the tracker listed as refused before
    for name in ("trn2.48xlarge", "p5en.48xlarge", "p6-b200.48xlarge", "p6-b300.48xlarge", "g6f.xlarge",
                 "g4dn.xlarge", "i7ie.large", "i8g.large"):  # fmt: skip
        assert catalog.lookup(name) is not None, name
    assert len(SPECS) == 534


def test_sizes_in_order_smallest_first_metal_last() -> None:
    assert [s.size for s in catalog.in_family("i7ie")] == [
        "large", "xlarge", "2xlarge", "3xlarge", "6xlarge", "12xlarge", "18xlarge", "24xlarge", "48xlarge",
        "metal-24xl", "metal-48xl",
    ]  # fmt: skip
    assert [s.size for s in catalog.in_family("trn2")] == ["3xlarge", "48xlarge"]


def test_families_sorted_and_unique() -> None:
    fams = catalog.families()
    assert list(fams) == sorted(set(fams))


def test_in_family_unknown_is_empty() -> None:
    assert catalog.in_family("x9z") == ()


# --- structural invariants -------------------------------------------------------------------

NVIDIA_MODELS = {"A100", "H100", "H200", "B200", "B300", "A10G", "L4", "L40S", "T4", "T4G",
                 "RTX-PRO-4500", "RTX-PRO-Server-6000"}  # fmt: skip
NEURON_MODELS = {"Inferentia", "Inferentia2", "Trainium", "Trainium2"}
LABEL_VALUE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def test_names_unique_and_well_formed() -> None:
    names = [spec.name for spec in SPECS]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9-]*\.(medium|large|\d*xlarge|metal(-\d+xl)?)", name), name


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_row_invariants(spec: InstanceSpec) -> None:
    catalog.validate_spec(spec, "built-in row")  # the rules register() applies hold for every row
    assert isinstance(spec.memory_gib, float)
    present = spec.accelerator_count > 0
    if spec.accelerator_kind == "nvidia":
        assert spec.accelerator_model in NVIDIA_MODELS
        assert spec.neuron_cores_per_device == 0
    if spec.accelerator_kind == "neuron":
        assert spec.accelerator_model in NEURON_MODELS
        assert spec.family.startswith(("trn", "inf"))
        assert spec.neuron_cores_per_device in (2, 4, 8)
    if present:
        # the node groups label nodes with the model: it must be a label value (no spaces)
        assert LABEL_VALUE.fullmatch(spec.accelerator_model) and len(spec.accelerator_model) <= 63
        assert spec.accelerator_memory_mib > 0
        # published GiB is the nominal figure: the usable GiB the API reports, or up to ~10% above
        usable_gib = spec.accelerator_memory_mib / 1024
        assert int(usable_gib) <= spec.accelerator_memory_gib <= usable_gib * 1.1 + 1, spec.name
    # fractional GPUs are one device each, a slice of an L4
    assert spec.is_fractional_gpu == (spec.family in ("g6f", "gr6f"))
    if spec.is_fractional_gpu:
        assert spec.accelerator_count == 1
        assert spec.accelerator_fraction in (0.125, 0.25, 0.5)
        assert spec.accelerator_memory_gib == 24 * spec.accelerator_fraction
    # arm64 only for Graviton families (a 'g' after the generation digit, g5g's GPU host included)
    graviton = bool(re.fullmatch(r"[a-z]+\d+g[a-z]*|im4gn|is4gen|g5g", spec.family))
    assert (spec.architecture == "arm64") == graviton, spec.name
    assert spec.has_accelerators or spec.has_nvme  # the built-in rows are accelerated or NVMe types


def test_one_accelerator_model_per_family() -> None:
    for family in catalog.families():
        models = {s.accelerator_model for s in catalog.in_family(family)}
        assert len(models) == 1, (family, models)


def test_arm64_gpu_case_exists() -> None:
    arm_gpu = [s for s in SPECS if s.architecture == "arm64" and s.accelerator_kind == "nvidia"]
    assert {s.family for s in arm_gpu} == {"g5g"}


def test_efa_grows_with_size_within_a_family() -> None:
    for family in catalog.families():
        sized = [s for s in catalog.in_family(family) if not s.size.startswith("metal")]
        assert [s.vcpus for s in sized] == sorted(s.vcpus for s in sized), family
        assert [s.max_efa_interfaces for s in sized] == sorted(s.max_efa_interfaces for s in sized), family


# --- properties ------------------------------------------------------------------------------


def test_derived_properties_of_p5() -> None:
    spec = catalog.get("p5.48xlarge")
    assert spec.family == "p5"
    assert spec.size == "48xlarge"
    assert spec.has_accelerators and spec.has_nvme and spec.supports_efa
    assert spec.nvme_total_gb == 8 * 3800
    assert spec.total_accelerator_memory_gib == 640
    assert spec.kubernetes_arch == "amd64"
    assert not spec.is_fractional_gpu


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
    assert catalog.get("trn2.48xlarge").total_accelerator_memory_gib == 1536  # "1.5 TB of HBM"
    assert catalog.get("p5en.48xlarge").total_accelerator_memory_gib == 1128


def test_fractional_gpu_is_one_device_of_a_share() -> None:
    spec = catalog.get("g6f.2xlarge")
    assert (spec.accelerator_count, spec.accelerator_fraction, spec.accelerator_memory_gib) == (1, 0.25, 6)
    assert spec.is_fractional_gpu
    assert spec.accelerator_memory_mib == 5722


def test_specs_are_frozen_and_keyword_only() -> None:
    spec = catalog.get("g5.xlarge")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.vcpus = 99  # type: ignore[misc]
    with pytest.raises(TypeError):
        InstanceSpec("x.large", 2, 8.0, "x86_64")  # type: ignore[misc]


# --- lookup / get / exists / architecture ------------------------------------------------------


def test_lookup_known_and_unknown() -> None:
    assert catalog.lookup("g5.xlarge") is catalog.get("g5.xlarge")
    assert catalog.lookup("g5.xlarge").name == "g5.xlarge"  # type: ignore[union-attr]
    assert catalog.lookup("g9.xlarge") is None
    assert catalog.lookup("") is None
    assert catalog.lookup("P5.48XLARGE") is None  # names are exact, as EC2 spells them
    assert catalog.lookup(None) is None  # type: ignore[arg-type]


def test_lookup_plain_ec2_type_is_a_full_spec_from_the_ec2_data() -> None:
    spec = catalog.get("m7i.large")
    assert (spec.vcpus, spec.memory_gib, spec.architecture) == (2, 8.0, "x86_64")
    assert not spec.has_accelerators and not spec.has_nvme
    assert catalog.get("c7gn.16xlarge").max_efa_interfaces == 1  # EFA of a plain type comes along
    assert catalog.get("t3.nano").memory_gib == 0.5
    assert catalog.lookup("m7i.large") is spec  # built once
    assert spec not in catalog.all_instance_types()  # plain types are not listed as catalog rows


def test_lookup_refuses_types_whose_accelerators_or_store_are_not_described() -> None:
    for name in ("p3dn.24xlarge", "f2.6xlarge", "d3.xlarge", "x1.16xlarge", "dl2q.24xlarge", "mac1.metal"):
        assert catalog.exists(name), name
        assert catalog.lookup(name) is None, name


def test_get_a_type_that_exists_but_is_not_described_says_how_to_register() -> None:
    with pytest.raises(
        UnknownInstanceTypeError, match=r"'p3dn\.24xlarge' exists, but its nvidia accelerators"
    ):
        catalog.get("p3dn.24xlarge")
    with pytest.raises(UnknownInstanceTypeError, match=r"'d3\.xlarge' exists, but its instance store is not"):
        catalog.get("d3.xlarge")
    with pytest.raises(KeyError, match=r"eks_ai_data\.catalog\.register\(InstanceSpec"):
        catalog.get("p3dn.24xlarge")


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


def test_get_unknown_family_suggests_ec2_names_or_says_none_is_close() -> None:
    with pytest.raises(UnknownInstanceTypeError) as info:
        catalog.get("m7i.larg")  # not a catalog family: suggestions come from every EC2 type
    assert "m7i.large" in info.value.suggestions
    with pytest.raises(KeyError, match=r"no EC2 instance type has a similar name\. A type newer") as err:
        catalog.get("zz")
    # str() is the plain message, not a quoted KeyError repr
    assert str(err.value).startswith("unknown instance type 'zz'")


def test_exists_and_architecture_of_any_ec2_type() -> None:
    assert catalog.exists("m7i.large") and catalog.exists("u7i-12tb.224xlarge")
    assert not catalog.exists("m7i.mega") and not catalog.exists(None)  # type: ignore[arg-type]
    assert catalog.architecture("m7i.large") == "x86_64"
    assert catalog.architecture("m8g.large") == "arm64"
    assert catalog.architecture("g5g.xlarge") == "arm64"
    assert catalog.architecture("t1.micro") == "x86_64"  # i386 and x86_64: the 64-bit one
    assert catalog.architecture("mac2.metal") == "arm64_mac"  # no EKS AMI runs on it
    with pytest.raises(UnknownInstanceTypeError, match=r"unknown instance type 'm7i\.mega'"):
        catalog.architecture("m7i.mega")


def test_ec2_type_facts() -> None:
    facts = catalog.ec2_type("p5.48xlarge")
    assert facts == catalog.Ec2Type("p5.48xlarge", "x86_64", 192, 2097152, 32, "nvidia")
    assert catalog.ec2_type("m7i.large").kind == ""  # type: ignore[union-attr]
    assert catalog.ec2_type("i4i.large").kind == "store"  # type: ignore[union-attr]
    assert catalog.ec2_type("inf2.xlarge").kind == "neuron"  # type: ignore[union-attr]
    assert catalog.ec2_type("nope.large") is None


def test_all_instance_types_is_a_stable_tuple() -> None:
    assert isinstance(SPECS, tuple)
    assert catalog.all_instance_types() is SPECS
    assert all(isinstance(s, InstanceSpec) for s in SPECS)


# --- capacity blocks -------------------------------------------------------------------------


def test_capacity_block_types_are_per_instance_type() -> None:
    assert catalog.supports_capacity_block("p5.48xlarge")
    assert catalog.supports_capacity_block("p5.4xlarge")
    assert catalog.supports_capacity_block("trn1.32xlarge")
    assert not catalog.supports_capacity_block("trn1.2xlarge")
    assert not catalog.supports_capacity_block("trn1n.32xlarge")
    assert not catalog.supports_capacity_block("g6e.48xlarge")
    assert not catalog.supports_capacity_block("m7i.large")
    assert "p6e-gb200.36xlarge" in catalog.capacity_block_types()
    assert list(catalog.capacity_block_types()) == sorted(catalog.capacity_block_types())


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("cr-56fac701cc1951b03", True),  # the EKS Auto Mode guide's example
        ("cr-0123456789abcdef0", True),
        ("cr-0123456789abcdef", False),  # 16 digits
        ("cr-0123456789abcdef01", False),  # 18 digits
        ("cr-0123456789ABCDEF0", False),  # EC2 ids are lowercase
        ("cr-0123456789abcdefg", False),
        ("cb-0123456789abcdef0", False),  # a capacity block id, not the reservation's
        (" cr-0123456789abcdef0", False),
        (None, False),
    ],
)
def test_capacity_reservation_id_form(value: object, ok: bool) -> None:
    assert catalog.is_capacity_reservation_id(value) is ok


# --- describe --------------------------------------------------------------------------------


def test_describe_gpu_type() -> None:
    assert catalog.describe(catalog.get("p5.48xlarge")) == (
        "p5.48xlarge (192 vCPU, 2048 GiB, x86_64; 8 x NVIDIA H100 80 GiB; NVMe 8 x 3800 GB; EFA up to 32)"
    )


def test_describe_fractional_gpu_type() -> None:
    assert catalog.describe("g6f.large") == (
        "g6f.large (2 vCPU, 8 GiB, x86_64; 1 x NVIDIA L4 3 GiB (0.125 of a GPU); NVMe 1 x 100 GB; no EFA)"
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


# --- layering and import cost ----------------------------------------------------------------


def _run(code: str) -> list[str]:
    src = Path(__file__).resolve().parents[1] / "constructs"
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env={"PYTHONPATH": str(src)}
    ).stdout.split()


def test_catalog_does_not_import_aws_cdk() -> None:
    code = "import sys, eks_ai_data.catalog; print('aws_cdk' in sys.modules, 'constructs' in sys.modules)"
    assert _run(code) == ["False", "False"]


def test_the_large_ec2_table_loads_only_when_a_name_is_not_in_the_catalog() -> None:
    table = "eks_ai_data.catalog_data.ec2_types"
    code = (
        "import sys; from eks_ai_data import catalog; catalog.get('p5.48xlarge'); "
        f"print({table!r} in sys.modules); catalog.get('m7i.large'); print({table!r} in sys.modules)"
    )
    assert _run(code) == ["False", "True"]
