"""Node auto repair of EKS managed node groups (layer 1: no CDK import): :class:`NodeRepair`, :class:`RepairOverride`.

EKS repairs a managed node when the node monitoring agent (the ``eks-node-monitoring-agent`` add-on) reports a
node condition as unhealthy, or the node is not Ready: GPU faults (``AcceleratedHardwareReady``) after 10 minutes,
by rebooting or replacing the node according to the fault (EKS user guide ``node-health``, "NVIDIA node health
issues"; ``node-repair``). CloudFormation's ``AWS::EKS::Nodegroup.NodeRepairConfig`` (cfn-lint 1.58 schema) takes:

- ``Enabled``;
- ``MaxUnhealthyNodeThresholdCount`` (>= 1) or ``...Percentage`` (1-100): above it, repairs stop;
- ``MaxParallelNodesRepairedCount`` (>= 1) or ``...Percentage`` (1-100): repairs at once;
- ``NodeRepairConfigOverrides``: per condition and reason, the action (``Replace``, ``Reboot``, ``NoAction``) and
  the minimum wait in minutes (>= 1); "if you use this, you must specify all the values".

The reasons an override may name are those the agent reports with severity Fatal, the only ones that turn a
condition unhealthy (aws/eks-node-monitoring-agent ``pkg/reasons/reasons.yaml``, v1.7.0): a Warning reason
produces an event only, so an override on it would never act.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

RepairAction = Literal["Replace", "Reboot", "NoAction"]
REPAIR_ACTIONS = ("Replace", "Reboot", "NoAction")

#: Fatal reasons per node condition (``%d`` in the agent's templates: a number).
FATAL_REASONS: dict[str, tuple[str, ...]] = {
    "AcceleratedHardwareReady": (
        "DCGMDiagnosticFailure",
        "DCGMError",
        "DCGMHealthCode%d",
        "NvidiaDeviceCountMismatch",
        "NvidiaDoubleBitError",
        "NvidiaNVLinkError",
        "NvidiaXID%dError",
        "FabricManagerNotRunning",
        "NvidiaFabricError",
        "NeuronDMAError",
        "NeuronHBMUncorrectableError",
        "NeuronNCUncorrectableError",
        "NeuronSRAMUncorrectableError",
    ),
    "KernelReady": ("ForkFailedOutOfPIDs",),
    "ContainerRuntimeReady": ("PodStuckTerminating",),
    "NetworkingReady": (
        "MissingLoopbackInterface",
        "IPAMDNotReady",
        "IPAMDNotRunning",
        "InterfaceNotRunning",
        "InterfaceNotUp",
        "NPANotRunning",
    ),
}


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(template).replace("%d", "[0-9]+") + "$")


_REASONS = {cond: [(_pattern(t), t) for t in templates] for cond, templates in FATAL_REASONS.items()}


def condition_of(reason: str) -> str | None:
    """The node condition under which the agent reports the fatal ``reason``, or ``None`` for no fatal reason."""
    for condition, patterns in _REASONS.items():
        if any(p.match(reason) for p, _ in patterns):
            return condition
    return None


@dataclass(frozen=True)
class RepairOverride:
    """What EKS does, and after how long, when the agent reports ``reason`` (e.g. ``NvidiaXID79Error``).

    :param reason: a fatal reason of the node monitoring agent. Required.
    :param action: ``Replace``, ``Reboot`` or ``NoAction``. Default: ``Replace``.
    :param wait_minutes: minimum minutes before EKS acts (>= 1). Default: 10 (EKS's own wait for GPU faults).
    :param condition: the node condition the reason belongs to. Default: the one the agent reports it under.
    """

    reason: str
    action: RepairAction = "Replace"
    wait_minutes: int = 10
    condition: str | None = None


@dataclass(frozen=True)
class NodeRepair:
    """Node auto repair of a managed node group.

    :param enabled: repair unhealthy nodes. Default: ``True``.
    :param max_unhealthy_count: stop repairing above this many unhealthy nodes. Default: EKS's default.
    :param max_unhealthy_percentage: ... or above this share (1-100). Default: EKS's default.
    :param max_parallel_count: repair at most this many nodes at once. Default: EKS's default.
    :param max_parallel_percentage: ... or this share of the unhealthy nodes (1-100). Default: EKS's default.
    :param overrides: per-reason actions and waits (:class:`RepairOverride`), e.g. ``NoAction`` for a fault a job
        should survive, ``Replace`` instead of ``Reboot``. Default: none (EKS's table).
    """

    enabled: bool = True
    max_unhealthy_count: int | None = None
    max_unhealthy_percentage: int | None = None
    max_parallel_count: int | None = None
    max_parallel_percentage: int | None = None
    overrides: Sequence[RepairOverride] = field(default_factory=tuple)

    def problems(self) -> list[tuple[str, Any, str]]:
        """``(field, value, what is allowed)`` for every invalid setting; empty when EKS would accept them."""
        found: list[tuple[str, Any, str]] = []
        if not isinstance(self.enabled, bool):
            found.append(("enabled", self.enabled, "must be True or False"))
        for count, share in (
            ("max_unhealthy_count", "max_unhealthy_percentage"),
            ("max_parallel_count", "max_parallel_percentage"),
        ):
            count_value, share_value = getattr(self, count), getattr(self, share)
            if count_value is not None and share_value is not None:
                found.append((count, count_value, f"is exclusive with {share} (EKS takes one of the two)"))
            if count_value is not None and (not isinstance(count_value, int) or count_value < 1):
                found.append((count, count_value, "must be a whole number of at least 1"))
            if share_value is not None and (not isinstance(share_value, int) or not 1 <= share_value <= 100):
                found.append((share, share_value, "must be a whole number from 1 to 100"))
        if not self.enabled and (self.overrides or self.max_unhealthy_count or self.max_unhealthy_percentage):
            found.append(("enabled", False, "thresholds and overrides need enabled=True"))
        seen: set[tuple[str, str]] = set()
        for i, override in enumerate(self.overrides):
            where = f"overrides[{i}]"
            if not isinstance(override, RepairOverride):
                found.append((where, override, "must be a RepairOverride"))
                continue
            condition = condition_of(override.reason)
            if condition is None:
                allowed = "; ".join(f"{c}: {', '.join(r)}" for c, r in FATAL_REASONS.items())
                found.append(
                    (
                        f"{where}.reason",
                        override.reason,
                        "must be a fatal reason of the node monitoring agent (a warning never starts a repair): "
                        + allowed,
                    )
                )
            elif override.condition is not None and override.condition != condition:
                found.append(
                    (
                        f"{where}.condition",
                        override.condition,
                        f"the agent reports {override.reason} under {condition}",
                    )
                )
            if override.action not in REPAIR_ACTIONS:
                found.append((f"{where}.action", override.action, f"must be one of {list(REPAIR_ACTIONS)}"))
            if not isinstance(override.wait_minutes, int) or override.wait_minutes < 1:
                found.append(
                    (f"{where}.wait_minutes", override.wait_minutes, "must be a whole number of at least 1")
                )
            key = (condition or "", override.reason)
            if key in seen:
                found.append((f"{where}.reason", override.reason, "is overridden twice"))
            seen.add(key)
        return found

    def to_cfn(self) -> dict[str, Any]:
        """The ``NodeRepairConfig`` property (call only when :meth:`problems` is empty)."""
        config: dict[str, Any] = {"Enabled": self.enabled}
        for name, key in (
            ("max_unhealthy_count", "MaxUnhealthyNodeThresholdCount"),
            ("max_unhealthy_percentage", "MaxUnhealthyNodeThresholdPercentage"),
            ("max_parallel_count", "MaxParallelNodesRepairedCount"),
            ("max_parallel_percentage", "MaxParallelNodesRepairedPercentage"),
        ):
            if getattr(self, name) is not None:
                config[key] = getattr(self, name)
        if self.overrides:
            config["NodeRepairConfigOverrides"] = [
                {
                    "NodeMonitoringCondition": o.condition or condition_of(o.reason),
                    "NodeUnhealthyReason": o.reason,
                    "RepairAction": o.action,
                    "MinRepairWaitTimeMins": o.wait_minutes,
                }
                for o in self.overrides
            ]
        return config
