"""Session-wide fixtures: each reference app is synthesized once per test session (synth is the costly step)."""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
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
# Apps built in the test processes do not copy their assets into their output directories: aws-cdk-lib reads the
# context of every App from CDK_CONTEXT_JSON (the way the CDK CLI hands its context to an app), and
# `aws:cdk:disable-asset-staging` (what `cdk synth --no-staging` sets) leaves each asset where it is. Templates do
# not change: an asset's hash, and so its S3 key, is computed from its source either way (aws-cdk-lib
# core/lib/asset-staging.ts). Staging copies the kubectl and AWS CLI layers, 57 MB, into a new temporary directory
# for every App with a cluster (the cache key includes the output directory): about 14 GB written per run, and the
# suite's system time fell from 46 s to 22 s without it. Apps the CDK CLI runs (`make synth`, the bench) get the
# CLI's own context and stage as usual.
os.environ.setdefault("CDK_CONTEXT_JSON", json.dumps({"aws:cdk:disable-asset-staging": True}))


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Run the files marked ``heavy`` first (the order is otherwise kept, and every worker sorts alike).

    pytest-xdist's ``--dist loadfile`` hands files to the workers in collection order, one at a time as they finish.
    A file that takes ten seconds on its own (checkov, the validation comparison, the CDK CLI's diffs) collected
    last keeps one worker busy while the other has nothing left: the longest tasks first leave only short ones for
    the end.
    """
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


def _end_worker_process() -> None:
    """The last ``atexit`` handler of a pytest-xdist worker: end the process without the interpreter's teardown.

    By then the worker has sent its last report to the controller and every other handler has run (atexit runs
    them last-registered first, and this one is registered when pytest configures this plugin, before any test
    module starts the jsii kernel and registers the handler that stops it). What is left is CPython's finalization
    of about a million objects and every imported module, which the controller waits for (0.9 s from a worker's
    last handler to the controller's end on a four-file run, 0.06 s without it): the same teardown
    :func:`eks_ai_data.app_exit.exit_after_synth` skips for an app.
    """
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(0)


def pytest_configure(config: pytest.Config) -> None:
    # Hooks, not module-level code: test modules import this module again as ``tests.conftest`` (a second module
    # object), and a second atexit registration, made after jsii's, would run before jsii has stopped its kernel.
    #
    # Garbage collection in the test processes. A worker holds about a million objects by the end of a run
    # (aws-cdk-lib's Python modules, cfn-lint's schemas, moto's models, jsii's proxies). CPython collects its oldest
    # generation whenever it has grown by a quarter since the last full collection (Modules/gcmodule.c), and each
    # full collection walks all of it: 18 or 19 per worker and run, about 0.45 s each, 8.4 s of each worker's CPU
    # (measured with gc.callbacks). Young objects are still collected as usual (generations 0 and 1 keep their
    # thresholds); the oldest generation is collected once, by pytest at the end of the session, and without what
    # was alive after collection (gc.freeze, pytest_collection_finish). A worker's peak memory stays under 1 GB.
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        atexit.register(_end_worker_process)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Modules, fixtures and collected items live as long as the session: leave them out of later collections."""
    gc.collect()
    gc.freeze()


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

    def exports(self) -> dict[str, tuple[str, Any]]:
        """Export name -> (exporting stack, exported value), over every stack of the assembly."""
        found = {}
        for name, template in self.templates.items():
            for output in template.get("Outputs", {}).values():
                if "Export" in output:
                    found[output["Export"]["Name"]] = (name, output["Value"])
        return found

    def unimport(self, value: Any) -> Any:
        """``value`` with each ``Fn::ImportValue`` of an export of this assembly replaced by the exported value
        (an expression in the exporting stack's logical ids): what a cross-stack reference points at."""
        exports = self.exports()

        def walk(node: Any) -> Any:
            if isinstance(node, list):
                return [walk(v) for v in node]
            if isinstance(node, dict):
                if set(node) == {"Fn::ImportValue"} and node["Fn::ImportValue"] in exports:
                    return walk(exports[node["Fn::ImportValue"]][1])
                return {k: walk(v) for k, v in node.items()}
            return node

        return walk(value)


def synthesize(
    build: Callable[[Any], Any], outdir: Path, *, context: dict[str, Any] | None = None
) -> Synthesized:
    """Build an app with ``build(app)``, run cdk-nag AwsSolutions as a validation plugin, and synthesize once."""
    import aws_cdk as cdk

    from tests._gates import nag_synth

    app = cdk.App(outdir=str(outdir), context=context or {})
    build(app)
    result = nag_synth(app)
    return _read_assembly(outdir, [str(f) for f in result.findings], app)


def _read_assembly(outdir: Path, nag_findings: list[str], app: Any = None) -> Synthesized:
    manifest = json.loads((outdir / "manifest.json").read_text())
    templates = {}
    for artifact in manifest["artifacts"].values():
        if artifact.get("type") == "aws:cloudformation:stack":
            name = artifact.get("displayName") or artifact["properties"].get("stackName")
            templates[name] = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
    return Synthesized(outdir=outdir, templates=templates, nag_findings=nag_findings, app=app)


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run that all its pytest-xdist workers share."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # pytest-of-<user>/pytest-N/: one per run, shared by its workers
    return root


@pytest.fixture(scope="session", autouse=True)
def _lint_once_per_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests._gates import share_lint_results

    share_lint_results(run_folder(tmp_path_factory) / "cfn-lint")


def synthesize_shared(
    name: str,
    build: Callable[[Any], Any],
    tmp_path_factory: pytest.TempPathFactory,
    *,
    context: dict[str, Any] | None = None,
) -> Synthesized:
    """:func:`synthesize` once per test run, whatever the number of pytest-xdist workers.

    The first worker to ask synthesizes into a folder all workers share (the parent of each worker's base
    temporary directory) while holding a lock; the others wait for the lock and read the finished assembly and
    findings from there. The assembly is read-only to its users. ``app`` (the live construct tree) exists only
    in the worker that synthesized it: a test that needs the tree uses :func:`synthesize` on its own.
    """
    import fcntl

    root = run_folder(tmp_path_factory)
    outdir = root / f"shared-{name}"
    findings = root / f"shared-{name}.nag.json"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if synthesis raises
        if findings.exists():
            return _read_assembly(outdir, json.loads(findings.read_text()))
        synthesized = synthesize(build, outdir, context=context)
        findings.write_text(json.dumps(synthesized.nag_findings))
        return synthesized


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The reference app (stacks.build), synthesized once per test run."""
    from stacks import build

    return synthesize_shared("reference", build, tmp_path_factory)


CDK_INIT_CDK_JSON = Path(__file__).with_name("fixtures") / "cdk_init" / "cdk.json"


def cdk_init_context() -> dict[str, Any]:
    """The context (feature flags) ``cdk init app --language python`` writes for the pinned CLI."""
    return json.loads(CDK_INIT_CDK_JSON.read_text())["context"]


@pytest.fixture(scope="session")
def reference_cdk_init(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The reference app under the feature flags a new project gets from ``cdk init``, synthesized once."""
    from stacks import build

    return synthesize_shared("reference-cdk-init", build, tmp_path_factory, context=cdk_init_context())


@pytest.fixture(scope="session")
def blue_green(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The reference app during a blue/green cluster replacement (``clusters=blue,green``), synthesized once."""
    from stacks import build

    context = {"eks-ai-data": {"clusters": ["blue", "green"]}}
    return synthesize_shared("blue-green", build, tmp_path_factory, context=context)


@pytest.fixture(scope="session")
def green_only(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The reference app after the cut-over (``clusters=green``), synthesized once."""
    from stacks import build

    context = {"eks-ai-data": {"clusters": ["green"]}}
    return synthesize_shared("green-only", build, tmp_path_factory, context=context)


@pytest.fixture
def snapshot_json(snapshot):
    """syrupy's snapshot, stored as JSON."""
    from syrupy.extensions.json import JSONSnapshotExtension

    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.fixture(scope="session")
def reference_karpenter(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The reference app with ``capacity_engine=karpenter`` (NodePools instead of GPU/NVMe node groups), once."""
    from stacks import build

    return synthesize_shared(
        "reference-karpenter", build, tmp_path_factory, context={"eks-ai-data:capacity_engine": "karpenter"}
    )
