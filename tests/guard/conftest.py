"""The guard's test app, each variant synthesized at most once per session (lazily)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from guard_apps import VARIANTS, build


@pytest.fixture(scope="session")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Variant name -> cloud assembly directory."""
    root = tmp_path_factory.mktemp("guard-apps")
    built: dict[str, Path] = {}

    def get(variant: str) -> Path:
        assert variant in VARIANTS, variant
        if variant not in built:
            build(root / variant, variant)
            built[variant] = root / variant
        return built[variant]

    return get


def logical_ids(template: dict) -> dict[str, str]:
    """Construct path (below the stack) -> logical id, from the ``aws:cdk:path`` metadata."""
    found = {}
    for lid, resource in template["Resources"].items():
        path = (resource.get("Metadata") or {}).get("aws:cdk:path")
        if path:
            found[path.split("/", 1)[1]] = lid
    return found


def template_file(assembly: Path, stack: str) -> Path:
    """The template file of a top-level stack (by stack name) in an assembly or its Stages."""
    for manifest in [assembly / "manifest.json", *assembly.glob("assembly-*/manifest.json")]:
        for artifact_id, artifact in json.loads(manifest.read_text())["artifacts"].items():
            props = artifact.get("properties") or {}
            if (
                artifact.get("type") == "aws:cloudformation:stack"
                and props.get("stackName", artifact_id) == stack
            ):
                return manifest.parent / props["templateFile"]
    raise KeyError(stack)
