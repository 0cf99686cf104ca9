"""Instance catalog: facts about the EC2 instance types an AI/ML data platform uses.

Layer 1 (no CDK import). Node-group and storage constructs ask this module how many GPUs or
Neuron devices an instance type carries, how much accelerator memory, how many NVMe instance-store
volumes of what size, and how many EFA interfaces it supports, so that they can validate props and
size what they create without any AWS call at synth time.

What it knows (sources in :mod:`eks_ai_data.catalog_data`):

- full specifications of every current NVIDIA GPU and AWS Neuron type and of every NVMe SSD
  instance-store type (:func:`all_instance_types`);
- for every other EC2 instance type: that it exists, its architecture, vCPUs, memory and EFA
  (:func:`exists`, :func:`architecture`, :func:`ec2_type`); :func:`lookup` returns a full spec for
  those without accelerators or instance store (``m7i.large``), whose facts are then complete;
- which types EC2 sells as Capacity Blocks for ML, and the form of a reservation id
  (:func:`supports_capacity_block`, :func:`is_capacity_reservation_id`).

A type the catalog does not know yet (a new family) never has to block you: describe it once with
:func:`register`, before the constructs that use it are created, and every construct accepts it::

    from eks_ai_data import catalog

    catalog.register(catalog.InstanceSpec(
        name="p7.48xlarge", vcpus=192, memory_gib=2048, architecture="x86_64",
        accelerator_kind="nvidia", accelerator_count=8, accelerator_model="X200",
        accelerator_memory_gib=192, nvme_disk_count=8, nvme_disk_size_gb=3800, max_efa_interfaces=16,
    ))

or from the Region's own answer: ``catalog.register(catalog.from_describe_instance_types(info))`` with
``info`` one entry of ``ec2.describe_instance_types()["InstanceTypes"]``. ``eks-ai-data preflight``
prints that call for any planned type the catalog does not know.

Example::

    spec = catalog.get("p5.48xlarge")
    spec.accelerator_count        # 8
    spec.nvme_total_gb            # 30400
    catalog.describe(spec)        # 'p5.48xlarge (192 vCPU, 2048 GiB, x86_64; 8 x NVIDIA H100 ...'
    catalog.architecture("m8g.large")   # 'arm64'
"""

from __future__ import annotations

import re
from typing import NamedTuple, cast

from eks_ai_data.catalog_data import (
    ACCELERATED_ROWS,
    CAPACITY_BLOCK_INSTANCE_TYPES,
    CAPACITY_RESERVATION_ID_PATTERN,
    STORAGE_ROWS,
)
from eks_ai_data.catalog_data.spec import (
    AcceleratorKind,
    Architecture,
    InstanceSpec,
    UnknownInstanceTypeError,
    differences,
    from_describe_instance_types,
    summary,
    validate_spec,
)
from eks_ai_data.errors import EksAiDataValidationError

__all__ = [
    "CAPACITY_BLOCK_INSTANCE_TYPES",
    "CAPACITY_RESERVATION_ID_PATTERN",
    "AcceleratorKind",
    "Architecture",
    "Ec2Type",
    "InstanceSpec",
    "UnknownInstanceTypeError",
    "all_instance_types",
    "architecture",
    "capacity_block_types",
    "describe",
    "differences",
    "ec2_type",
    "exists",
    "families",
    "from_describe_instance_types",
    "get",
    "in_family",
    "is_capacity_reservation_id",
    "lookup",
    "register",
    "registered",
    "supports_capacity_block",
    "unregister",
    "validate_spec",
]

_REGISTER = "eks_ai_data.catalog.register"
_RESERVATION_ID = re.compile(CAPACITY_RESERVATION_ID_PATTERN)


class Ec2Type(NamedTuple):
    """What the catalog knows of any EC2 instance type (from DescribeInstanceTypes data)."""

    name: str
    #: ``x86_64``, ``arm64``, or ``x86_64_mac`` / ``arm64_mac`` (macOS hosts, which no EKS AMI runs on).
    architecture: str
    vcpus: int
    memory_mib: int
    max_efa_interfaces: int
    #: ``""`` (neither accelerators nor instance store), ``nvidia``, ``amd``, ``neuron``, ``inference``,
    #: ``fpga``, ``media`` or ``store`` (instance store, no accelerator).
    kind: str


def _accelerated(row: tuple) -> InstanceSpec:
    name, vcpus, memory, arch, kind, model, count, gib, mib, share, cores, disks, disk_gb, efa = row
    return InstanceSpec(
        name=name,
        vcpus=vcpus,
        memory_gib=float(memory),
        architecture=arch,
        accelerator_kind=kind,
        accelerator_count=count,
        accelerator_model=model,
        accelerator_memory_gib=gib,
        accelerator_memory_mib=mib,
        accelerator_fraction=float(share),
        neuron_cores_per_device=cores,
        nvme_disk_count=disks,
        nvme_disk_size_gb=disk_gb,
        max_efa_interfaces=efa,
    )


def _storage(row: tuple) -> InstanceSpec:
    name, vcpus, memory, arch, disks, disk_gb, efa = row
    return InstanceSpec(
        name=name,
        vcpus=vcpus,
        memory_gib=float(memory),
        architecture=arch,
        nvme_disk_count=disks,
        nvme_disk_size_gb=disk_gb,
        max_efa_interfaces=efa,
    )


_SPECS: tuple[InstanceSpec, ...] = tuple(
    [_accelerated(row) for row in ACCELERATED_ROWS] + [_storage(row) for row in STORAGE_ROWS]
)
_BY_NAME: dict[str, InstanceSpec] = {spec.name: spec for spec in _SPECS}
_REGISTERED: dict[str, InstanceSpec] = {}
_PLAIN: dict[str, InstanceSpec] = {}  # specs built from ec2_types for plain types, on first use


def _ec2_types() -> dict[str, tuple[str, int, int, int, str]]:
    from eks_ai_data.catalog_data.ec2_types import TYPES  # 1,400 rows: loaded only when needed

    return TYPES


def ec2_type(name: str) -> Ec2Type | None:
    """What DescribeInstanceTypes data says of ``name`` (any EC2 type), or ``None`` when it has no such type.

    A registered type that the data does not have yet is reported from its registration.
    """
    if not isinstance(name, str):
        return None
    row = _ec2_types().get(name)
    if row is not None:
        return Ec2Type(name, *row)
    spec = _REGISTERED.get(name)
    if spec is None:
        return None
    kind = spec.accelerator_kind or ("store" if spec.has_nvme else "")
    return Ec2Type(
        name, spec.architecture, spec.vcpus, round(spec.memory_gib * 1024), spec.max_efa_interfaces, kind
    )


def exists(name: str) -> bool:
    """True when ``name`` is an EC2 instance type the catalog knows of (any type, or a registered one)."""
    return lookup(name) is not None or ec2_type(name) is not None


def architecture(name: str) -> str:
    """The CPU architecture of any EC2 instance type: ``x86_64`` or ``arm64`` (``*_mac`` for macOS hosts).

    Use it to pick the AMI of a node group (AL2023 ``x86_64`` or ``ARM_64``).

    Raises:
        UnknownInstanceTypeError: when ``name`` is no instance type the catalog knows of.
    """
    spec = lookup(name)
    if spec is not None:
        return spec.architecture
    facts = ec2_type(name)
    if facts is None:
        raise _unknown(name)
    return facts.architecture


def _plain(name: str) -> InstanceSpec | None:
    """A full spec for a type with neither accelerators nor instance store: its facts are all in ec2_types."""
    if name in _PLAIN:
        return _PLAIN[name]
    row = _ec2_types().get(name)
    if row is None or row[4] != "" or row[0] not in ("x86_64", "arm64"):
        return None
    arch, vcpus, memory_mib, efa, _ = row
    spec = InstanceSpec(
        name=name,
        vcpus=vcpus,
        memory_gib=memory_mib / 1024,
        architecture=cast(Architecture, arch),  # one of the two (checked above), which mypy cannot narrow to
        max_efa_interfaces=efa,
    )
    _PLAIN[name] = spec
    return spec


def lookup(name: str) -> InstanceSpec | None:
    """Return the spec of instance type ``name`` (exact, e.g. ``"g5.xlarge"``), or ``None``.

    ``None`` also for an EC2 type whose accelerators or instance store the catalog does not describe
    (``p3dn.24xlarge``, ``d3.xlarge``): :func:`register` it to use it.
    """
    if not isinstance(name, str):
        return None
    spec = _BY_NAME.get(name) or _REGISTERED.get(name)
    if spec is not None:
        return spec
    return _plain(name)


def _unknown(name: object) -> UnknownInstanceTypeError:
    if not isinstance(name, str):
        return UnknownInstanceTypeError(name, (), f"unknown instance type {name!r}: not a string")
    facts = ec2_type(name)
    if facts is not None:
        what = "instance store is" if facts.kind == "store" else f"{facts.kind} accelerators are"
        message = (
            f"instance type {name!r} exists, but its {what} not described by the eks-ai-data instance "
            "catalog; describe it with eks_ai_data.catalog.register(InstanceSpec(...)) "
            "(eks-ai-data preflight prints the call for your Region)"
        )
        return UnknownInstanceTypeError(name, (), message)
    suggestions = _suggestions(name)
    hint = (
        f"did you mean {', '.join(suggestions)}?"
        if suggestions
        else "no EC2 instance type has a similar name."
    )
    message = (
        f"unknown instance type {name!r} (neither in the eks-ai-data instance catalog nor in its EC2 data); "
        f"{hint} A type newer than the catalog can be described with "
        "eks_ai_data.catalog.register(InstanceSpec(...))."
    )
    return UnknownInstanceTypeError(name, suggestions, message)


def _suggestions(name: str) -> tuple[str, ...]:
    """Close names: every size of the family when the family is known, else similar names."""
    import difflib

    wanted = name.strip().lower()
    same_family = [spec.name for spec in in_family(wanted.split(".", 1)[0])]
    if same_family:  # most similar first
        return tuple(difflib.get_close_matches(wanted, same_family, n=len(same_family), cutoff=0.0))
    known = [*_BY_NAME, *_REGISTERED, *_ec2_types()]
    return tuple(difflib.get_close_matches(wanted, known, n=5, cutoff=0.6))


def get(name: str) -> InstanceSpec:
    """Return the spec of instance type ``name``.

    Raises:
        UnknownInstanceTypeError: (a ``KeyError``) when the catalog has no spec for ``name``; the message
            says whether the type exists at all, lists close names, and how to
            :func:`register` it.
    """
    spec = lookup(name)
    if spec is not None:
        return spec
    raise _unknown(name)


def all_instance_types() -> tuple[InstanceSpec, ...]:
    """Every fully described type: the built-in accelerated and NVMe types (grouped by family, smallest
    size first), then the registered ones in registration order."""
    return _SPECS + tuple(_REGISTERED.values()) if _REGISTERED else _SPECS


def families() -> tuple[str, ...]:
    """The instance families of :func:`all_instance_types`, sorted by name."""
    return tuple(sorted({spec.family for spec in all_instance_types()}))


def in_family(family: str) -> tuple[InstanceSpec, ...]:
    """Every size of ``family`` in :func:`all_instance_types`; empty for an unknown family."""
    return tuple(spec for spec in all_instance_types() if spec.family == family)


# --- registration ------------------------------------------------------------------------------


def register(spec: InstanceSpec) -> InstanceSpec:
    """Describe an instance type the catalog does not know yet, for this process (a CDK app, a test).

    Call it before creating the constructs that use the type. The spec is validated (as
    :func:`validate_spec` documents) and, when DescribeInstanceTypes data knows the type, checked
    against it (architecture, vCPUs, memory, EFA, accelerator kind). Registering the same facts twice,
    or the facts a built-in row already has, is a no-op; facts that differ from a built-in or earlier
    registration are refused, never silently applied.

    Returns:
        the spec the catalog now holds for ``spec.name``.

    Raises:
        EksAiDataValidationError: for invalid or conflicting facts; the message names the field.
    """
    validate_spec(spec, _REGISTER)
    known = _BY_NAME.get(spec.name) or _REGISTERED.get(spec.name) or _plain(spec.name)
    if known is not None:
        if known == spec:
            return known
        changed = differences(known, spec, every_field=True)
        detail = ", ".join(
            f"{field} {theirs!r} (catalog: {ours!r})" for field, (ours, theirs) in changed.items()
        )
        source = "registered earlier" if spec.name in _REGISTERED else "built in"
        raise EksAiDataValidationError(
            _REGISTER,
            "spec",
            spec.name,
            f"{spec.name} is already in the catalog ({source}) with other facts: {detail}; "
            "a known type cannot be redefined",
        )
    _check_against_ec2_data(spec)
    _REGISTERED[spec.name] = spec
    return spec


def _check_against_ec2_data(spec: InstanceSpec) -> None:
    row = _ec2_types().get(spec.name)
    if row is None:  # newer than the data the library ships: the user's facts are all there is
        return
    arch, vcpus, memory_mib, efa, kind = row
    expected = {
        "architecture": arch,
        "vcpus": vcpus,
        "memory_gib": memory_mib / 1024,
        "max_efa_interfaces": efa,
        "accelerator_kind": kind if kind in ("nvidia", "neuron") else None,
    }
    for field, value in expected.items():
        if getattr(spec, field) != value:
            raise EksAiDataValidationError(
                _REGISTER,
                f"spec.{field}",
                getattr(spec, field),
                f"DescribeInstanceTypes data says {spec.name} has {field}={value!r}",
            )
    if kind == "" and spec.has_nvme:
        raise EksAiDataValidationError(
            _REGISTER,
            "spec.nvme_disk_count",
            spec.nvme_disk_count,
            f"DescribeInstanceTypes data says {spec.name} has no instance store",
        )


def unregister(name: str) -> None:
    """Forget a registered type (built-in types cannot be removed). Raises ``KeyError`` if not registered."""
    del _REGISTERED[name]


def registered() -> tuple[InstanceSpec, ...]:
    """The types registered in this process, in registration order."""
    return tuple(_REGISTERED.values())


# --- capacity blocks -----------------------------------------------------------------------------


def supports_capacity_block(name: str) -> bool:
    """True when EC2 sells ``name`` as Capacity Blocks for ML (per type: trn1.32xlarge yes, trn1.2xlarge no)."""
    return name in CAPACITY_BLOCK_INSTANCE_TYPES


def is_capacity_reservation_id(value: object) -> bool:
    """True when ``value`` has the form of a Capacity Reservation id: ``cr-`` and 17 lowercase hex digits."""
    return isinstance(value, str) and _RESERVATION_ID.fullmatch(value) is not None


def capacity_block_types() -> tuple[str, ...]:
    """The instance types EC2 sells as Capacity Blocks for ML, sorted."""
    return tuple(sorted(CAPACITY_BLOCK_INSTANCE_TYPES))


# --- describe -------------------------------------------------------------------------------------


def describe(spec: InstanceSpec | str) -> str:
    """One-line human summary of an instance type, for error messages and logs.

    Example: ``g5.xlarge (4 vCPU, 16 GiB, x86_64; 1 x NVIDIA A10G 24 GiB; NVMe 1 x 250 GB; no EFA)``.
    A name is looked up with :func:`get` first.
    """
    return summary(get(spec) if isinstance(spec, str) else spec)
