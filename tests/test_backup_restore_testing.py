"""Restore testing: the plan, its selections per resource type, the restore role, and their validation rules."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_efs as efs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from eks_ai_data.backup import DataBackupPlan
from eks_ai_data.backup_restore_testing import RestoreTestSpec
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.keys import DataKeys
from eks_ai_data.protection_matrix import RESTORE_TESTING_TYPES
from tests._gates import cfn_lint_errors, nag_synth
from tests.platform.iam_model import PolicyModel
from tests.test_backup import _vpc

STACK = "RestoreTest"
ENV = cdk.Environment(account="111122223333", region="eu-west-1")
EFS_ARN = "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-0123abcd"
FSX_ARN = "arn:aws:fsx:eu-west-1:111122223333:file-system/fs-0123456789abcdef0"


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("restore-testing")))
    stack = cdk.Stack(app, STACK, env=ENV)
    keys = DataKeys(stack, "Keys")
    vpc = _vpc(stack)
    shared = efs.FileSystem(stack, "Shared", vpc=vpc, encrypted=True, kms_key=keys.data_key)
    buckets = [
        s3.Bucket(stack, name, versioned=True, encryption_key=keys.data_key, enforce_ssl=True)
        for name in ("Checkpoints", "Models", "Huge")
    ]
    plan = DataBackupPlan(
        stack,
        "Backups",
        backup_key=keys.backup_key,
        restore_testing=RestoreTestSpec(
            keys=[keys.data_key], exclude=[buckets[2]], validation_window=cdk.Duration.hours(2)
        ),
    )
    plan.add_efs(shared)
    plan.add_file_system(EFS_ARN)
    plan.add_bucket(buckets[0])
    plan.add_ebs_by_tag()
    plan.add_bucket(buckets[1])  # after the S3 selection exists: still in it
    plan.add_bucket(buckets[2])  # backed up, not restore-tested
    plan.add_ebs_by_tag("team", "ml")
    plan.add_lustre(FSX_ARN)  # backed up, not restore-tested (metadata AWS cannot infer)
    plan.add_eks_cluster("arn:aws:eks:eu-west-1:111122223333:cluster/platform")  # not restore-testable
    off = DataBackupPlan(stack, "NoTests", backup_key=keys.backup_key, restore_testing=None)
    off.add_bucket(buckets[0])
    result = nag_synth(app)
    template = result.template(STACK)
    ids = {
        name: stack.get_logical_id(b.node.default_child)
        for name, b in zip(("c", "m", "h"), buckets, strict=True)
    }
    ids["efs"] = stack.get_logical_id(shared.node.default_child)
    ids["data_key"] = stack.get_logical_id(keys.data_key.node.default_child)
    ids["backup_key"] = stack.get_logical_id(keys.backup_key.node.default_child)
    return {"template": template, "findings": result.findings, "ids": ids, "plan": plan}


def _of_type(synth, type_: str, prefix: str = "Backups") -> dict[str, dict]:
    return {
        k: r["Properties"]
        for k, r in synth["template"]["Resources"].items()
        if r["Type"] == type_ and k.startswith(prefix)
    }


def test_the_plan_restores_the_latest_recovery_point_of_this_vault_monthly(synth):
    (plan,) = _of_type(synth, "AWS::Backup::RestoreTestingPlan").values()
    assert plan["ScheduleExpression"] == "cron(0 9 1 * ? *)"
    assert plan["StartWindowHours"] == 24
    (vault_id,) = _of_type(synth, "AWS::Backup::BackupVault")
    assert plan["RecoveryPointSelection"] == {
        "Algorithm": "LATEST_WITHIN_WINDOW",
        "IncludeVaults": [{"Fn::GetAtt": [vault_id, "BackupVaultArn"]}],
        "RecoveryPointTypes": ["SNAPSHOT"],
        "SelectionWindowDays": 7,
    }
    assert plan["RestoreTestingPlanName"].isalnum() and len(plan["RestoreTestingPlanName"]) <= 50
    assert _of_type(synth, "AWS::Backup::RestoreTestingPlan", "NoTests") == {}


def test_one_selection_per_type_and_metadata_and_only_types_restore_testing_takes(synth):
    selections = sorted(
        _of_type(synth, "AWS::Backup::RestoreTestingSelection").values(),
        key=lambda s: s["RestoreTestingSelectionName"],
    )
    names = [s["RestoreTestingSelectionName"] for s in selections]
    assert names == ["ebs_by_tag_1", "ebs_by_tag_2", "efs_1", "efs_2", "s3"]
    assert {s["ProtectedResourceType"] for s in selections} == {"EBS", "EFS", "S3"}
    assert {s["ProtectedResourceType"] for s in selections} <= RESTORE_TESTING_TYPES
    assert synth["plan"].restore_testing.tested_types == frozenset({"EBS", "EFS", "S3"})
    (plan_id,) = _of_type(synth, "AWS::Backup::RestoreTestingPlan")
    for s in selections:
        assert s["RestoreTestingPlanName"] == {"Ref": plan_id}
        assert s["ValidationWindowHours"] == 2
        assert all(c.isalnum() or c == "_" for c in s["RestoreTestingSelectionName"])


def test_efs_restores_into_a_new_file_system_with_its_own_key_when_known(synth):
    by_name = {
        s["RestoreTestingSelectionName"]: s
        for s in _of_type(synth, "AWS::Backup::RestoreTestingSelection").values()
    }
    ids = synth["ids"]
    assert by_name["efs_1"]["ProtectedResourceArns"] == [{"Fn::GetAtt": [ids["efs"], "Arn"]}]
    assert by_name["efs_1"]["RestoreMetadataOverrides"] == {
        "kmsKeyId": {"Fn::GetAtt": [ids["data_key"], "Arn"]}
    }
    assert by_name["efs_2"]["ProtectedResourceArns"] == [EFS_ARN]
    assert "RestoreMetadataOverrides" not in by_name["efs_2"]  # imported: AWS Backup infers the metadata


def test_ebs_volumes_are_chosen_by_the_tag_on_their_recovery_points(synth):
    by_name = {
        s["RestoreTestingSelectionName"]: s
        for s in _of_type(synth, "AWS::Backup::RestoreTestingSelection").values()
    }
    first, second = by_name["ebs_by_tag_1"], by_name["ebs_by_tag_2"]
    assert first["ProtectedResourceArns"] == ["*"]
    # the restore testing API takes the bare tag key ("The key can't start with aws:")
    assert first["ProtectedResourceConditions"] == {
        "StringEquals": [{"Key": "eks-ai-data:backup", "Value": "true"}]
    }
    assert second["ProtectedResourceConditions"] == {"StringEquals": [{"Key": "team", "Value": "ml"}]}


def test_buckets_are_restore_tested_except_the_excluded_one(synth):
    by_name = {
        s["RestoreTestingSelectionName"]: s
        for s in _of_type(synth, "AWS::Backup::RestoreTestingSelection").values()
    }
    ids = synth["ids"]
    assert by_name["s3"]["ProtectedResourceArns"] == [
        {"Fn::GetAtt": [ids["c"], "Arn"]},
        {"Fn::GetAtt": [ids["m"], "Arn"]},
    ]
    (selection,) = [
        s["BackupSelection"]
        for k, s in _of_type(synth, "AWS::Backup::BackupSelection").items()
        if k.startswith("BackupsSelection")
    ]
    assert {"Fn::GetAtt": [ids["h"], "Arn"]} in selection["Resources"]  # still backed up


def test_restores_run_as_the_plan_role_which_may_use_the_vault_and_data_keys(synth):
    (role_id,) = [k for k in _of_type(synth, "AWS::IAM::Role") if k.startswith("BackupsRole")]
    for s in _of_type(synth, "AWS::Backup::RestoreTestingSelection").values():
        assert s["IamRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    role = _of_type(synth, "AWS::IAM::Role")[role_id]
    names = [a["Fn::Join"][1][-1].split(":policy/")[1] for a in role["ManagedPolicyArns"]]
    assert "service-role/AWSBackupServiceRolePolicyForRestores" in names
    assert "AWSBackupServiceRolePolicyForS3Restore" in names
    model = PolicyModel({STACK: synth["template"]}, account="111122223333")
    restore = model.role(STACK, "BackupsRole")
    data_key = model.arn(STACK, synth["ids"]["data_key"])
    backup_key = model.arn(STACK, synth["ids"]["backup_key"])
    for action in (
        "kms:Decrypt",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:DescribeKey",
    ):
        assert model.can(restore, action, data_key), action
    assert model.can(restore, "kms:CreateGrant", data_key, context={"kms:GrantIsForAWSResource": "true"})
    assert not model.can(restore, "kms:CreateGrant", data_key, context={"kms:GrantIsForAWSResource": "false"})
    assert model.can(restore, "kms:Decrypt", backup_key)
    assert not model.can(restore, "kms:ScheduleKeyDeletion", data_key)
    # no other role was created for restore tests
    assert [k for k in _of_type(synth, "AWS::IAM::Role") if "RestoreTesting" in k] == []


def test_gates(synth):
    assert cfn_lint_errors(synth["template"], regions=["eu-west-1"]) == []
    assert [str(f) for f in synth["findings"] if f.path.startswith(f"{STACK}/Backups")] == []


# -- bad input ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scratch():
    stack = cdk.Stack(cdk.App(), "Scratch", env=ENV)
    return stack, kms.Key(stack, "Key", enable_key_rotation=True)


_n = iter(range(1000))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            RestoreTestSpec(schedule="rate(30 days)"),
            r"invalid restore_testing.schedule='rate\(30 days\)': AWS Backup accepts only cron",
        ),
        (
            RestoreTestSpec(start_window=cdk.Duration.minutes(30)),
            r"invalid restore_testing.start_window='30 minutes': must be a whole number of hours between 1 and 168",
        ),
        (
            RestoreTestSpec(start_window=cdk.Duration.days(8)),
            r"invalid restore_testing.start_window='8 days': must be a whole number of hours between 1 and 168",
        ),
        (
            RestoreTestSpec(selection_window=cdk.Duration.days(366)),
            r"invalid restore_testing.selection_window='366 days': must be a whole number of days between 1 and 365",
        ),
        (
            RestoreTestSpec(validation_window=cdk.Duration.hours(169)),
            r"invalid restore_testing.validation_window='7 days 1 hour': must be a whole number of hours between 0 and 168",
        ),
        (
            RestoreTestSpec(plan_name="monthly-tests"),
            r"invalid restore_testing.plan_name='monthly-tests': must be 1-50 letters, digits or '_'",
        ),
        (
            RestoreTestSpec(exclude=[42]),
            r"invalid restore_testing.exclude=42: must hold buckets, file systems or their ARNs",
        ),
        ("monthly", r"invalid restore_testing='monthly': must be a RestoreTestSpec"),
    ],
)
def test_bad_specs(scratch, spec, message):
    stack, key = scratch
    with pytest.raises(EksAiDataValidationError, match=message) as raised:
        DataBackupPlan(stack, f"P{next(_n)}", backup_key=key, restore_testing=spec)
    assert raised.value.where.startswith("Scratch/P") and "RestoreTesting" not in raised.value.where


def test_more_than_30_buckets_fail_synthesis(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Many", env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    plan = DataBackupPlan(stack, "Backups", backup_key=key)
    for i in range(31):
        plan.add_bucket(s3.Bucket.from_bucket_name(stack, f"B{i}", f"bucket-{i}"))
    (problem,) = plan.selection_problems()
    assert str(problem) == (
        "Many/Backups/RestoreTesting: invalid buckets=31: a restore testing selection names at most 30 resources: "
        "leave some out with RestoreTestSpec(exclude=...)"
    )
    with pytest.raises(RuntimeError, match="invalid buckets=31"):
        app.synth()


def test_a_plan_with_nothing_restore_testable_creates_no_restore_testing_resources(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Fsx", env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    plan = DataBackupPlan(stack, "Backups", backup_key=key)
    plan.add_lustre(FSX_ARN)
    template = app.synth().get_stack_by_name("Fsx").template
    types = {r["Type"] for r in template["Resources"].values()}
    assert (
        "AWS::Backup::RestoreTestingPlan" not in types and "AWS::Backup::RestoreTestingSelection" not in types
    )
    assert plan.restore_testing.tested_types == frozenset()
