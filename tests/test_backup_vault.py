"""The vault's access policy (who can delete recovery points, change or delete the vault) and Vault Lock modes."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from eks_ai_data.backup import DataBackupPlan
from eks_ai_data.backup_rules import VaultLock, VaultLockMode
from eks_ai_data.backup_vault import DENIED_EXCEPT_BREAK_GLASS, DENIED_TO_ALL
from eks_ai_data.errors import EksAiDataValidationError
from tests._gates import cfn_lint_errors, nag_synth
from tests.platform.iam_matching import condition

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
BREAK_GLASS = "arn:aws:iam::111111111111:role/security/break-glass"
days = cdk.Duration.days


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("vault")))
    stack = cdk.Stack(app, "VaultTest", env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Bucket", versioned=True, enforce_ssl=True, encryption_key=key)
    plans = {
        "NoBreakGlass": {},
        "BreakGlass": {"break_glass_role_arn": BREAK_GLASS},
        "Open": {"deny_recovery_point_deletion": False},
        "Governance": {"vault_lock": VaultLock.governance(min_retention=days(7), max_retention=days(400))},
        "Compliance": {"vault_lock": VaultLock.compliance(min_retention=days(7))},
        "Compliance30": {"vault_lock": VaultLock.compliance(min_retention=days(7), changeable_for=days(30))},
        "Inferred": {"vault_lock": VaultLock(min_retention=days(7), changeable_for=days(5))},
    }
    for name, props in plans.items():
        DataBackupPlan(stack, name, backup_key=key, restore_testing=None, **props).add_bucket(bucket)
    result = nag_synth(app)
    return {"template": result.template("VaultTest"), "findings": result.findings}


def _vault(synth, prefix: str) -> dict:
    (vault,) = [
        r["Properties"]
        for k, r in synth["template"]["Resources"].items()
        if k.startswith(f"{prefix}Vault") and r["Type"] == "AWS::Backup::BackupVault"
    ]
    return vault


def _denied(statement: dict, action: str, principal_arn: str) -> bool:
    """Whether the deny statement applies to ``principal_arn`` calling ``action``."""
    if action not in statement["Action"]:
        return False
    return all(
        condition(op, key, values, {"aws:PrincipalArn": principal_arn})
        for op, block in statement.get("Condition", {}).items()
        for key, values in block.items()
    )


ADMIN = "arn:aws:iam::111111111111:role/Admin"
CFN = "arn:aws:iam::111111111111:role/cdk-hnb659fds-cfn-exec-role-111111111111-eu-west-1"
ROOT = "arn:aws:iam::111111111111:root"
BACKUP_ROLE = "arn:aws:iam::111111111111:role/VaultTest-NoBreakGlassRole"


def test_by_default_nobody_can_delete_or_shorten_a_recovery_point_but_admins_can_change_the_policy(synth):
    (statement,) = _vault(synth, "NoBreakGlass")["AccessPolicy"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == {"AWS": "*"} and statement["Resource"] == "*"
    assert "Condition" not in statement
    for who in (ADMIN, CFN, ROOT, BACKUP_ROLE):
        assert _denied(statement, "backup:DeleteRecoveryPoint", who)
        assert _denied(statement, "backup:UpdateRecoveryPointLifecycle", who)
        assert not _denied(
            statement, "backup:PutBackupVaultAccessPolicy", who
        )  # CloudFormation can update it
    # AWS Config's backup-recovery-point-manual-deletion-disabled looks for these, with wildcard principal/resource
    assert set(statement["Action"]) == set(DENIED_TO_ALL)


def test_with_a_break_glass_role_only_it_can_delete_change_the_policy_or_remove_a_lock(synth):
    (statement,) = _vault(synth, "BreakGlass")["AccessPolicy"]["Statement"]
    assert statement["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": BREAK_GLASS}}
    assert set(statement["Action"]) == set(DENIED_EXCEPT_BREAK_GLASS)
    for action in DENIED_EXCEPT_BREAK_GLASS:
        for who in (ADMIN, CFN, ROOT, BACKUP_ROLE):
            assert _denied(statement, action, who), (action, who)
        assert not _denied(statement, action, BREAK_GLASS), action
    # a lock can still be put (CloudFormation applies lock and policy in an undocumented order)
    assert not _denied(statement, "backup:PutBackupVaultLockConfiguration", ADMIN)
    # vault access policies take no wildcard in Action
    assert all("*" not in action for action in statement["Action"])


def test_the_policy_can_be_left_out(synth):
    assert "AccessPolicy" not in _vault(synth, "Open")


def test_lock_modes(synth):
    assert _vault(synth, "Governance")["LockConfiguration"] == {
        "MinRetentionDays": 7,
        "MaxRetentionDays": 400,
    }
    assert _vault(synth, "Compliance")["LockConfiguration"] == {"MinRetentionDays": 7, "ChangeableForDays": 3}
    assert _vault(synth, "Compliance30")["LockConfiguration"]["ChangeableForDays"] == 30
    assert _vault(synth, "Inferred")["LockConfiguration"]["ChangeableForDays"] == 5
    assert VaultLock(min_retention=days(7), changeable_for=days(5)).effective_mode is VaultLockMode.COMPLIANCE
    assert VaultLock(min_retention=days(7)).effective_mode is VaultLockMode.GOVERNANCE
    assert VaultLock.governance(min_retention=days(1)).grace_period is None


def test_gates(synth):
    assert cfn_lint_errors(synth["template"], regions=["eu-west-1"]) == []
    assert [str(f) for f in synth["findings"] if not f.path.startswith("VaultTest/Bucket")] == []


@pytest.fixture(scope="module")
def scratch():
    stack = cdk.Stack(cdk.App(), "Scratch", env=ENV)
    return stack, kms.Key(stack, "Key", enable_key_rotation=True)


_n = iter(range(1000))


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"break_glass_role_arn": "arn:aws:iam::111111111111:user/alice"},
            r"invalid break_glass_role_arn='arn:aws:iam::111111111111:user/alice': must be an IAM role ARN",
        ),
        (
            {"break_glass_role_arn": "arn:aws:iam::222222222222:role/break-glass"},
            r"must be a role in the vault's account \(111111111111\): AWS Backup rejects cross-account requests",
        ),
        (
            {"break_glass_role_arn": BREAK_GLASS, "deny_recovery_point_deletion": False},
            r"invalid break_glass_role_arn=.*: needs deny_recovery_point_deletion=True",
        ),
        (
            {"break_glass_role_arn": BREAK_GLASS, "removal_policy": cdk.RemovalPolicy.DESTROY},
            r"invalid removal_policy='DESTROY': cannot delete a vault whose access policy denies "
            r"backup:DeleteBackupVault",
        ),
    ],
)
def test_bad_break_glass_props(scratch, props, message):
    stack, key = scratch
    with pytest.raises(EksAiDataValidationError, match=message):
        DataBackupPlan(stack, f"P{next(_n)}", backup_key=key, **props)


def test_a_token_break_glass_role_is_accepted(scratch):
    stack, key = scratch
    arn = cdk.Fn.import_value("BreakGlassRoleArn")
    plan = DataBackupPlan(stack, f"P{next(_n)}", backup_key=key, break_glass_role_arn=arn)
    assert plan.break_glass_role_arn == arn
