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

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, TextIO

from eks_ai_data.guard_assembly import Assembly, AssemblyError, StackTemplate
from eks_ai_data.guard_assembly import read_assembly as _read
from eks_ai_data.guard_assembly import stack_templates as read_assembly
from eks_ai_data.guard_findings import SCHEMA_ID, Finding, GuardReport, Kind, render_json, render_text
from eks_ai_data.guard_moves import Vanished, match_moves
from eks_ai_data.guard_templates import TemplateComparer
from eks_ai_data.stateful import (
    GUARDED_RESOURCE_TYPES,
    RETAINING_POLICIES,
    effective_policy,
    find_cdk_service_spec,
)

__all__ = [
    "SCHEMA_ID",
    "AssemblyError",
    "Finding",
    "GuardReport",
    "Kind",
    "compare",
    "compare_assemblies",
    "guard_main",
    "read_assembly",
    "render_json",
    "render_text",
]


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
            if why is not None:  # the whole template is gone
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
    comparer = TemplateComparer(spec, report)
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
        report.findings.append(
            finding if severity == finding.severity else replace(finding, severity=severity)
        )
    report.findings.sort(key=lambda f: (f.stack, f.logical_id, f.property or "", f.kind))
    return report


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


# --------------------------------------------------------------------------- command


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
