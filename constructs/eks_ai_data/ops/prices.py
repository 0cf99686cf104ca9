"""The price table that ``eks-ai-data cost`` reads: ``prices.json``, shipped with the package.

The table holds, per Region, flat keys (``ec2:p5.48xlarge``, ``fsx:lustre:PERSISTENT_2:SSD:250:gb-month``,
``nat:hour``, ...) with USD figures, the date and source of the figures, the glob patterns of the
keys whose figures are derived rather than read (``estimated``), and the EKS support calendar
(the end of standard support decides whether a control plane is billed at the extended rate).
``scripts/refresh_prices.py`` rewrites it from the AWS Price List API; ``--price KEY=USD``
overrides one figure for a run. Standard library only.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("prices.json")
SCHEMA = 1


class PriceTableError(Exception):
    """The price table cannot be read, or an override is malformed."""


@dataclass(frozen=True)
class Price:
    """One figure of the table: its key, USD value and whether it is derived rather than read."""

    key: str
    usd: float
    estimated: bool = False
    overridden: bool = False


@dataclass(frozen=True)
class EksSupport:
    """A Kubernetes version's EKS support dates (UTC days; extended billing starts on the end day)."""

    end_of_standard: dt.date
    end_of_extended: dt.date
    approximate: bool = False


@dataclass
class PriceTable:
    as_of: str
    source: str
    regions: dict[str, dict[str, Any]]
    eks_versions: dict[str, EksSupport]
    notes: list[str] = field(default_factory=list)
    overrides: dict[str, float] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriceTable:
        source = Path(path) if path else DATA_FILE
        try:
            document = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise PriceTableError(f"price table {source} does not exist") from exc
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise PriceTableError(f"price table {source} is not readable JSON: {exc}") from exc
        return cls.from_document(document, path=source)

    @classmethod
    def from_document(cls, document: Any, *, path: Path | None = None) -> PriceTable:
        where = path or "price table"
        if not isinstance(document, dict) or document.get("schema") != SCHEMA:
            raise PriceTableError(f"{where}: not a schema {SCHEMA} price table")
        regions = document.get("regions")
        if not isinstance(regions, dict) or not regions:
            raise PriceTableError(f"{where}: no regions")
        for name, region in regions.items():
            prices = region.get("prices") if isinstance(region, dict) else None
            if not isinstance(prices, dict) or not all(
                isinstance(v, int | float) and v >= 0 for v in prices.values()
            ):
                raise PriceTableError(
                    f"{where}: region {name} has no prices, or a price is not a number >= 0"
                )
        try:
            versions = {
                version: EksSupport(
                    dt.date.fromisoformat(dates["end_of_standard_support"]),
                    dt.date.fromisoformat(dates["end_of_extended_support"]),
                    bool(dates.get("approximate", False)),
                )
                for version, dates in (document.get("eks_versions") or {}).items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise PriceTableError(f"{where}: malformed eks_versions: {exc}") from exc
        for required in ("as_of", "source"):
            if not isinstance(document.get(required), str) or not document[required]:
                raise PriceTableError(f"{where}: no {required}")
        return cls(
            as_of=document["as_of"],
            source=document["source"],
            regions=regions,
            eks_versions=versions,
            notes=list(document.get("notes") or []),
            path=path,
        )

    def with_overrides(self, overrides: dict[str, float]) -> PriceTable:
        """A copy in which ``overrides`` (key -> USD) replace the figures of every Region."""
        return PriceTable(
            self.as_of,
            self.source,
            self.regions,
            self.eks_versions,
            self.notes,
            {**self.overrides, **overrides},
            self.path,
        )

    def has_region(self, region: str) -> bool:
        return region in self.regions

    def basis(self, region: str) -> str:
        return str(self.regions.get(region, {}).get("basis", ""))

    def price(self, region: str, key: str) -> Price | None:
        """The figure for ``key`` in ``region``, or ``None`` when the table has none."""
        if key in self.overrides:
            return Price(key, self.overrides[key], overridden=True)
        entry = self.regions.get(region) or {}
        value = (entry.get("prices") or {}).get(key)
        if value is None:
            return None
        estimated = any(fnmatch.fnmatchcase(key, pattern) for pattern in entry.get("estimated") or [])
        return Price(key, float(value), estimated=estimated)


def parse_overrides(pairs: list[str]) -> dict[str, float]:
    """``["nat:gb=0.05", ...]`` -> ``{"nat:gb": 0.05}``; raises :class:`PriceTableError` when malformed."""
    found: dict[str, float] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not sep or not key.strip() or value < 0:
            raise PriceTableError(f"--price {pair!r}: expected KEY=USD with a number >= 0, e.g. nat:gb=0.05")
        found[key.strip()] = value
    return found
