"""The guard's verdicts against ``cdk diff`` on the same assembly pairs (the pinned CDK CLI, offline).

``cdk diff --app <new cdk.out> --template <old template> <stack>`` compares a stack of a synthesized
assembly with a template file, without AWS credentials (``--template`` implies ``--method=template``).
Its resource lines read ``[~] TYPE [PATH] LOGICAL_ID replace|may be replaced`` and
``[-] TYPE [PATH] LOGICAL_ID destroy|orphan``.

The two must agree on every guarded resource of the compared stacks, except where the guard knows
more, listed in :data:`DISAGREEMENTS` with the reason. ``cdk diff`` compares one stack at a time, so
stacks that leave the app, renamed stacks and nested stacks' contents are checked by the guard alone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import logical_ids, template_file
from guard_apps import DATA

from eks_ai_data.guard import compare, read_assembly
from eks_ai_data.stateful import GUARDED_RESOURCE_TYPES

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
LINE = re.compile(
    r"^\[(?P<op>[-~])\] (?P<type>\S+) (?:\S+ )?(?P<lid>[A-Za-z0-9]+) (?P<impact>replace|may be replaced|destroy|orphan)\b"
)
PAIRS = ("replace", "benign", "removed", "renamed")

# (variant, construct path or logical id) -> why the guard and cdk diff differ
DISAGREEMENTS = {
    # the guard is stricter
    ("replace", "Scratch/Resource"): "cdk diff reads causesReplacement of top-level properties only; "
    "LustreConfiguration/PerUnitStorageThroughput is create-only one level down (CDK service spec)",
    ("replace", "SigningKey/Resource"): "KMS refuses a KeySpec change (CloudFormation reference); "
    "no machine-readable source marks it",
    ("replace", "Scratchpad/Resource"): "an EBS volume's AvailabilityZone cannot be updated (CloudFormation "
    "reference: Updates are not supported)",
    (
        "replace",
        "Search",
    ): "OpenSearch EngineVersion replaces the domain without the EnableVersionUpgrade update "
    "policy (CloudFormation reference); the CDK database does not mark it",
    # the guard is less strict
    (
        "benign",
        "DatasetLink",
    ): "Fn::Join of literals is the same string to CloudFormation; cdk diff compares the template text",
    (
        "benign",
        "Metadata/Resource",
    ): "BackupRetentionPeriod is 'maybe' in the CDK database, but the RDS handler "
    "modifies it in place (ImmutabilityHelper.isChangeMutable)",
}

pytestmark = [
    pytest.mark.skipif(
        not CDK.exists() or shutil.which("node") is None, reason="the pinned CDK CLI is needed"
    ),
    pytest.mark.heavy,
]


def _cdk_diff(new: Path, old_template: Path, stack: str) -> dict[str, str]:
    env = {
        **os.environ,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    result = subprocess.run(
        [str(CDK), "diff", "--app", str(new), "--template", str(old_template), stack, "--no-color"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    impacts = {}
    for line in (result.stdout + result.stderr).splitlines():
        match = LINE.match(line)
        if match and match["type"] in GUARDED_RESOURCE_TYPES:
            impacts[match["lid"]] = match["impact"]
    return impacts


@pytest.fixture(scope="module")
def verdicts(assemblies):
    """variant -> (guard's logical ids with a failing or warning finding, cdk diff's impacts) for GuardData."""
    base = assemblies("baseline")
    guard = {}
    for variant in PAIRS:  # synthesized one after the other: one jsii kernel per test process
        report = compare(base, assemblies(variant))
        guard[variant] = {
            f.logical_id for f in report.findings if f.stack == DATA and f.kind != "retain-dropped"
        }
    # each `cdk diff` is a CLI process of its own that reads finished assemblies: run them side by side
    with ThreadPoolExecutor(max_workers=len(PAIRS)) as pool:
        diffs = dict(
            zip(
                PAIRS,
                pool.map(lambda v: _cdk_diff(assemblies(v), template_file(base, DATA), DATA), PAIRS),
                strict=True,
            )
        )
    return {variant: (guard[variant], diffs[variant]) for variant in PAIRS}


@pytest.mark.parametrize("variant", PAIRS)
def test_guard_agrees_with_cdk_diff(assemblies, verdicts, variant):
    ids = logical_ids(read_assembly(assemblies("baseline"))[DATA])
    known = {ids.get(where, where): why for (v, where), why in DISAGREEMENTS.items() if v == variant}
    guard, cdk = verdicts[variant]
    assert cdk or variant == "benign", "cdk diff printed no destructive change: its output format changed?"
    assert (guard ^ set(cdk)) == set(known), {
        "guard only": sorted(guard - set(cdk)),
        "cdk diff only": sorted(set(cdk) - guard),
    }


def test_cdk_diff_sees_the_same_kind_of_change(verdicts):
    assert set(verdicts["removed"][1].values()) == {"destroy", "orphan"}
    assert set(verdicts["replace"][1].values()) == {"replace"}
