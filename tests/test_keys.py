"""DataKeys: keys and aliases in the reference stacks, options, alias rules and collisions, IAM grants."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from eks_ai_data.cluster import AiCluster
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.key_aliases import MAX_ALIAS_LENGTH
from eks_ai_data.keys import DataKeys
from stacks import INFERENCE_DATA_STACK, TRAINING_DATA_STACK

STACK = TRAINING_DATA_STACK  # the keys live in the data stacks


def _aliases(template: dict) -> list[str]:
    return sorted(
        r["Properties"]["AliasName"] for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Alias"
    )


def _key_statements(reference, stack: str, prefix: str) -> dict[str, dict]:
    key = next(v for k, v in reference.resources(stack, "AWS::KMS::Key").items() if k.startswith(prefix))
    return {s.get("Sid", "root"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}


def test_keys_rotate_have_path_derived_aliases_and_are_retained(reference):
    for stack in (STACK, INFERENCE_DATA_STACK):
        keys = reference.resources(stack, "AWS::KMS::Key")
        assert len(keys) == 3
        for key in keys.values():
            assert key["Properties"]["EnableKeyRotation"] is True
            assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
        assert _aliases(reference.template(stack)) == [
            f"alias/eks-ai-data/{stack}/Keys/{p}" for p in ("backup", "data", "secrets")
        ]


def test_key_policies_name_their_principals(reference):
    """Each key names only the account (IAM delegation) and the principals that cannot get IAM permissions."""
    assert set(_key_statements(reference, STACK, "KeysSecretsKey")) == {"root"}
    assert set(_key_statements(reference, STACK, "KeysBackupKey")) == {
        "root",
        "AllowBackupNotificationsToEncryptedTopic",
    }
    data = _key_statements(reference, STACK, "KeysDataKey")
    assert set(data) == {
        "root",
        "AllowAutoScalingServiceLinkedRoleUse",
        "AllowAutoScalingServiceLinkedRoleGrants",
        "AllowCloudWatchLogs",
        "AllowFsxLustreDataRepositoriesThroughS3",  # added by LustreStore for the linked dataset bucket
        "AllowCloudWatchAlarmsToEncryptedTopic",  # added by StorageMonitoring for its encrypted alarm topic
    }
    assert data["root"]["Action"] == "kms:*"
    assert data["root"]["Principal"]["AWS"]["Fn::Join"][1][-1] == ":root"
    assert data["AllowAutoScalingServiceLinkedRoleGrants"]["Condition"] == {
        "Bool": {"kms:GrantIsForAWSResource": "true"}
    }
    assert "AWSServiceRoleForAutoScaling" in json.dumps(
        data["AllowAutoScalingServiceLinkedRoleUse"]["Principal"]
    )
    assert "kms:EncryptionContext:aws:logs:arn" in data["AllowCloudWatchLogs"]["Condition"]["ArnLike"]


def test_no_key_policy_statement_is_open_to_the_account(reference):
    """``Principal: *`` appears once, for FSx's S3 service-linked roles, and only pinned by ``aws:PrincipalArn``
    to the service-linked role path (which IAM creates for FSx, not for users)."""
    starred = []
    for stack, template in reference.templates.items():
        for key in (r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"):
            for statement in key["Properties"]["KeyPolicy"]["Statement"]:
                if statement["Principal"] in ("*", {"AWS": "*"}):
                    starred.append((stack, statement))
    assert {s.get("Sid") for _, s in starred} == {"AllowFsxLustreDataRepositoriesThroughS3"}
    for _, statement in starred:
        pattern = statement["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Join"][1][-1]
        assert pattern.endswith(
            ":role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_fs-*"
        )


# -- options --------------------------------------------------------------------------------------------------
@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Opts")


def test_shared_key_and_existing_keys(stack):
    shared = DataKeys(stack, "Shared", shared_key=True)
    assert shared.data_key is shared.secrets_key is shared.backup_key
    assert len(shared.managed_keys) == 1
    assert shared.aliases == {"shared": "alias/eks-ai-data/Opts/Shared/shared"}

    existing = kms.Key.from_key_arn(stack, "ExistingKey", "arn:aws:kms:eu-west-1:111122223333:key/abcd")
    mixed = DataKeys(stack, "Mixed", data_key=existing)
    assert mixed.data_key is existing
    assert len(mixed.managed_keys) == 2
    assert set(mixed.aliases) == {"secrets", "backup"}
    no_backups = DataKeys(stack, "NoBackups", data_key=existing, create_backup_key=False)
    assert no_backups.backup_key is None
    assert len(no_backups.managed_keys) == 1
    with pytest.raises(EksAiDataValidationError, match=r"invalid backup_key=None: does not exist"):
        no_backups.grant_backup_vault(
            iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("backup.amazonaws.com"))
        )


def test_grants_add_identity_statements_on_the_right_key(stack):
    keys = DataKeys(stack, "Keys")
    cluster_role = iam.Role(stack, "ClusterRole", assumed_by=iam.ServicePrincipal("eks.amazonaws.com"))
    backup_role = iam.Role(stack, "BackupRole", assumed_by=iam.ServicePrincipal("backup.amazonaws.com"))
    keys.grant_secrets_encryption(cluster_role)
    keys.grant_backup_vault(backup_role)
    template = cdk.assertions.Template.from_stack(stack).to_json()
    policies = {
        r["Properties"]["Roles"][0]["Ref"]: r["Properties"]["PolicyDocument"]["Statement"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
    }
    (secrets,) = next(v for k, v in policies.items() if k.startswith("ClusterRole"))
    assert secrets["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"]
    assert secrets["Resource"]["Fn::GetAtt"][0].startswith("KeysSecretsKey")
    use, grant = next(v for k, v in policies.items() if k.startswith("BackupRole"))
    assert use["Action"] == ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    assert grant == {
        "Action": "kms:CreateGrant",
        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        "Effect": "Allow",
        "Resource": use["Resource"],
    }
    assert use["Resource"]["Fn::GetAtt"][0].startswith("KeysBackupKey")


# -- aliases: KMS's rules -------------------------------------------------------------------------------------
_n = iter(range(10_000))


def test_aliases_up_to_kms_limit_are_accepted(stack):
    # "/secrets" is the longest suffix: a prefix of 248 characters makes a 256-character alias.
    prefix = "alias/" + "a" * (MAX_ALIAS_LENGTH - len("alias/") - len("/secrets"))
    keys = DataKeys(stack, "Longest", alias_prefix=prefix)
    assert max(len(a) for a in keys.aliases.values()) == MAX_ALIAS_LENGTH
    assert DataKeys(stack, "Chars", alias_prefix="alias/Team_1/ml-platform").aliases["data"] == (
        "alias/Team_1/ml-platform/data"
    )
    assert DataKeys(stack, "AwsLike", alias_prefix="alias/awsome").aliases["data"] == "alias/awsome/data"
    # In shared mode only "/shared" (7 characters) is appended: one character more is allowed.
    shared = DataKeys(stack, "SharedLongest", shared_key=True, alias_prefix=prefix + "b")
    assert len(shared.aliases["shared"]) == MAX_ALIAS_LENGTH


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"alias_prefix": "alias/aws/mine"},
            r"invalid alias_prefix='alias/aws/mine': gives the alias 'alias/aws/mine/secrets': an alias must "
            r"start with 'alias/' \(not 'alias/aws/', reserved for AWS managed keys\)",
        ),
        ({"alias_prefix": "alias/aws"}, r"gives the alias 'alias/aws/secrets': an alias must start"),
        (
            {"alias_prefix": "eks/keys"},
            r"invalid alias_prefix='eks/keys': gives the alias 'eks/keys/secrets'",
        ),
        ({"alias_prefix": "alias/ml:prod"}, r"use only letters, digits, '/', '_' and '-'"),
        (
            {"alias_prefix": "alias/" + "a" * 243},
            r"gives the alias 'alias/a+/secrets' \(257 characters\): KMS allows at most 256, 'alias/' included",
        ),
        (
            {"alias_prefix": "alias/" + "a" * 244, "shared_key": True},
            r"gives the alias 'alias/a+/shared' \(257 characters\)",
        ),
        ({"pending_window": cdk.Duration.days(3)}, r"pending_window='3 days': must be between 7 and 30 days"),
    ],
)
def test_bad_input(stack, props, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        DataKeys(stack, f"K{next(_n)}", **props)


def test_default_alias_is_unique_by_construction(stack):
    one = DataKeys(stack, "Keys")
    scope = Construct(stack, "Scope")
    two = DataKeys(scope, "Keys")
    cluster_a = AiCluster(stack, "ClusterA")
    cluster_b = AiCluster(stack, "ClusterB")
    aliases = [k.aliases["data"] for k in (one, two, cluster_a.keys, cluster_b.keys)]
    assert aliases == [
        "alias/eks-ai-data/Opts/Keys/data",
        "alias/eks-ai-data/Opts/Scope/Keys/data",
        "alias/eks-ai-data/Opts/ClusterA/Keys/data",
        "alias/eks-ai-data/Opts/ClusterB/Keys/data",
    ]


def test_default_alias_of_ids_aliases_cannot_hold_is_hashed(stack):
    dotted = DataKeys(stack, "team.a keys")
    dashed = DataKeys(stack, "team-a-keys")
    assert dashed.aliases["data"] == "alias/eks-ai-data/Opts/team-a-keys/data"
    assert re.fullmatch(r"alias/eks-ai-data/Opts/team-a-keys-[0-9a-f]{10}/data", dotted.aliases["data"])
    deep = stack
    for i in range(12):
        deep = Construct(deep, "X" * 24 + str(i))
    long = DataKeys(deep, "Keys")
    assert all(len(a) <= MAX_ALIAS_LENGTH for a in long.aliases.values())
    assert re.search(r"-[0-9a-f]{10}/secrets$", long.aliases["secrets"])


# -- aliases: collisions in one account and Region ------------------------------------------------------------
_COLLISION = (
    r"gives the alias 'alias/team/ml/secrets', which {other} also creates, and both stacks can deploy"
)


def test_same_prefix_twice_in_one_stack_is_refused(stack):
    DataKeys(stack, "First", alias_prefix="alias/team/ml")
    with pytest.raises(
        EksAiDataValidationError, match=_COLLISION.format(other="Opts/First") + r".*pass a distinct"
    ):
        DataKeys(stack, "Second", alias_prefix="alias/team/ml")


@pytest.mark.parametrize(
    ("env_a", "env_b", "collide"),
    [
        (None, None, True),  # environment-agnostic stacks may deploy to the same place
        (("111122223333", "eu-west-1"), None, True),
        (("111122223333", "eu-west-1"), ("111122223333", "eu-west-1"), True),
        (("111122223333", "eu-west-1"), ("111122223333", "us-east-1"), False),
        (("111122223333", "eu-west-1"), ("444455556666", "eu-west-1"), False),
    ],
)
def test_same_prefix_in_two_stacks_collides_only_where_they_can_meet(env_a, env_b, collide):
    app = cdk.App()

    def env(e):
        return None if e is None else cdk.Environment(account=e[0], region=e[1])

    DataKeys(cdk.Stack(app, "A", env=env(env_a)), "Keys", alias_prefix="alias/team/ml")
    stack_b = cdk.Stack(app, "B", env=env(env_b))
    if collide:
        with pytest.raises(EksAiDataValidationError, match=_COLLISION.format(other="A/Keys")):
            DataKeys(stack_b, "Keys", alias_prefix="alias/team/ml")
    else:
        assert (
            DataKeys(stack_b, "Keys", alias_prefix="alias/team/ml").aliases["secrets"]
            == "alias/team/ml/secrets"
        )


def test_two_stacks_with_one_stack_name_collide_and_separate_apps_do_not():
    app = cdk.App()
    DataKeys(cdk.Stack(app, "A", stack_name="platform"), "Keys")
    with pytest.raises(EksAiDataValidationError, match=r"alias 'alias/eks-ai-data/platform/Keys/secrets'"):
        DataKeys(cdk.Stack(app, "B", stack_name="platform"), "Keys")
    other_app = cdk.App()  # another app's claims are its own
    assert DataKeys(cdk.Stack(other_app, "A", stack_name="platform"), "Keys").aliases["data"] == (
        "alias/eks-ai-data/platform/Keys/data"
    )
