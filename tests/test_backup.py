"""DataBackupPlan: vault, lock, rules, selections, service role, notifications, and their validation rules."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from syrupy.extensions.json import JSONSnapshotExtension

from eks_ai_data.backup import NOTIFICATION_EVENTS, DataBackupPlan
from eks_ai_data.backup_rules import BackupRuleSpec, VaultLock, VaultLockMode
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.keys import DataKeys
from tests._gates import cfn_lint_errors, nag_synth, normalize_template

STACK = "BackupTest"
ENV = cdk.Environment(account="111111111111", region="eu-west-1")
DR_VAULT = "arn:aws:backup:eu-central-1:111111111111:backup-vault:dr"
FSX_ARN = "arn:aws:fsx:eu-west-1:111111111111:file-system/fs-0123456789abcdef0"
days = cdk.Duration.days


def _vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    )


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("backup")))
    stack = cdk.Stack(app, STACK, env=ENV)
    keys = DataKeys(stack, "Keys")
    vpc = _vpc(stack)
    bucket = s3.Bucket(stack, "Checkpoints", encryption_key=keys.data_key, versioned=True, enforce_ssl=True)
    shared = efs.FileSystem(stack, "Shared", vpc=vpc, encrypted=True, kms_key=keys.data_key)
    lustre = fsx.LustreFileSystem(
        stack,
        "Lustre",
        vpc=vpc,
        vpc_subnet=vpc.private_subnets[0],
        storage_capacity_gib=1200,
        kms_key=keys.data_key,
        lustre_configuration=fsx.LustreConfiguration(
            deployment_type=fsx.LustreDeploymentType.PERSISTENT_2, per_unit_storage_throughput=125
        ),
    )
    full = DataBackupPlan(
        stack,
        "Full",
        backup_key=keys.backup_key,
        rules=[
            BackupRuleSpec.daily(),
            BackupRuleSpec.weekly(),
            BackupRuleSpec.monthly(move_to_cold_after=days(30), retention=days(400)),
        ],
        vault_lock=VaultLock.compliance(min_retention=days(7), max_retention=days(400)),
        copy_to_vault_arn=DR_VAULT,
    )
    full.add_efs(shared)
    full.add_lustre(lustre)
    full.add_file_system(FSX_ARN)
    full.add_ebs_by_tag()
    full.add_bucket(bucket)
    volumes = DataBackupPlan(
        stack,
        "Volumes",
        backup_key=keys.backup_key,
        rules=[
            BackupRuleSpec(
                "Hourly",
                "cron(0 * * * ? *)",
                days(2),
                start_window=cdk.Duration.hours(1),
                completion_window=cdk.Duration.hours(4),
            )
        ],
        notification_key=keys.data_key,
    )
    volumes.add_ebs_by_tag("team", "ml")
    result = nag_synth(app)
    findings, template = result.findings, result.template(STACK)
    ids = {
        "backup_key": stack.get_logical_id(keys.backup_key.node.default_child),
        "data_key": stack.get_logical_id(keys.data_key.node.default_child),
        "bucket": stack.get_logical_id(bucket.node.default_child),
        "efs": stack.get_logical_id(shared.node.default_child),
        "lustre": stack.get_logical_id(lustre.node.default_child),
    }
    return {"template": template, "findings": findings, "ids": ids, "full": full, "volumes": volumes}


def _res(synth, prefix: str, type_: str) -> tuple[str, dict]:
    found = {
        k: v for k, v in synth["template"]["Resources"].items() if k.startswith(prefix) and v["Type"] == type_
    }
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


def _props(synth, prefix: str, type_: str) -> dict:
    return _res(synth, prefix, type_)[1]["Properties"]


# -- vault, lock, notifications ---------------------------------------------------------------------------
def test_vault_is_encrypted_with_the_backup_key_locked_and_retained(synth):
    _, vault = _res(synth, "FullVault", "AWS::Backup::BackupVault")
    assert vault["DeletionPolicy"] == vault["UpdateReplacePolicy"] == "Retain"
    props = vault["Properties"]
    assert props["EncryptionKeyArn"] == {"Fn::GetAtt": [synth["ids"]["backup_key"], "Arn"]}
    assert props["LockConfiguration"] == {
        "MinRetentionDays": 7,
        "MaxRetentionDays": 400,
        "ChangeableForDays": 3,
    }
    assert "LockConfiguration" not in _props(synth, "VolumesVault", "AWS::Backup::BackupVault")


def test_notifications_go_to_an_encrypted_ssl_only_topic_backup_may_publish_to(synth):
    topic_id, topic = _res(synth, "FullNotifications", "AWS::SNS::Topic")
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [synth["ids"]["backup_key"], "Arn"]}
    vault = _props(synth, "FullVault", "AWS::Backup::BackupVault")
    assert vault["Notifications"] == {
        "BackupVaultEvents": list(NOTIFICATION_EVENTS),
        "SNSTopicArn": {"Ref": topic_id},
    }
    assert "BACKUP_JOB_FAILED" not in NOTIFICATION_EVENTS  # deprecated: AWS Backup no longer emits it
    statements = _props(synth, "FullNotificationsPolicy", "AWS::SNS::TopicPolicy")["PolicyDocument"][
        "Statement"
    ]
    deny, allow = statements
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert allow == {
        "Sid": "AllowBackupNotifications",
        "Effect": "Allow",
        "Principal": {"Service": "backup.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": {"Ref": topic_id},
        "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}},
    }
    # notification_key overrides the topic key
    other = _props(synth, "VolumesNotifications", "AWS::SNS::Topic")
    assert other["KmsMasterKeyId"] == {"Fn::GetAtt": [synth["ids"]["data_key"], "Arn"]}


def test_failure_filter_drops_completed_jobs():
    (key,) = DataBackupPlan.failure_filter()
    assert key == "State"


# -- rules ----------------------------------------------------------------------------------------------
def test_rules_schedules_lifecycles_and_copies(synth):
    rules = _props(synth, "FullPlan", "AWS::Backup::BackupPlan")["BackupPlan"]["BackupPlanRule"]
    assert [(r["RuleName"], r["ScheduleExpression"]) for r in rules] == [
        ("Daily", "cron(0 5 * * ? *)"),
        ("Weekly", "cron(0 5 ? * SAT *)"),
        ("Monthly", "cron(0 5 1 * ? *)"),
    ]
    assert [r["Lifecycle"] for r in rules] == [
        {"DeleteAfterDays": 35},
        {"DeleteAfterDays": 90},
        # EBS is selected and this rule uses cold storage: opted in to the EBS archive tier
        {
            "DeleteAfterDays": 400,
            "MoveToColdStorageAfterDays": 30,
            "OptInToArchiveForSupportedResources": True,
        },
    ]
    for rule in rules:
        assert rule["CopyActions"] == [{"DestinationBackupVaultArn": DR_VAULT}]
        assert rule["TargetBackupVault"]["Fn::GetAtt"][1] == "BackupVaultName"
    (hourly,) = _props(synth, "VolumesPlan", "AWS::Backup::BackupPlan")["BackupPlan"]["BackupPlanRule"]
    assert hourly["StartWindowMinutes"] == 60
    assert hourly["CompletionWindowMinutes"] == 240
    assert "CopyActions" not in hourly


# -- selections and role ----------------------------------------------------------------------------------
def test_file_systems_and_buckets_are_selected_by_arn(synth):
    ids = synth["ids"]
    selection = _props(synth, "FullSelection", "AWS::Backup::BackupSelection")["BackupSelection"]
    resources = selection["Resources"]
    assert resources[0] == {"Fn::GetAtt": [ids["efs"], "Arn"]}
    assert resources[1] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":fsx:eu-west-1:111111111111:file-system/",
                {"Ref": ids["lustre"]},
            ],
        ]
    }
    assert resources[2:] == [FSX_ARN, {"Fn::GetAtt": [ids["bucket"], "Arn"]}]
    assert "ListOfTags" not in selection and "Conditions" not in selection


def test_ebs_volumes_are_selected_by_type_and_tag(synth):
    selection = _props(synth, "FullEbsSelection", "AWS::Backup::BackupSelection")["BackupSelection"]
    assert selection["Resources"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ec2:eu-west-1:111111111111:volume/*"]]}
    ]
    assert selection["Conditions"] == {
        "StringEquals": [{"ConditionKey": "aws:ResourceTag/eks-ai-data:backup", "ConditionValue": "true"}]
    }
    other = _props(synth, "VolumesEbsSelection", "AWS::Backup::BackupSelection")["BackupSelection"]
    assert other["Conditions"]["StringEquals"] == [
        {"ConditionKey": "aws:ResourceTag/team", "ConditionValue": "ml"}
    ]
    assert synth["volumes"].selected_types == frozenset({"EBS"})
    assert synth["full"].selected_types == frozenset({"EFS", "FSx", "EBS", "S3"})


def _managed(synth, prefix: str) -> list[str]:
    arns = _props(synth, prefix, "AWS::IAM::Role")["ManagedPolicyArns"]
    return [a["Fn::Join"][1][-1].split(":policy/")[1] for a in arns]


def test_service_role_has_backup_and_restore_policies_and_s3_ones_only_with_buckets(synth):
    assert _managed(synth, "FullRole") == [
        "service-role/AWSBackupServiceRolePolicyForBackup",
        "service-role/AWSBackupServiceRolePolicyForRestores",
        "AWSBackupServiceRolePolicyForS3Backup",
        "AWSBackupServiceRolePolicyForS3Restore",
    ]
    assert _managed(synth, "VolumesRole") == [
        "service-role/AWSBackupServiceRolePolicyForBackup",
        "service-role/AWSBackupServiceRolePolicyForRestores",
    ]
    trust = _props(synth, "FullRole", "AWS::IAM::Role")["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}}
    ]
    (selection_role,) = {
        json.dumps(r["Properties"]["BackupSelection"]["IamRoleArn"])
        for k, r in synth["template"]["Resources"].items()
        if k.startswith("Full") and r["Type"] == "AWS::Backup::BackupSelection"
    }
    assert _res(synth, "FullRole", "AWS::IAM::Role")[0] in selection_role


# -- gates ------------------------------------------------------------------------------------------------
def test_cdk_nag_has_no_unacknowledged_finding_on_backup_plans(synth):
    ours = [str(f) for f in synth["findings"] if f.path.startswith((f"{STACK}/Full", f"{STACK}/Volumes"))]
    assert ours == []


def test_cfn_lint_reports_no_errors(synth):
    assert cfn_lint_errors(synth["template"], regions=["eu-west-1"]) == []


def test_snapshot(synth, snapshot):
    template = normalize_template(synth["template"])
    own = {k: v for k, v in template["Resources"].items() if k.startswith(("Full", "Volumes"))}
    assert own == snapshot.use_extension(JSONSnapshotExtension)


# -- validation at synth time (needs the whole selection) ------------------------------------------------
def test_selection_rules_fail_synthesis_with_a_clear_message(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Incomplete", env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    DataBackupPlan(stack, "Empty", backup_key=key)
    cold = DataBackupPlan(
        stack, "ColdOnS3", backup_key=key, rules=[BackupRuleSpec.monthly(move_to_cold_after=days(30))]
    )
    cold.add_bucket(s3.Bucket(stack, "Versioned", versioned=True))
    with pytest.raises(
        EksAiDataValidationError, match="invalid selection=\\[\\]: must select at least one resource"
    ):
        DataBackupPlan(stack, "Probe", backup_key=key).check_selection()
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    message = str(raised.value)
    assert "Incomplete/Empty: invalid selection=[]: must select at least one resource" in message
    assert (
        "Incomplete/ColdOnS3: invalid rules=['Monthly']: rules ['Monthly'] move recovery points to cold "
        in message
    )
    assert "but the plan selects S3; only EBS, EFS support cold storage" in message


# -- bad input --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scratch():
    app = cdk.App()
    stack = cdk.Stack(app, "Scratch", env=ENV)
    vpc = _vpc(stack)
    return {
        "stack": stack,
        "key": kms.Key(stack, "Key", enable_key_rotation=True),
        "vpc": vpc,
        "unversioned": s3.Bucket(stack, "Unversioned"),
        "scratch_lustre": fsx.LustreFileSystem(
            stack,
            "ScratchLustre",
            vpc=vpc,
            vpc_subnet=vpc.private_subnets[0],
            storage_capacity_gib=1200,
            lustre_configuration=fsx.LustreConfiguration(deployment_type=fsx.LustreDeploymentType.SCRATCH_2),
        ),
        "linked_lustre": fsx.LustreFileSystem(
            stack,
            "LinkedLustre",
            vpc=vpc,
            vpc_subnet=vpc.private_subnets[0],
            storage_capacity_gib=1200,
            lustre_configuration=fsx.LustreConfiguration(
                deployment_type=fsx.LustreDeploymentType.PERSISTENT_1,
                per_unit_storage_throughput=50,
                import_path="s3://datasets",
            ),
        ),
    }


_counter = iter(range(10_000))


def _plan(scratch, **kwargs) -> DataBackupPlan:
    return DataBackupPlan(scratch["stack"], f"Plan{next(_counter)}", backup_key=scratch["key"], **kwargs)


def _rule(**kwargs) -> BackupRuleSpec:
    props = {"name": "R", "schedule": "cron(0 5 * * ? *)", "retention": days(35), **kwargs}
    return BackupRuleSpec(**props)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"rules": [_rule(), _rule(name="Weekly", copy_retention=days(90))]},
            r"Scratch/Plan\d+: invalid rules\[1\].copy_retention='Duration.days\(90\)': is the retention of copies in "
            r"copy_to_vault_arn, which is not given",
        ),
        ({"rules": []}, r"invalid rules=\[\]: must hold at least one BackupRuleSpec"),
        (
            {"rules": [_rule(retention=days(0))]},
            r"invalid rules\[0\].retention='0 days': must be a whole number of days between 1 and 36500",
        ),
        (
            {"rules": [_rule(retention=cdk.Duration.hours(36))]},
            r"invalid rules\[0\].retention='1 day 12 hours': must be a whole number of days",
        ),
        ({"rules": [_rule(retention=days(36501))]}, r"rules\[0\].retention.*between 1 and 36500"),
        (
            {"rules": [_rule(retention=days(100), move_to_cold_after=days(30))]},
            r"invalid rules\[0\].retention='100 days': must be at least 90 days after move_to_cold_after \(30 days\)",
        ),
        (
            {"rules": [_rule(move_to_cold_after=days(30), retention=days(120), copy_retention=days(60))]},
            r"invalid rules\[0\].copy_retention='60 days': must be at least 120 days",
        ),
        (
            {"rules": [_rule(schedule="cron(0 5 * * * *)")]},
            r"invalid rules\[0\].schedule='cron\(0 5 \* \* \* \*\)': exactly one of day-of-month and day-of-week",
        ),
        (
            {"rules": [_rule(schedule="rate(1 day)")]},
            r"invalid rules\[0\].schedule='rate\(1 day\)': AWS Backup accepts only cron expressions",
        ),
        ({"rules": [_rule(schedule="cron(*/5 * * * ? *)")]}, r"rules\[0\].schedule=.*at most once an hour"),
        ({"rules": [_rule(schedule="daily")]}, r"rules\[0\].schedule='daily': must be 'cron\("),
        (
            {"rules": [_rule(name="daily backup")]},
            r"invalid rules\[0\].name='daily backup': must be 1-50 letters",
        ),
        ({"rules": [_rule(), _rule()]}, r"invalid rules=\['R', 'R'\]: rule names must be unique"),
        (
            {"rules": [_rule(start_window=cdk.Duration.minutes(30))]},
            r"invalid rules\[0\].start_window='30 minutes': must be at least 1 hour",
        ),
        (
            {"rules": [_rule(start_window=cdk.Duration.hours(8), completion_window=cdk.Duration.hours(2))]},
            r"invalid rules\[0\].completion_window='2 hours': must be longer than start_window",
        ),
        ({"rules": ["daily"]}, r"invalid rules\[0\]='daily': must be a BackupRuleSpec"),
        (
            {"vault_lock": VaultLock(min_retention=days(400), max_retention=days(30))},
            r"invalid vault_lock.min_retention='400 days': must be less than vault_lock.max_retention \(30 days\)",
        ),
        (
            {"vault_lock": VaultLock(min_retention=days(0))},
            r"invalid vault_lock.min_retention='0 days': must be a whole number of days between 1",
        ),
        (
            {"vault_lock": VaultLock(min_retention=days(7), changeable_for=days(1))},
            r"invalid vault_lock.changeable_for='1 day': must be a whole number of days between 3 and 36500",
        ),
        (
            {"vault_lock": VaultLock.compliance(min_retention=days(7), changeable_for=days(36501))},
            r"invalid vault_lock.changeable_for='36501 days': must be a whole number of days between 3 and 36500",
        ),
        (
            {"vault_lock": VaultLock(min_retention=days(7), max_retention=days(36501))},
            r"invalid vault_lock.max_retention='36501 days': must be a whole number of days between 1 and 36500",
        ),
        (
            {"vault_lock": VaultLock(days(7), None, days(3), VaultLockMode.GOVERNANCE)},
            r"invalid vault_lock.changeable_for='3 days': applies to compliance mode only",
        ),
        (
            {"vault_lock": VaultLock(days(7), mode="compliance")},
            r"invalid vault_lock.mode='compliance': must be VaultLockMode.GOVERNANCE or VaultLockMode.COMPLIANCE",
        ),
        (
            {"vault_lock": VaultLock(min_retention=days(60))},
            r"invalid rules\[0\].retention='35 days': must be at least the vault lock's min_retention \(60 days\)",
        ),
        (
            {"vault_lock": VaultLock(min_retention=days(1), max_retention=days(30))},
            r"invalid rules\[0\].retention='35 days': must be at most the vault lock's max_retention \(30 days\)",
        ),
        (
            {"copy_to_vault_arn": "arn:aws:s3:::bucket"},
            r"invalid copy_to_vault_arn='arn:aws:s3:::bucket': must be a backup vault ARN",
        ),
        (
            {"copy_to_vault_arn": "arn:aws:backup:eu-west-1:111111111111:backup-vault:next-door"},
            "must be a vault in another Region or account",
        ),
        ({"vault_name": "my vault"}, r"invalid vault_name='my vault': must be 2-50 letters"),
        ({"plan_name": "x" * 51}, r"invalid plan_name='x+': must be 1-50 letters"),
    ],
)
def test_bad_props(scratch, props, message):
    with pytest.raises(EksAiDataValidationError, match=message) as raised:
        _plan(scratch, **props)
    assert raised.value.where.startswith("Scratch/Plan")


def test_other_account_or_region_destinations_are_accepted(scratch):
    _plan(scratch, copy_to_vault_arn="arn:aws:backup:eu-west-1:222222222222:backup-vault:isolated")
    _plan(scratch, copy_to_vault_arn="arn:aws:backup:eu-north-1:111111111111:backup-vault:dr")


def test_unversioned_bucket_is_refused(scratch):
    with pytest.raises(
        EksAiDataValidationError, match="invalid bucket='Scratch/Unversioned': must have versioning enabled"
    ):
        _plan(scratch).add_bucket(scratch["unversioned"])


def test_imported_bucket_cannot_be_inspected_and_is_accepted(scratch):
    plan = _plan(scratch)
    plan.add_bucket(
        s3.Bucket.from_bucket_name(scratch["stack"], f"Imported{next(_counter)}", "existing-bucket")
    )
    assert plan.selected_types == frozenset({"S3"})


def test_scratch_and_linked_lustre_are_refused(scratch):
    plan = _plan(scratch)
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid file_system='Scratch/ScratchLustre \(SCRATCH_2\)': must be a PERSISTENT",
    ):
        plan.add_lustre(scratch["scratch_lustre"])
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid file_system='Scratch/LinkedLustre': is linked to S3 \(import_path=s3://datasets\): FSx "
        r"does not back up file systems linked to an S3 data repository .*the durable copy is the linked bucket",
    ):
        plan.add_lustre(scratch["linked_lustre"])


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("fs-0123456789abcdef0", "invalid arn='fs-0123456789abcdef0': must be an EFS"),
        ("arn:aws:s3:::bucket", "invalid arn='arn:aws:s3:::bucket': must be an EFS"),
        (
            "arn:aws:elasticfilesystem:eu-west-1:111111111111:access-point/fsap-0123456789abcdef0",
            "must be an EFS",
        ),
    ],
)
def test_bad_file_system_arns(scratch, arn, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        _plan(scratch).add_file_system(arn)


def test_file_system_arn_dispatches_on_service(scratch):
    plan = _plan(scratch)
    plan.add_file_system("arn:aws:elasticfilesystem:eu-west-1:111111111111:file-system/fs-0123abcd")
    plan.add_lustre(FSX_ARN)
    assert plan.selected_types == frozenset({"EFS", "FSx"})
    with pytest.raises(EksAiDataValidationError, match=f"invalid arn='{FSX_ARN}': is already selected"):
        plan.add_file_system(FSX_ARN)


def test_bad_tags(scratch):
    plan = _plan(scratch)
    with pytest.raises(EksAiDataValidationError, match="invalid key='aws:backup': must be a tag key"):
        plan.add_ebs_by_tag("aws:backup", "true")
    with pytest.raises(EksAiDataValidationError, match="invalid value='a\\*b': must be a tag value"):
        plan.add_ebs_by_tag("team", "a*b")
    plan.add_ebs_by_tag()
    with pytest.raises(
        EksAiDataValidationError, match="invalid key='eks-ai-data:backup=true': is already selected"
    ):
        plan.add_ebs_by_tag()


def test_cold_storage_with_efs_or_ebs_passes_the_selection_check(scratch):
    plan = _plan(scratch, rules=[BackupRuleSpec.monthly(move_to_cold_after=days(30))])
    plan.add_bucket(s3.Bucket(scratch["stack"], f"B{next(_counter)}", versioned=True))
    with pytest.raises(EksAiDataValidationError, match="only EBS, EFS support cold storage"):
        plan.check_selection()
    plan.add_ebs_by_tag()
    plan.check_selection()
