"""DataBucket(deny_outside_vpc_endpoints=...): objects only through the platform's endpoint, with the exemptions
that FSx, AWS Backup and replication need, checked with the policy model."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from eks_ai_data.backup import DataBackupPlan
from eks_ai_data.bucket import DataBucket, ReplicationTarget
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.keys import DataKeys
from eks_ai_data.network import ClusterNetwork
from tests._gates import cfn_lint_errors
from tests.platform.iam_model import PolicyModel

STACK = "Restricted"
SID = "DenyObjectAccessOutsideVpcEndpoints"


@pytest.fixture(scope="module")
def synthesized():
    app = cdk.App()
    stack = cdk.Stack(app, STACK)
    keys = DataKeys(stack, "Keys")
    network = ClusterNetwork(stack, "Network", logs_key=keys.data_key)
    destination_key = kms.Key.from_key_arn(
        stack, "ReplicaKey", "arn:aws:kms:us-west-2:111122223333:key/00000000-0000-0000-0000-000000000000"
    )
    bucket = DataBucket(
        stack,
        "Datasets",
        encryption_key=keys.data_key,
        deny_outside_vpc_endpoints=[network.s3_endpoint],
        replication=ReplicationTarget(
            bucket=s3.Bucket.from_bucket_name(stack, "Replica", "datasets-replica-us-west-2"),
            kms_key=destination_key,
        ),
    )
    network.allow_bucket(bucket.bucket)
    backups = DataBackupPlan(stack, "Backups", backup_key=keys.backup_key)
    backups.add_bucket(bucket.bucket)
    bucket.allow_outside_vpc_endpoints(backups.role)
    bucket.allow_outside_vpc_endpoints(backups.role)  # once is enough
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    bucket.grant_read(reader)
    template = app.synth().get_stack_by_name(STACK).template
    return PolicyModel({STACK: template}), template


def _obj(model: PolicyModel) -> str:
    return f"{model.arn(STACK, 'DatasetsBucket')}/train/0.tar"


def _endpoint(model: PolicyModel) -> str:
    ((_, logical_id),) = model.resources("AWS::EC2::VPCEndpoint", STACK)
    return model.ref(STACK, logical_id)


def test_the_template_passes_cfn_lint(synthesized):
    _, template = synthesized
    assert cfn_lint_errors(template) == []


def test_a_granted_reader_reads_through_the_endpoint_and_nowhere_else(synthesized):
    model, _ = synthesized
    reader = model.role(STACK, "Reader")
    assert model.can_read_object(
        reader, STACK, "DatasetsBucket", "train/0.tar", via_endpoint=_endpoint(model)
    )
    outside = model.can(reader, "s3:GetObject", _obj(model))
    assert outside.denied_by == (f"{STACK}/DatasetsBucketPolicy{_hash(model, 'DatasetsBucketPolicy')}#{SID}",)
    assert model.can(reader, "s3:ListBucket", model.arn(STACK, "DatasetsBucket")).denied_by


def test_an_administrator_outside_the_vpc_manages_the_bucket_but_cannot_touch_objects(synthesized):
    model, _ = synthesized
    admin = model.principal("Admin", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    bucket = model.arn(STACK, "DatasetsBucket")
    for action in ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObjectVersion"):
        assert not model.can(admin, action, _obj(model)), action
    for action in ("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:PutEncryptionConfiguration"):
        assert model.can(admin, action, bucket), action  # CloudFormation and admins can undo the restriction


def test_exempt_principals_are_not_denied_outside_the_endpoint(synthesized):
    model, _ = synthesized
    obj = _obj(model)
    fsx = model.service_linked_role(
        "s3.data-source.lustre.fsx.amazonaws.com", "AWSServiceRoleForFSxS3Access_fs-0123456789abcdef0"
    )
    backup = model.role(STACK, "BackupsRole")
    for principal in (fsx, backup):
        decision = model.can(principal, "s3:GetObject", obj)
        # Their S3 permissions are AWS managed policies (unmodeled); what matters: no statement denies them.
        assert decision.denied_by == () and decision.unmodeled, principal.arn
    replication = model.role(STACK, "DatasetsReplicationRole")
    assert model.can(replication, "s3:GetObjectVersionForReplication", obj)
    assert not model.can(
        replication, "s3:GetObjectVersionForReplication", f"{obj}", context={"aws:SecureTransport": False}
    )
    # A look-alike of the FSx role outside the service-linked path is not exempt.
    impostor = model.principal(
        "AWSServiceRoleForFSxS3Access_fs-0123456789abcdef0",
        [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    )
    assert model.can(impostor, "s3:GetObject", obj).denied_by


def test_the_exemption_list_names_each_principal_once(synthesized):
    _, template = synthesized
    (policy,) = [r for k, r in template["Resources"].items() if k.startswith("DatasetsBucketPolicy")]
    (statement,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == SID]
    exempt = statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert len(exempt) == 3  # FSx's roles, the replication role, the backup role
    assert statement["Effect"] == "Deny" and statement["Principal"] == {"AWS": "*"}


def test_default_is_no_restriction_and_exemptions_are_then_moot():
    stack = cdk.Stack(cdk.App(), "Open")
    bucket = DataBucket(stack, "B", encryption_key=kms.Key(stack, "K"))
    bucket.allow_outside_vpc_endpoints("arn:aws:iam::111122223333:role/Admin")
    template = cdk.assertions.Template.from_stack(stack).to_json()
    statements = [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements and not [s for s in statements if s.get("Sid") == SID]


def test_endpoint_ids_are_accepted_as_strings():
    stack = cdk.Stack(cdk.App(), "Ids")
    bucket = DataBucket(
        stack, "B", encryption_key=kms.Key(stack, "K"), deny_outside_vpc_endpoints=["vpce-0123456789abcdef0"]
    )
    bucket.allow_outside_vpc_endpoints(
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*Admin*"
    )
    template = cdk.assertions.Template.from_stack(stack).to_json()
    (statement,) = [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == SID
    ]
    assert statement["Condition"]["StringNotEquals"] == {"aws:SourceVpce": ["vpce-0123456789abcdef0"]}
    assert statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"][-1].endswith("sso.amazonaws.com/*Admin*")


_n = iter(range(1000))


@pytest.mark.parametrize(
    ("endpoints", "exempt", "message"),
    [
        ([], None, r"invalid deny_outside_vpc_endpoints=\[\]: must name at least one VPC endpoint"),
        (["vpc-123"], None, r"invalid deny_outside_vpc_endpoints='vpc-123': must hold IVpcEndpoint objects"),
        ([42], None, r"invalid deny_outside_vpc_endpoints=42: must hold IVpcEndpoint objects"),
        (["vpce-0123456789abcdef0"], "Admin", r"invalid principal='Admin': must be an IAM role or user ARN"),
        (["vpce-0123456789abcdef0"], 7, r"invalid principal=7: must be an iam.IRole, an iam.IUser"),
    ],
)
def test_bad_input(endpoints, exempt, message):
    stack = cdk.Stack(cdk.App(), f"Bad{next(_n)}")
    with pytest.raises(EksAiDataValidationError, match=message):
        bucket = DataBucket(
            stack, "B", encryption_key=kms.Key(stack, "K"), deny_outside_vpc_endpoints=endpoints
        )
        bucket.allow_outside_vpc_endpoints(exempt)


def _hash(model: PolicyModel, name: str) -> str:
    return model.logical_id(STACK, name)[len(name) :]
