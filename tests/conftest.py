"""Session-wide fixtures: each reference app is synthesized once per test session (synth is the costly step)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
# aws-cdk-lib's built-in CloudFormation validation (a WASM rules engine) costs ~3 s and ~340 MB per synthesis;
# the tests gate every template with cfn-lint and cdk-nag instead, which check more.
os.environ.setdefault("CDK_VALIDATION", "false")


@dataclass
class Synthesized:
    """A synthesized cloud assembly: its templates by stack name and cdk-nag's unacknowledged findings."""

    outdir: Path
    templates: dict[str, dict[str, Any]]
    nag_findings: list[str] = field(default_factory=list)
    app: Any = None

    def template(self, stack_name: str) -> dict[str, Any]:
        return self.templates[stack_name]

    def resources(self, stack_name: str, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.templates[stack_name]["Resources"].items() if v["Type"] == type_}


def synthesize(
    build: Callable[[Any], Any], outdir: Path, *, context: dict[str, Any] | None = None
) -> Synthesized:
    """Build an app with ``build(app)``, run cdk-nag AwsSolutions as a validation plugin, and synthesize once."""
    import aws_cdk as cdk

    from tests._gates import nag_synth

    app = cdk.App(outdir=str(outdir), context=context or {})
    build(app)
    result = nag_synth(app)
    manifest = json.loads((outdir / "manifest.json").read_text())
    templates = {}
    for artifact in manifest["artifacts"].values():
        if artifact.get("type") == "aws:cloudformation:stack":
            name = artifact.get("displayName") or artifact["properties"].get("stackName")
            templates[name] = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
    return Synthesized(
        outdir=outdir, templates=templates, nag_findings=[str(f) for f in result.findings], app=app
    )


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The reference app (stacks.build), synthesized once."""
    from stacks import build

    return synthesize(build, tmp_path_factory.mktemp("reference"))


@pytest.fixture
def snapshot_json(snapshot):
    """syrupy's snapshot, stored as JSON."""
    from syrupy.extensions.json import JSONSnapshotExtension

    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.fixture(scope="session")
def reference_karpenter(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The reference app with ``capacity_engine=karpenter`` (NodePools instead of GPU/NVMe node groups), once."""
    from stacks import build

    return synthesize(
        build,
        tmp_path_factory.mktemp("reference-karpenter"),
        context={"eks-ai-data:capacity_engine": "karpenter"},
    )
