"""Reading a synthesized cloud assembly for the replacement guard: stacks, stages and nested stacks (no CDK import).

A cloud assembly is a directory with a ``manifest.json`` whose ``artifacts`` name
``aws:cloudformation:stack`` artifacts (``properties.templateFile``, ``properties.stackName``,
``environment``) and ``cdk:cloud-assembly`` artifacts (a Stage: ``properties.directoryName``, a
nested assembly read the same way). A stack's ``AWS::CloudFormation::Stack`` resources are nested
stacks; CDK writes each nested template into the assembly and names it in the resource's
``aws:asset:path`` metadata (``cdk synth`` adds it) or, without metadata, in the stack's asset
manifest (``*.assets.json``), keyed by the hash that ends the resource's ``TemplateURL``.

Every template gets a key: the CloudFormation stack name for a stack (``name@environment`` when two
stacks of the assembly share a name), ``<parent key>/<logical id>`` for a nested stack.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
NESTED_STACK = "AWS::CloudFormation::Stack"


class AssemblyError(Exception):
    """A cloud assembly directory that cannot be read."""


@dataclass
class StackTemplate:
    """One template of an assembly: a stack, or a nested stack inside one."""

    key: str
    stack_name: str
    environment: str
    template: dict[str, Any]
    parent: str | None = None
    """Key of the parent template (nested stacks only)."""
    logical_id: str | None = None
    """Logical id of the nested stack resource in its parent (nested stacks only)."""

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources") or {}


@dataclass
class Assembly:
    """Every template of an assembly by key, and what could not be read."""

    directory: Path
    templates: dict[str, StackTemplate] = field(default_factory=dict)
    unreadable_nested: set[str] = field(default_factory=set)
    """Keys of nested stacks whose template is not in the assembly (an external ``TemplateURL``)."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AssemblyError(f"{path} does not exist") from exc
    except IsADirectoryError as exc:
        raise AssemblyError(f"{path} is a directory, not a JSON file") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AssemblyError(f"{path} is not readable JSON: {exc}") from exc


def _template(path: Path) -> dict[str, Any]:
    template = _read_json(path)
    if not isinstance(template, dict) or not isinstance(template.get("Resources", {}), dict):
        raise AssemblyError(f"{path} is not a CloudFormation template (no Resources object)")
    return template


def _stacks(directory: Path) -> Iterator[tuple[str, str, Path]]:
    """(stack name, environment, template path) of every stack of an assembly and its Stages."""
    manifest_path = directory / "manifest.json"
    manifest = _read_json(manifest_path)
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        raise AssemblyError(f"{manifest_path} has no artifacts object: not a cloud assembly manifest")
    for artifact_id, artifact in sorted(artifacts.items()):
        if not isinstance(artifact, dict):
            raise AssemblyError(f"{manifest_path}: artifact {artifact_id} is not an object")
        props = artifact.get("properties") or {}
        if artifact.get("type") == STACK_ARTIFACT:
            if not isinstance(props.get("templateFile"), str):
                raise AssemblyError(f"{manifest_path}: stack {artifact_id} names no templateFile")
            name = props.get("stackName") or artifact_id  # the CDK default: the artifact id
            yield name, artifact.get("environment", ""), directory / props["templateFile"]
        elif artifact.get("type") == NESTED_ASSEMBLY:
            if not isinstance(props.get("directoryName"), str):
                raise AssemblyError(f"{manifest_path}: nested assembly {artifact_id} names no directoryName")
            yield from _stacks(directory / props["directoryName"])


def _asset_sources(directory: Path) -> dict[str, str]:
    """Asset hash -> source path, from every asset manifest of the directory."""
    sources: dict[str, str] = {}
    for manifest in sorted(directory.glob("*.assets.json")):
        files = (_read_json(manifest) or {}).get("files") or {}
        for asset_hash, entry in files.items():
            path = (entry.get("source") or {}).get("path") if isinstance(entry, dict) else None
            if isinstance(path, str):
                sources[asset_hash] = path
    return sources


def _url_tail(url: Any) -> str | None:
    """The last literal segment of a ``TemplateURL`` (a string or an ``Fn::Join``)."""
    if isinstance(url, str):
        return url.rsplit("/", 1)[-1]
    if isinstance(url, dict) and isinstance(url.get("Fn::Join"), list) and len(url["Fn::Join"]) == 2:
        parts = url["Fn::Join"][1]
        if isinstance(parts, list) and parts and isinstance(parts[-1], str):
            return parts[-1].rsplit("/", 1)[-1]
    return None


def nested_template_path(resource: dict[str, Any], directory: Path, assets: dict[str, str]) -> Path | None:
    """Where the assembly holds the template of a nested stack resource, or None."""
    metadata = resource.get("Metadata") or {}
    if metadata.get("aws:asset:property") == "TemplateURL" and isinstance(
        metadata.get("aws:asset:path"), str
    ):
        return directory / metadata["aws:asset:path"]
    tail = _url_tail((resource.get("Properties") or {}).get("TemplateURL"))
    if tail:
        source = assets.get(tail.removesuffix(".json"))
        if source:
            return directory / source
    return None


def read_assembly(directory: str | os.PathLike[str]) -> Assembly:
    """Every template of the cloud assembly in ``directory``; raises :class:`AssemblyError`."""
    root = Path(directory)
    if not root.exists():
        raise AssemblyError(f"{root} does not exist")
    if not root.is_dir():
        raise AssemblyError(f"{root} is not a directory")
    found = list(_stacks(root))
    names = [name for name, _, _ in found]
    assembly = Assembly(root)
    for name, env, path in found:
        key = name if names.count(name) == 1 else f"{name}@{env}"
        top = StackTemplate(key, name, env, _template(path))
        _add(assembly, top, path.parent)
    return assembly


def _add(assembly: Assembly, entry: StackTemplate, directory: Path) -> None:
    assembly.templates[entry.key] = entry
    assets: dict[str, str] | None = None
    for logical_id, resource in sorted(entry.resources.items()):
        if not isinstance(resource, dict) or resource.get("Type") != NESTED_STACK:
            continue
        if assets is None:
            assets = _asset_sources(directory)
        key = f"{entry.key}/{logical_id}"
        path = nested_template_path(resource, directory, assets)
        if path is None:
            assembly.unreadable_nested.add(key)
            continue
        nested = StackTemplate(
            key, entry.stack_name, entry.environment, _template(path), entry.key, logical_id
        )
        _add(assembly, nested, directory)


def stack_templates(directory: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Templates of a cloud assembly by key (see the module documentation)."""
    return {key: entry.template for key, entry in read_assembly(directory).templates.items()}
