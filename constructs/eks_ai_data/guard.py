"""Replacement guard: compare two cloud assemblies and fail when stateful resources would lose data.

Run in CI between the main branch's ``cdk synth`` and a pull request's::

    eks-ai-data guard main.cdk.out pr.cdk.out

For every stack of the old assembly (matched to the new one by CloudFormation stack name, nested
assemblies of stages included), every resource of a type in
:data:`~eks_ai_data.stateful.STATEFUL_RESOURCE_TYPES` is checked:

``deleted`` (fails)
    its logical id (or its whole stack) is gone and its ``DeletionPolicy`` deletes it.
``orphaned`` (fails unless ``allow_orphaned``)
    its logical id is gone but ``DeletionPolicy`` is ``Retain``: the data survives in a resource that
    leaves the stack, and whatever takes its place (a renamed construct) starts empty. Deliberate
    removals of retained resources pass with ``allow_orphaned=True``.
``replaced`` (fails)
    its type changes, or a property changes that replaces it (create-only in cfn-lint's provider
    schemas or "causes replacement" in the CDK service database, see :mod:`eks_ai_data.stateful`).
    The new resource starts empty whatever the ``UpdateReplacePolicy``.
``retain-dropped`` (warns)
    ``DeletionPolicy`` or ``UpdateReplacePolicy`` goes from ``Retain`` to deleting: nothing is lost
    yet, but a later removal or replacement would destroy the data.

Values are compared as written in the templates: intrinsic functions (``Ref``, ``Fn::GetAtt``,
``Fn::Join``, ...) structurally, so pointing a ``KmsKeyId`` at another key is a change. This
module imports neither aws_cdk nor (until a comparison needs it) cfn-lint, so the command starts fast.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from eks_ai_data.stateful import (
    MISSING,
    RETAINING_POLICIES,
    STATEFUL_RESOURCE_TYPES,
    ServiceSpecError,
    find_cdk_service_spec,
    is_intrinsic,
    replacement_properties,
    value_at,
)

Kind = Literal["deleted", "orphaned", "replaced", "retain-dropped"]
DATA_LOSS_KINDS: frozenset[str] = frozenset({"deleted", "replaced"})

_STACK_ARTIFACT = "aws:cloudformation:stack"
_NESTED_ASSEMBLY = "cdk:cloud-assembly"
_VALUE_WIDTH = 160


class AssemblyError(Exception):
    """A cloud assembly directory that cannot be read."""


def _render(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, default=repr)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 3] + "..."


@dataclass(frozen=True)
class Finding:
    """One stateful resource that a deployment of the new assembly would put at risk."""

    stack: str
    logical_id: str
    resource_type: str
    kind: Kind
    property: str | None = None
    """JSON pointer of the changed property, policy attribute name, or None (whole resource)."""
    old: Any = None
    new: Any = None
    detail: str = ""
    """Why: the sources that call the property create-only, or the policy in force."""

    @builtins.property  # the field `property` shadows the builtin in this class body
    def message(self) -> str:
        where = f"{self.stack}/{self.logical_id} ({self.resource_type})"
        if self.kind == "deleted":
            return f"{where} would be DELETED: {self.detail}"
        if self.kind == "orphaned":
            return (
                f"{where} would leave the stack and be kept as an unmanaged resource: {self.detail}; "
                "a resource that takes its place starts empty"
            )
        if self.kind == "replaced" and self.property is None:
            return f"{where} would be REPLACED by an empty resource: its type changes to {self.new}"
        if self.kind == "replaced":
            return (
                f"{where} would be REPLACED by an empty resource: {self.property} changes from "
                f"{_render(self.old)} to {_render(self.new)} ({self.detail})"
            )
        return (
            f"{where} {self.property} changes from {_render(self.old)} to {_render(self.new)}: "
            "a later removal or replacement would destroy its data"
        )


@dataclass
class GuardReport:
    """The findings of one comparison and what was compared."""

    findings: list[Finding] = field(default_factory=list)
    stacks: int = 0
    stateful_resources: int = 0
    service_spec: Path | None = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading assemblies


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AssemblyError(f"{path} does not exist") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AssemblyError(f"{path} is not readable JSON: {exc}") from exc


def _stacks(directory: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(stack name, environment, template) of every stack in an assembly and its nested assemblies."""
    manifest = _read_json(directory / "manifest.json")
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        raise AssemblyError(f"{directory / 'manifest.json'} has no artifacts: not a cloud assembly")
    for artifact_id, artifact in sorted(artifacts.items()):
        props = artifact.get("properties") or {}
        if artifact.get("type") == _STACK_ARTIFACT:
            if "templateFile" not in props:
                raise AssemblyError(f"stack {artifact_id} in {directory} names no templateFile")
            template = _read_json(directory / props["templateFile"])
            if not isinstance(template, dict):
                raise AssemblyError(f"{directory / props['templateFile']} is not a template")
            yield props.get("stackName", artifact_id), artifact.get("environment", ""), template
        elif artifact.get("type") == _NESTED_ASSEMBLY and "directoryName" in props:
            yield from _stacks(directory / props["directoryName"])


def read_assembly(directory: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Templates of a cloud assembly by CloudFormation stack name (``name@environment`` if ambiguous)."""
    root = Path(directory)
    if not root.is_dir():
        raise AssemblyError(f"{root} is not a directory")
    found = list(_stacks(root))
    names = [name for name, _, _ in found]
    return {(name if names.count(name) == 1 else f"{name}@{env}"): template for name, env, template in found}


# --------------------------------------------------------------------------- comparing


def _same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _removal(stack: str, logical_id: str, resource: dict[str, Any], why: str) -> Finding:
    policy = resource.get("DeletionPolicy")
    rtype = resource.get("Type", "")
    if policy in RETAINING_POLICIES:
        return Finding(stack, logical_id, rtype, "orphaned", detail=f"{why} (DeletionPolicy {policy})")
    shown = policy or "Delete, the default"
    note = ", a final snapshot is kept" if policy == "Snapshot" else ""
    return Finding(stack, logical_id, rtype, "deleted", detail=f"{why} (DeletionPolicy {shown}{note})")


def _property_changes(
    stack: str,
    logical_id: str,
    old: dict[str, Any],
    new: dict[str, Any],
    pointers: dict[str, tuple[str, ...]],
) -> Iterator[Finding]:
    old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
    reported: list[str] = []
    seen_intrinsics: list[tuple[Any, Any]] = []
    for pointer, sources in pointers.items():
        if any(pointer.startswith(done + "/") for done in reported):
            continue  # a parent pointer already reports this change
        before, after = value_at(old_props, pointer), value_at(new_props, pointer)
        if _same(before, after):
            continue
        if is_intrinsic(before) or is_intrinsic(after):
            # an intrinsic met above the pointer's end is the same change for every pointer below it
            if any(_same(before, b) and _same(after, a) for b, a in seen_intrinsics):
                continue
            seen_intrinsics.append((before, after))
        reported.append(pointer)
        detail = "replaces the resource per " + " and ".join(sources)
        yield Finding(stack, logical_id, old["Type"], "replaced", pointer, before, after, detail)


def _policy_changes(
    stack: str, logical_id: str, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Finding]:
    for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
        before, after = old.get(attribute), new.get(attribute)
        if before in RETAINING_POLICIES and after not in RETAINING_POLICIES:
            shown = after if after is not None else "Delete (the default)"
            yield Finding(stack, logical_id, old["Type"], "retain-dropped", attribute, before, shown)


def compare(
    old_dir: str | os.PathLike[str],
    new_dir: str | os.PathLike[str],
    *,
    service_spec: Path | Literal["auto"] | None = "auto",
) -> GuardReport:
    """Compare two cloud assemblies; see the module documentation for the finding kinds.

    ``service_spec`` is the AWS CDK CLI's ``db.json.gz``: ``"auto"`` finds it (see
    :func:`~eks_ai_data.stateful.find_cdk_service_spec`), ``None`` uses cfn-lint's schemas alone.
    Raises :class:`AssemblyError` when either assembly cannot be read.
    """
    old_stacks, new_stacks = read_assembly(old_dir), read_assembly(new_dir)
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

    def pointers(resource_type: str) -> dict[str, tuple[str, ...]]:
        nonlocal spec
        try:
            return replacement_properties(resource_type, spec)
        except ServiceSpecError as exc:
            report.notes.append(f"ignoring the CDK service database: {exc}")
            spec = report.service_spec = None
            return replacement_properties(resource_type, None)

    for stack, template in sorted(old_stacks.items()):
        report.stacks += 1
        new_template = new_stacks.get(stack)
        new_resources = (new_template or {}).get("Resources") or {}
        for logical_id, resource in sorted((template.get("Resources") or {}).items()):
            rtype = resource.get("Type")
            if rtype not in STATEFUL_RESOURCE_TYPES:
                continue
            report.stateful_resources += 1
            if new_template is None:
                report.findings.append(_removal(stack, logical_id, resource, "its stack is gone"))
                continue
            successor = new_resources.get(logical_id)
            if successor is None:
                why = "its logical id is gone from the stack"
                report.findings.append(_removal(stack, logical_id, resource, why))
                continue
            if successor.get("Type") != rtype:
                report.findings.append(
                    Finding(stack, logical_id, rtype, "replaced", None, rtype, successor.get("Type"))
                )
                continue
            report.findings.extend(_property_changes(stack, logical_id, resource, successor, pointers(rtype)))
            report.findings.extend(_policy_changes(stack, logical_id, resource, successor))
    return report


def compare_assemblies(
    old_dir: str | os.PathLike[str],
    new_dir: str | os.PathLike[str],
    *,
    service_spec: Path | Literal["auto"] | None = "auto",
) -> list[Finding]:
    """The findings of :func:`compare`, in stack, logical id and property order."""
    return compare(old_dir, new_dir, service_spec=service_spec).findings


# --------------------------------------------------------------------------- command


def guard_main(old: str, new: str, *, stream: TextIO = sys.stdout, allow_orphaned: bool = False) -> int:
    """Print the findings of comparing assemblies ``old`` and ``new``; the exit code of ``guard``.

    Returns 1 when a stateful resource would be deleted or replaced (or, unless
    ``allow_orphaned``, removed from its stack while retained), 0 when not, and 2 when an
    assembly cannot be read.
    """
    try:
        report = compare(old, new)
    except AssemblyError as exc:
        print(f"guard: cannot read the cloud assembly: {exc}", file=stream)
        return 2
    failing = DATA_LOSS_KINDS if allow_orphaned else DATA_LOSS_KINDS | {"orphaned"}
    failures = 0
    for finding in report.findings:
        fails = finding.kind in failing
        failures += fails
        print(f"{'FAIL' if fails else 'WARN'} {finding.kind}: {finding.message}", file=stream)
    for note in report.notes:
        print(f"note: {note}", file=stream)
    warnings = len(report.findings) - failures
    compared = f"{report.stateful_resources} stateful resources in {report.stacks} stacks compared"
    if failures:
        summary = f"FAILED: {failures} finding(s) put stateful data at risk"
    else:
        summary = "OK: no stateful resource would be replaced or deleted"
    print(f"guard: {summary}, {warnings} warning(s); {compared}", file=stream)
    return 1 if failures else 0
