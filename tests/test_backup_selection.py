"""Selection rules of DataBackupPlan: linked Lustre file systems are refused (now or at synth time), EKS clusters are
selected by ARN with the permissions and notifications AWS Backup needs."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from eks_ai_data.backup import DataBackupPlan
from eks_ai_data.cluster import AiCluster
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.lustre import DataRepositoryLink, LustreStore
from eks_ai_data.protection_matrix import EKS_BACKUP_EVENTS
from tests._gates import cfn_lint_errors, nag_synth
from tests.test_backup import _vpc

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
FS_ID = "fs-0123456789abcdef0"
FSX_ARN = f"arn:aws:fsx:eu-west-1:111111111111:file-system/{FS_ID}"


def _base(tmp_path, name="Sel"):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, name, env=ENV)
    vpc = _vpc(stack)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Datasets", versioned=True, encryption_key=key, enforce_ssl=True)
    return app, stack, vpc, key, bucket


def _store(stack, vpc, key, name="Lustre", **kwargs):
    return LustreStore(
        stack, name, vpc=vpc, subnet=vpc.private_subnets[0], node_security_groups=[], kms_key=key, **kwargs
    )


def _plan(stack, key, name="Plan"):
    return DataBackupPlan(stack, name, backup_key=key, restore_testing=None)


# -- FSx for Lustre --------------------------------------------------------------------------------------
def test_a_lustre_store_with_links_is_refused_naming_the_bucket(tmp_path):
    _, stack, vpc, key, bucket = _base(tmp_path)
    store = _store(stack, vpc, key, data_repositories=[DataRepositoryLink("/datasets", bucket, "datasets/")])
    with pytest.raises(EksAiDataValidationError) as raised:
        _plan(stack, key).add_lustre(store)
    assert str(raised.value) == (
        "Sel/Plan: invalid file_system='Sel/Lustre': is linked to S3 (/datasets -> s3://Sel/Datasets/datasets/): "
        "FSx does not back up file systems linked to an S3 data repository (FSx for Lustre user guide, Working with "
        "backups); the durable copy is the linked bucket: back it up with add_bucket and leave the file system out "
        "of the plan"
    )


def test_links_added_after_add_lustre_fail_synthesis(tmp_path):
    app, stack, vpc, key, bucket = _base(tmp_path)
    store = _store(stack, vpc, key, automatic_backup_retention=cdk.Duration.days(0))
    plan = _plan(stack, key)
    plan.add_lustre(store)  # not linked yet: accepted
    plan.check_selection()
    store.add_data_repository(DataRepositoryLink("/datasets", bucket, "datasets/"))
    with pytest.raises(
        EksAiDataValidationError, match=r"invalid file_system='Sel/Lustre': is linked to S3 \(/datasets"
    ):
        plan.check_selection()
    with pytest.raises(RuntimeError, match=r"Sel/Plan: invalid file_system='Sel/Lustre': is linked to S3"):
        app.synth()


def test_an_association_of_a_plain_file_system_fails_synthesis(tmp_path):
    app, stack, vpc, key, bucket = _base(tmp_path)
    lustre = fsx.LustreFileSystem(
        stack,
        "Plain",
        vpc=vpc,
        vpc_subnet=vpc.private_subnets[0],
        storage_capacity_gib=1200,
        kms_key=key,
        lustre_configuration=fsx.LustreConfiguration(
            deployment_type=fsx.LustreDeploymentType.PERSISTENT_2, per_unit_storage_throughput=125
        ),
    )
    plan = _plan(stack, key)
    plan.add_lustre(lustre)
    fsx.CfnDataRepositoryAssociation(
        stack,
        "Link",
        file_system_id=lustre.file_system_id,
        file_system_path="/models",
        data_repository_path=f"s3://{bucket.bucket_name}/models/",
    )
    problems = [str(p) for p in plan.selection_problems()]
    assert len(problems) == 1
    assert "invalid file_system='Sel/Plain': is linked to S3 (/models -> s3://<Datasets" in problems[0]
    assert "/models/ (Sel/Link))" in problems[0]
    with pytest.raises(RuntimeError, match="Sel/Plan: invalid file_system='Sel/Plain': is linked to S3"):
        app.synth()


def test_an_arn_whose_file_system_the_app_links_is_refused_and_other_file_systems_are_not(tmp_path):
    _, stack, _, key, _ = _base(tmp_path)
    plan = _plan(stack, key)
    plan.add_lustre(FSX_ARN)
    plan.add_file_system("arn:aws:fsx:eu-west-1:111111111111:file-system/fs-0fffffffffffffff0")
    fsx.CfnDataRepositoryAssociation(
        stack,
        "Link",
        file_system_id=FS_ID,
        file_system_path="/data",
        data_repository_path="s3://existing/data/",
    )
    (problem,) = plan.selection_problems()
    assert str(problem).startswith(
        f"Sel/Plan: invalid file_system='{FSX_ARN}': is linked to S3 (/data -> s3://existing/data/ (Sel/Link))"
    )


def test_an_unlinked_persistent_lustre_store_is_selected(tmp_path):
    app, stack, vpc, key, _ = _base(tmp_path)
    store = _store(stack, vpc, key)
    plan = _plan(stack, key)
    plan.add_lustre(store)
    assert plan.selected_types == frozenset({"FSx"})
    assert plan.selection_problems() == []
    template = app.synth().get_stack_by_name("Sel").template
    (selection,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Backup::BackupSelection"]
    (arn,) = selection["Properties"]["BackupSelection"]["Resources"]
    assert arn["Fn::Join"][1][-1] == {"Ref": stack.get_logical_id(store.file_system.node.default_child)}


def test_anything_else_is_refused_as_a_lustre_file_system(tmp_path):
    _, stack, _, key, bucket = _base(tmp_path)
    with pytest.raises(
        EksAiDataValidationError, match=r"invalid file_system='Sel/Datasets': must be a LustreStore"
    ):
        _plan(stack, key).add_lustre(bucket)


# -- EKS clusters ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster_synth(tmp_path_factory):
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("eks-backup")))
    stack = cdk.Stack(app, "EksBackup")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    platform = AiCluster(stack, "Platform")
    imported = eks.Cluster.from_cluster_attributes(stack, "Imported", cluster_name="legacy")
    plan = DataBackupPlan(stack, "Backups", backup_key=key, restore_testing=None)
    plan.add_eks_cluster(platform)
    plan.add_eks_cluster(imported)
    plan.add_eks_cluster("arn:aws:eks:eu-west-1:111111111111:cluster/other_cluster-1")
    result = nag_synth(app)
    return {
        "template": result.template("EksBackup"),
        "findings": result.findings,
        "plan": plan,
        "cluster_id": stack.get_logical_id(platform.cluster.node.default_child),
    }


def _only(template, prefix, type_):
    (found,) = [
        r["Properties"]
        for k, r in template["Resources"].items()
        if k.startswith(prefix) and r["Type"] == type_
    ]
    return found


def test_clusters_are_selected_by_arn_in_their_own_selection(cluster_synth):
    selection = _only(cluster_synth["template"], "BackupsClusterSelection", "AWS::Backup::BackupSelection")
    body = selection["BackupSelection"]
    assert body["SelectionName"] == "eks-clusters"
    created, imported, literal = body["Resources"]
    assert created == {"Fn::GetAtt": [cluster_synth["cluster_id"], "Arn"]}
    assert imported["Fn::Join"][1][-1] == ":cluster/legacy"
    assert literal == "arn:aws:eks:eu-west-1:111111111111:cluster/other_cluster-1"
    assert cluster_synth["plan"].selected_types == frozenset({"EKS"})


def test_the_role_has_backup_restore_and_s3_policies_for_mountpoint_volumes(cluster_synth):
    role = _only(cluster_synth["template"], "BackupsRole", "AWS::IAM::Role")
    names = [a["Fn::Join"][1][-1].split(":policy/")[1] for a in role["ManagedPolicyArns"]]
    assert names == [
        "service-role/AWSBackupServiceRolePolicyForBackup",
        "service-role/AWSBackupServiceRolePolicyForRestores",
        "AWSBackupServiceRolePolicyForS3Backup",
        "AWSBackupServiceRolePolicyForS3Restore",
    ]


def test_kubernetes_object_failures_and_skips_are_notified(cluster_synth):
    vault = _only(cluster_synth["template"], "BackupsVault", "AWS::Backup::BackupVault")
    events = vault["Notifications"]["BackupVaultEvents"]
    assert events[-3:] == list(EKS_BACKUP_EVENTS)
    assert tuple(events) == cluster_synth["plan"].notification_events


def test_cluster_gates(cluster_synth):
    assert cfn_lint_errors(cluster_synth["template"], regions=["eu-west-1"]) == []
    assert [str(f) for f in cluster_synth["findings"] if f.path.startswith("EksBackup/Backups")] == []


def test_config_map_authentication_is_refused_now_and_at_synth_time(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Auth")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    platform = AiCluster(stack, "Platform")
    cfn: eks.CfnCluster = platform.cluster.node.default_child
    plan = DataBackupPlan(stack, "Backups", backup_key=key, restore_testing=None)
    plan.add_eks_cluster(platform)  # API: accepted
    cfn.access_config = eks.CfnCluster.AccessConfigProperty(authentication_mode="CONFIG_MAP")
    message = (
        "Auth/Backups: invalid cluster='Auth/Platform': has authentication mode CONFIG_MAP: AWS Backup reaches a "
        "cluster through an access entry it creates, so the mode must be API or API_AND_CONFIG_MAP"
    )
    with pytest.raises(EksAiDataValidationError) as raised:
        plan.check_selection()
    assert str(raised.value).startswith(message)
    other = DataBackupPlan(stack, "Other", backup_key=key, restore_testing=None)
    with pytest.raises(
        EksAiDataValidationError, match="Auth/Other: invalid cluster='Auth/Platform/Cluster': has "
    ):
        other.add_eks_cluster(platform.cluster)
    with pytest.raises(
        RuntimeError, match="invalid cluster='Auth/Platform': has authentication mode CONFIG_MAP"
    ):
        app.synth()


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        (
            "arn:aws:eks:eu-west-1:111111111111:nodegroup/x",
            r"invalid cluster='arn:aws:eks:.*nodegroup/x': must be a literal EKS",
        ),
        ("my-cluster", r"invalid cluster='my-cluster': must be a literal EKS cluster ARN"),
        (42, r"invalid cluster=42: must be an AiCluster \(IAiCluster\), an aws_eks_v2 cluster"),
    ],
)
def test_bad_clusters(tmp_path, cluster, message):
    _, stack, _, key, _ = _base(tmp_path)
    with pytest.raises(EksAiDataValidationError, match=message):
        _plan(stack, key).add_eks_cluster(cluster)


def test_a_cluster_is_selected_once(tmp_path):
    _, stack, _, key, _ = _base(tmp_path)
    plan = _plan(stack, key)
    arn = "arn:aws:eks:eu-west-1:111111111111:cluster/x"
    plan.add_eks_cluster(arn)
    with pytest.raises(EksAiDataValidationError, match=f"invalid cluster='{arn}': is already selected"):
        plan.add_eks_cluster(arn)
