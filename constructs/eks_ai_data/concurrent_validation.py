"""aws-cdk-lib's built-in CloudFormation validation, with its engine started when the app starts.

aws-cdk-lib validates every synthesized template with the engine it bundles (``@aws/cloudformation-validate``,
WebAssembly) unless ``CDK_VALIDATION=false`` (aws-cdk-lib ``core/lib/private/synthesis-validation.ts``). The
engine is built inside ``app.synth()``, in the jsii kernel's one thread: about 5 s of a synthesis on a 2-core
machine, whatever the app builds, and the kernel's peak memory with it (``make bench``: the one-bucket floor
takes 9.4 s with it, 4.2 s without). A Python app spends those seconds waiting.

:func:`app` returns a ``cdk.App`` on which the same engine, with the same rules and the same options, runs in a
Node.js process of its own, started at once, so that its start-up runs on another core while Python builds the
construct tree; at synthesis the templates are validated there. The findings are reported under the built-in
plugin's name, ``CloudFormation Validate``, so aws-cdk-lib treats them exactly as its own: the same
``validation-report.json``, the same errors-as-warnings rule unless ``@aws-cdk/core:validateAgainstDefaultRules``
is set, the same acknowledgments (``Validations.of(c).acknowledge("CloudFormation-Validate::<rule>")``).
``tests/test_concurrent_validation.py`` compares the two reports on templates with findings.

It changes nothing when validation is off (``CDK_VALIDATION=false``, ``cdk synth --no-validation``, ``"validation":
false`` in cdk.json): the app is a plain ``cdk.App`` then, and no process is started. When the engine cannot be
prepared (an aws-cdk-lib package without the engine, an unwritable cache), it falls back to the built-in plugin
and says so on stderr: validation is never skipped.

A template whose bytes, file name and options are those of a template validated before, with the same engine, is
not validated again: its diagnostics are read from a cache (:mod:`eks_ai_data._validation_cache`;
``EKS_AI_DATA_VALIDATION_CACHE=off`` turns it off). The report is the one the engine would give.

The engine is read from the aws-cdk-lib package the app runs (the ``.jsii.tgz`` in the ``aws_cdk`` Python
package) and kept, once extracted, under ``$XDG_CACHE_HOME/eks-ai-data`` (``~/.cache/eks-ai-data``), keyed by
the package's version, size and modification time.
"""

from __future__ import annotations

import atexit
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

from ._validation_cache import ResultCache

#: aws-cdk-lib ``CloudFormationValidatePlugin.PLUGIN_NAME``. aws-cdk-lib recognizes the built-in plugin's report by
#: this name (it downgrades its errors to warnings) and derives the acknowledgment namespace from it.
PLUGIN_NAME = "CloudFormation Validate"
#: aws-cdk-lib ``cloudformation-validate-plugin.ts`` IGNORE_RULES: rules the built-in plugin never reports.
IGNORED_RULES: tuple[str, ...] = ("W3005", "W1020", "E1018", "W9002", "W9013", "W1103")
#: ... and the one rule it skips for one service (W3697 on AWS::AutoScaling).
EXCLUDED_SERVICES: tuple[Mapping[str, str], ...] = ({"ruleId": "W3697", "service": "AWS::AutoScaling"},)
#: The severities the built-in plugin lists in ``ruleIds`` (it leaves INFO and DEBUG rules out).
_LISTED = ("FATAL", "ERROR", "WARN")
#: The engine's severities as the plugin reports them (``mapSeverity``).
_SEVERITY = {"FATAL": "error", "ERROR": "error", "WARN": "warning", "INFO": "informational", "DEBUG": "debug"}
#: What aws-cdk-lib reads from its package: the engine and the rules it adds to the engine's own.
_MEMBERS = ("package/node_modules/@aws/cloudformation-validate/", "package/core/lib/validation/rules/")
_WORKER = Path(__file__).with_name("cfn_validate_worker.js")
# V8 without its background threads (concurrent marking and sweeping, background compilation). The engine's
# start-up is one long WebAssembly run that allocates as it goes; with those threads V8 spends about 3 s more CPU
# on it than without, on the cores the app needs, and takes longer in wall time too (measured on this 2-core
# machine, engine built and the largest reference template validated: 4.3 s wall and 6.1 s CPU with them, 2.9 s
# and 2.9 s without, the same 293 MB peak and the same findings). It has to be given on the command line:
# V8 reads it when it creates its platform threads, before any script runs.
_WORKER_V8_FLAGS = ("--single-threaded",)
#: How much lower the worker's scheduling priority is than the app's (``nice``, at most 19). It builds the engine while the app builds its construct tree, on the
#: core the app (Python and the jsii kernel, which take turns) leaves idle; on a 2-core machine the CDK CLI, the
#: jsii kernel's relay and the app still ask for both at times. Lower priority lets them go first: `cdk synth` of
#: the reference app, 6 interleaved rounds, medians 4.03 s at the default priority, 3.93 s at 10, 3.92 s at 19.
#: The engine is ready long before the templates are, and when the app waits for it, the app leaves the core to it.
WORKER_NICENESS = 10


def validation_enabled() -> bool:
    """Whether aws-cdk-lib would run its built-in validation: unless ``CDK_VALIDATION`` is ``false`` (the CLI
    sets it for ``--no-validation`` and cdk.json ``"validation": false``)."""
    return os.environ.get("CDK_VALIDATION") != "false"


def validate_options(account_id: str | None, region: str | None) -> dict[str, Any]:
    """The options the built-in plugin passes to ``validateTemplate`` for one stack."""
    pseudo = {k: v for k, v in (("accountId", account_id), ("region", region)) if v is not None}
    return {
        "detailLevel": "STANDARD",
        "pseudoParameterOverrides": pseudo,
        "exclude": {"ids": list(IGNORED_RULES), "services": [dict(s) for s in EXCLUDED_SERVICES]},
        "severityLevel": "WARN",
    }


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "eks-ai-data"


def engine_package(cache_root: Path | None = None) -> Path:
    """The folder holding the engine and rules of the installed aws-cdk-lib, extracted on first use.

    Raises ``OSError`` (or ``tarfile.TarError``) when it cannot be prepared.
    """
    version = importlib.metadata.version("aws-cdk-lib")
    tarball = Path(cdk.__file__).parent / "_jsii" / f"aws-cdk-lib@{version}.jsii.tgz"
    stat = tarball.stat()
    root = (
        cache_root or _cache_root()
    ) / f"cloudformation-validate-{version}-{stat.st_size}-{stat.st_mtime_ns}"
    if (root / "node_modules" / "@aws" / "cloudformation-validate" / "package.json").is_file():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=root.parent))
    try:
        with tarfile.open(tarball) as archive:
            members = [m for m in archive if m.name.startswith(_MEMBERS) and (m.isfile() or m.isdir())]
            archive.extractall(staging, members=members, filter="data")
        os.replace(staging / "package", root)  # atomic: a concurrent app sees all of it or none
    except OSError:
        if not root.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


class _Worker:
    """The engine's process and the one line-per-message conversation with it."""

    def __init__(self, package: Path) -> None:
        node = os.environ.get("JSII_NODE", "node")  # the Node.js that runs the jsii kernel
        self._process = subprocess.Popen(  # noqa: S603 - our own script, our own arguments
            [node, *_WORKER_V8_FLAGS, str(_WORKER), str(package)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        if hasattr(
            os, "setpriority"
        ):  # Unix: the app's own work goes first when both want a core (WORKER_NICENESS)
            try:
                niceness = min(19, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS)
                os.setpriority(os.PRIO_PROCESS, self._process.pid, niceness)
            except OSError:  # the worker has already exited: its error is read as its first message
                pass
        self._lock = threading.Lock()
        self._hello: dict[str, Any] | None = None
        # waited for at exit, so that it ends with the app and its time counts as the app's (getrusage/wait4)
        atexit.register(self.stop)

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the CloudFormation validation engine exited (code {self._process.poll()})")
        message: dict[str, Any] = json.loads(line)
        if "error" in message:
            raise RuntimeError(f"the CloudFormation validation engine failed: {message['error']}")
        return message

    def hello(self) -> dict[str, Any]:
        with self._lock:
            if self._hello is None:
                self._hello = self._read()
            return self._hello

    def validate(self, template_path: str, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.hello()
        with self._lock:
            assert self._process.stdin is not None
            self._process.stdin.write(json.dumps({"templatePath": template_path, "options": options}) + "\n")
            self._process.stdin.flush()
            diagnostics: list[dict[str, Any]] = self._read()["diagnostics"]
            return diagnostics

    def exited(self) -> bool:
        return self._process.poll() is not None

    def stop(self) -> None:
        if self._process.poll() is not None:
            return
        if (
            self._hello is None
        ):  # nothing asked of it yet (the app failed or never synthesized): no need to wait
            self._process.kill()
        else:
            assert self._process.stdin is not None
            self._process.stdin.close()  # it exits when its input ends
            try:
                self._process.wait(timeout=10)
                return
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process.wait()


def violations(found: Sequence[tuple[str, str, Sequence[Mapping[str, Any]]]]) -> list[dict[str, Any]]:
    """The engine's diagnostics, per stack ``(construct path, template path, diagnostics)``, as the built-in plugin
    reports them (``validate``): one violation per rule, severity and description across all the stacks, listing
    every resource it was found on."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for stack_path, template_path, diagnostics in found:
        for d in diagnostics:
            severity = _SEVERITY.get(d["severity"], "warning")
            logical_id = d.get("logicalId") if d.get("entityType") == "Resource" else None
            property_path = d.get("propertyPath")
            resource: dict[str, Any] = {
                "template_path": template_path,
                "locations": [property_path] if property_path else [],
            }
            if logical_id:
                resource["resource_logical_id"] = logical_id
            else:
                resource["construct_path"] = stack_path
            prefix = property_path.removeprefix("Properties.") + ": " if property_path else ""
            description = prefix + d["message"]
            key = (d["ruleId"], severity, description)
            if key in merged:
                merged[key]["violating_resources"].append(resource)
                continue
            violation: dict[str, Any] = {
                "rule_name": d["ruleId"],
                "description": description,
                "severity": severity,
                "violating_resources": [resource],
            }
            if d.get("suggestedFix"):
                violation["fix"] = d["suggestedFix"]
            if d.get("category"):
                violation["rule_metadata"] = {"category": d["category"]}
            merged[key] = violation
    return list(merged.values())


_WORKERS: dict[Path, _Worker] = {}
_WORKERS_LOCK = threading.Lock()


def _shared_worker(package: Path) -> _Worker:
    """One engine process per Python process (as aws-cdk-lib keeps one plugin instance per kernel): the engine
    keeps no state between templates, and an app that builds several ``App`` objects (tests) starts it once."""
    with _WORKERS_LOCK:
        worker = _WORKERS.get(package)
        if worker is None or worker.exited():
            worker = _WORKERS[package] = _Worker(package)
        return worker


@jsii.implements(cdk.IPolicyValidationPlugin)
class ConcurrentCloudFormationValidation:
    """The built-in CloudFormation validation as a validation plugin whose engine runs in its own process.

    Use :func:`app` rather than this class: the built-in plugin must be turned off on the same app.

    :param package: the folder of :func:`engine_package`.
    """

    def __init__(self, package: Path) -> None:
        self._worker = _shared_worker(package)
        self._cache = ResultCache.open(_cache_root(), package.name, _WORKER.read_bytes())

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    def _engine(self) -> dict[str, Any]:
        """The engine's first message (version, rules): kept from an earlier run, or the worker's."""
        hello = self._cache.engine() if self._cache else None
        if hello is None:
            hello = self._worker.hello()
            if self._cache:
                self._cache.put_engine(hello)
        return hello

    @property
    def version(self) -> str:
        return str(self._engine()["version"])

    @property
    def rule_ids(self) -> list[str]:
        rules = self._engine()["rules"]
        return [r["id"] for r in rules if r["id"] not in IGNORED_RULES and r["severity"] in _LISTED]

    def _diagnostics(self, template_path: str, options: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The engine's diagnostics for one template: kept for the same bytes, name and options, or the worker's."""
        if self._cache is None:
            return self._worker.validate(template_path, options)
        path = Path(template_path)
        key = self._cache.key(path.name, path.read_bytes(), options)
        diagnostics = self._cache.get(key)
        if diagnostics is None:
            diagnostics = self._worker.validate(template_path, options)
            self._cache.put(key, diagnostics)
        return diagnostics

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        found = violations(
            [
                (
                    stack.stack_construct_path,
                    stack.template_path,
                    self._diagnostics(stack.template_path, validate_options(stack.account_id, stack.region)),
                )
                for stack in context.stack_templates
            ]
        )
        report = [
            cdk.PolicyViolation(
                rule_name=f["rule_name"],
                description=f["description"],
                severity=f["severity"],
                fix=f.get("fix"),
                rule_metadata=f.get("rule_metadata"),
                violating_resources=[cdk.PolicyViolatingResource(**r) for r in f["violating_resources"]],
            )
            for f in found
        ]
        return cdk.PolicyValidationPluginReport(
            success=all(f["severity"] not in ("error", "fatal") for f in found), violations=report
        )

    def stop(self) -> None:
        """End the engine's process (done at the interpreter's exit otherwise); the next plugin starts another."""
        self._worker.stop()


def app(**props: Any) -> cdk.App:
    """A ``cdk.App`` (``props`` as for ``cdk.App``) whose built-in CloudFormation validation runs concurrently.

    Call it before importing and building the rest of the app, so that the engine starts first. With validation
    off it is ``cdk.App(**props)``.
    """
    if not validation_enabled() or props.get("builtin_cloud_formation_validation") is False:
        return cdk.App(**props)
    try:
        plugin = ConcurrentCloudFormationValidation(engine_package())
    except (OSError, tarfile.TarError) as error:
        print(
            f"eks-ai-data: CloudFormation validation runs in the jsii kernel (the engine could not be prepared: {error})",
            file=sys.stderr,
        )
        return cdk.App(**props)
    application = cdk.App(**{**props, "builtin_cloud_formation_validation": False})
    cdk.Validations.of(application).add_plugins(plugin)
    return application
