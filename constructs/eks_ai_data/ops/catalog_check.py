"""Preflight: does the instance catalog agree with the Region's ``DescribeInstanceTypes``?

The node groups are synthesized from the catalog's facts (EFA interfaces in the launch template,
NVMe RAID0, the AMI's architecture, the accelerator kind and its taint), so a planned type is compared
with what the Region reports for it:

- a difference in a field the synthesized template acts on (architecture, accelerator kind and
  count, NVMe volume count, EFA interfaces) FAILS: nodes would launch with the wrong settings, or not at all;
- a difference in an informational field (vCPUs, memory, NVMe volume size, accelerator memory,
  fraction, Neuron cores, model name) or in Capacity Block support WARNS;
- a planned type the catalog has no spec for WARNS, with the ``register`` call built from the
  Region's own answer: the node groups refuse the type until the app registers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eks_ai_data import catalog
from eks_ai_data.errors import EksAiDataValidationError

from .table import Check, Status

CHECK = "catalog"
#: Fields the synthesized node group depends on: a difference is a failed check.
SYNTH_FIELDS = (
    "architecture",
    "accelerator_kind",
    "accelerator_count",
    "nvme_disk_count",
    "max_efa_interfaces",
)
_ACCELERATOR_FIELDS = ("accelerator_kind", "accelerator_count", "accelerator_model")


def check(instance_type: str, info: Mapping[str, Any]) -> list[Check]:
    """Rows comparing the catalog's spec of ``instance_type`` with one DescribeInstanceTypes entry."""
    spec = catalog.lookup(instance_type)
    try:
        live: catalog.InstanceSpec | None = catalog.from_describe_instance_types(info)
        unmodelled = ""
    except EksAiDataValidationError as exc:
        live, unmodelled = None, exc.allowed
    if spec is None:
        if live is None:
            detail = f"not in the eks-ai-data catalog, and the catalog cannot describe it ({unmodelled})"
        else:
            detail = (
                "not in the eks-ai-data catalog: the node groups refuse it until your app registers it, "
                f"before creating them: {live.registration_code()}"
            )
        return [Check(CHECK, instance_type, Status.WARN, detail)]
    if live is None:
        return [
            Check(CHECK, instance_type, Status.WARN, f"the Region's answer cannot be compared: {unmodelled}")
        ]

    rows = []
    found = catalog.differences(spec, live)
    if spec.has_accelerators and not (info.get("GpuInfo") or info.get("NeuronInfo")):
        # trn2u.48xlarge: DescribeInstanceTypes carries no NeuronInfo; the catalog follows the EC2 documentation
        for field in _ACCELERATOR_FIELDS:
            found.pop(field, None)
        rows.append(
            Check(
                CHECK,
                instance_type,
                Status.WARN,
                f"the Region reports no accelerators for {instance_type}; the catalog's "
                f"{spec.accelerator_count} x {spec.accelerator_model} come from the EC2 documentation",
            )
        )
    synth = {f: v for f, v in found.items() if f in SYNTH_FIELDS}
    informational = {f: v for f, v in found.items() if f not in SYNTH_FIELDS}
    if synth:
        rows.append(
            Check(
                CHECK,
                instance_type,
                Status.FAIL,
                f"the catalog differs from the Region's DescribeInstanceTypes in what the node group is "
                f"synthesized from: {_list(synth)}; upgrade eks-ai-data (a built-in type cannot be re-registered)",
            )
        )
    if informational:
        rows.append(
            Check(
                CHECK,
                instance_type,
                Status.WARN,
                f"the catalog differs from the Region's answer: {_list(informational)}",
            )
        )
    sold_as_blocks = "capacity-block" in info.get("SupportedUsageClasses", [])
    if sold_as_blocks != catalog.supports_capacity_block(instance_type):
        rows.append(
            Check(
                CHECK,
                instance_type,
                Status.WARN,
                f"the Region {'sells' if sold_as_blocks else 'does not sell'} {instance_type} as Capacity Blocks "
                f"for ML; the catalog says it {'does not' if sold_as_blocks else 'does'}",
            )
        )
    if not rows:
        rows.append(
            Check(
                CHECK,
                instance_type,
                Status.OK,
                f"matches the Region's DescribeInstanceTypes: {catalog.describe(spec)}",
            )
        )
    return rows


def _list(found: Mapping[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{field} {ours!r} (Region: {theirs!r})" for field, (ours, theirs) in found.items())
