"""The replacement guard on one template present in both assemblies: resource by resource (no CDK import).

For each resource in both templates: a type change replaces it; each changed property that the
sources (:mod:`eks_ai_data.stateful`) or the table (:mod:`eks_ai_data.guard_rules`) call replacing
replaces it (or may, or fails the update); and a resource whose create-only property refers
(``Ref`` / ``Fn::GetAtt``) to a replaced resource of the template is replaced too, whatever its type
(a replaced security group replaces the file system that names it). Only guarded types are
reported, with what becomes of the data (``effect``), and weakened deletion and replace policies
are reported as warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eks_ai_data.guard_assembly import StackTemplate
from eks_ai_data.guard_findings import Finding, GuardReport, Kind
from eks_ai_data.guard_rules import Change, judge, rules_for
from eks_ai_data.guard_values import same_value
from eks_ai_data.stateful import (
    CONDITIONAL_SOURCES,
    GUARDED_RESOURCE_TYPES,
    IDENTITY_RESOURCE_TYPES,
    MISSING,
    PHYSICAL_NAME_PROPERTIES,
    RETAINING_POLICIES,
    ServiceSpecError,
    effective_policy,
    is_intrinsic,
    replacement_properties,
    value_at,
)

_STRENGTH = {"Retain": 3, "RetainExceptOnCreate": 3, "Snapshot": 2, "Delete": 1}


def _refs(value: Any) -> set[str]:
    """Logical ids that ``value`` refers to with ``Ref`` or ``Fn::GetAtt``."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            found.add(value["Ref"])
        attr = value.get("Fn::GetAtt")
        if isinstance(attr, list) and attr and isinstance(attr[0], str):
            found.add(attr[0])
        elif isinstance(attr, str):
            found.add(attr.split(".", 1)[0])
        for item in value.values():
            found |= _refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= _refs(item)
    return found


def _replace_effect(old: dict[str, Any], new: dict[str, Any], changed: set[str]) -> tuple[str, str]:
    """(effect, detail suffix) of replacing ``old`` by ``new``."""
    rtype = old.get("Type", "")
    name = PHYSICAL_NAME_PROPERTIES.get(rtype)
    if name and f"/properties/{name}" not in changed:
        fixed = value_at(new.get("Properties"), f"/properties/{name}")
        if fixed is not MISSING:
            return (
                "update-fails",
                f"its {name} is fixed, so CloudFormation refuses to replace it and rolls back",
            )
    if rtype in IDENTITY_RESOURCE_TYPES:
        return "identity-changes", IDENTITY_RESOURCE_TYPES[rtype]
    policy = effective_policy(old, "UpdateReplacePolicy")
    if policy in RETAINING_POLICIES:
        return "data-orphaned", f"UpdateReplacePolicy {policy}: the old resource is kept outside the stack"
    if policy == "Snapshot":
        return "snapshot-kept", "UpdateReplacePolicy Snapshot: a final snapshot of the old resource is kept"
    return "data-lost", "the old resource is deleted (UpdateReplacePolicy Delete)"


@dataclass
class _Judged:
    """Property changes of one resource present in both templates."""

    replaced: list[tuple[str, Any, Any, Kind, str]] = field(default_factory=list)
    """(pointer, old, new, kind, why) of the changes that replace it (or may, or fail)."""


class TemplateComparer:
    """Compares templates present in both assemblies, loading schemas only for changed resources."""

    def __init__(self, spec: Path | None, report: GuardReport) -> None:
        self.spec = spec
        self.report = report

    def pointers(self, rtype: str) -> dict[str, tuple[str, ...]]:
        try:
            return replacement_properties(rtype, self.spec)
        except ServiceSpecError as exc:
            self.report.notes.append(f"ignoring the CDK service database: {exc}")
            self.spec = self.report.service_spec = None
            return replacement_properties(rtype, None)

    def judge(self, old: dict[str, Any], new: dict[str, Any]) -> _Judged:
        rtype = old["Type"]
        old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
        rules = rules_for(rtype)
        sources = self.pointers(rtype)
        candidates = sorted(set(sources) | {rule.pointer for rule in rules})
        judged = _Judged()
        reported: list[str] = []
        seen_intrinsics: list[tuple[Any, Any]] = []
        kind: Kind
        for pointer in candidates:
            if any(pointer.startswith(done + "/") for done in reported):
                continue  # a parent pointer already reports this change
            before, after = value_at(old_props, pointer), value_at(new_props, pointer)
            if same_value(before, after):
                continue
            if is_intrinsic(before) or is_intrinsic(after):
                # an intrinsic met above the pointer's end is the same change for every pointer below it
                if any(same_value(before, b) and same_value(after, a) for b, a in seen_intrinsics):
                    continue
                seen_intrinsics.append((before, after))
            verdict = judge(rules, Change(pointer, before, after, old, new))
            if verdict is not None:
                outcome, rule = verdict
                if outcome == "updates":
                    continue
                kind = "replaced" if outcome == "replaces" else "update-fails"
                why = f"{rule.because}, per {rule.source}"
            elif pointer in sources and not set(sources[pointer]) <= CONDITIONAL_SOURCES:
                kind, why = "replaced", "replaces the resource per " + " and ".join(sources[pointer])
            elif pointer in sources:
                kind = "may-replace"
                why = (
                    "conditionally create-only per " + " and ".join(sources[pointer]) + "; no rule says when"
                )
            else:
                continue
            reported.append(pointer)
            judged.replaced.append((pointer, before, after, kind, why))
        return judged

    def compare_template(self, old: StackTemplate, new: StackTemplate) -> list[Finding]:
        old_res, new_res = old.resources, new.resources
        common = sorted(lid for lid in old_res if lid in new_res and isinstance(old_res[lid], dict))
        judged: dict[str, _Judged] = {}
        replaced: set[str] = set()
        for lid in common:
            if old_res[lid].get("Type") != new_res[lid].get("Type"):
                replaced.add(lid)
                continue
            if not isinstance(old_res[lid].get("Type"), str):
                continue
            if same_value(old_res[lid].get("Properties"), new_res[lid].get("Properties")):
                continue  # nothing to judge: the schemas and the CDK database load only for changes
            # every resource is judged: a replaced security group cascades into a file system
            judged[lid] = self.judge(old_res[lid], new_res[lid])
            if any(kind == "replaced" for _, _, _, kind, _ in judged[lid].replaced):
                replaced.add(lid)
        cascaded = self._cascade(common, new_res, replaced, judged)

        findings: list[Finding] = []
        for lid in common:
            old_r, new_r = old_res[lid], new_res[lid]
            rtype = old_r.get("Type", "")
            if rtype not in GUARDED_RESOURCE_TYPES:
                continue
            self.report.stateful_resources += 1
            if new_r.get("Type") != rtype:
                effect, suffix = _replace_effect(old_r, new_r, set())
                findings.append(
                    Finding(
                        old.key,
                        lid,
                        rtype,
                        "replaced",
                        None,
                        rtype,
                        new_r.get("Type"),
                        f"its type changes to {new_r.get('Type')}; {suffix}",
                        effect,
                    )
                )
                continue
            items = judged[lid].replaced if lid in judged else []
            changed = {pointer for pointer, *_ in items}
            for pointer, before, after, kind, why in items:
                effect, suffix = (
                    ("update-fails", "") if kind == "update-fails" else _replace_effect(old_r, new_r, changed)
                )
                detail = f"{why}; {suffix}" if suffix else why
                findings.append(Finding(old.key, lid, rtype, kind, pointer, before, after, detail, effect))
            if lid in cascaded and not items:
                pointer, target = cascaded[lid]
                effect, suffix = _replace_effect(old_r, new_r, set())
                detail = f"{target} is replaced and this create-only property refers to it; {suffix}"
                value = value_at(new_r.get("Properties"), pointer)
                findings.append(
                    Finding(old.key, lid, rtype, "replaced", pointer, value, value, detail, effect)
                )
            findings.extend(_policy_changes(old.key, lid, old_r, new_r))
        return findings

    def _cascade(
        self, common: list[str], new_res: dict[str, Any], replaced: set[str], judged: dict[str, _Judged]
    ) -> dict[str, tuple[str, str]]:
        """Resources replaced because a create-only property refers to a replaced resource."""
        cascaded: dict[str, tuple[str, str]] = {}
        changed = bool(replaced)
        while changed:
            changed = False
            for lid in common:
                if lid in replaced or not isinstance(new_res[lid], dict):
                    continue
                if not _refs(new_res[lid].get("Properties")) & replaced:
                    continue
                rtype = new_res[lid].get("Type", "")
                for pointer, sources in self.pointers(rtype).items():
                    if set(sources) <= CONDITIONAL_SOURCES:
                        continue
                    targets = _refs(value_at(new_res[lid].get("Properties"), pointer)) & replaced
                    if targets:
                        cascaded[lid] = (pointer, sorted(targets)[0])
                        replaced.add(lid)
                        changed = True
                        break
        return cascaded


def _policy_changes(stack: str, lid: str, old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    found = []
    for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
        before, after = effective_policy(old, attribute), effective_policy(new, attribute)
        if _STRENGTH[after] < _STRENGTH[before]:
            shown = new.get(attribute) if new.get(attribute) is not None else f"{after} (the default)"
            found.append(
                Finding(
                    stack,
                    lid,
                    old["Type"],
                    "retain-dropped",
                    attribute,
                    old.get(attribute, before),
                    shown,
                    effect="at-risk",
                    severity="warn",
                )
            )
    return found
