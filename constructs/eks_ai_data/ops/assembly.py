"""Read a synthesized cloud assembly from disk: every stack's template and Region (standard library only).

A cloud assembly (``cdk.out``) is described by ``manifest.json``: ``aws:cloudformation:stack``
artifacts name their template file and environment (``aws://ACCOUNT/REGION``, ``unknown-region``
when environment-agnostic), ``cdk:cloud-assembly`` artifacts are the nested assemblies of stages.
A nested stack (``AWS::CloudFormation::Stack``) written by the CDK names its template file in the
resource's ``aws:asset:path`` metadata; its resources are read as the stack ``Parent/NestedId``.
See the cloud assembly schema in aws-cdk-lib (``cloud-assembly-schema``, artifact types and
``NestedCloudAssemblyProperties``) and aws-cdk-lib's ``NestedStack`` (asset metadata).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
NESTED_STACK = "AWS::CloudFormation::Stack"


class AssemblyError(Exception):
    """A cloud assembly directory that cannot be read."""


@dataclass(frozen=True)
class StackTemplate:
    """One CloudFormation template of the assembly."""

    name: str
    region: str | None  # None when the stack is environment-agnostic
    template: dict[str, Any]
    nested_in: str | None = None

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        found = self.template.get("Resources")
        return found if isinstance(found, dict) else {}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AssemblyError(f"{path} does not exist") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AssemblyError(f"{path} is not readable JSON: {exc}") from exc


def _region(environment: Any) -> str | None:
    if not isinstance(environment, str) or not environment.startswith("aws://"):
        return None
    region = environment.removeprefix("aws://").partition("/")[2]
    return None if not region or region.startswith("unknown-") else region


def _template(path: Path) -> dict[str, Any]:
    template = _read_json(path)
    if not isinstance(template, dict):
        raise AssemblyError(f"{path} is not a CloudFormation template")
    return template


def _nested(directory: Path, parent: StackTemplate) -> Iterator[StackTemplate]:
    for logical_id, resource in sorted(parent.resources.items()):
        if not isinstance(resource, dict) or resource.get("Type") != NESTED_STACK:
            continue
        asset = (resource.get("Metadata") or {}).get("aws:asset:path")
        if not isinstance(asset, str) or not (directory / asset).is_file():
            continue  # not written by the CDK into this assembly: its resources are not readable here
        child = StackTemplate(
            f"{parent.name}/{logical_id}", parent.region, _template(directory / asset), nested_in=parent.name
        )
        yield child
        yield from _nested(directory, child)


def _stacks(directory: Path) -> Iterator[StackTemplate]:
    manifest = _read_json(directory / "manifest.json")
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        raise AssemblyError(f"{directory / 'manifest.json'} has no artifacts: not a cloud assembly")
    for artifact_id, artifact in sorted(artifacts.items()):
        props = artifact.get("properties") or {}
        if artifact.get("type") == STACK_ARTIFACT:
            if "templateFile" not in props:
                raise AssemblyError(f"stack {artifact_id} in {directory} names no templateFile")
            stack = StackTemplate(
                str(props.get("stackName", artifact_id)),
                _region(artifact.get("environment")),
                _template(directory / props["templateFile"]),
            )
            yield stack
            yield from _nested(directory, stack)
        elif artifact.get("type") == NESTED_ASSEMBLY and "directoryName" in props:
            yield from _stacks(directory / props["directoryName"])


def read_stacks(directory: str | os.PathLike[str]) -> list[StackTemplate]:
    """Every stack of the assembly at ``directory`` (stages' assemblies and nested stacks included)."""
    root = Path(directory)
    if not root.is_dir():
        raise AssemblyError(f"{root} is not a directory")
    return list(_stacks(root))
