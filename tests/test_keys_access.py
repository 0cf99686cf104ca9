"""Who can use the platform's keys, as the reference templates' policies say (tests/platform/iam_model.py).

The proof the key policies restrict: for every KMS-encrypted bucket of the reference app, a principal of the
account with an identity policy allowing ``s3:GetObject`` on the bucket and nothing on KMS cannot get the
plaintext (``kms:Decrypt`` through S3 is refused), while the workload role granted the bucket can. The same
holds for the secrets and backup keys and the roles granted them.
"""

from __future__ import annotations

import pytest

from stacks import INFERENCE_DATA_STACK, INFERENCE_STACK, TRAINING_DATA_STACK, TRAINING_STACK
from tests.platform.iam_model import PolicyModel

# the cluster stacks (cluster, driver and workload roles); keys, buckets and the backup role are in the data stacks
TRAINING, INFERENCE = TRAINING_STACK, INFERENCE_STACK
DATA_OF = {TRAINING: TRAINING_DATA_STACK, INFERENCE: INFERENCE_DATA_STACK}
REGION = "eu-west-1"
ACCOUNT = "111122223333"
VIA_S3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}


@pytest.fixture(scope="module")
def model(reference) -> PolicyModel:
    return PolicyModel(reference.templates, account=ACCOUNT, region=REGION)


def _encrypted_buckets(model: PolicyModel, reference) -> list[tuple[str, str]]:
    found = []
    for stack, logical_id in model.resources("AWS::S3::Bucket"):
        props = reference.template(stack)["Resources"][logical_id]["Properties"]
        rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        if rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms":
            found.append((stack, logical_id))
    return found


def _bucket_reader(model: PolicyModel, stack: str, bucket: str):
    """A fresh principal that may read every object of the bucket and may do nothing with KMS."""
    return model.principal(
        f"{bucket}Reader",
        [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [model.arn(stack, bucket), f"{model.arn(stack, bucket)}/*"],
            }
        ],
    )


def test_the_reference_has_the_encrypted_buckets_the_proof_covers(model, reference):
    assert {(s, lid[:-8]) for s, lid in _encrypted_buckets(model, reference)} == {
        (TRAINING_DATA_STACK, "DatasetBucket"),
        (TRAINING_DATA_STACK, "CheckpointsBucket"),
        (INFERENCE_DATA_STACK, "ModelsBucket"),
    }


def test_bucket_read_without_a_key_grant_never_reaches_the_plaintext(model, reference):
    for stack, bucket in _encrypted_buckets(model, reference):
        reader = _bucket_reader(model, stack, bucket)
        obj = f"{model.arn(stack, bucket)}/datasets/part-0"
        assert model.can(reader, "s3:GetObject", obj), "the reader's bucket permission is real"
        decision = model.can_read_object(reader, stack, bucket, "datasets/part-0")
        assert not decision, f"{stack}/{bucket}: {decision}"
        assert decision.reason.startswith("s3:GetObject is allowed but kms:Decrypt is not")
        # Nor directly, through S3 or not, with or without the bucket's encryption context.
        for key in _keys(model, stack):
            for context in (
                {},
                VIA_S3,
                {**VIA_S3, "kms:EncryptionContext:aws:s3:arn": model.arn(stack, bucket)},
            ):
                assert not model.can(reader, "kms:Decrypt", key, context=context)


@pytest.mark.parametrize(
    ("stack", "role", "bucket", "readable", "unreadable"),
    [
        (TRAINING, "TrainerRole", "DatasetBucket", "datasets/train/0.tar", "raw/0.tar"),
        (TRAINING, "TrainerRole", "CheckpointsBucket", "checkpoints/step-100/model.pt", "other/x"),
        (TRAINING, "CheckpointsWriterRole", "CheckpointsBucket", "checkpoints/step-100/model.pt", "other/x"),
        (INFERENCE, "ModelsReaderRole", "ModelsBucket", "models/llama/weights.safetensors", "other/x"),
    ],
)
def test_granted_workload_roles_reach_the_plaintext_of_their_prefix_only(
    model, stack, role, bucket, readable, unreadable
):
    principal = model.role(stack, role)
    assert model.can_read_object(principal, _data(stack), bucket, readable)
    assert not model.can_read_object(principal, _data(stack), bucket, unreadable)
    # Their KMS grant is S3-only: the same role cannot decrypt with the key directly.
    key = _key_of(model, stack, "KeysDataKey")
    assert not model.can(
        principal, "kms:Decrypt", key, context={"kms:ViaService": f"ec2.{REGION}.amazonaws.com"}
    )


@pytest.mark.parametrize("stack", [TRAINING, INFERENCE])
def test_secrets_key_is_for_the_cluster_role_only(model, stack):
    key = _key_of(model, stack, "KeysSecretsKey")
    cluster_role = model.role(stack, "PlatformClusterRole")
    for action in ("kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"):
        assert model.can(cluster_role, action, key), action
    assert not model.can(cluster_role, "kms:Decrypt", _key_of(model, stack, "KeysDataKey"))
    everyone_else = [r for r in _roles(model, stack) if r.arn != cluster_role.arn]
    assert everyone_else
    for role in everyone_else:
        for context in ({}, {"kms:ViaService": f"eks.{REGION}.amazonaws.com"}):
            assert not model.can(role, "kms:Decrypt", key, context=context), role.arn


@pytest.mark.parametrize("stack", [TRAINING, INFERENCE])
def test_backup_key_is_for_the_backup_role_and_the_notification_publisher(model, stack):
    key = _key_of(model, stack, "KeysBackupKey")
    backup_role = model.role(_data(stack), "BackupsRole")
    assert model.can(backup_role, "kms:GenerateDataKey", key)
    assert model.can(backup_role, "kms:CreateGrant", key, context={"kms:GrantIsForAWSResource": True})
    assert not model.can(backup_role, "kms:CreateGrant", key)  # only grants for AWS resources
    publisher = model.service("backup.amazonaws.com")
    assert model.can(publisher, "kms:GenerateDataKey", key, context={"aws:SourceAccount": ACCOUNT})
    assert not model.can(publisher, "kms:GenerateDataKey", key, context={"aws:SourceAccount": "444455556666"})
    assert not model.can(publisher, "kms:Encrypt", key, context={"aws:SourceAccount": ACCOUNT})
    for role in _roles(model, stack):
        if role.arn != backup_role.arn:
            assert not model.can(role, "kms:Decrypt", key), role.arn
    reader = model.principal("VaultReader", [{"Effect": "Allow", "Action": "backup:*", "Resource": "*"}])
    assert not model.can(
        reader, "kms:Decrypt", key, context={"kms:ViaService": f"backup.{REGION}.amazonaws.com"}
    )


@pytest.mark.parametrize("stack", [TRAINING, INFERENCE])
def test_data_key_names_the_principals_that_act_on_their_own(model, stack):
    key = _key_of(model, stack, "KeysDataKey")
    asg = model.service_linked_role("autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling")
    assert model.can(asg, "kms:GenerateDataKeyWithoutPlaintext", key)
    assert model.can(asg, "kms:CreateGrant", key, context={"kms:GrantIsForAWSResource": True})
    assert not model.can(asg, "kms:CreateGrant", key)
    logs = model.service(f"logs.{REGION}.amazonaws.com")
    own = {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:flow-logs"}
    other = {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:444455556666:log-group:x"}
    assert model.can(logs, "kms:Encrypt", key, context=own)
    assert not model.can(logs, "kms:Encrypt", key, context=other)
    assert not model.can(model.service("logs.us-east-1.amazonaws.com"), "kms:Encrypt", key, context=own)


def test_fsx_data_repository_roles_use_the_data_key_through_s3_only(model):
    key = _key_of(model, TRAINING, "KeysDataKey")
    fsx = model.service_linked_role(
        "s3.data-source.lustre.fsx.amazonaws.com", "AWSServiceRoleForFSxS3Access_fs-0123456789abcdef0"
    )
    assert model.can(fsx, "kms:Decrypt", key, context=VIA_S3)
    assert model.can(fsx, "kms:GenerateDataKey", key, context=VIA_S3)
    assert not model.can(fsx, "kms:Decrypt", key, context={"kms:ViaService": f"ec2.{REGION}.amazonaws.com"})
    # Look-alikes do not match: a File Cache role, or a user role of the same name outside the service path.
    cache = model.service_linked_role(
        "s3.data-source.lustre.fsx.amazonaws.com", "AWSServiceRoleForFSxS3Access_fc-0"
    )
    assert not model.can(cache, "kms:Decrypt", key, context=VIA_S3)
    impostor = model.principal("AWSServiceRoleForFSxS3Access_fs-0123456789abcdef0")
    assert not model.can(impostor, "kms:Decrypt", key, context=VIA_S3)
    # The inference stack's default cache is EFS: no bucket is linked, so no FSx statement is there.
    inference_key = _key_of(model, INFERENCE, "KeysDataKey")
    assert not model.can(fsx, "kms:Decrypt", inference_key, context=VIA_S3)


def test_csi_driver_roles_use_the_data_key_through_their_service_only(model):
    key = _key_of(model, TRAINING, "KeysDataKey")
    ebs = model.role(TRAINING, "InClusterDriversRoleawsebscsidriver")
    fsx = model.role(TRAINING, "InClusterDriversRoleawsfsxcsidriver")
    via_ec2 = {"kms:ViaService": f"ec2.{REGION}.amazonaws.com"}
    via_fsx = {"kms:ViaService": f"fsx.{REGION}.amazonaws.com"}
    assert model.can(ebs, "kms:GenerateDataKeyWithoutPlaintext", key, context=via_ec2)
    assert not model.can(ebs, "kms:GenerateDataKeyWithoutPlaintext", key, context=via_fsx)
    assert model.can(fsx, "kms:GenerateDataKeyWithoutPlaintext", key, context=via_fsx)
    assert not model.can(fsx, "kms:Decrypt", key, context=via_ec2)


def test_account_iam_administrators_keep_key_use_through_delegation(model):
    """The account root statement is kept on purpose: an IAM policy allowing KMS on the key lets a principal use
    it (how the deployment role creates encrypted file systems and vaults); none of the reference roles has one
    beyond what the tests above list."""
    admin = model.principal("Admin", [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}])
    for stack in (TRAINING, INFERENCE):
        for key in _keys(model, stack):
            assert model.can(admin, "kms:Decrypt", key)


def _data(stack: str) -> str:
    """The data stack of a cluster stack (a data stack is its own)."""
    return DATA_OF.get(stack, stack)


def _roles(model: PolicyModel, stack: str) -> list:
    """Every role of a platform: its cluster stack's and its data stack's."""
    return [*model.roles(stack), *model.roles(_data(stack))]


def _keys(model: PolicyModel, stack: str) -> list[str]:
    return [model.arn(_data(stack), lid) for _, lid in model.resources("AWS::KMS::Key", _data(stack))]


def _key_of(model: PolicyModel, stack: str, name: str) -> str:
    return model.arn(_data(stack), model.logical_id(_data(stack), name, "AWS::KMS::Key"))
