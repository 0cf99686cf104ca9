"""DataBucket: encryption, policies, lifecycle, replication, prefix-scoped grants, gates, validation."""

from __future__ import annotations

import re
from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from eks_ai_data.bucket import DataBucket, ReplicationTarget
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.keys import DataKeys
from tests._gates import acknowledge_fixture, gate_problems, nag_synth, normalize_template

ENV = cdk.Environment(account="111111111111", region="us-east-1")
KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WEST_KEY_ARN = "arn:aws:kms:us-west-2:111111111111:key/9876abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def reference():
    app = cdk.App()
    stack = cdk.Stack(app, "BucketTest", env=ENV)
    keys = DataKeys(stack, "Keys")
    models = DataBucket(
        stack,
        "Models",
        encryption_key=keys.data_key,
        intelligent_tiering_after=cdk.Duration.days(30),
        replication=ReplicationTarget(
            bucket=s3.Bucket.from_bucket_arn(stack, "Replica", "arn:aws:s3:::acme-models-replica-west"),
            kms_key=kms.Key.from_key_arn(stack, "ReplicaKey", WEST_KEY_ARN),
        ),
    )
    trainer = iam.Role(stack, "Trainer", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    models.grant_read(trainer, "datasets/")
    models.grant_write(trainer, "checkpoints/")
    bucket_id = stack.resolve(models.bucket.node.default_child.logical_id)
    cdk.Validations.of(trainer).acknowledge(
        *(
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
                reason=f"the trainer reads or writes every object under {prefix} (prefix-scoped grant)",
            )
            for prefix in ("datasets/", "checkpoints/")
        )
    )
    acknowledge_fixture(trainer, "the test's own role receives the grants under test", "IAMNoInlinePolicy")
    result = nag_synth(app)
    return SimpleNamespace(
        result=result, template=result.template(stack.artifact_id), stack=stack, bucket=models, keys=keys
    )


@pytest.fixture(scope="module")
def user():
    """A company's app: an existing key and a shared, existing log bucket."""
    app = cdk.App()
    stack = cdk.Stack(app, "UserBucket", env=ENV)
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    logs = s3.Bucket(
        stack,
        "Logs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
    )
    acknowledge_fixture(
        logs,
        "the company's existing access-log bucket, shared by DataBuckets",
        "AwsSolutions-S1",
        "S3BucketReplicationEnabled",
        "S3BucketVersioningEnabled",
        "S3DefaultEncryptionKMS",
    )
    bucket = DataBucket(
        stack,
        "Checkpoints",
        encryption_key=key,
        bucket_name="acme-checkpoints",
        access_logs_bucket=logs,
        noncurrent_version_expiration=cdk.Duration.days(30),
    )
    result = nag_synth(app)
    return SimpleNamespace(
        result=result, template=result.template(stack.artifact_id), stack=stack, bucket=bucket
    )


def _resources(template, type_):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _data_bucket(built):
    logical_id = built.stack.resolve(built.bucket.bucket.node.default_child.logical_id)
    return built.template["Resources"][logical_id]


@pytest.mark.parametrize("name", ["reference", "user"])
def test_gates(name, request):
    built = request.getfixturevalue(name)
    assert gate_problems(built.result, built.template) == []


@pytest.mark.parametrize("name", ["reference", "user"])
def test_snapshot(name, request, snapshot_json):
    assert normalize_template(request.getfixturevalue(name).template) == snapshot_json


def test_bucket_properties(reference):
    bucket = _data_bucket(reference)
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == reference.stack.resolve(
        reference.keys.data_key.key_arn
    )
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    logs = reference.stack.resolve(reference.bucket.access_logs_bucket.bucket_name)
    assert props["LoggingConfiguration"] == {"DestinationBucketName": logs}


def test_lifecycle_rules(reference, user):
    rules = {r["Id"]: r for r in _data_bucket(reference)["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["AbortIncompleteMultipartUploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 7
    }
    assert rules["ExpireNoncurrentVersions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rules["ExpireNoncurrentVersions"]["ExpiredObjectDeleteMarker"] is True
    assert rules["IntelligentTiering"]["Transitions"] == [
        {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}
    ]
    user_rules = {r["Id"]: r for r in _data_bucket(user)["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert "IntelligentTiering" not in user_rules
    assert user_rules["ExpireNoncurrentVersions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}


def _policy_statements(built, bucket_construct):
    bucket_ref = built.stack.resolve(bucket_construct.bucket_name)
    (policy,) = [
        p
        for p in _resources(built.template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == bucket_ref
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


@pytest.mark.parametrize("which", ["data", "logs"])
def test_bucket_policies_enforce_tls(reference, which):
    target = reference.bucket.bucket if which == "data" else reference.bucket.access_logs_bucket
    statements = _policy_statements(reference, target)
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert {json_key(s["Condition"]) for s in denies} == {
        ("Bool", "aws:SecureTransport", "false"),
        ("NumericLessThan", "s3:TlsVersion", 1.2),
    }
    assert all(s["Principal"] == {"AWS": "*"} and s["Action"] == "s3:*" for s in denies)
    allows = [s for s in statements if s["Effect"] == "Allow"]
    if which == "data":
        assert allows == []
    else:  # server access log delivery, by bucket policy, only from the data bucket in this account
        (allow,) = allows
        assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
        assert allow["Action"] == "s3:PutObject"
        assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": "111111111111"}


def json_key(condition):
    ((operator, body),) = condition.items()
    ((key, value),) = body.items()
    return operator, key, value


def test_shared_log_bucket_gets_prefix(user):
    props = _data_bucket(user)["Properties"]
    assert props["BucketName"] == "acme-checkpoints"
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "UserBucket/Checkpoints/"
    assert (
        props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
            "KMSMasterKeyID"
        ]
        == KEY_ARN
    )


def test_replication(reference):
    config = _data_bucket(reference)["Properties"]["ReplicationConfiguration"]
    (rule,) = config["Rules"]
    assert rule["Destination"] == {
        "Bucket": "arn:aws:s3:::acme-models-replica-west",
        "EncryptionConfiguration": {"ReplicaKmsKeyID": WEST_KEY_ARN},
    }
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert config["Role"] == reference.stack.resolve(reference.bucket.replication_role.role_arn)


def test_grants_are_scoped_to_prefixes(reference):
    (policy,) = [
        p
        for k, p in _resources(reference.template, "AWS::IAM::Policy").items()
        if k.startswith("TrainerDefaultPolicy")
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    arn = reference.stack.resolve(reference.bucket.bucket_arn)

    def find(action):
        return [
            s
            for s in statements
            if action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        ]

    (get,) = find("s3:GetObject")
    assert get["Resource"] == {"Fn::Join": ["", [arn, "/datasets/*"]]}
    (put,) = find("s3:PutObject")
    assert put["Resource"] == {"Fn::Join": ["", [arn, "/checkpoints/*"]]}
    assert "s3:DeleteObjectVersion" not in put["Action"]
    lists = find("s3:ListBucket")
    assert sorted(tuple(s["Condition"]["StringLike"]["s3:prefix"]) for s in lists) == [
        ("checkpoints/", "checkpoints/*"),
        ("datasets/", "datasets/*"),
    ]
    assert all(s["Resource"] == arn for s in lists)
    kms_statements = [s for s in statements if any(a.startswith("kms:") for a in _actions(s))]
    assert kms_statements
    for statement in kms_statements:
        assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
        assert statement["Resource"] == reference.stack.resolve(reference.keys.data_key.key_arn)
    assert not any("*" == s["Resource"] for s in statements)


def _actions(statement):
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


# -- validation ----------------------------------------------------------------------------------------
def _build(**overrides):
    stack = cdk.Stack(env=ENV)
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    grant = overrides.pop("grant", None)
    bucket = DataBucket(stack, "Data", encryption_key=key, **overrides)
    if grant:
        grant(bucket, iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")))
    return bucket


BAD_INPUTS = [
    ({"bucket_name": "Acme_Data"}, r"Data: invalid bucket_name='Acme_Data': must be 3-63 lowercase letters"),
    ({"bucket_name": "192.168.1.1"}, r"invalid bucket_name='192.168.1.1'"),
    # reserved by S3 (general purpose bucket naming rules)
    *(
        (
            {"bucket_name": name},
            rf"invalid bucket_name={re.escape(repr(name))}: must be 3-63 .* not start with xn--",
        )
        for name in (
            "xn--data",
            "sthree-data",
            "amzn-s3-demo-data",
            "data-s3alias",
            "data--ol-s3",
            "data.mrap",
            "data--x-s3",
            "data--table-s3",
            "data..set",
            "data-",
            "ab",
            "a" * 64,
            "data\n",
        )
    ),
    (
        {"noncurrent_version_expiration": cdk.Duration.hours(36)},
        r"noncurrent_version_expiration='1.5 days': must be a whole number of days, at least 1",
    ),
    (
        {"abort_incomplete_multipart_upload_after": cdk.Duration.days(0)},
        r"abort_incomplete_multipart_upload_after=",
    ),
    (
        {"access_logs_retention": cdk.Duration.days(30), "access_logs_bucket": s3.Bucket.from_bucket_name},
        r"access_logs_retention=30: applies only to the log bucket this construct creates",
    ),
    ({"access_logs_prefix": "logs"}, r"access_logs_prefix='logs': must be '' or like 'a/b/'"),
    ({"grant": lambda b, r: b.grant_read(r, "/datasets/")}, r"invalid prefix='/datasets/'"),
    ({"grant": lambda b, r: b.grant_write(r, "ckpt/*")}, r"invalid prefix='ckpt/\*'"),
]


@pytest.mark.parametrize(("overrides", "match"), BAD_INPUTS)
def test_rejects_bad_input(overrides, match):
    if overrides.get("access_logs_bucket") == s3.Bucket.from_bucket_name:
        stack = cdk.Stack(env=ENV)
        overrides = {**overrides, "access_logs_bucket": s3.Bucket.from_bucket_name(stack, "L", "acme-logs")}
        with pytest.raises(EksAiDataValidationError, match=match):
            DataBucket(stack, "Data", encryption_key=kms.Key.from_key_arn(stack, "K", KEY_ARN), **overrides)
        return
    with pytest.raises(EksAiDataValidationError, match=match):
        _build(**overrides)
