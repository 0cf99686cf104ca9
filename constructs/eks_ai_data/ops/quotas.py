"""Which EC2 vCPU quota governs an instance type, for On-Demand and for Spot capacity.

EC2 limits running instances per Region by vCPUs, with one quota per group of
instance families (Service Quotas service code ``ec2``). The codes below were read
from the Service Quotas listing of the ``ec2`` service (quota names as AWS shows them):

On-Demand ("Running On-Demand ... instances"):
  L-1216C47A Standard (A, C, D, H, I, M, R, T, Z) | L-DB2E81BA G and VT | L-417A185B P
  L-74FC7D96 F | L-1945791B Inf | L-2C3B7624 Trn | L-7295265B X | L-6E869C2A DL
  L-F7808C92 HPC | L-43DA4232 High Memory
Spot ("All ... Spot Instance Requests"):
  L-34B43A08 Standard | L-3819A6DF G and VT | L-7212CCBC P | L-88CF9481 F
  L-B5D1601B Inf | L-6B0D517C Trn | L-E3A00192 X | L-85EED4F7 DL
  (HPC and High Memory instances cannot run as Spot: there is no Spot quota for them.)

The EC2 user guide ("Amazon EC2 service quotas", "Spot Instance quotas") lists the
family letters of each group; an instance type's family is the letters before its
generation digit (``p5.48xlarge`` -> ``p``, ``g6e.12xlarge`` -> ``g``,
``trn2.48xlarge`` -> ``trn``, ``u7i-12tb.224xlarge`` -> ``u``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

CapacityType = Literal["on-demand", "spot"]
CAPACITY_TYPES: tuple[CapacityType, ...] = ("on-demand", "spot")

SERVICE_CODE = "ec2"


@dataclass(frozen=True)
class QuotaClass:
    """A group of instance families that share one vCPU quota."""

    key: str
    label: str
    on_demand_code: str
    spot_code: str | None

    def code(self, capacity_type: CapacityType) -> str | None:
        return self.on_demand_code if capacity_type == "on-demand" else self.spot_code

    def quota_name(self, capacity_type: CapacityType) -> str:
        if capacity_type == "on-demand":
            return f"Running On-Demand {self.label} instances"
        return f"All {self.label} Spot Instance Requests"


STANDARD = QuotaClass("standard", "Standard (A, C, D, H, I, M, R, T, Z)", "L-1216C47A", "L-34B43A08")
G_AND_VT = QuotaClass("g", "G and VT", "L-DB2E81BA", "L-3819A6DF")
P = QuotaClass("p", "P", "L-417A185B", "L-7212CCBC")
F = QuotaClass("f", "F", "L-74FC7D96", "L-88CF9481")
INF = QuotaClass("inf", "Inf", "L-1945791B", "L-B5D1601B")
TRN = QuotaClass("trn", "Trn", "L-2C3B7624", "L-6B0D517C")
X = QuotaClass("x", "X", "L-7295265B", "L-E3A00192")
DL = QuotaClass("dl", "DL", "L-6E869C2A", "L-85EED4F7")
HPC = QuotaClass("hpc", "HPC", "L-F7808C92", None)
HIGH_MEMORY = QuotaClass("u", "High Memory", "L-43DA4232", None)

QUOTA_CLASSES: tuple[QuotaClass, ...] = (STANDARD, G_AND_VT, P, F, INF, TRN, X, DL, HPC, HIGH_MEMORY)

_FAMILY = re.compile(r"[a-z]+")


def family_letters(instance_type: str) -> str:
    """The family letters of an instance type: ``p5e.48xlarge`` -> ``p``, ``vt1.3xlarge`` -> ``vt``."""
    match = _FAMILY.match(instance_type.strip().lower())
    return match.group(0) if match else ""


def quota_class(instance_type: str) -> QuotaClass:
    """The vCPU quota class that governs ``instance_type``."""
    letters = family_letters(instance_type)
    # longer prefixes first: trn before t, inf before i, dl before d, hpc before h
    if letters.startswith("trn"):
        return TRN
    if letters.startswith("inf"):
        return INF
    if letters.startswith("dl"):
        return DL
    if letters.startswith("hpc"):
        return HPC
    if letters.startswith("g") or letters == "vt":
        return G_AND_VT
    by_letter = {"p": P, "f": F, "x": X, "u": HIGH_MEMORY}
    return by_letter.get(letters, STANDARD)
