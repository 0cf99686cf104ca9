"""Blast radius: no workload, driver, controller or node role the platform creates can delete, replace or re-tag a
stateful resource the platform did not create for it, as the templates' policies say (tests/platform/iam_model.py).

A tag-based permission is only as strong as the tags a role can write: for FSx, a role that may tag a file system
could add the tag its update/delete permission asks for, so the check plays that attack (tag first, then delete)
with every tag set the role may write.
"""

from __future__ import annotations

import json

import pytest

from tests.platform.cfn_templates import PLATFORMS, REFERENCE_PLATFORMS
from tests.platform.iam_model import PolicyModel

#: Destructive, replacing or re-tagging actions per stateful type of the templates (and the identity-bearing EFS
#: access points and FSx data repository associations, whose replacement breaks the volumes that name them).
DESTRUCTIVE = {
    "AWS::FSx::FileSystem": (
        "fsx:DeleteFileSystem",
        "fsx:UpdateFileSystem",
        "fsx:TagResource",
        "fsx:UntagResource",
        "fsx:CreateDataRepositoryAssociation",
    ),
    "AWS::FSx::DataRepositoryAssociation": (
        "fsx:DeleteDataRepositoryAssociation",
        "fsx:UpdateDataRepositoryAssociation",
        "fsx:TagResource",
        "fsx:UntagResource",
    ),
    "AWS::EFS::FileSystem": (
        "elasticfilesystem:DeleteFileSystem",
        "elasticfilesystem:UpdateFileSystem",
        "elasticfilesystem:PutFileSystemPolicy",
        "elasticfilesystem:DeleteFileSystemPolicy",
        "elasticfilesystem:PutLifecycleConfiguration",
        "elasticfilesystem:PutBackupPolicy",
        "elasticfilesystem:DeleteMountTarget",
        "elasticfilesystem:DeleteReplicationConfiguration",
        "elasticfilesystem:TagResource",
        "elasticfilesystem:UntagResource",
    ),
    "AWS::EFS::AccessPoint": (
        "elasticfilesystem:DeleteAccessPoint",
        "elasticfilesystem:TagResource",
        "elasticfilesystem:UntagResource",
    ),
    "AWS::S3::Bucket": (
        "s3:DeleteBucket",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketTagging",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
        "s3:PutReplicationConfiguration",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketLogging",
    ),
    "AWS::KMS::Key": (
        "kms:ScheduleKeyDeletion",
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:PutKeyPolicy",
        "kms:UpdateAlias",
        "kms:TagResource",
        "kms:UntagResource",
    ),
    "AWS::Backup::BackupVault": (
        "backup:DeleteBackupVault",
        "backup:DeleteRecoveryPoint",
        "backup:UpdateRecoveryPointLifecycle",
        "backup:PutBackupVaultAccessPolicy",
        "backup:DeleteBackupVaultAccessPolicy",
        "backup:PutBackupVaultLockConfiguration",
        "backup:DeleteBackupVaultLockConfiguration",
    ),
    "AWS::Logs::LogGroup": (
        "logs:DeleteLogGroup",
        "logs:DeleteLogStream",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:AssociateKmsKey",
        "logs:DisassociateKmsKey",
    ),
}
#: What no role may do to any object of any bucket: delete a version (versioning is the bucket's undo) or change
#: its retention; only lifecycle rules expire versions.
OBJECT_DESTRUCTIVE = ("s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:BypassGovernanceRetention")
#: Resources the platform's data ends up in outside the templates: recovery points of the vaults, EBS volumes and
#: snapshots of the node groups and the gp3 class (ARN patterns of the Service Authorization Reference).
OUTSIDE_TEMPLATES = (
    ("backup:DeleteRecoveryPoint", "arn:aws:backup:{region}:{account}:recovery-point:0a1b2c3d-recovery"),
    (
        "backup:UpdateRecoveryPointLifecycle",
        "arn:aws:backup:{region}:{account}:recovery-point:0a1b2c3d-recovery",
    ),
    ("ec2:DeleteVolume", "arn:aws:ec2:{region}:{account}:volume/vol-0123456789abcdef0"),
    ("ec2:DeleteSnapshot", "arn:aws:ec2:{region}::snapshot/snap-0123456789abcdef0"),
    ("ec2:CreateTags", "arn:aws:ec2:{region}:{account}:volume/vol-0123456789abcdef0"),
    ("ec2:DetachVolume", "arn:aws:ec2:{region}:{account}:volume/vol-0123456789abcdef0"),
)
#: Tag sets a role might try to write on a file system it wants to delete (the FSx driver's own tags, any tags).
ATTACK_TAGS = (
    {"CSIVolumeName": "pvc-stolen"},
    {"eks-ai-data:csi-cluster": "<cluster>"},
    {"CSIVolumeName": "pvc-stolen", "eks-ai-data:csi-cluster": "<cluster>"},
)


def _crawlers_own_log_group(model: PolicyModel, stack: str, lid: str, role) -> bool:
    """A Glue crawler with a security configuration logs to ``/aws-glue/crawlers-role/<role name>-<security
    configuration>`` and associates the configuration's key with that group itself (AWS Glue developer guide,
    "Encrypting data written by crawlers, jobs, and development endpoints"; DatasetCatalog's CRAWLER_LOG_ACTIONS):
    the group named after the role is the role's own."""
    resource = model._resources[(stack, lid)]
    if resource.type != "AWS::Logs::LogGroup":
        return False
    name = str(model._resolve(stack, resource.properties.get("LogGroupName", "")))
    return name.startswith(f"/aws-glue/crawlers-role/{role.arn.rsplit('/', 1)[-1]}-")


#: What a service needs its role to do to a stateful resource created for that role alone: action -> whether the
#: resource is the role's own. The role must be allowed that (the service does it), and only on its own resource.
OWNED_BY_THE_ROLE = {"logs:AssociateKmsKey": _crawlers_own_log_group}


@pytest.fixture(scope="module")
def model(reference) -> PolicyModel:
    return PolicyModel(reference.templates)


def _stacks(platform: str) -> tuple[str, str]:
    """A platform's data and cluster stacks: its stateful resources and its roles may live in either."""
    return REFERENCE_PLATFORMS[platform].stacks


def _cluster_names(model: PolicyModel, platform: str) -> list[str]:
    return [model.ref(s, lid) for s, lid in model.resources("AWS::EKS::Cluster", _stacks(platform))]


def _resource_tags(model: PolicyModel, stack: str, lid: str) -> dict[str, str]:
    tags = model._resources[(stack, lid)].properties.get("Tags", {})
    if isinstance(tags, list):
        return {t["Key"]: t["Value"] for t in tags}
    return dict(tags)


def _tag_context(tags: dict[str, str]) -> dict[str, object]:
    return {**{f"aws:RequestTag/{k}": v for k, v in tags.items()}, "aws:TagKeys": sorted(tags)}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_role_can_delete_or_retag_a_file_system_bucket_key_vault_or_log_group(model, platform):
    roles = model.resources("AWS::IAM::Role", _stacks(platform))
    assert {s for s, _ in roles} == set(_stacks(platform))  # the data stack's roles and the cluster stack's
    checked, owned = 0, set()
    for type_, actions in DESTRUCTIVE.items():
        for s, lid in model.resources(type_, _stacks(platform)):
            arn = model.arn(s, lid)
            tags = _resource_tags(model, s, lid)
            context = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
            for role_stack, role_lid in roles:
                role = model.role(role_stack, role_lid)
                for action in actions:
                    decision = model.can(role, action, arn, context=context)
                    if action in OWNED_BY_THE_ROLE and OWNED_BY_THE_ROLE[action](model, s, lid, role):
                        assert decision, f"{role_lid} may not {action} its own {lid}, as the service needs"
                        owned.add((role_lid, action, lid))
                        continue
                    assert not decision, f"{role_lid} may {action} {lid}: {decision.allowed_by}"
                    checked += 1
    assert checked > 100
    # the exception applies to the crawler's own log group only (one crawler per dataset on each platform)
    assert [(r.startswith("Catalog"), a, g.startswith("Catalog")) for r, a, g in owned] == [
        (True, "logs:AssociateKmsKey", True)
    ], owned


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_role_can_delete_object_versions_or_what_lives_outside_the_templates(model, platform):
    roles = [model.role(s, lid) for s, lid in model.resources("AWS::IAM::Role", _stacks(platform))]
    buckets = model.resources("AWS::S3::Bucket", _stacks(platform))
    assert roles and buckets
    for bs, blid in buckets:
        obj = f"{model.arn(bs, blid)}/datasets/part-0"
        for role in roles:
            for action in OBJECT_DESTRUCTIVE:
                decision = model.can(role, action, obj)
                assert not decision, f"{role.arn} may {action} {blid}: {decision.allowed_by}"
    for action, pattern in OUTSIDE_TEMPLATES:
        arn = pattern.format(region=model.region, account=model.account)
        for role in roles:
            decision = model.can(role, action, arn)
            assert not decision, f"{role.arn} may {action} {arn}: {decision.allowed_by}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_volume_the_platform_creates_carries_the_ebs_drivers_ownership_tag(model, reference, platform):
    """AmazonEBSCSIDriverPolicyV2 lets the EBS driver delete volumes and snapshots tagged
    ebs.csi.aws.com/cluster=true (the volumes it created): none of the platform's own carries that tag."""
    templates = model.resources("AWS::EC2::LaunchTemplate", _stacks(platform))
    assert templates  # the node groups' launch templates (in the cluster stack)
    for s, lid in templates:
        tags = json.dumps(reference.template(s)["Resources"][lid]["Properties"])
        assert "ebs.csi.aws.com/cluster" not in tags, lid


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_role_can_tag_a_platform_file_system_and_then_delete_it(model, platform):
    clusters = _cluster_names(model, platform)
    assert clusters
    for s, lid in model.resources("AWS::FSx::FileSystem", _stacks(platform)):
        arn = model.arn(s, lid)
        existing = _resource_tags(model, s, lid)
        for role_stack, role_lid in model.resources("AWS::IAM::Role", _stacks(platform)):
            role = model.role(role_stack, role_lid)
            for attack in ATTACK_TAGS:
                attack = {k: (clusters[0] if v == "<cluster>" else v) for k, v in attack.items()}
                tagged = model.can(
                    role,
                    "fsx:TagResource",
                    arn,
                    context={
                        **{f"aws:ResourceTag/{k}": v for k, v in existing.items()},
                        **_tag_context(attack),
                    },
                )
                after = {**existing, **(attack if tagged else {})}
                for action in ("fsx:DeleteFileSystem", "fsx:UpdateFileSystem"):
                    decision = model.can(
                        role, action, arn, context={f"aws:ResourceTag/{k}": v for k, v in after.items()}
                    )
                    assert not decision, (
                        f"{role_lid} may tag {lid} with {attack} (allowed: {bool(tagged)}) and then {action} it"
                    )


def test_the_fsx_driver_still_manages_its_own_dynamic_file_systems(model):
    """The restriction is not vacuous: the driver can create, update and delete file systems of its own class."""
    (cluster,) = _cluster_names(model, "training")
    ((stack, addon),) = [
        (s, model._resources[(s, lid)].properties)
        for s, lid in model.resources("AWS::EKS::Addon", _stacks("training"))
        if model._resources[(s, lid)].properties["AddonName"] == "aws-fsx-csi-driver"
    ]
    role = model.role(stack, addon["ServiceAccountRoleArn"]["Fn::GetAtt"][0])
    dynamic = f"arn:aws:fsx:{model.region}:{model.account}:file-system/fs-0123456789abcdef0"
    own_tags = {"CSIVolumeName": "pvc-1", "eks-ai-data:csi-cluster": cluster}
    assert model.can(role, "fsx:CreateFileSystem", dynamic, context=_tag_context(own_tags))
    assert model.can(role, "fsx:TagResource", dynamic, context=_tag_context(own_tags))
    resource_tags = {f"aws:ResourceTag/{k}": v for k, v in own_tags.items()}
    assert model.can(role, "fsx:DeleteFileSystem", dynamic, context=resource_tags)
    # another cluster's file systems, or one created with an extra tag, are not its own
    assert not model.can(
        role, "fsx:DeleteFileSystem", dynamic, context={"aws:ResourceTag/eks-ai-data:csi-cluster": "other"}
    )
    assert not model.can(
        role, "fsx:CreateFileSystem", dynamic, context=_tag_context({**own_tags, "team": "x"})
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_workload_roles_delete_objects_only_under_their_own_prefixes(model, platform):
    buckets = model.resources("AWS::S3::Bucket", _stacks(platform))
    assert buckets
    for s, lid in model.resources("AWS::IAM::Role", _stacks(platform)):
        role = model.role(s, lid)
        for bs, blid in buckets:
            outside = f"{model.arn(bs, blid)}/not-yours/object"
            assert not model.can(role, "s3:DeleteObject", outside), f"{lid} may delete {blid}/not-yours/*"
            assert not model.can(role, "s3:PutObject", outside), f"{lid} may overwrite {blid}/not-yours/*"


def test_managed_policies_the_model_cannot_read_are_the_documented_ones(model, reference):
    """AWS managed policies are not in the templates; each one the platform attaches is listed here with what it
    lets the role do to stateful resources (from the policy documents AWS publishes)."""
    known = {
        # EKS, node and Lambda basics: no action on file systems, buckets, keys, vaults or log groups
        "AmazonEKSClusterPolicy",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEKS_CNI_Policy",
        "AWSLambdaBasicExecutionRole",
        "AWSLambdaVPCAccessExecutionRole",
        "AmazonElasticContainerRegistryPublicReadOnly",
        # EBS CSI: deletes only volumes and snapshots tagged ebs.csi.aws.com/cluster=true (none is in a template)
        "AmazonEBSCSIDriverPolicyV2",
        # EFS CSI: deletes only access points carrying the tag key efs.csi.aws.com/cluster (checked below)
        "AmazonEFSCSIDriverPolicy",
        # AWS Backup: creates and restores recovery points; deleting them is the vault owner's (and lifecycle's)
        "AWSBackupServiceRolePolicyForBackup",
        "AWSBackupServiceRolePolicyForRestores",
        "AWSBackupServiceRolePolicyForS3Backup",
        "AWSBackupServiceRolePolicyForS3Restore",
    }
    attached = {arn.rsplit("/", 1)[-1] for role in model.roles() for arn in role.unmodeled}
    assert attached <= known, attached - known
    access_points = model.resources("AWS::EFS::AccessPoint")
    assert {s for s, _ in access_points} == {p.data for p in REFERENCE_PLATFORMS.values()}
    for s, lid in access_points:
        assert "efs.csi.aws.com/cluster" not in _resource_tags(model, s, lid), lid
