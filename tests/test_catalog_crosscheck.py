"""The catalog against DescribeInstanceTypes data, as moto (a dev dependency) ships it.

moto's ``ec2/resources/instance_types.json.gz`` is AWS's DescribeInstanceTypes output for every
instance type. Every catalog row present there must agree with it on every field the API reports;
every accelerated or NVMe SSD type there must be a catalog row (or belong to a family left out on
purpose, named below with the reason); the generated ``catalog_data/ec2_types.py`` must match it.
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import json
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import pytest

from eks_ai_data import catalog
from eks_ai_data.catalog_data import ec2_types

MOTO_VERSION = metadata.version("moto")
ROOT = Path(__file__).resolve().parents[1]


def _load() -> dict[str, dict[str, Any]]:
    path = resources.files("moto") / "ec2" / "resources" / "instance_types.json.gz"
    with path.open("rb") as raw:
        return json.loads(gzip.decompress(raw.read()))


MOTO = _load()
SPECS = catalog.all_instance_types()

#: Catalog rows moto's data lacks: none today (p6e-gb200.36xlarge, also missing, is left out of the catalog).
NOT_IN_MOTO: set[str] = set()

#: Where the row follows AWS's documentation, not DescribeInstanceTypes: (type, field) -> why.
DOCUMENTED_DISAGREEMENTS = {
    ("trn2.3xlarge", "accelerator_memory_mib"): "API 524288 MiB per Trainium2; docs: 96 GiB HBM per chip",
    ("trn2.48xlarge", "accelerator_memory_mib"): "API 524288 MiB per Trainium2; docs: 1.5 TB for 16 chips",
    # the API answer for the Trn2 UltraServer node carries no NeuronInfo at all (MiB and cores then
    # count as "not reported", which differences() does not flag)
    ("trn2u.48xlarge", "accelerator_kind"): "no NeuronInfo; docs: 16 Trainium2, as trn2.48xlarge",
    ("trn2u.48xlarge", "accelerator_count"): "no NeuronInfo",
    ("trn2u.48xlarge", "accelerator_model"): "no NeuronInfo",
}

#: Families with GPUs, Neuron devices or an NVMe SSD instance store that the catalog leaves out, and why.
LEFT_OUT = {
    "p3dn": "NVIDIA V100 (Volta): CUDA 13 no longer supports it",
    "f2": "FPGA accelerators: no device the catalog can model",
    "mac-m4": "macOS host: no EKS AMI",
    "mac-m4pro": "macOS host: no EKS AMI",
}


def _api_spec(name: str) -> catalog.InstanceSpec:
    return catalog.from_describe_instance_types(MOTO[name])


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_row_matches_describe_instance_types(spec: catalog.InstanceSpec) -> None:
    if spec.name in NOT_IN_MOTO:
        pytest.skip(f"{spec.name} is not in moto {MOTO_VERSION}'s DescribeInstanceTypes data")
    assert spec.name in MOTO, f"{spec.name} is not in moto {MOTO_VERSION}'s data: add it to NOT_IN_MOTO"
    found = catalog.differences(spec, _api_spec(spec.name))
    unexplained = {f: v for f, v in found.items() if (spec.name, f) not in DOCUMENTED_DISAGREEMENTS}
    assert unexplained == {}, f"{spec.name}: catalog vs DescribeInstanceTypes (moto {MOTO_VERSION})"


def test_documented_disagreements_still_hold() -> None:
    """Each listed disagreement is real: when AWS fixes its answer, the list must shrink."""
    for (name, field), why in DOCUMENTED_DISAGREEMENTS.items():
        assert field in catalog.differences(catalog.get(name), _api_spec(name)), (name, field, why)


def test_cross_check_covers_the_fields_the_brief_names() -> None:
    """vCPUs, memory, architecture, device count, NVMe count and size, EFA: compared for every row."""
    p5 = catalog.get("p5.48xlarge")
    for field, wrong in (
        ("vcpus", 191),
        ("memory_gib", 2047.0),
        ("architecture", "arm64"),
        ("accelerator_count", 4),
        ("accelerator_memory_mib", 80000),
        ("nvme_disk_count", 4),
        ("nvme_disk_size_gb", 1900),
        ("max_efa_interfaces", 16),
    ):
        changed = dataclasses.replace(p5, **{field: wrong})
        assert set(catalog.differences(changed, _api_spec("p5.48xlarge"))) == {field}


def _nvme_ssd(info: dict[str, Any]) -> bool:
    store = info.get("InstanceStorageInfo") or {}
    disks = store.get("Disks") or []
    return store.get("NvmeSupport") in ("required", "supported") and bool(disks)


def _covered_kind(info: dict[str, Any]) -> bool:
    gpus = info.get("GpuInfo", {}).get("Gpus", [])
    return bool(info.get("NeuronInfo")) or any(g.get("Manufacturer") == "NVIDIA" for g in gpus)


def test_every_accelerated_and_nvme_ssd_type_in_moto_is_in_the_catalog() -> None:
    """A family's sizes cannot be half covered, and a new family in moto's data fails here."""
    expected = set()
    for name, info in MOTO.items():
        family = name.split(".", 1)[0]
        if family in LEFT_OUT:
            continue
        ssd = _nvme_ssd(info) and all(d["Type"] == "ssd" for d in info["InstanceStorageInfo"]["Disks"])
        if _covered_kind(info) or ssd:
            expected.add(name)
    expected.add("trn2u.48xlarge")  # no NeuronInfo in the data, but an NVMe SSD type all the same
    missing = sorted(expected - {s.name for s in SPECS})
    assert missing == [], f"in moto {MOTO_VERSION}'s data but not in the catalog: {missing}"


def test_catalog_rows_not_in_moto_are_listed() -> None:
    assert {s.name for s in SPECS} - set(MOTO) == NOT_IN_MOTO


def test_left_out_families_are_really_in_the_data() -> None:
    families = {name.split(".", 1)[0] for name in MOTO}
    assert set(LEFT_OUT) <= families
    assert not set(LEFT_OUT) & set(catalog.families())


def test_capacity_block_table_matches_supported_usage_classes() -> None:
    """``SupportedUsageClasses`` lists ``capacity-block`` for exactly the table's types."""
    in_data = {n for n, info in MOTO.items() if "capacity-block" in info.get("SupportedUsageClasses", [])}
    documented_only = {"p6e-gb200.36xlarge"}  # UltraServer capacity blocks; not in moto's data
    assert documented_only.isdisjoint(MOTO)
    assert set(catalog.capacity_block_types()) == in_data | documented_only


def test_models_are_the_api_names_as_label_values() -> None:
    for spec in SPECS:
        if (
            spec.has_accelerators
            and spec.name in MOTO
            and (spec.name, "accelerator_model") not in (DOCUMENTED_DISAGREEMENTS)
        ):
            api = _api_spec(spec.name).accelerator_model
            assert str(api).lower() == str(spec.accelerator_model).lower()
            assert " " not in str(spec.accelerator_model)


def test_published_gpu_memory_versus_reported_mib_is_documented_in_the_data_module() -> None:
    # A10G: AWS publishes 24 GiB; DescribeInstanceTypes reports 22888 MiB (22.35 GiB). Both are kept.
    g5 = catalog.get("g5.xlarge")
    assert (g5.accelerator_memory_gib, g5.accelerator_memory_mib) == (24, 22888)
    assert _api_spec("g5.xlarge").accelerator_memory_gib == 22  # what the converter derives from MiB
    doc = Path(catalog.__file__).with_name("catalog_data").joinpath("accelerated.py").read_text()
    assert "22888 MiB" in doc


# --- the generated module of every EC2 type ------------------------------------------------------


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "generate_ec2_types", ROOT / "scripts" / "generate_ec2_types.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_generated_ec2_types_match_moto() -> None:
    generator = _generator()
    expected = generator.reduce(MOTO)
    hint = "regenerate with `.venv/bin/python scripts/generate_ec2_types.py` (moto's data changed)"
    added = sorted(set(expected) - set(ec2_types.TYPES))
    removed = sorted(set(ec2_types.TYPES) - set(expected))
    assert (added, removed) == ([], []), f"types added {added}, removed {removed}: {hint}"
    changed = sorted(n for n in expected if expected[n] != ec2_types.TYPES[n])
    assert changed == [], f"facts changed for {changed}: {hint}"
    assert ec2_types.SOURCE == f"moto {MOTO_VERSION} (moto/ec2/resources/instance_types.json.gz)", hint
    assert len(ec2_types.TYPES) == len(MOTO) == 1395


def test_generated_module_is_what_the_script_writes() -> None:
    generator = _generator()
    data, source = generator.moto_data()
    path = Path(catalog.__file__).with_name("catalog_data") / "ec2_types.py"
    assert generator.render(generator.reduce(data), source) == path.read_text()


def test_ec2_types_facts_of_known_rows_agree_with_the_catalog() -> None:
    for spec in SPECS:
        facts = catalog.ec2_type(spec.name)
        if facts is None:
            continue
        assert (facts.architecture, facts.vcpus, facts.memory_mib / 1024, facts.max_efa_interfaces) == (
            spec.architecture,
            spec.vcpus,
            spec.memory_gib,
            spec.max_efa_interfaces,
        ), spec.name
