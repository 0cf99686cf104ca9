"""The concurrent CloudFormation validation reports what aws-cdk-lib's built-in plugin reports, and only runs when
the built-in one would.

The findings app (tests/fixtures/validation_findings/app.py) has, in two stacks, a schema enum error, an unknown
property, a dangling Fn::GetAtt, aws-cdk-lib's own rego rule (CDK-GameLift-001), a finding the built-in plugin
ignores (W1020) and one acknowledged finding. It is synthesized with each plugin, as warnings (the default) and with
``@aws-cdk/core:validateAgainstDefaultRules`` (errors fail the synthesis), in one subprocess per plugin (the
built-in plugin is on only without CDK_VALIDATION=false, which the test session sets).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from eks_ai_data import concurrent_validation as cv

pytestmark = pytest.mark.heavy

APP = Path(__file__).parent / "fixtures" / "validation_findings" / "app.py"
ROOT = Path(__file__).resolve().parent.parent
MODES = ("builtin", "concurrent")


def _synth(mode: str, folder: Path, node: Path) -> dict[bool, dict[str, Any]]:
    """Synthesize the findings app with ``mode``'s plugin, as warnings and then strict, in one process whose jsii
    kernel runs on ``node``; per ``strict``: whether that synthesis failed, its validation report, and the report as
    printed."""
    outdirs = {strict: folder / ("strict" if strict else "warnings") for strict in (False, True)}
    for outdir in outdirs.values():
        outdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CDK_VALIDATION"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "constructs"), env.get("PYTHONPATH", "")])
    env["JSII_NODE"] = str(node)  # jsii/_kernel/providers/process.py starts the kernel with it
    # a cache of this run's own: the warnings run validates every template, the strict run (the same templates)
    # reads their results from it (eks_ai_data._validation_cache)
    env["EKS_AI_DATA_VALIDATION_CACHE"] = str(folder / "results")
    args = [sys.executable, str(APP), mode, str(outdirs[False]), str(outdirs[True])]
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=folder, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    # the reports as printed: the finding lines, without Python's traceback. The warnings run's report ends with
    # the line naming its copy (the strict run names it in the error it raises); that path is this run's.
    printed = [
        line
        for line in done.stderr.splitlines()
        if re.match(r"(ERROR |WARNING |A copy of this report|   \S)", line)
    ]
    ends = [i for i, line in enumerate(printed) if line.startswith("A copy of this report")]
    assert ends, done.stderr
    split = {False: printed[: ends[0] + 1], True: printed[ends[0] + 1 :]}
    runs = {}
    for strict, outdir in outdirs.items():
        report_file = outdir / "validation-report.json"
        runs[strict] = {
            "failed": json.loads((outdir / "outcome.json").read_text())["failed"],
            "report": json.loads(report_file.read_text()) if report_file.is_file() else None,
            "printed": [
                re.sub(r"(A copy of this report can be found in: ).*", r"\1OUT", line)
                for line in split[strict]
            ],
            "stderr": done.stderr,
            "folder": str(folder),
        }
    return runs


def _single_threaded_node(folder: Path) -> Path:
    """A ``node`` that starts V8 without its background threads (``--single-threaded``), for the apps' jsii kernels.

    The built-in plugin builds its engine in the kernel; with V8's concurrent marking and compilation threads that
    costs 6.0 s of CPU on this 2-core machine, without them 3.4 s, with the same report (the flag changes how V8
    schedules its work, not what the engine computes). The test compares the two plugins' reports, so both
    kernels run on this node.
    """
    node = os.environ.get("JSII_NODE") or shutil.which("node") or "node"
    wrapper = folder / "node"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(node)} --single-threaded "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], dict[str, Any]]:
    node = _single_threaded_node(tmp_path_factory.mktemp("node"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {mode: pool.submit(_synth, mode, tmp_path_factory.mktemp(mode), node) for mode in MODES}
        return {
            (mode, strict): run for mode, future in futures.items() for strict, run in future.result().items()
        }


@pytest.mark.parametrize("strict", [False, True], ids=["warnings", "strict"])
def test_the_concurrent_plugin_reports_what_the_builtin_plugin_reports(runs, strict) -> None:
    builtin, concurrent = runs[("builtin", strict)], runs[("concurrent", strict)]
    assert builtin["report"] is not None, builtin["stderr"]
    assert concurrent["report"] == builtin["report"]
    assert concurrent["printed"] == builtin["printed"]
    assert concurrent["failed"] == builtin["failed"]


def test_the_strict_run_reads_the_warnings_runs_results_from_the_cache(runs, tmp_path_factory) -> None:
    """The comparison above covers both paths of the concurrent plugin: the warnings run's templates are validated
    by the engine, the strict run's (the same bytes) come from the results cache, and both reports equal the
    built-in plugin's."""
    (folder,) = {Path(run["folder"]) for key, run in runs.items() if key[0] == "concurrent"}
    entries = sorted(p.name for p in (folder / "results").glob("*.json"))
    assert len([e for e in entries if not e.startswith("engine-")]) == 2  # First and Second, once each
    assert len([e for e in entries if e.startswith("engine-")]) == 1
    for stack in ("First", "Second"):
        assert (folder / "warnings" / f"{stack}.template.json").read_bytes() == (
            folder / "strict" / f"{stack}.template.json"
        ).read_bytes()


def _findings(report: dict[str, Any]) -> dict[str, set[str]]:
    (plugin,) = report["pluginReports"]
    assert plugin["pluginName"] == cv.PLUGIN_NAME
    return {
        v["ruleName"]: {c["constructPath"] for c in v["violatingConstructs"]} | {v["severity"]}
        for v in plugin["violations"]
    }


def test_the_findings_are_the_ones_the_app_plants(runs) -> None:
    """The comparison above is not between two empty reports: every planted finding is there, in both stacks,
    except the one the built-in plugin ignores and the one the app acknowledges."""
    findings = _findings(runs[("concurrent", False)]["report"])
    assert findings["CDK-GameLift-001"] >= {"First/Fleet", "Second/Fleet"}
    assert findings["F3002"] >= {"First/Bucket", "Second/Bucket"}
    assert findings["W3030"] >= {"First/Bucket", "Second/Bucket", "warning"}
    assert "W1020" not in findings  # IGNORED_RULES
    assert "Second/Queue" not in findings["F1020"]  # acknowledged there
    assert "First/Queue" in findings["F1020"]


def test_errors_fail_the_synthesis_only_under_the_strict_flag(runs) -> None:
    assert not runs[("concurrent", False)]["failed"]
    assert runs[("concurrent", True)]["failed"]
    strict = _findings(runs[("concurrent", True)]["report"])
    assert "error" in strict["F3002"]
    assert "warning" in strict["W3030"]


def test_the_rule_ids_are_the_engines_listed_rules_without_the_ignored_ones() -> None:
    plugin = cv.ConcurrentCloudFormationValidation(cv.engine_package())
    try:
        ids = plugin.rule_ids
        assert plugin.version.count(".") == 2
    finally:
        plugin.stop()
    assert {"F3002", "F1020", "W3030"} <= set(ids)
    assert not set(ids) & set(cv.IGNORED_RULES)


def test_with_validation_off_no_engine_starts(monkeypatch) -> None:
    monkeypatch.setenv("CDK_VALIDATION", "false")

    def no_worker(*_: Any, **__: Any) -> None:
        raise AssertionError("an engine was started with CDK_VALIDATION=false")

    monkeypatch.setattr(cv, "_Worker", no_worker)
    import aws_cdk as cdk

    assert isinstance(cv.app(), cdk.App)
    monkeypatch.delenv("CDK_VALIDATION")
    assert isinstance(cv.app(builtin_cloud_formation_validation=False), cdk.App)


def test_an_engine_that_cannot_be_prepared_leaves_the_builtin_plugin_on(monkeypatch, capsys) -> None:
    monkeypatch.delenv("CDK_VALIDATION", raising=False)

    def unwritable() -> Path:
        raise PermissionError(13, "Permission denied", "/nowhere")

    monkeypatch.setattr(cv, "engine_package", unwritable)
    monkeypatch.setattr(cv, "_Worker", lambda *_: pytest.fail("no engine to start"))
    app = cv.app()
    assert app.node.try_get_context("x") is None  # a working app
    assert "runs in the jsii kernel" in capsys.readouterr().err


def test_the_engine_is_extracted_once_from_the_installed_aws_cdk_lib(tmp_path) -> None:
    first = cv.engine_package(tmp_path)
    package = json.loads(
        (first / "node_modules" / "@aws" / "cloudformation-validate" / "package.json").read_text()
    )
    assert package["name"] == "@aws/cloudformation-validate"
    assert sorted(p.name for p in (first / "core" / "lib" / "validation" / "rules").iterdir())
    marker = first / "node_modules" / "@aws" / "cloudformation-validate" / "package.json"
    before = marker.stat().st_mtime_ns
    assert cv.engine_package(tmp_path) == first
    assert marker.stat().st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no staging folder left behind


def test_a_truncated_package_is_an_error_not_a_half_extracted_engine(tmp_path, monkeypatch) -> None:
    broken = tmp_path / "aws_cdk" / "_jsii"
    broken.mkdir(parents=True)
    import importlib.metadata

    version = importlib.metadata.version("aws-cdk-lib")
    (broken / f"aws-cdk-lib@{version}.jsii.tgz").write_bytes(b"\x1f\x8b not a tarball")
    monkeypatch.setattr(cv.cdk, "__file__", str(tmp_path / "aws_cdk" / "__init__.py"))
    with pytest.raises((OSError, tarfile.TarError)):
        cv.engine_package(tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("cloudformation-validate-*"))


def test_findings_merge_across_stacks_as_the_builtin_plugin_merges_them() -> None:
    finding = {"ruleId": "E1", "severity": "ERROR", "message": "bad", "propertyPath": "Properties.A"}
    merged = cv.violations(
        [
            ("S1", "S1.template.json", [{**finding, "entityType": "Resource", "logicalId": "R1"}]),
            ("S2", "S2.template.json", [{**finding, "entityType": "Resource", "logicalId": "R2"}]),
            ("S2", "S2.template.json", [{"ruleId": "W9", "severity": "WARN", "message": "stack-wide"}]),
        ]
    )
    assert [(v["rule_name"], v["severity"], v["description"]) for v in merged] == [
        ("E1", "error", "A: bad"),
        ("W9", "warning", "stack-wide"),
    ]
    assert [r.get("resource_logical_id") for r in merged[0]["violating_resources"]] == ["R1", "R2"]
    assert merged[1]["violating_resources"] == [
        {"template_path": "S2.template.json", "locations": [], "construct_path": "S2"}
    ]


def test_apps_of_one_process_share_one_engine() -> None:
    package = cv.engine_package()
    first, second = (
        cv.ConcurrentCloudFormationValidation(package),
        cv.ConcurrentCloudFormationValidation(package),
    )
    try:
        assert first._worker is second._worker
        first.stop()
        third = cv.ConcurrentCloudFormationValidation(package)
        assert third._worker is not first._worker and not third._worker.exited()
    finally:
        for plugin in (first, second):
            plugin.stop()
        third.stop()


def test_the_engine_runs_at_a_lower_priority_than_the_app() -> None:
    plugin = cv.ConcurrentCloudFormationValidation(cv.engine_package())
    try:
        app = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, plugin._worker._process.pid) == min(
            19, app + cv.WORKER_NICENESS
        )
        assert plugin._worker.hello()["ready"] is True
    finally:
        plugin.stop()


def test_the_engine_runs_without_v8_background_threads() -> None:
    # --single-threaded only takes effect on node's command line (set from the script, V8 aborts in its garbage
    # collector): the worker's process must be started with it, before its script. Its effect is measured in
    # `make bench`.
    plugin = cv.ConcurrentCloudFormationValidation(cv.engine_package())
    try:
        argv = [str(a) for a in plugin._worker._process.args]
        assert "--single-threaded" in argv[1 : argv.index(str(cv._WORKER))]
        assert plugin._worker.hello()["ready"] is True
    finally:
        plugin.stop()
