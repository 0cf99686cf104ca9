"""The replacement guard on pairs of real synthesized cloud assemblies.

Each variant of a small app (aws-cdk-lib's own Lustre, EFS, KMS, S3 and Logs constructs) is
synthesized once per module, lazily; the guard compares the baseline with each variant.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from eks_ai_data.guard import Finding, compare, compare_assemblies, guard_main, read_assembly
from eks_ai_data.stateful import (
    CDK_SPEC_ENV,
    MISSING,
    STATEFUL_RESOURCE_TYPES,
    cdk_replacement_properties,
    create_only_properties,
    find_cdk_service_spec,
    pointer_parts,
    replacement_properties,
    value_at,
)

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")

VARIANTS = (
    "baseline",
    "baseline_again",
    "lustre_deployment_type",
    "efs_key",
    "bucket_renamed",
    "removed",
    "benign",
    "retain_dropped",
)
DATA_STACK = "GuardData"
LOGS_STACK = "Prod-GuardLogs"  # a stack inside a Stage: a nested cloud assembly


def _build(outdir: Path, variant: str) -> None:
    """Synthesize one variant of the test app into ``outdir``."""
    from aws_cdk import App, RemovalPolicy, Stack, Stage, Tags
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_efs as efs
    from aws_cdk import aws_fsx as fsx
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_s3 as s3

    app = App(outdir=str(outdir))
    stack = Stack(app, DATA_STACK)
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    )
    key = kms.Key(stack, "DataKey", enable_key_rotation=True)
    efs_key = key
    if variant == "efs_key":
        efs_key = kms.Key(stack, "OtherKey", enable_key_rotation=True)
    efs.FileSystem(stack, "Shared", vpc=vpc, kms_key=efs_key, removal_policy=RemovalPolicy.RETAIN)

    if variant == "lustre_deployment_type":
        lustre_config = fsx.LustreConfiguration(
            deployment_type=fsx.LustreDeploymentType.PERSISTENT_2, per_unit_storage_throughput=125
        )
    else:
        lustre_config = fsx.LustreConfiguration(deployment_type=fsx.LustreDeploymentType.SCRATCH_2)
    lustre = fsx.LustreFileSystem(
        stack,
        "Scratch",
        vpc=vpc,
        vpc_subnet=vpc.private_subnets[0],
        storage_capacity_gib=1200,
        lustre_configuration=lustre_config,
        removal_policy=RemovalPolicy.RETAIN,
    )

    datasets_id = "TrainingDatasets" if variant == "bucket_renamed" else "Datasets"
    datasets_policy = RemovalPolicy.DESTROY if variant == "retain_dropped" else RemovalPolicy.RETAIN
    datasets = s3.Bucket(stack, datasets_id, enforce_ssl=True, removal_policy=datasets_policy)
    if variant != "removed":
        s3.Bucket(stack, "Checkpoints", enforce_ssl=True, removal_policy=RemovalPolicy.DESTROY)
    if variant == "benign":
        lustre.connections.allow_from(ec2.Peer.ipv4("10.0.0.0/16"), ec2.Port.tcp(988))
        Tags.of(datasets).add("team", "ml-platform")

    if variant != "removed":
        stage = Stage(app, "Prod")
        logs_stack = Stack(stage, "GuardLogs")
        logs.LogGroup(logs_stack, "TrainingLogs", removal_policy=RemovalPolicy.DESTROY)
    app.synth()


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory):
    """Variant name -> cloud assembly directory, each synthesized at most once per module."""
    root = tmp_path_factory.mktemp("guard")
    built: dict[str, Path] = {}

    def get(variant: str) -> Path:
        assert variant in VARIANTS
        if variant not in built:
            _build(root / variant, variant)
            built[variant] = root / variant
        return built[variant]

    return get


def _logical_id(assembly: Path, stack: str, rtype: str, construct_id: str) -> str:
    """The logical id CDK gave the ``rtype`` resource of the top-level construct ``construct_id``."""
    resources = read_assembly(assembly)[stack]["Resources"]
    pattern = re.compile(rf"^{construct_id}[0-9A-F]{{8}}$")
    matches = [lid for lid, res in resources.items() if res["Type"] == rtype and pattern.match(lid)]
    assert len(matches) == 1, (rtype, construct_id, matches)
    return matches[0]


def _run(old: Path, new: Path, **kwargs) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = guard_main(str(old), str(new), stream=out, **kwargs)
    return code, out.getvalue().splitlines()


def _key(finding: Finding) -> tuple[str, str, str, str | None]:
    return finding.stack, finding.logical_id, finding.kind, finding.property


# --------------------------------------------------------------------------- schema sources


def test_efs_create_only_properties_come_from_cfn_lint_schema():
    props = create_only_properties("AWS::EFS::FileSystem")
    assert "/properties/KmsKeyId" in props
    assert "/properties/PerformanceMode" in props
    assert "/properties/ThroughputMode" not in props  # updatable in place


def test_fsx_schema_omits_nested_lustre_properties_that_cdk_spec_declares():
    schema_props = create_only_properties("AWS::FSx::FileSystem")
    assert {"/properties/KmsKeyId", "/properties/SubnetIds", "/properties/FileSystemType"} <= schema_props
    # cfn-lint 1.58's schema (like the registry's) names no LustreConfiguration property at all,
    # although changing the deployment type replaces the file system; the CDK database has it
    spec = find_cdk_service_spec()
    assert spec is not None, "the project's pinned CDK CLI (node_modules/aws-cdk) is needed"
    assert "/properties/LustreConfiguration/DeploymentType" in cdk_replacement_properties(
        "AWS::FSx::FileSystem", spec
    )
    merged = replacement_properties("AWS::FSx::FileSystem", spec)
    assert "CDK service spec" in merged["/properties/LustreConfiguration/DeploymentType"]
    assert merged["/properties/KmsKeyId"] == ("cfn-lint schema", "CDK service spec")
    assert replacement_properties("AWS::FSx::FileSystem", None) == {
        p: ("cfn-lint schema",) for p in sorted(schema_props)
    }


def test_unknown_type_has_no_create_only_properties():
    assert create_only_properties("Example::Not::ARealType") == frozenset()


def test_every_stateful_type_is_known_to_the_provider_schemas():
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    for rtype in sorted(STATEFUL_RESOURCE_TYPES):
        assert PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", rtype).type_name == rtype


def test_stateful_set_is_data_holding_types_only():
    assert {"AWS::FSx::FileSystem", "AWS::EFS::FileSystem", "AWS::S3::Bucket", "AWS::KMS::Key"} <= (
        STATEFUL_RESOURCE_TYPES
    )
    assert "AWS::SNS::Topic" not in STATEFUL_RESOURCE_TYPES
    assert "AWS::EC2::SecurityGroup" not in STATEFUL_RESOURCE_TYPES


def test_value_at_follows_nested_list_and_intrinsic_values():
    props = {
        "LustreConfiguration": {"DeploymentType": "SCRATCH_2"},
        "Policies": [{"PolicyArn": "a"}, {"Other": 1}],
        "KmsKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},
        "Config": {"Fn::If": ["C", {"X": 1}, {"Ref": "AWS::NoValue"}]},
    }
    assert value_at(props, "/properties/LustreConfiguration/DeploymentType") == "SCRATCH_2"
    assert value_at(props, "/properties/Policies/*/PolicyArn") == ["a", MISSING]
    assert value_at(props, "/properties/KmsKeyId") == {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert value_at(props, "/properties/Config/X") == props["Config"]  # unresolved until deploy
    assert value_at(props, "/properties/Absent/Deeper") is MISSING
    assert value_at(None, "/properties/KmsKeyId") is MISSING
    assert pointer_parts("/properties/A~1B/~0C") == ["A/B", "~C"]
    with pytest.raises(ValueError, match="not a resource property pointer"):
        pointer_parts("/Type")


# --------------------------------------------------------------------------- assemblies


def test_identical_assemblies_pass(assemblies):
    code, lines = _run(assemblies("baseline"), assemblies("baseline_again"))
    assert code == 0
    assert lines == [
        "guard: OK: no stateful resource would be replaced or deleted, 0 warning(s); "
        "6 stateful resources in 2 stacks compared"
    ]


def test_nested_stage_assembly_is_read(assemblies):
    stacks = read_assembly(assemblies("baseline"))
    assert sorted(stacks) == [DATA_STACK, LOGS_STACK]


def test_lustre_deployment_type_change_fails(assemblies):
    base, new = assemblies("baseline"), assemblies("lustre_deployment_type")
    lustre = _logical_id(base, DATA_STACK, "AWS::FSx::FileSystem", "Scratch")
    findings = compare_assemblies(base, new)
    assert [_key(f) for f in findings] == [
        (DATA_STACK, lustre, "replaced", "/properties/LustreConfiguration/DeploymentType"),
        (DATA_STACK, lustre, "replaced", "/properties/LustreConfiguration/PerUnitStorageThroughput"),
    ]
    assert (findings[0].old, findings[0].new) == ("SCRATCH_2", "PERSISTENT_2")
    assert (findings[1].old, findings[1].new) == (MISSING, 125)
    code, lines = _run(base, new)
    assert code == 1
    assert lines[0] == (
        f"FAIL replaced: {DATA_STACK}/{lustre} (AWS::FSx::FileSystem) would be REPLACED by an empty "
        'resource: /properties/LustreConfiguration/DeploymentType changes from "SCRATCH_2" to '
        '"PERSISTENT_2" (replaces the resource per CDK service spec)'
    )
    assert lines[-1].startswith("guard: FAILED: 2 finding(s) put stateful data at risk, 0 warning(s)")


def test_without_cdk_spec_the_guard_says_what_it_cannot_see(assemblies, monkeypatch):
    monkeypatch.setenv(CDK_SPEC_ENV, str(assemblies("baseline") / "no-such-db.json.gz"))
    base, new = assemblies("baseline"), assemblies("lustre_deployment_type")
    report = compare(base, new)
    assert report.service_spec is None
    assert all(f.detail == "replaces the resource per cfn-lint schema" for f in report.findings)
    _, lines = _run(base, new)
    notes = [line for line in lines if line.startswith("note: ")]
    assert notes == [f"note: {report.notes[0]}"]
    assert notes[0].startswith("note: the AWS CDK CLI's service database (node_modules/aws-cdk/db.json.gz)")


def test_guard_module_starts_without_aws_cdk_or_cfn_lint():
    code = (
        "import sys, eks_ai_data.guard; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'cfnlint'}))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "constructs")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_efs_encryption_key_change_fails(assemblies):
    base, new = assemblies("baseline"), assemblies("efs_key")
    efs_id = _logical_id(base, DATA_STACK, "AWS::EFS::FileSystem", "Shared")
    old_key = _logical_id(base, DATA_STACK, "AWS::KMS::Key", "DataKey")
    new_key = _logical_id(new, DATA_STACK, "AWS::KMS::Key", "OtherKey")
    findings = compare_assemblies(base, new)
    assert [_key(f) for f in findings] == [(DATA_STACK, efs_id, "replaced", "/properties/KmsKeyId")]
    assert findings[0].old == {"Fn::GetAtt": [old_key, "Arn"]}
    assert findings[0].new == {"Fn::GetAtt": [new_key, "Arn"]}
    assert findings[0].detail == "replaces the resource per cfn-lint schema and CDK service spec"
    code, lines = _run(base, new)
    assert code == 1
    assert lines[0] == (
        f"FAIL replaced: {DATA_STACK}/{efs_id} (AWS::EFS::FileSystem) would be REPLACED by an empty "
        f'resource: /properties/KmsKeyId changes from {{"Fn::GetAtt": ["{old_key}", "Arn"]}} to '
        f'{{"Fn::GetAtt": ["{new_key}", "Arn"]}} '
        "(replaces the resource per cfn-lint schema and CDK service spec)"
    )


def test_the_console_command_runs_the_guard_on_real_assemblies(assemblies, capsys):
    from eks_ai_data.cli import main

    base, new = assemblies("baseline"), assemblies("bucket_renamed")
    assert main(["guard", str(base), str(base)]) == 0
    assert main(["guard", str(base), str(new)]) == 1
    assert main(["guard", "--allow-orphaned", str(base), str(new)]) == 0
    assert "FAIL orphaned" in capsys.readouterr().out


def test_renamed_retained_bucket_is_orphaned_and_fails_by_default(assemblies):
    base, new = assemblies("baseline"), assemblies("bucket_renamed")
    bucket = _logical_id(base, DATA_STACK, "AWS::S3::Bucket", "Datasets")
    findings = compare_assemblies(base, new)
    assert [_key(f) for f in findings] == [(DATA_STACK, bucket, "orphaned", None)]
    code, lines = _run(base, new)
    assert code == 1
    assert lines[0] == (
        f"FAIL orphaned: {DATA_STACK}/{bucket} (AWS::S3::Bucket) would leave the stack and be kept as an "
        "unmanaged resource: its logical id is gone from the stack (DeletionPolicy Retain); "
        "a resource that takes its place starts empty"
    )
    code, lines = _run(base, new, allow_orphaned=True)
    assert code == 0
    assert lines[0].startswith(f"WARN orphaned: {DATA_STACK}/{bucket} (AWS::S3::Bucket)")
    assert lines[-1].startswith("guard: OK: no stateful resource would be replaced or deleted, 1 warning(s)")


def test_removed_resource_and_removed_stack_are_deleted(assemblies):
    base, new = assemblies("baseline"), assemblies("removed")
    bucket = _logical_id(base, DATA_STACK, "AWS::S3::Bucket", "Checkpoints")
    log_group = _logical_id(base, LOGS_STACK, "AWS::Logs::LogGroup", "TrainingLogs")
    findings = compare_assemblies(base, new)
    assert [_key(f) for f in findings] == [
        (DATA_STACK, bucket, "deleted", None),
        (LOGS_STACK, log_group, "deleted", None),
    ]
    code, lines = _run(base, new, allow_orphaned=True)
    assert code == 1
    assert lines == [
        f"FAIL deleted: {DATA_STACK}/{bucket} (AWS::S3::Bucket) would be DELETED: its logical id is gone "
        "from the stack (DeletionPolicy Delete)",
        f"FAIL deleted: {LOGS_STACK}/{log_group} (AWS::Logs::LogGroup) would be DELETED: its stack is gone "
        "(DeletionPolicy Delete)",
        "guard: FAILED: 2 finding(s) put stateful data at risk, 0 warning(s); "
        "6 stateful resources in 2 stacks compared",
    ]


def test_non_stateful_changes_pass(assemblies):
    base, new = assemblies("baseline"), assemblies("benign")
    # the variant really differs: a security group rule and a bucket tag
    assert read_assembly(base)[DATA_STACK] != read_assembly(new)[DATA_STACK]
    assert compare_assemblies(base, new) == []
    code, lines = _run(base, new)
    assert code == 0
    assert lines[-1].startswith("guard: OK")


def test_dropping_retain_warns_but_passes(assemblies):
    base, new = assemblies("baseline"), assemblies("retain_dropped")
    bucket = _logical_id(base, DATA_STACK, "AWS::S3::Bucket", "Datasets")
    findings = compare_assemblies(base, new)
    assert [_key(f) for f in findings] == [
        (DATA_STACK, bucket, "retain-dropped", "DeletionPolicy"),
        (DATA_STACK, bucket, "retain-dropped", "UpdateReplacePolicy"),
    ]
    code, lines = _run(base, new)
    assert code == 0
    assert lines[0] == (
        f"WARN retain-dropped: {DATA_STACK}/{bucket} (AWS::S3::Bucket) DeletionPolicy changes from "
        '"Retain" to "Delete": a later removal or replacement would destroy its data'
    )
    assert lines[-1].startswith("guard: OK: no stateful resource would be replaced or deleted, 2 warning(s)")


def test_type_change_is_a_replacement(assemblies, tmp_path):
    base = assemblies("baseline")
    new = tmp_path / "retyped"
    shutil.copytree(base, new)
    manifest = json.loads((new / "manifest.json").read_text())
    template_file = new / manifest["artifacts"][DATA_STACK]["properties"]["templateFile"]
    template = json.loads(template_file.read_text())
    bucket = _logical_id(base, DATA_STACK, "AWS::S3::Bucket", "Datasets")
    template["Resources"][bucket]["Type"] = "AWS::S3Express::DirectoryBucket"
    template_file.write_text(json.dumps(template))
    assert [(_key(f), f.new) for f in compare_assemblies(base, new)] == [
        ((DATA_STACK, bucket, "replaced", None), "AWS::S3Express::DirectoryBucket")
    ]


# --------------------------------------------------------------------------- unreadable input


def test_missing_directory_exits_2(assemblies, tmp_path):
    code, lines = _run(tmp_path / "nowhere", assemblies("baseline"))
    assert code == 2
    assert lines == [f"guard: cannot read the cloud assembly: {tmp_path / 'nowhere'} is not a directory"]


def test_directory_without_manifest_exits_2(assemblies, tmp_path):
    code, lines = _run(assemblies("baseline"), tmp_path)
    assert code == 2
    assert lines == [f"guard: cannot read the cloud assembly: {tmp_path / 'manifest.json'} does not exist"]


def test_corrupt_manifest_and_missing_template_exit_2(assemblies, tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    code, lines = _run(assemblies("baseline"), tmp_path)
    assert code == 2
    assert lines[0].startswith(f"guard: cannot read the cloud assembly: {tmp_path / 'manifest.json'} is not")

    broken = tmp_path / "broken"
    shutil.copytree(assemblies("baseline"), broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    (broken / manifest["artifacts"][DATA_STACK]["properties"]["templateFile"]).unlink()
    code, lines = _run(assemblies("baseline"), broken)
    assert code == 2
    assert "GuardData.template.json does not exist" in lines[0]
