"""The guard on real synthesized assembly pairs: every category, and the benign changes that must pass.

The app is tests/guard/guard_apps.py; each variant is synthesized once per session. Findings are
asserted whole: a missed replacement and a spurious one both fail these tests.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from conftest import logical_ids
from guard_apps import DATA, LOGS, MOVABLE, MOVABLE_RENAMED

from eks_ai_data.guard import compare, guard_main, read_assembly

NESTED = re.compile(r"^GuardData/ArchiveNestedStackArchiveNestedStackResource[0-9A-F]{8}$")
NESTED_RENAMED = re.compile(
    r"^GuardData/ArchiveNestedNestedStackArchiveNestedNestedStackResource[0-9A-F]{8}$"
)


def _ids(assemblies, variant="baseline") -> dict[str, str]:
    """Construct path below the stack -> logical id, over every stack of the variant."""
    ids: dict[str, str] = {}
    for template in read_assembly(assemblies(variant)).values():
        ids.update(logical_ids(template))
    return ids


def _keys(report) -> set[tuple[str, str, str, str | None]]:
    return {(f.kind, f.stack, f.logical_id, f.property) for f in report.findings}


def _only_template(keys: set, pattern: re.Pattern[str]) -> str:
    (match,) = {k for k in keys if pattern.match(k)}
    return match


def test_identical_assemblies_and_metadata_only_changes_pass(assemblies):
    base = assemblies("baseline")
    report = compare(base, base)
    assert (report.findings, report.stacks, report.stateful_resources) == ([], 4, 30)
    # app.synth() without the CLI's path and asset metadata: every resource's Metadata differs, and the
    # nested stack's template is found through the asset manifest instead
    again = assemblies("baseline_again")
    assert read_assembly(again)[DATA] != read_assembly(base)[DATA]
    assert set(read_assembly(again)) == set(read_assembly(base))
    report = compare(base, again)
    assert (report.findings, report.stacks, report.stateful_resources) == ([], 4, 30)


def test_every_template_is_read_stages_and_nested_stacks_included(assemblies):
    keys = set(read_assembly(assemblies("baseline")))
    nested = _only_template(keys, NESTED)
    assert keys == {DATA, MOVABLE, LOGS, nested}
    assert {
        json.loads(json.dumps(t))["Resources"][lid]["Type"]
        for t in [read_assembly(assemblies("baseline"))[nested]]
        for lid in t["Resources"]
    } == {"AWS::S3::Bucket", "AWS::Logs::LogGroup", "AWS::S3::BucketPolicy"}


def test_create_only_changes_of_every_stateful_type_fail(assemblies):
    ids = _ids(assemblies)
    report = compare(assemblies("baseline"), assemblies("replace"))
    d = DATA
    assert _keys(report) == {
        # create-only in the provider schemas or the CDK service database
        ("replaced", d, ids["Shared/Resource"], "/properties/KmsKeyId"),  # EFS
        ("replaced", d, ids["Scratch/Resource"], "/properties/LustreConfiguration/PerUnitStorageThroughput"),
        ("replaced", d, ids["Shared/Models/Resource"], "/properties/RootDirectory"),  # EFS access point
        ("replaced", d, "DatasetLink", "/properties/FileSystemPath"),  # FSx data repository association
        ("replaced", d, ids["Named/Resource"], "/properties/ObjectLockEnabled"),  # S3, fixed name
        ("replaced", d, ids["Features/Resource"], "/properties/KeySchema"),  # DynamoDB
        ("replaced", d, ids["Metadata/Resource"], "/properties/KmsKeyId"),  # RDS instance
        ("replaced", d, ids["Catalog/Resource"], "/properties/DBClusterIdentifier"),  # Aurora cluster
        ("replaced", d, "Sessions", "/properties/KmsKeyId"),  # ElastiCache replication group
        ("replaced", d, ids["AuditLogs/Resource"], "/properties/LogGroupName"),  # log group
        ("replaced", d, ids["Jobs/Resource"], "/properties/FifoQueue"),  # SQS
        ("replaced", d, ids["Events/Resource"], "/properties/Name"),  # Kinesis
        ("replaced", d, ids["Vault/Resource"], "/properties/EncryptionKeyArn"),  # backup vault
        # the Aurora writer refers to its replaced cluster in a create-only property
        ("replaced", d, ids["Catalog/Writer/Resource"], "/properties/DBClusterIdentifier"),
        # the explicit table: documented replacements and refused updates the sources miss
        ("replaced", d, "Search", "/properties/EngineVersion"),  # OpenSearch without EnableVersionUpgrade
        ("update-fails", d, ids["SigningKey/Resource"], "/properties/KeySpec"),  # KMS
        ("update-fails", d, ids["Scratchpad/Resource"], "/properties/AvailabilityZone"),  # EBS volume
    }
    assert all(f.severity == "fail" for f in report.findings)
    effects = {f.logical_id: f.effect for f in report.findings}
    assert effects[ids["Shared/Resource"]] == "data-orphaned"  # UpdateReplacePolicy Retain
    assert effects["Sessions"] == "data-lost"  # no UpdateReplacePolicy: Delete
    assert effects[ids["Catalog/Resource"]] == "snapshot-kept"  # UpdateReplacePolicy Snapshot
    assert effects[ids["Named/Resource"]] == "update-fails"  # BucketName fixed: CloudFormation refuses
    assert effects[ids["Vault/Resource"]] == "update-fails"  # BackupVaultName fixed
    assert effects[ids["Shared/Models/Resource"]] == "identity-changes"
    assert effects["DatasetLink"] == "identity-changes"
    writer = next(f for f in report.findings if f.logical_id == ids["Catalog/Writer/Resource"])
    assert writer.detail.startswith(
        f"{ids['Catalog/Resource']} is replaced and this create-only property refers"
    )


def test_conditional_property_rules_name_their_source(assemblies):
    report = compare(assemblies("baseline"), assemblies("replace"))
    search = next(f for f in report.findings if f.logical_id == "Search")
    assert (search.old, search.new) == ("OpenSearch_2.11", "OpenSearch_2.13")
    assert "a version change without the EnableVersionUpgrade update policy" in search.detail
    assert "AWS::OpenSearchService::Domain EngineVersion" in search.detail
    table = next(f for f in report.findings if f.resource_type == "AWS::DynamoDB::Table")
    assert "cfn-lint schema (conditional) and CDK service spec" in table.detail


def test_benign_changes_pass(assemblies):
    base, new = assemblies("baseline"), assemblies("benign")
    old_t, new_t = read_assembly(base), read_assembly(new)
    ids = _ids(assemblies)
    resources = new_t[DATA]["Resources"]
    # the variant really makes each benign change
    assert (
        resources[ids["Scratch/Resource"]]["Properties"]["LustreConfiguration"]["PerUnitStorageThroughput"]
        == "125"
    )
    assert resources["DatasetLink"]["Properties"]["FileSystemPath"] == {"Fn::Join": ["", ["/data", "sets"]]}
    assert resources["Search"]["UpdatePolicy"] == {"EnableVersionUpgrade": True}
    assert resources[ids["Metadata/Resource"]]["Properties"]["BackupRetentionPeriod"] == 14
    assert {"Key": "team", "Value": "ml-platform"} in resources[ids["Datasets/Resource"]]["Properties"][
        "Tags"
    ]
    assert len(resources) > len(old_t[DATA]["Resources"])  # added resources
    nested_old = _only_template(set(old_t), NESTED)
    assert len(new_t[nested_old]["Resources"]) > len(old_t[nested_old]["Resources"])
    report = compare(base, new)
    assert report.findings == []
    out = io.StringIO()
    assert guard_main(str(base), str(new), stream=out) == 0


def test_removed_resources_stack_and_nested_stack(assemblies):
    ids = _ids(assemblies)
    base = read_assembly(assemblies("baseline"))
    nested = _only_template(set(base), NESTED)
    nested_ids = logical_ids(base[nested])
    report = compare(assemblies("baseline"), assemblies("removed"))
    assert _keys(report) == {
        ("deleted", DATA, ids["Checkpoints/Resource"], None),
        ("orphaned", DATA, ids["Datasets/Resource"], None),
        ("removed", DATA, ids["Shared/Models/Resource"], None),
        ("deleted", nested, nested_ids["Archive/Archive/Resource"], None),
        ("deleted", nested, nested_ids["Archive/ArchiveLogs/Resource"], None),
        ("deleted", LOGS, ids["GuardLogs/TrainingLogs/Resource"], None),
    }
    by_kind = {f.kind: f for f in report.findings}
    assert by_kind["removed"].severity == "warn"  # an access point holds no data
    assert "no longer in the app (cdk deploy leaves that stack deployed" in next(
        f.detail for f in report.findings if f.stack == LOGS
    )
    # --allow-orphaned turns the retained bucket into a warning; the deletions still fail
    lenient = compare(assemblies("baseline"), assemblies("removed"), allow_orphaned=True)
    assert {(f.kind, f.severity) for f in lenient.findings} == {
        ("deleted", "fail"),
        ("orphaned", "warn"),
        ("removed", "warn"),
    }


def test_renames_moves_and_stack_renames_fail(assemblies):
    ids = _ids(assemblies)
    new_ids = _ids(assemblies, "renamed")
    base = read_assembly(assemblies("baseline"))
    nested = _only_template(set(base), NESTED)
    renamed_nested = _only_template(set(read_assembly(assemblies("renamed"))), NESTED_RENAMED)
    nested_ids = logical_ids(base[nested])
    report = compare(assemblies("baseline"), assemblies("renamed"))
    moves = {
        (f.kind, f.stack, f.logical_id, f.to_stack, f.to_logical_id) for f in report.findings if f.to_stack
    }
    assert moves == {
        # a renamed construct: a new logical id in the same stack
        ("renamed", DATA, ids["Datasets/Resource"], DATA, new_ids["TrainingDatasets/Resource"]),
        # a resource moved to another stack, whose stack name changes too
        ("moved", DATA, ids["JobLogs/Resource"], MOVABLE_RENAMED, ids["JobLogs/Resource"]),
        # a renamed stack: every stateful resource of it
        ("moved", MOVABLE, ids["Exports/Resource"], MOVABLE_RENAMED, ids["Exports/Resource"]),
        ("moved", MOVABLE, ids["Runs/Resource"], MOVABLE_RENAMED, ids["Runs/Resource"]),
        # a renamed nested stack replaces everything in it
        (
            "moved",
            nested,
            nested_ids["Archive/Archive/Resource"],
            renamed_nested,
            nested_ids["Archive/Archive/Resource"],
        ),
        (
            "moved",
            nested,
            nested_ids["Archive/ArchiveLogs/Resource"],
            renamed_nested,
            nested_ids["Archive/ArchiveLogs/Resource"],
        ),
    }
    effects = {f.logical_id: f.effect for f in report.findings if f.to_stack}
    assert effects[ids["Runs/Resource"]] == "update-fails"  # TableName guard-runs is still taken
    assert effects[ids["JobLogs/Resource"]] == "data-lost"  # DeletionPolicy Delete
    assert effects[ids["Exports/Resource"]] == "data-orphaned"  # the old stack stays deployed
    # the retained named bucket drops to Delete: a warning, not a failure
    assert {(f.kind, f.property, f.severity) for f in report.findings if not f.to_stack} == {
        ("retain-dropped", "DeletionPolicy", "warn"),
        ("retain-dropped", "UpdateReplacePolicy", "warn"),
    }
    assert not report.ok
    refactor = compare(assemblies("baseline"), assemblies("renamed"), allow_refactor=True)
    assert refactor.ok and all(f.severity == "warn" for f in refactor.findings)


def test_json_document(assemblies):
    out = io.StringIO()
    code = guard_main(str(assemblies("baseline")), str(assemblies("renamed")), stream=out, json_output=True)
    document = json.loads(out.getvalue())
    assert code == 1
    assert document["schema"] == "eks-ai-data.guard/1"
    assert document["ok"] is False
    assert document["summary"] == {"failures": 6, "warnings": 2, "templates": 4, "guarded_resources": 30}
    moved = next(
        f for f in document["findings"] if f["stack"] == MOVABLE and f["resource_type"] == "AWS::S3::Bucket"
    )
    assert moved["moved_to"]["stack"] == MOVABLE_RENAMED
    assert moved["severity"] == "fail" and moved["kind"] == "moved" and moved["effect"] == "data-orphaned"
    assert set(moved) == {
        "severity",
        "kind",
        "effect",
        "stack",
        "logical_id",
        "resource_type",
        "property",
        "old",
        "new",
        "moved_to",
        "detail",
        "message",
    }


@pytest.mark.parametrize("variant", ["replace", "removed", "renamed"])
def test_text_output_names_each_failure(assemblies, variant):
    out = io.StringIO()
    code = guard_main(str(assemblies("baseline")), str(assemblies(variant)), stream=out)
    lines = out.getvalue().splitlines()
    report = compare(assemblies("baseline"), assemblies(variant))
    assert code == 1
    assert len([line for line in lines if line.startswith("FAIL ")]) == len(report.failures)
    assert lines[-1].startswith(f"guard: FAILED: {len(report.failures)} finding(s) put stateful data at risk")
