"""Replacement guard: compare two cloud assemblies and fail when stateful resources would lose data.

Run in CI between the main branch's ``cdk synth`` and a pull request's::

    eks-ai-data guard main.cdk.out pr.cdk.out [--json]

Every template of the old assembly (stacks, stacks inside Stages, nested stacks; see
:mod:`eks_ai_data.guard_assembly`) is compared with the new one, resource by resource, for the
types of :data:`~eks_ai_data.stateful.GUARDED_RESOURCE_TYPES`. Finding kinds:

``replaced`` (fails)
    the type changes, a create-only property changes (:mod:`eks_ai_data.stateful`), a table rule
    says so (:mod:`eks_ai_data.guard_rules`), or a create-only property refers (``Ref`` /
    ``Fn::GetAtt``) to a resource of the same template that is replaced. The new resource starts
    empty whatever the ``UpdateReplacePolicy``, which decides what becomes of the old one.
``may-replace`` (fails)
    a conditionally create-only property changes and no table rule says when that replaces.
``update-fails`` (fails)
    CloudFormation refuses the change (a KMS key spec, an EBS volume's zone) and rolls back.
``deleted`` (fails)
    its logical id (or nested stack, or stack) is gone, no new resource takes it over, and its
    ``DeletionPolicy`` deletes it (``Snapshot`` keeps a final snapshot; the resource is gone all the same).
``orphaned`` (fails unless ``allow_orphaned``)
    the same, with ``DeletionPolicy`` ``Retain``: the data survives outside the stack.
``renamed`` / ``moved`` (fail unless ``allow_refactor``)
    a resource disappears and a new one of the same type appears in the same template under another
    logical id (a renamed construct) or in another template (a stack renamed, a resource moved to
    another stack, a nested stack renamed). Matched by physical name, then logical id, then equal
    properties, each only when unambiguous. CloudFormation does not move data: the new resource is
    created empty (or, with the same fixed name, fails to be created) and the old one is deleted or
    orphaned. ``allow_refactor`` is for a move that will be carried out as a CloudFormation stack
    refactoring (``cdk refactor``) or a resource import, which keep the physical resource.
``removed`` (warns)
    an identity-bearing resource (access point, data repository association) is gone: no data goes with it.
``retain-dropped`` (warns)
    ``DeletionPolicy`` or ``UpdateReplacePolicy`` weakens (``Retain`` to ``Snapshot`` or ``Delete``,
    ``Snapshot`` to ``Delete``): nothing is lost yet, a later removal or replacement would destroy data.

A top-level stack that disappears from the app is not deleted by ``cdk deploy``; its resources are
reported ``deleted``/``orphaned`` because deleting that stack (``cdk destroy``, the console, a
pipeline's cleanup) deletes them. ``effect`` says what happens to the data: ``data-lost``,
``snapshot-kept``, ``data-orphaned`` (kept outside CloudFormation; the stack's resource starts
empty), ``update-fails``, ``identity-changes``, ``at-risk`` or ``none``.

JSON document (``--json``; schema ``eks-ai-data.guard/1``)::

    {"schema": "eks-ai-data.guard/1", "ok": bool, "old": str, "new": str,
     "summary": {"failures": int, "warnings": int, "templates": int, "guarded_resources": int},
     "findings": [{"severity": "fail"|"warn", "kind": str, "effect": str, "stack": str,
                   "logical_id": str, "resource_type": str, "property": str|null, "old": any,
                   "new": any, "moved_to": {"stack": str, "logical_id": str}|null,
                   "detail": str, "message": str}],
     "notes": [str], "service_spec": str|null}

Exit codes of :func:`guard_main`: 0 nothing fails, 1 a finding fails, 2 the comparison could not
run (a missing or malformed assembly; the message is on stderr). This module imports neither aws_cdk
nor (until a comparison needs it) cfn-lint, so the command starts fast.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from eks_ai_data.guard_assembly import Assembly, AssemblyError, StackTemplate
from eks_ai_data.guard_assembly import read_assembly as _read
from eks_ai_data.guard_assembly import stack_templates as read_assembly
from eks_ai_data.guard_moves import Vanished, match_moves
from eks_ai_data.guard_rules import Change, judge, rules_for, same_value
from eks_ai_data.stateful import (
    CONDITIONAL_SOURCES,
    GUARDED_RESOURCE_TYPES,
    IDENTITY_RESOURCE_TYPES,
    MISSING,
    PHYSICAL_NAME_PROPERTIES,
    RETAINING_POLICIES,
    ServiceSpecError,
    effective_policy,
    find_cdk_service_spec,
    is_intrinsic,
    replacement_properties,
    value_at,
)

__all__ = [
    "AssemblyError",
    "Finding",
    "GuardReport",
    "compare",
    "compare_assemblies",
    "guard_main",
    "read_assembly",
]

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
_STRENGTH = {"Retain": 3, "RetainExceptOnCreate": 3, "Snapshot": 2, "Delete": 1}


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


# --------------------------------------------------------------------------- one resource


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

    replaced: list[tuple[str, Any, Any, str, str]] = field(default_factory=list)
    """(pointer, old, new, kind, why) of the changes that replace it (or may, or fail)."""


class _Comparer:
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


# --------------------------------------------------------------------------- assemblies


def _environment_split(old: Assembly, new: Assembly) -> None:
    """A stack whose account or region changes is another stack: key both by ``name@environment``."""
    for key in sorted(set(old.templates) & set(new.templates)):
        a, b = old.templates[key], new.templates[key]
        concrete = "unknown-" not in a.environment and "unknown-" not in b.environment
        if a.parent is None and concrete and a.environment != b.environment:
            for assembly, entry in ((old, a), (new, b)):
                renamed = f"{key}@{entry.environment}"
                for sub in [k for k in assembly.templates if k == key or k.startswith(key + "/")]:
                    moved = assembly.templates.pop(sub)
                    moved.key = renamed + sub[len(key) :]
                    moved.parent = renamed + moved.parent[len(key) :] if moved.parent else None
                    assembly.templates[moved.key] = moved


def _vanished(old: Assembly, new: Assembly) -> list[Vanished]:
    gone: list[Vanished] = []
    for key, entry in sorted(old.templates.items()):
        successor = new.templates.get(key)
        if successor is None and key in new.unreadable_nested:
            continue  # its new template is not in the assembly: nothing to compare
        why = _why_gone(old, new, entry) if successor is None else None
        for lid, resource in sorted(entry.resources.items()):
            if not isinstance(resource, dict) or resource.get("Type") not in GUARDED_RESOURCE_TYPES:
                continue
            if successor is not None and lid in successor.resources:
                continue
            if successor is None:
                reason, stack_kept = why
            else:
                reason, stack_kept = "its logical id is gone from the template", False
            gone.append(
                Vanished(key, lid, resource, reason, stack_kept, _retained_by_parent(old, new, entry))
            )
    return gone


def _why_gone(old: Assembly, new: Assembly, entry: StackTemplate) -> tuple[str, bool]:
    """Why a template is gone, and whether CloudFormation leaves its stack deployed."""
    top = entry
    while top.parent is not None and top.parent not in new.templates:
        top = old.templates[top.parent]
    if top.parent is None:
        return (
            f"its stack {top.key} is no longer in the app (cdk deploy leaves that stack deployed; deleting it "
            "deletes this resource per its DeletionPolicy)",
            True,
        )
    return (
        f"its nested stack {top.logical_id} is gone from {top.parent}, which deletes the nested stack",
        False,
    )


def _retained_by_parent(old: Assembly, new: Assembly, entry: StackTemplate) -> bool:
    """Whether a removed nested stack resource is retained (its resources then survive with it)."""
    while entry.parent is not None:
        if entry.key not in new.templates:
            nested = old.templates[entry.parent].resources.get(entry.logical_id or "", {})
            if effective_policy(nested, "DeletionPolicy") in RETAINING_POLICIES:
                return True
        entry = old.templates[entry.parent]
    return False


def _created(old: Assembly, new: Assembly) -> list[tuple[str, str, dict[str, Any]]]:
    created = []
    for key, entry in sorted(new.templates.items()):
        before = old.templates.get(key)
        for lid, resource in sorted(entry.resources.items()):
            if isinstance(resource, dict) and resource.get("Type") in GUARDED_RESOURCE_TYPES:
                if before is None or lid not in before.resources:
                    created.append((key, lid, resource))
    return created


def compare(
    old_dir: str | os.PathLike[str],
    new_dir: str | os.PathLike[str],
    *,
    service_spec: Path | Literal["auto"] | None = "auto",
    allow_orphaned: bool = False,
    allow_refactor: bool = False,
) -> GuardReport:
    """Compare two cloud assemblies; see the module documentation for the finding kinds.

    ``service_spec`` is the AWS CDK CLI's ``db.json.gz``: ``"auto"`` finds it (see
    :func:`~eks_ai_data.stateful.find_cdk_service_spec`), ``None`` uses cfn-lint's schemas alone.
    ``allow_orphaned`` and ``allow_refactor`` turn ``orphaned`` and ``renamed``/``moved`` findings
    into warnings. Raises :class:`AssemblyError` when either assembly cannot be read.
    """
    old, new = _read(old_dir), _read(new_dir)
    _environment_split(old, new)
    report = GuardReport()
    spec = find_cdk_service_spec([new_dir, old_dir]) if service_spec == "auto" else service_spec
    report.service_spec = spec
    if spec is None:
        report.notes.append(
            "the AWS CDK CLI's service database (node_modules/aws-cdk/db.json.gz) was not found: "
            "replacing properties come from cfn-lint's provider schemas alone, which omit nested "
            "create-only properties of some types; install the CDK CLI in the project or set "
            "EKS_AI_DATA_CDK_SPEC"
        )
    for key in sorted(old.unreadable_nested | new.unreadable_nested):
        report.notes.append(
            f"nested stack {key}: its template is not in the assembly, its resources are not checked"
        )
    comparer = _Comparer(spec, report)
    findings: list[Finding] = []
    for key, entry in sorted(old.templates.items()):
        report.stacks += 1
        if key in new.templates:
            findings.extend(comparer.compare_template(entry, new.templates[key]))
    gone = _vanished(old, new)
    report.stateful_resources += len(gone)
    findings.extend(match_moves(gone, _created(old, new), Finding))
    for finding in findings:
        severity = finding.severity
        if finding.kind == "orphaned" and allow_orphaned:
            severity = "warn"
        if finding.kind in ("renamed", "moved") and allow_refactor:
            severity = "warn"
        report.findings.append(finding if severity == finding.severity else _with(finding, severity=severity))
    report.findings.sort(key=lambda f: (f.stack, f.logical_id, f.property or "", f.kind))
    return report


def _with(finding: Finding, **changes: Any) -> Finding:
    from dataclasses import replace

    return replace(finding, **changes)


def compare_assemblies(
    old_dir: str | os.PathLike[str],
    new_dir: str | os.PathLike[str],
    *,
    service_spec: Path | Literal["auto"] | None = "auto",
    allow_orphaned: bool = False,
    allow_refactor: bool = False,
) -> list[Finding]:
    """The findings of :func:`compare`, in stack, logical id and property order."""
    return compare(
        old_dir,
        new_dir,
        service_spec=service_spec,
        allow_orphaned=allow_orphaned,
        allow_refactor=allow_refactor,
    ).findings


# --------------------------------------------------------------------------- command


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


def guard_main(
    old: str,
    new: str,
    *,
    stream: TextIO | None = None,
    errors: TextIO | None = None,
    allow_orphaned: bool = False,
    allow_refactor: bool = False,
    json_output: bool = False,
) -> int:
    """Print the comparison of assemblies ``old`` and ``new``; the exit code of ``eks-ai-data guard``.

    Findings go to ``stream`` (stdout) as text or, with ``json_output``, as the JSON document of the
    module documentation; an assembly that cannot be read is reported on ``errors`` (stderr).
    Returns 0 when nothing fails, 1 when a finding fails, 2 when an assembly cannot be read.
    """
    stream = stream if stream is not None else sys.stdout
    errors = errors if errors is not None else sys.stderr
    try:
        report = compare(old, new, allow_orphaned=allow_orphaned, allow_refactor=allow_refactor)
    except AssemblyError as exc:
        print(f"eks-ai-data guard: error: cannot read the cloud assembly: {exc}", file=errors)
        return 2
    except Exception as exc:  # a template shape the guard does not handle: say so, no traceback
        print(
            f"eks-ai-data guard: error: could not compare the assemblies: {type(exc).__name__}: {exc}",
            file=errors,
        )
        return 2
    if json_output:
        print(render_json(report, old, new), file=stream)
    else:
        print("\n".join(render_text(report)), file=stream)
    return 0 if report.ok else 1
