"""The catalog's record, :class:`InstanceSpec`, and how it is read from DescribeInstanceTypes (layer 1).

Public through :mod:`eks_ai_data.catalog`; this module holds no facts of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from eks_ai_data.errors import EksAiDataValidationError

Architecture = Literal["x86_64", "arm64"]
AcceleratorKind = Literal["nvidia", "neuron"]

#: Kubernetes label values (the node groups label nodes with the accelerator model).
_LABEL_VALUE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]")
_NAME = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9-]+")
_FROM_API = "eks_ai_data.catalog.from_describe_instance_types"


@dataclass(frozen=True, kw_only=True)
class InstanceSpec:
    """Specification of one EC2 instance type.

    Attributes:
        name: the instance type, e.g. ``"p5.48xlarge"``.
        vcpus: default number of vCPUs.
        memory_gib: instance memory in GiB.
        architecture: ``"x86_64"`` or ``"arm64"`` (Graviton).
        accelerator_kind: ``"nvidia"`` (GPUs), ``"neuron"`` (Trainium/Inferentia devices), or
            ``None`` when the type has no accelerator. Default: ``None``.
        accelerator_count: accelerator devices the device plugin advertises (``nvidia.com/gpu``,
            ``aws.amazon.com/neuron``); 0 without accelerators. Default: 0.
        accelerator_model: e.g. ``"H100"``, ``"A10G"``, ``"Trainium2"``, a Kubernetes label value;
            ``None`` without accelerators. Default: ``None``.
        accelerator_memory_gib: memory of one device in GiB as AWS publishes it (A10G: 24). Default: 0.
        accelerator_memory_mib: memory of one device in MiB as DescribeInstanceTypes reports it
            (A10G: 22888); 0 when not known. Default: 0.
        accelerator_fraction: share of one physical GPU that each device is: 1.0 for whole GPUs,
            0.125 / 0.25 / 0.5 for the fractional L4 of g6f and gr6f (``GpuPartitionSize``). Default: 1.0.
        neuron_cores_per_device: physical NeuronCores per Neuron device; 0 when not Neuron or not known.
            Default: 0.
        nvme_disk_count: NVMe instance-store volumes; 0 when the type is EBS-only. Default: 0.
        nvme_disk_size_gb: size of each volume in GB (decimal, as AWS publishes it); 0 when none. Default: 0.
        max_efa_interfaces: maximum Elastic Fabric Adapter interfaces; 0 when EFA is not supported. Default: 0.
    """

    name: str
    vcpus: int
    memory_gib: float
    architecture: Architecture
    accelerator_kind: AcceleratorKind | None = None
    accelerator_count: int = 0
    accelerator_model: str | None = None
    accelerator_memory_gib: int = 0
    accelerator_memory_mib: int = 0
    accelerator_fraction: float = 1.0
    neuron_cores_per_device: int = 0
    nvme_disk_count: int = 0
    nvme_disk_size_gb: int = 0
    max_efa_interfaces: int = 0

    @property
    def family(self) -> str:
        """The instance family, the part before the dot (``"p5"`` for ``"p5.48xlarge"``)."""
        return self.name.split(".", 1)[0]

    @property
    def size(self) -> str:
        """The size, the part after the dot (``"48xlarge"``, ``"metal"``, ``"metal-24xl"``)."""
        return self.name.split(".", 1)[1]

    @property
    def has_accelerators(self) -> bool:
        """True when the type carries GPUs or Neuron devices."""
        return self.accelerator_count > 0

    @property
    def is_fractional_gpu(self) -> bool:
        """True when each GPU is a slice of a physical GPU (g6f, gr6f)."""
        return self.has_accelerators and self.accelerator_fraction < 1.0

    @property
    def has_nvme(self) -> bool:
        """True when the type has NVMe instance-store volumes."""
        return self.nvme_disk_count > 0

    @property
    def supports_efa(self) -> bool:
        """True when at least one EFA interface can be attached."""
        return self.max_efa_interfaces > 0

    @property
    def nvme_total_gb(self) -> int:
        """Total NVMe instance-store capacity in GB (volumes x size)."""
        return self.nvme_disk_count * self.nvme_disk_size_gb

    @property
    def total_accelerator_memory_gib(self) -> int:
        """Accelerator memory of the whole instance in GiB (count x per-accelerator memory)."""
        return self.accelerator_count * self.accelerator_memory_gib

    @property
    def kubernetes_arch(self) -> str:
        """The ``kubernetes.io/arch`` label value of nodes of this type (``amd64`` or ``arm64``)."""
        return "amd64" if self.architecture == "x86_64" else "arm64"

    def registration_code(self) -> str:
        """The Python call that registers this spec (fields left at their defaults are omitted)."""
        defaults = InstanceSpec(name=self.name, vcpus=1, memory_gib=1.0, architecture="x86_64")
        args = []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in ("name", "vcpus", "memory_gib", "architecture") or value != getattr(
                defaults, field.name
            ):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                args.append(f"{field.name}={value!r}")
        return f"eks_ai_data.catalog.register(eks_ai_data.catalog.InstanceSpec({', '.join(args)}))"


class UnknownInstanceTypeError(KeyError):
    """Raised by ``catalog.get`` for a name the catalog has no spec for.

    A ``KeyError`` whose ``str()`` is the plain message (``KeyError`` would quote it), with the
    requested name and close suggestions as attributes.
    """

    def __init__(self, name: object, suggestions: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.name = name
        self.suggestions = suggestions
        self.message = message

    def __str__(self) -> str:
        return self.message


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_spec(spec: InstanceSpec, where: str) -> None:
    """Check that ``spec``'s fields are sane and agree with each other.

    Raises:
        EksAiDataValidationError: naming ``where``, the field (``spec.<field>``), its value and what is allowed.
    """

    def need(condition: bool, field: str, allowed: str) -> None:
        if not condition:
            raise EksAiDataValidationError(where, f"spec.{field}", getattr(spec, field, spec), allowed)

    if not isinstance(spec, InstanceSpec):
        raise EksAiDataValidationError(where, "spec", spec, "must be an eks_ai_data.catalog.InstanceSpec")
    need(
        isinstance(spec.name, str) and bool(_NAME.fullmatch(spec.name)),
        "name",
        "must be an EC2 instance type name, FAMILY.SIZE in lowercase (e.g. p5.48xlarge)",
    )
    need(_whole(spec.vcpus) and spec.vcpus >= 1, "vcpus", "must be a whole number >= 1")
    need(
        isinstance(spec.memory_gib, (int, float))
        and not isinstance(spec.memory_gib, bool)
        and math.isfinite(spec.memory_gib)
        and spec.memory_gib > 0,
        "memory_gib",
        "must be a number of GiB > 0",
    )
    need(spec.architecture in get_args(Architecture), "architecture", "must be 'x86_64' or 'arm64'")
    need(
        spec.accelerator_kind is None or spec.accelerator_kind in get_args(AcceleratorKind),
        "accelerator_kind",
        "must be 'nvidia', 'neuron' or None",
    )
    for field in (
        "accelerator_count",
        "accelerator_memory_gib",
        "accelerator_memory_mib",
        "neuron_cores_per_device",
        "nvme_disk_count",
        "nvme_disk_size_gb",
        "max_efa_interfaces",
    ):
        need(_whole(getattr(spec, field)) and getattr(spec, field) >= 0, field, "must be a whole number >= 0")
    accelerated = spec.accelerator_kind is not None
    need(
        (spec.accelerator_count > 0) == accelerated,
        "accelerator_count",
        "must be > 0 exactly when accelerator_kind is set",
    )
    need(
        (spec.accelerator_model is not None) == accelerated,
        "accelerator_model",
        "must be given exactly when accelerator_kind is set",
    )
    if spec.accelerator_model is not None:
        need(
            isinstance(spec.accelerator_model, str) and bool(_LABEL_VALUE.fullmatch(spec.accelerator_model)),
            "accelerator_model",
            "must be a Kubernetes label value (letters, digits, '-', '_', '.'; at most 63; e.g. RTX-PRO-6000)",
        )
    need(
        (spec.accelerator_memory_gib > 0) == accelerated,
        "accelerator_memory_gib",
        "must be > 0 exactly when accelerator_kind is set",
    )
    need(
        accelerated or spec.accelerator_memory_mib == 0,
        "accelerator_memory_mib",
        "must be 0 without accelerators",
    )
    need(
        isinstance(spec.accelerator_fraction, float) and 0 < spec.accelerator_fraction <= 1,
        "accelerator_fraction",
        "must be a float in (0, 1]",
    )
    need(
        spec.accelerator_fraction == 1.0 or spec.accelerator_kind == "nvidia",
        "accelerator_fraction",
        "must be 1.0 except for fractional NVIDIA GPUs",
    )
    need(
        spec.neuron_cores_per_device == 0 or spec.accelerator_kind == "neuron",
        "neuron_cores_per_device",
        "must be 0 unless accelerator_kind is 'neuron'",
    )
    need(
        (spec.nvme_disk_size_gb > 0) == (spec.nvme_disk_count > 0),
        "nvme_disk_size_gb",
        "must be > 0 exactly when nvme_disk_count is",
    )


def from_describe_instance_types(info: Mapping[str, Any]) -> InstanceSpec:
    """An :class:`InstanceSpec` from one entry of ``ec2.describe_instance_types()["InstanceTypes"]``.

    Counts, architecture, instance store and EFA come straight from the answer. The device count is
    ``LogicalGpuCount`` (what the NVIDIA device plugin advertises; 1 for a fractional GPU, whose
    ``Count`` is 0) or the Neuron device count; ``accelerator_memory_gib`` is the reported MiB rounded to
    whole GiB (the built-in rows carry AWS's published figure instead: A10G 24, not 22); spaces in
    the accelerator's name become dashes (a label value). Instance-store volumes count as NVMe when
    ``InstanceStorageInfo.NvmeSupport`` is ``required`` or ``supported``.

    Raises:
        EksAiDataValidationError: for a type whose accelerators the catalog cannot model (AMD GPUs,
            FPGAs, media or non-Neuron inference accelerators), or a macOS host.
    """
    name = str(info["InstanceType"])
    archs = info.get("ProcessorInfo", {}).get("SupportedArchitectures", [])
    arch = "arm64" if "arm64" in archs else "x86_64" if "x86_64" in archs else None
    if arch is None:
        raise EksAiDataValidationError(
            _FROM_API, "SupportedArchitectures", archs, f"{name}: no EKS AMI runs on it"
        )
    accel: dict[str, Any] = {}
    gpus = info.get("GpuInfo", {}).get("Gpus", [])
    neuron = info.get("NeuronInfo", {}).get("NeuronDevices", [])
    if gpus:
        gpu = gpus[0]
        if str(gpu.get("Manufacturer", "")).upper() != "NVIDIA":
            raise EksAiDataValidationError(
                _FROM_API, "GpuInfo", gpu.get("Manufacturer"), f"{name}: the catalog models NVIDIA GPUs only"
            )
        mib = int(gpu.get("MemoryInfo", {}).get("SizeInMiB", 0))
        accel = {
            "accelerator_kind": "nvidia",
            "accelerator_count": int(gpu.get("LogicalGpuCount", gpu.get("Count", 0))),
            "accelerator_model": str(gpu["Name"]).replace(" ", "-"),
            "accelerator_fraction": float(gpu.get("GpuPartitionSize", 1.0)),
        }
    elif neuron:
        device = neuron[0]
        mib = int(device.get("MemoryInfo", {}).get("SizeInMiB", 0))
        accel = {
            "accelerator_kind": "neuron",
            "accelerator_count": int(device["Count"]),
            "accelerator_model": str(device["Name"]).replace(" ", "-"),
            "neuron_cores_per_device": int(device.get("CoreInfo", {}).get("Count", 0)),
        }
    elif any(info.get(key) for key in ("InferenceAcceleratorInfo", "FpgaInfo", "MediaAcceleratorInfo")):
        raise EksAiDataValidationError(
            _FROM_API, "accelerators", name, "the catalog models NVIDIA GPUs and AWS Neuron devices only"
        )
    if accel:
        accel["accelerator_memory_mib"] = mib
        accel["accelerator_memory_gib"] = max(1, round(mib / 1024))
    store = info.get("InstanceStorageInfo") or {}
    disks = store.get("Disks") or []
    nvme = store.get("NvmeSupport") in ("required", "supported") and len(disks) == 1
    network = info.get("NetworkInfo", {})
    return InstanceSpec(
        name=name,
        vcpus=int(info["VCpuInfo"]["DefaultVCpus"]),
        memory_gib=int(info["MemoryInfo"]["SizeInMiB"]) / 1024,
        architecture=arch,  # type: ignore[arg-type]
        nvme_disk_count=int(disks[0]["Count"]) if nvme else 0,
        nvme_disk_size_gb=int(disks[0]["SizeInGB"]) if nvme else 0,
        max_efa_interfaces=(
            int(network.get("EfaInfo", {}).get("MaximumEfaInterfaces", 0))
            if network.get("EfaSupported")
            else 0
        ),
        **accel,
    )


#: Fields compared by :func:`differences` unless ``every_field``: the published GiB figure is left out
#: (DescribeInstanceTypes has MiB only), and so is the name.
_COMPARED = (
    "vcpus",
    "memory_gib",
    "architecture",
    "accelerator_kind",
    "accelerator_count",
    "accelerator_model",
    "accelerator_memory_mib",
    "accelerator_fraction",
    "neuron_cores_per_device",
    "nvme_disk_count",
    "nvme_disk_size_gb",
    "max_efa_interfaces",
)


def differences(
    expected: InstanceSpec, actual: InstanceSpec, *, every_field: bool = False
) -> dict[str, tuple[Any, Any]]:
    """Fields whose values differ: ``{field: (expected value, actual value)}``.

    By default the fields DescribeInstanceTypes can confirm: everything but ``name`` and
    ``accelerator_memory_gib``; model names compare case-insensitively (``T4G`` = ``T4g``), and a MiB
    or core count of 0 (not known) matches anything. ``every_field=True`` compares every field exactly.
    """
    names = [f.name for f in fields(InstanceSpec)] if every_field else _COMPARED
    found = {}
    for field in names:
        ours, theirs = getattr(expected, field), getattr(actual, field)
        if not every_field:
            if field == "accelerator_model" and str(ours).lower() == str(theirs).lower():
                continue
            if field in ("accelerator_memory_mib", "neuron_cores_per_device") and 0 in (ours, theirs):
                continue
        if ours != theirs:
            found[field] = (ours, theirs)
    return found


_VENDOR = {"nvidia": "NVIDIA", "neuron": "AWS"}


def summary(spec: InstanceSpec) -> str:
    """One-line human summary of ``spec`` (``catalog.describe``)."""
    if spec.has_accelerators and spec.accelerator_kind is not None:
        vendor = _VENDOR[spec.accelerator_kind]
        accel = (
            f"{spec.accelerator_count} x {vendor} {spec.accelerator_model} {spec.accelerator_memory_gib} GiB"
        )
        if spec.is_fractional_gpu:
            accel += f" ({spec.accelerator_fraction:g} of a GPU)"
    else:
        accel = "no accelerator"
    nvme = (
        f"NVMe {spec.nvme_disk_count} x {spec.nvme_disk_size_gb} GB"
        if spec.has_nvme
        else "no NVMe instance store"
    )
    efa = f"EFA up to {spec.max_efa_interfaces}" if spec.supports_efa else "no EFA"
    return f"{spec.name} ({spec.vcpus} vCPU, {spec.memory_gib:g} GiB, {spec.architecture}; {accel}; {nvme}; {efa})"
