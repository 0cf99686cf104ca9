"""Reusable test gates: template normalization, cfn-lint and cdk-nag (AwsSolutions, NIST 800-53 rev 5, HIPAA
Security).

Import as ``from tests._gates import ...`` (pytest's ``pythonpath = ["."]`` puts the project root on
``sys.path``; ``tests`` is a namespace package).

cdk-nag 3 runs as an aws-cdk-lib validation plugin. With a finding, ``app.synth()`` raises
``RuntimeError("ValidationFailed: ...")`` after writing the templates and ``validation-report.json`` into
the app's output directory; :func:`nag_synth` catches that, reads the report, and returns the findings.
Acknowledge a finding on a construct with
``Validations.of(construct).acknowledge(Acknowledgment(id="AwsSolutions-S1", reason="..."))``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HASH = re.compile(r"[0-9a-f]{64}")


def normalize_template(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``template`` without what changes between CDK versions and builds.

    Removes ``Parameters.BootstrapVersion``, ``Rules.CheckBootstrapVersion``, the ``CDKMetadata`` resource
    and its condition, and replaces asset hashes (64 hex characters, also inside S3 keys and image tags)
    with ``<asset-hash>``.
    """
    t = copy.deepcopy(template)
    for section, name in (
        ("Parameters", "BootstrapVersion"),
        ("Rules", "CheckBootstrapVersion"),
        ("Resources", "CDKMetadata"),
        ("Conditions", "CDKMetadataAvailable"),
    ):
        block = t.get(section)
        if isinstance(block, dict):
            block.pop(name, None)
            if not block:
                del t[section]

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, str):
            return _HASH.sub("<asset-hash>", value)
        return value

    return scrub(t)


@functools.cache
def _cfn_lint_runner(regions: tuple[str, ...]) -> Any:
    """One cfn-lint runner per set of regions and test process: ``cfnlint.api.lint`` would build a new one, and
    load and instantiate every rule again, on each call (about a second each). The cfn-lint command line lints
    all its templates with one runner the same way (cfnlint/runner/cli.py)."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=list(regions)))


#: Where :func:`cfn_lint_errors` keeps its results for the other test processes of the run (tests/conftest.py).
_shared_lint_results: Path | None = None


def share_lint_results(folder: Path) -> None:
    """Keep cfn-lint's results in ``folder``, shared by the run's pytest-xdist workers: a template linted once in
    the run (the same JSON text, the same regions, the same cfn-lint) is not linted again. Several fixtures
    synthesize identical templates (the data stacks under either capacity engine, before and after a swap), and
    one lint of a large template takes seconds."""
    global _shared_lint_results
    folder.mkdir(parents=True, exist_ok=True)
    _shared_lint_results = folder


def cfn_lint_errors(template: dict[str, Any], regions: Iterable[str] = ("us-east-1",)) -> list[str]:
    """cfn-lint matches of severity ``error`` as ``"<rule> <path>: <message>"`` (empty: the template passes)."""
    regions = tuple(regions)
    if _shared_lint_results is None:
        return _cfn_lint(template, regions)
    import fcntl
    import hashlib
    from importlib.metadata import version

    # the template's text as written (key order kept: cfn-lint reports in template order)
    text = json.dumps([template, regions, version("cfn-lint")])
    result = _shared_lint_results / f"{hashlib.sha256(text.encode()).hexdigest()}.json"
    with open(result.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker linting the same template finishes first
        if result.exists():
            errors: list[str] = json.loads(result.read_text())
            return errors
        errors = _cfn_lint(template, regions)
        result.write_text(json.dumps(errors))
        return errors


def _cfn_lint(template: dict[str, Any], regions: tuple[str, ...]) -> list[str]:
    from cfnlint.decode.decode import decode_str

    # through cfn-lint's decoder, as cfnlint.api.lint does (it marks each node with its line for the rules)
    decoded, decode_errors = decode_str(json.dumps(template))
    if decode_errors or decoded is None:
        matches = decode_errors or []
    else:
        matches = list(_cfn_lint_runner(regions).validate_template(decoded))
    return [
        f"{m.rule.id} {'/'.join(map(str, m.path))}: {m.message}"
        for m in matches
        if getattr(m.rule, "severity", "error") == "error"
    ]


@dataclass(frozen=True)
class NagFinding:
    """One unacknowledged cdk-nag finding on one construct."""

    rule: str
    severity: str
    path: str
    description: str

    def __str__(self) -> str:
        return f"{self.rule} [{self.severity}] {self.path}: {self.description}"


@dataclass(frozen=True)
class NagResult:
    """What :func:`nag_synth` returns: the assembly (``None`` when synthesis was stopped) and findings."""

    assembly: Any
    findings: list[NagFinding]
    outdir: Path

    def template(self, stack_artifact_id: str) -> dict[str, Any]:
        """A stack's template from the output directory (written even when validation failed)."""
        return json.loads((self.outdir / f"{stack_artifact_id}.template.json").read_text())


def nag_synth(app: Any) -> NagResult:
    """Add the cdk-nag packs the project gates on (AwsSolutions, NIST 800-53 rev 5, HIPAA Security) to ``app``,
    synthesize it once (the packs run in the same synthesis), and collect the findings of all three."""
    from aws_cdk import Validations
    from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

    Validations.of(app).add_plugins(AwsSolutionsChecks(), NIST80053R5Checks(), HIPAASecurityChecks())
    assembly = None
    try:
        assembly = app.synth()
    except RuntimeError as error:  # jsii surfaces the validation failure as RuntimeError
        if "ValidationFailed" not in str(error) and "Validation failed" not in str(error):
            raise
    outdir = Path(app.outdir)
    return NagResult(assembly, read_validation_report(outdir / "validation-report.json"), outdir)


def nag_findings(app_factory: Callable[[], Any]) -> list[NagFinding]:
    """The cdk-nag findings of a freshly built app (``app_factory()`` must not synthesize it)."""
    return nag_synth(app_factory()).findings


def read_validation_report(path: Path) -> list[NagFinding]:
    """Findings from a ``validation-report.json`` (none when the file is absent)."""
    if not path.exists():
        return []
    report = json.loads(path.read_text())
    findings = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                findings.append(
                    NagFinding(
                        rule=violation.get("ruleName", ""),
                        severity=violation.get("severity", ""),
                        path=construct.get("constructPath", ""),
                        description=violation.get("description", ""),
                    )
                )
    return findings


def gate_problems(result: NagResult, template: dict[str, Any]) -> list[str]:
    """Unacknowledged cdk-nag findings and cfn-lint errors of one synthesized stack (empty: it passes both)."""
    return [str(f) for f in result.findings] + cfn_lint_errors(template)


def unacknowledged_warnings(outdir: Path, stack_artifact_id: str) -> list[str]:
    """Warnings and errors left in a stack's synthesized metadata (acknowledged ones are not written)."""
    metadata = json.loads((outdir / f"{stack_artifact_id}.metadata.json").read_text())
    return [
        f"{path}: {entry['data']}"
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] in ("aws:cdk:warning", "aws:cdk:error")
    ]


#: The NIST 800-53 / HIPAA rules an aws-cdk-lib ``ec2.Vpc`` with NAT gateways and no flow logs fails (a test's own
#: network standing in for the user's; eks-ai-data's ``ClusterNetwork`` passes them or acknowledges with reasons).
_FIXTURE_VPC_RULES = (
    "VPCFlowLogsEnabled",
    "VPCDefaultSecurityGroupClosed",
    "VPCNoUnrestrictedRouteToIGW",
    "VPCSubnetAutoAssignPublicIpDisabled",
)


def acknowledge_fixture(construct: Any, reason: str, *rules: str) -> None:
    """Acknowledge rules on a test's own fixture (not an eks-ai-data construct): ``"AwsSolutions-S1"`` names one
    pack's rule, a bare name (``"IAMNoInlinePolicy"``) both compliance packs'."""
    from eks_ai_data._nag import AWS_SOLUTIONS, COMPLIANCE, acknowledge

    for rule in rules:
        pack, _, name = rule.rpartition("-") if rule.startswith(f"{AWS_SOLUTIONS}-") else ("", "", rule)
        acknowledge(construct, name, f"test fixture: {reason}", packs=(pack,) if pack else COMPLIANCE)


def acknowledge_fixture_vpc(vpc: Any) -> None:
    """A test's aws-cdk-lib VPC: no flow logs, public subnets with a default route and public IPs."""
    acknowledge_fixture(
        vpc,
        "the test's own aws-cdk-lib VPC stands in for the user's network (ClusterNetwork is tested on its own)",
        "AwsSolutions-VPC7",
        *_FIXTURE_VPC_RULES,
    )


@dataclass(frozen=True)
class NagAcknowledgment:
    """One acknowledged cdk-nag finding, as the validation report records it."""

    pack: str
    rule: str  # "AwsSolutions-IAM5[Resource::...]"
    resource: str  # the violating construct's path
    acknowledged_at: str  # the construct the acknowledgment was put on
    reason: str


#: Packs whose rules report one finding per offending value (``IAM4[Policy::...]``, ``IAM5[Resource::...]``):
#: an acknowledgment of those must name the finding, never the whole rule.
_FINDING_RULES = re.compile(r"^AwsSolutions-(IAM4|IAM5)")


def nag_acknowledgments(outdir: Path) -> list[NagAcknowledgment]:
    """Every acknowledged (suppressed) finding of a synthesized app, from ``validation-report.json``."""
    report = json.loads((outdir / "validation-report.json").read_text())
    found = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("suppressedViolations", []):
            for construct in violation.get("violatingConstructs", []):
                found.append(
                    NagAcknowledgment(
                        pack=plugin["pluginName"],
                        rule=violation["ruleName"],
                        resource=construct["constructPath"],
                        acknowledged_at=violation.get("acknowledgedAt", ""),
                        reason=violation.get("reason", ""),
                    )
                )
    return found


def nag_pack_names(outdir: Path) -> list[str]:
    """The cdk-nag packs that ran on a synthesized app."""
    report = json.loads((outdir / "validation-report.json").read_text())
    return sorted(plugin["pluginName"] for plugin in report.get("pluginReports", []))


def acknowledgment_problems(outdir: Path) -> list[str]:
    """Acknowledgments that are not scoped to their resource (put on a stack or an unrelated construct), that
    acknowledge a per-finding rule as a whole, or that give no reason."""
    problems = []
    for ack in nag_acknowledgments(outdir):
        where = f"{ack.rule} on {ack.resource} (acknowledged at {ack.acknowledged_at!r})"
        if "/" not in ack.acknowledged_at:
            problems.append(f"{where}: acknowledged on a stack or the app, not on the resource")
        elif not (ack.resource + "/").startswith(ack.acknowledged_at + "/"):
            problems.append(f"{where}: the acknowledging construct does not contain the resource")
        if _FINDING_RULES.match(ack.rule) and "[" not in ack.rule:
            problems.append(f"{where}: the rule reports findings; acknowledge the finding, not the rule")
        if len(ack.reason.split()) < 6:
            problems.append(f"{where}: reason {ack.reason!r} does not say why")
    return problems
