"""The policy model itself, on small hand-written templates: each rule of IAM evaluation it claims to follow."""

from __future__ import annotations

import pytest

from tests.platform.iam_model import PolicyModel

ACCOUNT = "111122223333"
ROOT = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}


def _key(*statements):
    return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": list(statements)}}}


def _role_policy(role, *statements):
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {"Roles": [{"Ref": role}], "PolicyDocument": {"Statement": list(statements)}},
    }


ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}
KEY_ARN = {"Fn::GetAtt": ["Key", "Arn"]}


@pytest.fixture(scope="module")
def model() -> PolicyModel:
    bucket_arn = {"Fn::GetAtt": ["Bucket", "Arn"]}
    template = {
        "Conditions": {"IsAws": {"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws"]}},
        "Resources": {
            "Key": _key(
                {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"},
                {
                    "Sid": "Named",
                    "Effect": "Allow",
                    "Principal": {"AWS": {"Fn::GetAtt": ["Named", "Arn"]}},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                },
                {
                    "Sid": "AnyViaS3",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": {"Ref": "AWS::AccountId"},
                            "kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"},
                        },
                        "ArnLike": {
                            "aws:PrincipalArn": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/svc/*"}
                        },
                    },
                },
                {
                    "Sid": "Logs",
                    "Effect": "Allow",
                    "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                    "Action": ["kms:Encrypt*", "kms:GenerateDataKey*"],
                    "Resource": "*",
                },
                {
                    "Sid": "NoDeleteButAdmin",
                    "Effect": "Deny",
                    "NotPrincipal": {"AWS": {"Fn::GetAtt": ["Admin", "Arn"]}},
                    "Action": "kms:ScheduleKeyDeletion",
                    "Resource": "*",
                },
            ),
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "data"}},
            "BucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Bucket"},
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Sid": "Tls",
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Action": "s3:*",
                                "Resource": [bucket_arn, {"Fn::Join": ["", [bucket_arn, "/*"]]}],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            },
                            {
                                "Sid": "OnlyVpce",
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Action": "s3:GetObject*",
                                "Resource": {"Fn::Join": ["", [bucket_arn, "/*"]]},
                                "Condition": {
                                    "StringNotEquals": {"aws:SourceVpce": {"Ref": "Endpoint"}},
                                    "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/exempt-*"]},
                                },
                            },
                            {
                                "Sid": "NamedReads",
                                "Effect": "Allow",
                                "Principal": {"AWS": {"Fn::GetAtt": ["Named", "Arn"]}},
                                "Action": "s3:GetObject",
                                "Resource": {"Fn::Join": ["", [bucket_arn, "/*"]]},
                            },
                        ]
                    },
                },
            },
            "Endpoint": {
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": "*"},
                                "Action": "s3:*",
                                "Resource": [
                                    {"Fn::If": ["IsAws", "arn:aws:s3:::data/*", "arn:aws:s3:::nope/*"]}
                                ],
                            }
                        ]
                    }
                },
            },
            "Named": ROLE,
            "Admin": ROLE,
            "Delegated": ROLE,
            "DelegatedPolicy": _role_policy(
                "Delegated",
                {
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:ScheduleKeyDeletion"],
                    "Resource": KEY_ARN,
                },
                {"Effect": "Allow", "Action": "S3:GetObject", "Resource": "arn:aws:s3:::*/*"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/secret/*"},
            ),
        },
    }
    return PolicyModel({"S": template})


def test_a_key_policy_naming_the_account_delegates_to_iam(model):
    key = model.arn("S", "Key")
    delegated = model.role("S", "Delegated")
    assert model.can(delegated, "kms:Decrypt", key).reason == "the key policy delegates to IAM and IAM allows"
    nobody = model.principal("Nobody")
    decision = model.can(nobody, "kms:Decrypt", key)
    assert not decision and "no identity statement" in decision.reason
    # IAM alone is not enough without a key policy: a key the templates do not have is denied.
    other = model.principal("Wide", [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}])
    assert not model.can(other, "kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/elsewhere")
    assert model.can(other, "kms:Decrypt", key)


def test_a_key_policy_naming_the_principal_needs_no_iam(model):
    named = model.role("S", "Named")
    assert named.statements == ()
    assert (
        model.can(named, "kms:Decrypt", model.arn("S", "Key")).reason == "the key policy names the principal"
    )
    assert not model.can(named, "kms:Encrypt", model.arn("S", "Key"))


def test_star_principal_with_conditions_matches_only_what_the_conditions_admit(model):
    key = model.arn("S", "Key")
    service_role = model.principal("worker", path="/svc/")
    via_s3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    assert model.can(service_role, "kms:Decrypt", key, context=via_s3)
    assert not model.can(
        service_role, "kms:Decrypt", key, context={"kms:ViaService": "ec2.eu-west-1.amazonaws.com"}
    )
    assert not model.can(service_role, "kms:Decrypt", key)  # kms:ViaService absent: StringEquals fails
    assert not model.can(
        model.principal("worker"), "kms:Decrypt", key, context=via_s3
    )  # path "/" not "/svc/"


def test_service_principals_match_by_name(model):
    key = model.arn("S", "Key")
    assert model.can(model.service("logs.eu-west-1.amazonaws.com"), "kms:GenerateDataKey", key)
    assert not model.can(model.service("logs.us-east-1.amazonaws.com"), "kms:GenerateDataKey", key)


def test_not_principal_deny_spares_only_the_listed_principal(model):
    key = model.arn("S", "Key")
    assert model.can(model.role("S", "Delegated"), "kms:ScheduleKeyDeletion", key).denied_by == (
        "S/Key#NoDeleteButAdmin",
    )
    admin = model.principal("Admin2", [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}])
    assert not model.can(admin, "kms:ScheduleKeyDeletion", key)
    real_admin = model.role("S", "Admin")
    decision = model.can(real_admin, "kms:ScheduleKeyDeletion", key)
    assert decision.denied_by == () and not decision  # not denied, but nothing allows it either


def test_bucket_policy_deny_allow_and_negated_condition_keys(model):
    delegated = model.role("S", "Delegated")
    endpoint = model.ref("S", "Endpoint")
    obj = "arn:aws:s3:::data/train/x"
    assert model.can(delegated, "s3:GetObject", obj, via_endpoint=endpoint)  # action matching ignores case
    # Outside the endpoint aws:SourceVpce is absent: StringNotEquals holds, so the deny applies.
    assert model.can(delegated, "s3:GetObject", obj).denied_by == ("S/BucketPolicy#OnlyVpce",)
    exempt = model.principal(
        "exempt-backup", [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
    )
    assert model.can(exempt, "s3:GetObject", obj)
    assert model.can(
        delegated, "s3:GetObject", "arn:aws:s3:::data/secret/x", via_endpoint=endpoint
    ).denied_by == ("S/DelegatedPolicy#2",)
    no_tls = model.can(
        delegated, "s3:GetObject", obj, via_endpoint=endpoint, context={"aws:SecureTransport": False}
    )
    assert no_tls.denied_by == ("S/BucketPolicy#Tls",)


def test_a_bucket_policy_naming_the_principal_allows_without_iam(model):
    named = model.role("S", "Named")
    endpoint = model.ref("S", "Endpoint")
    decision = model.can(named, "s3:GetObject", "arn:aws:s3:::data/x", via_endpoint=endpoint)
    assert decision.reason == "the resource policy names the principal"


def test_endpoint_policy_filters_what_goes_through_it(model):
    endpoint = model.ref("S", "Endpoint")
    delegated = model.role("S", "Delegated")
    decision = model.can(delegated, "s3:GetObject", "arn:aws:s3:::elsewhere/x", via_endpoint=endpoint)
    assert decision.reason == "the VPC endpoint policy does not allow it"
    assert model.can(delegated, "s3:GetObject", "arn:aws:s3:::elsewhere/x")  # not through the endpoint
    assert model.endpoint_allows(
        endpoint, "s3:GetObject", "arn:aws:s3:::data/x"
    )  # Fn::If took the aws branch
    assert not model.endpoint_allows(endpoint, "s3:GetObject", "arn:aws:s3:::nope/x")


def test_physical_names_are_stable_and_distinct(model):
    assert model.arn("S", "Bucket") == "arn:aws:s3:::data"
    assert model.arn("S", "Named") == f"arn:aws:iam::{ACCOUNT}:role/S-Named"
    assert model.ref("S", "Endpoint").startswith("vpce-")
    assert model.arn("S", "Key").startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")
    with pytest.raises(KeyError, match="logical ids start with 'D'"):
        model.logical_id("S", "D")


def test_condition_operators():
    from tests.platform.iam_matching import condition as _condition

    ctx = {"kms:EncryptionContextKeys": ["aws:ebs:id"], "s3:TlsVersion": 1.3, "aws:SecureTransport": True}
    assert _condition("ForAnyValue:StringEquals", "kms:EncryptionContextKeys", "aws:ebs:id", ctx)
    assert not _condition("ForAllValues:StringEquals", "kms:EncryptionContextKeys", "other", ctx)
    assert _condition("ForAllValues:StringEquals", "absent", "x", ctx)  # vacuous truth
    assert not _condition("NumericLessThan", "s3:TlsVersion", 1.2, ctx)
    assert _condition("BoolIfExists", "aws:MultiFactorAuthPresent", "true", ctx)
    assert _condition("Null", "aws:SourceVpce", "true", ctx)
    assert _condition("StringNotLike", "absent", "x*", ctx)
    assert _condition(
        "ArnLike",
        "aws:PrincipalArn",
        "arn:aws:iam::*:role/a*",
        {"aws:principalarn": "arn:aws:iam::1:role/ab"},
    )
    # ArnLike matches the six colon-separated parts separately: '*' in the resource part cannot eat the account.
    assert not _condition("ArnLike", "k", "arn:aws:iam::1:*", {"k": "arn:aws:iam::2:role/x"})
    with pytest.raises(NotImplementedError):
        _condition("DateGreaterThan", "aws:CurrentTime", "2020-01-01", ctx)


def test_the_module_docstring_example_holds_on_the_reference(reference):
    """The usage the module docstring shows, on the reference app (and a first blast-radius question)."""
    model = PolicyModel(reference.templates)
    trainer = model.role("EksAiDataTrainingBlue", "TrainerRole")
    key = model.arn("EksAiDataTrainingData", "KeysDataKey")
    bucket = model.arn("EksAiDataTrainingData", "DatasetBucket")
    context = {"kms:ViaService": "s3.eu-west-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": bucket}
    assert model.can(trainer, "kms:Decrypt", key, context=context)
    file_system = model.arn("EksAiDataTrainingData", "DatasetLustreFileSystem")
    assert file_system.startswith("arn:aws:fsx:eu-west-1:111122223333:file-system/fs-")
    for role in [*model.roles("EksAiDataTrainingBlue"), *model.roles("EksAiDataTrainingData")]:
        assert not model.can(role, "fsx:DeleteFileSystem", file_system), role.arn
