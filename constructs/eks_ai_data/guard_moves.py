"""Guarded resources that leave a template: deleted, orphaned, or renamed and moved (no CDK import).

A resource whose logical id disappears from its template (or whose template disappears) is matched
with a guarded resource that appears elsewhere: same type, and then, each only when exactly one
candidate on each side fits, the same fixed physical name, the same logical id in another template
(a renamed stack or nested stack keeps the logical ids inside it), or equal properties (tags aside).
A match is a rename or move: CloudFormation creates the new resource empty (or, when the fixed name
is the same, fails to create it) and deletes or orphans the old one. Unmatched resources are
deleted or orphaned per their ``DeletionPolicy``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eks_ai_data.guard_values import normalize, same_value
from eks_ai_data.stateful import (
    IDENTITY_RESOURCE_TYPES,
    MISSING,
    PHYSICAL_NAME_PROPERTIES,
    RETAINING_POLICIES,
    effective_policy,
    value_at,
)

_REFACTOR = (
    "unless it is carried out as a stack refactoring (cdk refactor) or resource import: --allow-refactor"
)


@dataclass(frozen=True)
class Vanished:
    """A guarded resource of the old assembly whose logical id (or template) is gone."""

    stack: str
    logical_id: str
    resource: dict[str, Any]
    reason: str
    stack_kept: bool
    """Its top-level stack left the app: cdk deploy leaves that stack (and the resource) deployed."""
    retained_by_parent: bool
    """It was in a nested stack whose stack resource is retained."""

    @property
    def type(self) -> str:
        return self.resource.get("Type", "")


Created = tuple[str, str, dict[str, Any]]


def _name(resource: dict[str, Any]) -> Any:
    prop = PHYSICAL_NAME_PROPERTIES.get(resource.get("Type", ""))
    if prop is None:
        return MISSING
    value = normalize(value_at(resource.get("Properties"), f"/properties/{prop}"))
    return value if isinstance(value, str) else MISSING


def _same_name(v: Vanished, c: Created) -> bool:
    name = _name(v.resource)
    return name is not MISSING and name == _name(c[2])


def _same_logical_id(v: Vanished, c: Created) -> bool:
    return v.logical_id == c[1]


def _same_properties(v: Vanished, c: Created) -> bool:
    def untagged(resource: dict[str, Any]) -> dict[str, Any]:
        return {k: val for k, val in (resource.get("Properties") or {}).items() if k != "Tags"}

    return same_value(untagged(v.resource), untagged(c[2]))


_CRITERIA: tuple[tuple[str, Callable[[Vanished, Created], bool]], ...] = (
    ("the same fixed physical name", _same_name),
    ("the same logical id", _same_logical_id),
    ("equal properties", _same_properties),
)


def _pairs(gone: list[Vanished], created: list[Created]) -> list[tuple[Vanished, Created, str]]:
    pairs: list[tuple[Vanished, Created, str]] = []
    free_v, free_c = list(gone), list(created)
    for label, fits in _CRITERIA:
        for v in list(free_v):
            options = [c for c in free_c if c[2].get("Type") == v.type and fits(v, c)]
            if len(options) != 1:
                continue
            rivals = [w for w in free_v if w.type == v.type and fits(w, options[0])]
            if len(rivals) == 1:
                pairs.append((v, options[0], label))
                free_v.remove(v)
                free_c.remove(options[0])
    return pairs


def _old_fate(v: Vanished) -> tuple[str, str]:
    """(effect, what happens to the old resource)."""
    policy = effective_policy(v.resource, "DeletionPolicy")
    if v.stack_kept:
        return "data-orphaned", "the old stack stays deployed with the data until it is deleted"
    if v.retained_by_parent or policy in RETAINING_POLICIES:
        return "data-orphaned", f"the old one is kept outside CloudFormation (DeletionPolicy {policy})"
    if policy == "Snapshot":
        return "snapshot-kept", "the old one is deleted after a final snapshot (DeletionPolicy Snapshot)"
    return "data-lost", "the old one is deleted with its data (DeletionPolicy Delete)"


def _policy_text(resource: dict[str, Any]) -> str:
    written = resource.get("DeletionPolicy")
    effective = effective_policy(resource, "DeletionPolicy")
    if written is None:
        return f"DeletionPolicy {effective}, the default"
    return (
        f"DeletionPolicy {written}"
        if written == effective
        else f"DeletionPolicy {written}, read as {effective}"
    )


def match_moves(gone: list[Vanished], created: list[Created], finding: Callable[..., Any]) -> list[Any]:
    """Findings for every vanished resource: renamed/moved when matched, else deleted/orphaned/removed."""
    findings = []
    matched: set[tuple[str, str]] = set()
    for v, (to_stack, to_lid, new), label in _pairs(gone, created):
        matched.add((v.stack, v.logical_id))
        kind = "renamed" if to_stack == v.stack else "moved"
        name = _name(new)
        if name is not MISSING and name == _name(v.resource):
            # CloudFormation creates new resources before it deletes old ones
            effect = "update-fails"
            what = f"the new resource reuses the fixed name {name!r} of the old one, still in place, so its creation fails"
        elif v.type in IDENTITY_RESOURCE_TYPES:
            effect, what = "identity-changes", IDENTITY_RESOURCE_TYPES[v.type]
        else:
            effect, fate = _old_fate(v)
            what = f"a new, empty resource is created and {fate}"
        detail = f"{v.reason}; matched by {label}; {what}, {_REFACTOR}"
        findings.append(
            finding(
                v.stack,
                v.logical_id,
                v.type,
                kind,
                detail=detail,
                effect=effect,
                to_stack=to_stack,
                to_logical_id=to_lid,
            )
        )
    for v in gone:
        if (v.stack, v.logical_id) in matched:
            continue
        policy = effective_policy(v.resource, "DeletionPolicy")
        if v.type in IDENTITY_RESOURCE_TYPES:
            detail = f"{v.reason}; it holds no data"
            findings.append(
                finding(
                    v.stack, v.logical_id, v.type, "removed", detail=detail, effect="none", severity="warn"
                )
            )
        elif v.retained_by_parent or policy in RETAINING_POLICIES:
            shown = "its nested stack is retained" if v.retained_by_parent else _policy_text(v.resource)
            findings.append(
                finding(
                    v.stack,
                    v.logical_id,
                    v.type,
                    "orphaned",
                    detail=f"{v.reason} ({shown})",
                    effect="data-orphaned",
                )
            )
        else:
            note = ", a final snapshot is kept" if policy == "Snapshot" else ""
            effect = "snapshot-kept" if policy == "Snapshot" else "data-lost"
            detail = f"{v.reason} ({_policy_text(v.resource)}{note})"
            findings.append(finding(v.stack, v.logical_id, v.type, "deleted", detail=detail, effect=effect))
    return findings
