"""Check results and their rendering as a plain-text table or JSON (no dependencies)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Outcome of one check. Only ``FAIL`` makes a command exit non-zero."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One row of a report: what was checked, on what, with which outcome and why."""

    check: str
    subject: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        row = asdict(self)
        row["status"] = self.status.value
        return row


HEADERS = ("CHECK", "SUBJECT", "STATUS", "DETAIL")


def failures(checks: list[Check]) -> list[Check]:
    """The checks that failed, in report order."""
    return [c for c in checks if c.status is Status.FAIL]


def render_table(checks: list[Check]) -> str:
    """Render checks as aligned columns; the detail column is last and never padded."""
    rows = [HEADERS] + [(c.check, c.subject, c.status.value.upper(), c.detail) for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def render_json(command: str, checks: list[Check], **extra: Any) -> str:
    """Render a machine-readable report: ``ok`` is false when any check failed."""
    document: dict[str, Any] = {"command": command, **extra}
    document["ok"] = not failures(checks)
    document["checks"] = [c.as_dict() for c in checks]
    return json.dumps(document, indent=2, sort_keys=False, default=str)


def summary(command: str, checks: list[Check]) -> str:
    """One line per failed check, for stderr: names what is wrong and why."""
    failed = failures(checks)
    if not failed:
        return ""
    head = f"eks-ai-data {command}: {len(failed)} check(s) failed:"
    return "\n".join([head, *(f"  - {c.check} {c.subject}: {c.detail}" for c in failed)])
