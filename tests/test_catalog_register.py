"""catalog.register(): the documented way to use an instance type the catalog does not know yet."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

from eks_ai_data import catalog
from eks_ai_data.catalog import InstanceSpec
from eks_ai_data.errors import EksAiDataValidationError

# A type newer than any data the library ships.
P7 = InstanceSpec(
    name="p7.48xlarge",
    vcpus=192,
    memory_gib=2048,
    architecture="x86_64",
    accelerator_kind="nvidia",
    accelerator_count=8,
    accelerator_model="X200",
    accelerator_memory_gib=192,
    nvme_disk_count=8,
    nvme_disk_size_gb=3800,
    max_efa_interfaces=16,
)


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    before = catalog.registered()
    yield
    for spec in catalog.registered():
        if spec not in before:
            catalog.unregister(spec.name)


def _moto(name: str) -> dict[str, Any]:
    path = resources.files("moto") / "ec2" / "resources" / "instance_types.json.gz"
    with path.open("rb") as raw:
        return json.loads(gzip.decompress(raw.read()))[name]


def test_unknown_type_becomes_usable_everywhere() -> None:
    assert catalog.lookup("p7.48xlarge") is None
    assert catalog.register(P7) is P7
    assert catalog.get("p7.48xlarge") is P7
    assert catalog.exists("p7.48xlarge")
    assert catalog.architecture("p7.48xlarge") == "x86_64"
    assert catalog.ec2_type("p7.48xlarge") == catalog.Ec2Type(
        "p7.48xlarge", "x86_64", 192, 2097152, 16, "nvidia"
    )
    assert catalog.all_instance_types()[-1] is P7
    assert "p7" in catalog.families()
    assert catalog.in_family("p7") == (P7,)
    assert catalog.registered() == (P7,)
    assert "8 x NVIDIA X200 192 GiB" in catalog.describe("p7.48xlarge")


def test_register_is_idempotent() -> None:
    catalog.register(P7)
    assert catalog.register(dataclasses.replace(P7)) is P7
    assert catalog.registered() == (P7,)


def test_register_refuses_to_redefine_a_registered_type() -> None:
    catalog.register(P7)
    with pytest.raises(
        EksAiDataValidationError,
        match=r"eks_ai_data\.catalog\.register: invalid spec='p7\.48xlarge': p7\.48xlarge is already in the "
        r"catalog \(registered earlier\) with other facts: max_efa_interfaces 32 \(catalog: 16\)",
    ):
        catalog.register(dataclasses.replace(P7, max_efa_interfaces=32))
    assert catalog.get("p7.48xlarge").max_efa_interfaces == 16


def test_register_refuses_to_redefine_a_built_in_type() -> None:
    p5 = catalog.get("p5.48xlarge")
    assert catalog.register(dataclasses.replace(p5)) is p5  # same facts: no-op
    with pytest.raises(
        EksAiDataValidationError, match=r"already in the catalog \(built in\).*accelerator_memory_gib 79"
    ):
        catalog.register(dataclasses.replace(p5, accelerator_memory_gib=79))
    m5 = catalog.get("m5.large")  # a plain type, known from the EC2 data
    with pytest.raises(EksAiDataValidationError, match=r"already in the catalog.*vcpus 4 \(catalog: 2\)"):
        catalog.register(dataclasses.replace(m5, vcpus=4))
    assert catalog.registered() == ()


def test_register_checks_a_known_ec2_type_against_describe_instance_types_data() -> None:
    # p3dn.24xlarge exists but is not described: its EC2 facts still bind what may be registered
    p3dn = catalog.from_describe_instance_types(_moto("p3dn.24xlarge"))
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid spec\.vcpus=48: DescribeInstanceTypes data says p3dn\.24xlarge has vcpus=96",
    ):
        catalog.register(dataclasses.replace(p3dn, vcpus=48))
    with pytest.raises(
        EksAiDataValidationError, match=r"spec\.accelerator_kind=None.*accelerator_kind='nvidia'"
    ):
        catalog.register(
            dataclasses.replace(
                p3dn,
                accelerator_kind=None,
                accelerator_count=0,
                accelerator_model=None,
                accelerator_memory_gib=0,
                accelerator_memory_mib=0,
            )
        )
    assert catalog.register(p3dn) is p3dn
    assert catalog.get("p3dn.24xlarge").accelerator_model == "V100"


def test_register_a_type_from_the_regions_describe_instance_types_answer() -> None:
    spec = catalog.from_describe_instance_types(_moto("p3dn.24xlarge"))
    assert (spec.accelerator_count, spec.accelerator_memory_mib, spec.nvme_disk_count) == (8, 32768, 2)
    assert catalog.register(spec).accelerator_memory_gib == 32


def test_d3_hdd_store_registers_as_nvme_volumes() -> None:
    # d3's HDDs are NVMe-attached: nodeadm would stripe them like any NVMe instance store
    spec = catalog.from_describe_instance_types(_moto("d3.xlarge"))
    assert (spec.nvme_disk_count, spec.nvme_disk_size_gb) == (3, 1980)
    catalog.register(spec)
    assert catalog.get("d3.xlarge").has_nvme


def test_plain_type_cannot_gain_an_instance_store() -> None:
    with pytest.raises(EksAiDataValidationError, match=r"already in the catalog"):
        catalog.register(
            InstanceSpec(
                name="m7i.large",
                vcpus=2,
                memory_gib=8,
                architecture="x86_64",
                nvme_disk_count=1,
                nvme_disk_size_gb=75,
            )
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "P7.48XLARGE"}, r"invalid spec\.name='P7\.48XLARGE': must be an EC2 instance type name"),
        ({"name": "p7"}, r"invalid spec\.name='p7'"),
        ({"vcpus": 0}, r"invalid spec\.vcpus=0: must be a whole number >= 1"),
        ({"vcpus": True}, r"invalid spec\.vcpus=True"),
        ({"memory_gib": 0}, r"invalid spec\.memory_gib=0: must be a number of GiB > 0"),
        ({"memory_gib": float("nan")}, r"invalid spec\.memory_gib=nan"),
        ({"architecture": "amd64"}, r"invalid spec\.architecture='amd64': must be 'x86_64' or 'arm64'"),
        (
            {"accelerator_kind": "amd"},
            r"invalid spec\.accelerator_kind='amd': must be 'nvidia', 'neuron' or None",
        ),
        (
            {"accelerator_count": 0},
            r"invalid spec\.accelerator_count=0: must be > 0 exactly when accelerator_kind",
        ),
        ({"accelerator_count": -1}, r"invalid spec\.accelerator_count=-1: must be a whole number >= 0"),
        ({"accelerator_model": None}, r"invalid spec\.accelerator_model=None: must be given exactly when"),
        (
            {"accelerator_model": "RTX PRO 6000"},
            r"invalid spec\.accelerator_model='RTX PRO 6000': must be a Kubernetes label value",
        ),
        ({"accelerator_memory_gib": 0}, r"invalid spec\.accelerator_memory_gib=0: must be > 0 exactly when"),
        (
            {"accelerator_fraction": 0.0},
            r"invalid spec\.accelerator_fraction=0\.0: must be a float in \(0, 1\]",
        ),
        ({"accelerator_fraction": 1}, r"invalid spec\.accelerator_fraction=1: must be a float"),
        ({"neuron_cores_per_device": 2}, r"invalid spec\.neuron_cores_per_device=2: must be 0 unless"),
        (
            {"nvme_disk_size_gb": 0},
            r"invalid spec\.nvme_disk_size_gb=0: must be > 0 exactly when nvme_disk_count",
        ),
        ({"max_efa_interfaces": -1}, r"invalid spec\.max_efa_interfaces=-1: must be a whole number >= 0"),
    ],
)
def test_register_validates_fields(change: dict[str, Any], message: str) -> None:
    with pytest.raises(EksAiDataValidationError, match=r"^eks_ai_data\.catalog\.register: " + message):
        catalog.register(dataclasses.replace(P7, **change))
    assert catalog.registered() == ()


def test_register_validates_fields_of_types_without_accelerators() -> None:
    plain = InstanceSpec(name="z9.large", vcpus=2, memory_gib=8, architecture="arm64")
    with pytest.raises(EksAiDataValidationError, match=r"spec\.accelerator_memory_mib=1: must be 0 without"):
        catalog.register(dataclasses.replace(plain, accelerator_memory_mib=1))
    with pytest.raises(
        EksAiDataValidationError, match=r"spec\.accelerator_model='X': must be given exactly when"
    ):
        catalog.register(dataclasses.replace(plain, accelerator_model="X"))
    with pytest.raises(
        EksAiDataValidationError, match=r"spec\.accelerator_fraction=0\.5: must be 1\.0 except"
    ):
        catalog.register(dataclasses.replace(plain, accelerator_fraction=0.5))
    with pytest.raises(EksAiDataValidationError, match=r"invalid spec='z9\.large': must be an eks_ai_data"):
        catalog.register("z9.large")  # type: ignore[arg-type]
    assert catalog.register(plain).kubernetes_arch == "arm64"


def test_unregister_only_registered_types() -> None:
    catalog.register(P7)
    catalog.unregister("p7.48xlarge")
    assert catalog.lookup("p7.48xlarge") is None
    with pytest.raises(KeyError):
        catalog.unregister("p5.48xlarge")


def test_registration_code_round_trips() -> None:
    code = P7.registration_code()
    assert code.startswith(
        "eks_ai_data.catalog.register(eks_ai_data.catalog.InstanceSpec(name='p7.48xlarge', "
    )
    assert "accelerator_fraction" not in code  # defaults are left out
    import eks_ai_data

    eval(code, {"eks_ai_data": eks_ai_data})  # noqa: S307 - our own generated call
    assert catalog.get("p7.48xlarge") == P7


def test_from_describe_instance_types_refuses_what_the_catalog_cannot_model() -> None:
    with pytest.raises(
        EksAiDataValidationError, match=r"accelerators='dl2q\.24xlarge': the catalog models NVIDIA"
    ):
        catalog.from_describe_instance_types(_moto("dl2q.24xlarge"))
    with pytest.raises(EksAiDataValidationError, match=r"accelerators='f2\.6xlarge'"):
        catalog.from_describe_instance_types(_moto("f2.6xlarge"))
    with pytest.raises(EksAiDataValidationError, match=r"SupportedArchitectures=\['arm64_mac'\]"):
        catalog.from_describe_instance_types(_moto("mac2.metal"))
    amd = {
        **_moto("g6.xlarge"),
        "GpuInfo": {"Gpus": [{"Manufacturer": "AMD", "Name": "Radeon Pro V520", "Count": 1}]},
    }
    with pytest.raises(EksAiDataValidationError, match=r"GpuInfo='AMD'.*NVIDIA GPUs only"):
        catalog.from_describe_instance_types(amd)


def test_from_describe_instance_types_reads_fractional_gpus_as_one_device() -> None:
    spec = catalog.from_describe_instance_types(_moto("g6f.xlarge"))
    assert (spec.accelerator_count, spec.accelerator_fraction, spec.accelerator_memory_mib) == (
        1,
        0.125,
        2861,
    )
    assert spec.accelerator_memory_gib == 3
