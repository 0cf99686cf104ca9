"""What the replacement guard reports: findings, the report, and its text and JSON forms (no CDK import).

The finding kinds, effects and the JSON document are described in :mod:`eks_ai_data.guard`.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from eks_ai_data.stateful import MISSING

Kind = Literal[
    "replaced",
    "may-replace",
    "update-fails",
    "deleted",
    "orphaned",
    "renamed",
    "moved",
    "removed",
    "retain-dropped",
]
SCHEMA_ID = "eks-ai-data.guard/1"
_VALUE_WIDTH = 160


def _render(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, default=repr)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 3] + "..."


@dataclass(frozen=True)
class Finding:
    """One guarded resource that a deployment of the new assembly would put at risk."""

    stack: str
    logical_id: str
    resource_type: str
    kind: Kind
    property: str | None = None
    """JSON pointer of the changed property, policy attribute name, or None (whole resource)."""
    old: Any = None
    new: Any = None
    detail: str = ""
    """Why: the sources or rule that call the change replacing, the policy in force, the match made."""
    effect: str = "data-lost"
    severity: Literal["fail", "warn"] = "fail"
    to_stack: str | None = None
    to_logical_id: str | None = None

    @builtins.property  # the field `property` shadows the builtin in this class body
    def message(self) -> str:
        where = f"{self.stack}/{self.logical_id} ({self.resource_type})"
        if self.kind in ("renamed", "moved"):
            return f"{where} {self.kind} to {self.to_stack}/{self.to_logical_id}: {self.detail}"
        if self.kind in ("deleted", "orphaned", "removed"):
            verb = {
                "deleted": "would be DELETED",
                "orphaned": "would leave the stack",
                "removed": "is removed",
            }
            return f"{where} {verb[self.kind]}: {self.detail}"
        if self.kind == "retain-dropped":
            return (
                f"{where} {self.property} changes from {_render(self.old)} to {_render(self.new)}: "
                "a later removal or replacement would destroy its data"
            )
        verb = {
            "replaced": "would be REPLACED",
            "may-replace": "MAY BE REPLACED",
            "update-fails": "cannot be updated",
        }
        if self.property is None or (self.old is self.new):
            shown = f"{self.property}: " if self.property else ""
            return f"{where} {verb[self.kind]}: {shown}{self.detail}"
        return (
            f"{where} {verb[self.kind]}: {self.property} changes from {_render(self.old)} to "
            f"{_render(self.new)} ({self.detail})"
        )

    def as_json(self) -> dict[str, Any]:
        moved = {"stack": self.to_stack, "logical_id": self.to_logical_id} if self.to_stack else None
        plain = {k: (None if v is MISSING else v) for k, v in (("old", self.old), ("new", self.new))}
        return {
            "severity": self.severity,
            "kind": self.kind,
            "effect": self.effect,
            "stack": self.stack,
            "logical_id": self.logical_id,
            "resource_type": self.resource_type,
            "property": self.property,
            **plain,
            "moved_to": moved,
            "detail": self.detail,
            "message": self.message,
        }


@dataclass
class GuardReport:
    """The findings of one comparison and what was compared."""

    findings: list[Finding] = field(default_factory=list)
    stacks: int = 0
    """Templates compared (stacks and nested stacks of the old assembly)."""
    stateful_resources: int = 0
    """Guarded resources of the old assembly."""
    service_spec: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "fail"]

    @property
    def ok(self) -> bool:
        return not self.failures


def render_json(report: GuardReport, old: str, new: str) -> str:
    failures = len(report.failures)
    document = {
        "schema": SCHEMA_ID,
        "ok": report.ok,
        "old": old,
        "new": new,
        "summary": {
            "failures": failures,
            "warnings": len(report.findings) - failures,
            "templates": report.stacks,
            "guarded_resources": report.stateful_resources,
        },
        "findings": [f.as_json() for f in report.findings],
        "notes": report.notes,
        "service_spec": str(report.service_spec) if report.service_spec else None,
    }
    return json.dumps(document, indent=2, sort_keys=False, default=repr)


def render_text(report: GuardReport) -> list[str]:
    lines = [f"{finding.severity.upper()} {finding.kind}: {finding.message}" for finding in report.findings]
    lines += [f"note: {note}" for note in report.notes]
    failures = len(report.failures)
    compared = f"{report.stateful_resources} guarded resources in {report.stacks} templates compared"
    if failures:
        summary = f"FAILED: {failures} finding(s) put stateful data at risk"
    else:
        summary = "OK: no stateful resource would be replaced or deleted"
    lines.append(f"guard: {summary}, {len(report.findings) - failures} warning(s); {compared}")
    return lines
