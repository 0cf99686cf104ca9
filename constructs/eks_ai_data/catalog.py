"""Instance catalog: published facts about the EC2 instance types an AI/ML data platform uses.

Layer 1 (no CDK import). Node-group and storage constructs ask this module how many GPUs or
Neuron devices an instance type carries, how much accelerator memory, how many NVMe instance-store
volumes of what size, and how many EFA interfaces it supports, so that they can validate props and
size what they create without any AWS call at synth time.

The facts live in :mod:`eks_ai_data.catalog_data` (one row per type, with its sources).

Example::

    from eks_ai_data import catalog

    spec = catalog.get("p5.48xlarge")
    spec.accelerator_count        # 8
    spec.nvme_total_gb            # 30400
    catalog.describe(spec)        # 'p5.48xlarge (192 vCPU, 2048 GiB, x86_64; 8 x NVIDIA H100 ...'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal, cast

from eks_ai_data.catalog_data import ROWS, Row

__all__ = [
    "AcceleratorKind",
    "Architecture",
    "InstanceSpec",
    "UnknownInstanceTypeError",
    "all_instance_types",
    "describe",
    "families",
    "get",
    "in_family",
    "lookup",
]

Architecture = Literal["x86_64", "arm64"]
AcceleratorKind = Literal["nvidia", "neuron"]

_VENDOR: dict[str, str] = {"nvidia": "NVIDIA", "neuron": "AWS"}


@dataclass(frozen=True)
class InstanceSpec:
    """Published specification of one EC2 instance type.

    Attributes:
        name: the instance type, e.g. ``"p5.48xlarge"``.
        vcpus: default number of vCPUs.
        memory_gib: instance memory in GiB.
        architecture: ``"x86_64"`` or ``"arm64"`` (Graviton).
        accelerator_kind: ``"nvidia"`` (GPUs), ``"neuron"`` (Trainium/Inferentia devices), or
            ``None`` when the type has no accelerator.
        accelerator_count: NVIDIA GPUs, or Neuron devices (chips); 0 without accelerators.
        accelerator_model: e.g. ``"H100"``, ``"A10G"``, ``"Trainium"``; ``None`` without accelerators.
        accelerator_memory_gib: memory of one accelerator in GiB as AWS publishes it; 0 without.
        nvme_disk_count: NVMe instance-store volumes; 0 when the type is EBS-only.
        nvme_disk_size_gb: size of each volume in GB (decimal, as AWS publishes it); 0 when none.
        max_efa_interfaces: maximum Elastic Fabric Adapter interfaces; 0 when EFA is not supported.
    """

    name: str
    vcpus: int
    memory_gib: float
    architecture: Architecture
    accelerator_kind: AcceleratorKind | None
    accelerator_count: int
    accelerator_model: str | None
    accelerator_memory_gib: int
    nvme_disk_count: int
    nvme_disk_size_gb: int
    max_efa_interfaces: int

    @property
    def family(self) -> str:
        """The instance family, the part before the dot (``"p5"`` for ``"p5.48xlarge"``)."""
        return self.name.split(".", 1)[0]

    @property
    def size(self) -> str:
        """The size, the part after the dot (``"48xlarge"``, ``"metal"``)."""
        return self.name.split(".", 1)[1]

    @property
    def has_accelerators(self) -> bool:
        """True when the type carries GPUs or Neuron devices."""
        return self.accelerator_count > 0

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


class UnknownInstanceTypeError(KeyError):
    """Raised by :func:`get` for a name the catalog does not know.

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


def _spec(row: Row) -> InstanceSpec:
    name, vcpus, memory, arch, kind, count, model, acc_mem, disks, disk_gb, efa = row
    return InstanceSpec(
        name=name,
        vcpus=vcpus,
        memory_gib=float(memory),
        architecture=cast(Architecture, arch),
        accelerator_kind=cast("AcceleratorKind | None", kind),
        accelerator_count=count,
        accelerator_model=model,
        accelerator_memory_gib=acc_mem,
        nvme_disk_count=disks,
        nvme_disk_size_gb=disk_gb,
        max_efa_interfaces=efa,
    )


_SPECS: tuple[InstanceSpec, ...] = tuple(_spec(row) for row in ROWS)
_BY_NAME: dict[str, InstanceSpec] = {spec.name: spec for spec in _SPECS}
_FAMILIES: tuple[str, ...] = tuple(sorted({spec.family for spec in _SPECS}))


def lookup(name: str) -> InstanceSpec | None:
    """Return the spec of instance type ``name`` (exact, e.g. ``"g5.xlarge"``), or ``None``."""
    if not isinstance(name, str):
        return None
    return _BY_NAME.get(name)


def _suggestions(name: str) -> tuple[str, ...]:
    """Close names: every size of the family when the family is known, else similar names."""
    wanted = name.strip().lower()
    same_family = [spec.name for spec in in_family(wanted.split(".", 1)[0])]
    if same_family:  # most similar first
        return tuple(difflib.get_close_matches(wanted, same_family, n=len(same_family), cutoff=0.0))
    return tuple(difflib.get_close_matches(wanted, list(_BY_NAME), n=5, cutoff=0.6))


def get(name: str) -> InstanceSpec:
    """Return the spec of instance type ``name``.

    Raises:
        UnknownInstanceTypeError: (a ``KeyError``) when the catalog does not know ``name``; the
            message lists close names, or the known families when nothing is close.
    """
    spec = lookup(name)
    if spec is not None:
        return spec
    suggestions = _suggestions(name) if isinstance(name, str) else ()
    if suggestions:
        hint = f"did you mean {', '.join(suggestions)}?"
    else:
        hint = f"known families: {', '.join(_FAMILIES)}"
    message = f"unknown instance type {name!r} (not in the eks-ai-data instance catalog); {hint}"
    raise UnknownInstanceTypeError(name, suggestions, message)


def all_instance_types() -> tuple[InstanceSpec, ...]:
    """Every instance type in the catalog, grouped by family, smallest size first."""
    return _SPECS


def families() -> tuple[str, ...]:
    """The instance families in the catalog, sorted by name."""
    return _FAMILIES


def in_family(family: str) -> tuple[InstanceSpec, ...]:
    """Every size of ``family`` in the catalog (smallest first); empty for an unknown family."""
    return tuple(spec for spec in _SPECS if spec.family == family)


def describe(spec: InstanceSpec | str) -> str:
    """One-line human summary of an instance type, for error messages and logs.

    Example: ``g5.xlarge (4 vCPU, 16 GiB, x86_64; 1 x NVIDIA A10G 24 GiB; NVMe 1 x 250 GB; no EFA)``.
    A name is looked up with :func:`get` first.
    """
    if isinstance(spec, str):
        spec = get(spec)
    if spec.has_accelerators and spec.accelerator_kind is not None:
        vendor = _VENDOR[spec.accelerator_kind]
        accel = (
            f"{spec.accelerator_count} x {vendor} {spec.accelerator_model} {spec.accelerator_memory_gib} GiB"
        )
    else:
        accel = "no accelerator"
    nvme = (
        f"NVMe {spec.nvme_disk_count} x {spec.nvme_disk_size_gb} GB"
        if spec.has_nvme
        else "no NVMe instance store"
    )
    efa = f"EFA up to {spec.max_efa_interfaces}" if spec.supports_efa else "no EFA"
    return (
        f"{spec.name} ({spec.vcpus} vCPU, {spec.memory_gib:g} GiB, {spec.architecture}; "
        f"{accel}; {nvme}; {efa})"
    )
