"""Names that would collide at deploy are unique by construction or refused, and settings the platform cannot
honour are refused, never dropped: chart ids, PersistentVolume and claim names, system namespaces, lifecycle rules
on imported buckets, IAM-only EFS mounts."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from constructs import Construct

from eks_ai_data.cluster import AiCluster
from eks_ai_data.efs import SharedEfs
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.k8s import EfsClassSpec, EfsVolumeSpec, TeamSpec
from eks_ai_data.nodegroups import GpuNodeGroup
from eks_ai_data.patterns.cluster_storage import ClusterStorage
from eks_ai_data.patterns.distributed_dataset import DistributedDataset
from eks_ai_data.patterns.training_checkpoints import TrainingCheckpoints


@pytest.fixture
def platform():
    stack = cdk.Stack(cdk.App(), "Names")
    cluster = AiCluster(stack, "Platform")
    storage = ClusterStorage(stack, "InCluster", cluster=cluster, namespaces=["training", "other"])
    return stack, cluster, storage


def _dataset(scope, id, cluster, storage, namespace="training", **props):
    return DistributedDataset(
        scope,
        id,
        cluster=cluster,
        storage=storage,
        namespace=namespace,
        gpu_instance_types=["g6e.12xlarge"],
        **props,
    )


def test_patterns_with_the_same_id_under_different_parents_get_their_own_charts(platform):
    stack, cluster, storage = platform
    first = _dataset(Construct(stack, "TeamA"), "Dataset", cluster, storage, claim_name="a")
    second = _dataset(Construct(stack, "TeamB"), "Dataset", cluster, storage, claim_name="b")
    ids = [c.node.id for c in storage.charts.charts]
    assert first.volumes.node.id in ids and second.volumes.node.id in ids
    assert first.volumes.node.id != second.volumes.node.id
    assert len(ids) == len(set(ids))
    cdk.App.of(stack).synth()  # the manifests' construct ids do not collide either


def test_two_datasets_with_the_same_claim_in_one_namespace_are_refused(platform):
    stack, cluster, storage = platform
    _dataset(stack, "Images", cluster, storage)
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid volumes='training-datasets': the PersistentVolume name is already used by Names/Images/Volumes "
        r"\(and again by Names/Text/Volumes\)",
    ):
        _dataset(stack, "Text", cluster, storage)


def test_the_same_claim_name_in_another_namespace_is_fine(platform):
    stack, cluster, storage = platform
    _dataset(stack, "Images", cluster, storage)
    _dataset(stack, "Text", cluster, storage, namespace="other")


@pytest.mark.parametrize("namespace", ["kube-system", "default", "kube-public", "kube-node-lease"])
def test_system_namespaces_are_not_taken_over(namespace):
    stack = cdk.Stack(cdk.App(), "Ns")
    with pytest.raises(
        EksAiDataValidationError, match=rf"namespaces='{namespace}': is a namespace Kubernetes or EKS owns"
    ):
        ClusterStorage(stack, "InCluster", cluster=AiCluster(stack, "Platform"), namespaces=[namespace])


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"namespaces": "training"},
            r"Ns/InCluster: invalid namespaces='training': must be a list of namespaces",
        ),
        (
            {"namespaces": ["Training_1"]},
            r"Ns/InCluster: invalid namespaces='Training_1': must be a DNS-1123 label",
        ),
        # the in-cluster charts' own checks are reported with the ClusterStorage's path, not a chart id
        (
            {"teams": [TeamSpec(name="ml", uid=0, gid=1000)]},
            r"^Ns/InCluster: invalid teams.uid=0: must be an integer",
        ),
        (
            {"teams": [TeamSpec(name="ml", uid=1000, gid=1000), TeamSpec(name="ml", uid=1001, gid=1001)]},
            r"^Ns/InCluster: invalid teams.name='ml': must be unique",
        ),
        (
            {"teams": [TeamSpec(name="ml", uid=1000, gid=1000, iam_role_arns=["ml-admins"])]},
            r"^Ns/InCluster: invalid teams\[ml\].iam_role_arns='ml-admins': must be IAM role or user ARNs",
        ),
    ],
)
def test_namespaces_are_checked_before_any_chart_and_named_by_the_constructs_path(props, message):
    stack = cdk.Stack(cdk.App(), "Ns")
    with pytest.raises(EksAiDataValidationError, match=message):
        ClusterStorage(stack, "InCluster", cluster=AiCluster(stack, "Platform"), **props)


def test_checkpoint_lifecycle_on_an_imported_bucket_is_refused_not_dropped(platform):
    stack, cluster, storage = platform
    gpus = GpuNodeGroup(stack, "Gpus", cluster=cluster, instance_types=["g6e.12xlarge"])
    bucket = s3.Bucket.from_bucket_name(stack, "Existing", "acme-checkpoints")
    props = dict(cluster=cluster, storage=storage, namespace="training", scratch_node_groups=[gpus])
    with pytest.raises(
        EksAiDataValidationError,
        match=r"invalid lifecycle=True: cannot add the expiry rule to Names/Existing: an imported bucket's lifecycle "
        r"rules are not this app's to change; set lifecycle=False",
    ):
        TrainingCheckpoints(stack, "Checkpoints", checkpoint_bucket=bucket, **props)
    with pytest.raises(
        EksAiDataValidationError, match=r"expire_after='30 days': has no effect with lifecycle=False"
    ):
        TrainingCheckpoints(
            stack,
            "Checkpoints2",
            checkpoint_bucket=bucket,
            lifecycle=False,
            expire_after=cdk.Duration.days(30),
            **props,
        )
    TrainingCheckpoints(stack, "Checkpoints3", checkpoint_bucket=bucket, lifecycle=False, **props)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"expire_after": cdk.Duration.days(0)}, r"invalid expire_after='0 days': must be at least 1 day"),
        ({"noncurrent_expire_after": cdk.Duration.days(0)}, r"invalid noncurrent_expire_after='0 days'"),
        (
            {"expire_after": cdk.Duration.hours(36)},
            r"invalid expire_after='36 hours': must be a whole number of days",
        ),
    ],
)
def test_checkpoint_expiry_is_whole_positive_days_as_s3_lifecycle_rules_need(platform, props, message):
    stack, cluster, storage = platform
    gpus = GpuNodeGroup(stack, f"Gpus{len(message)}", cluster=cluster, instance_types=["g6e.12xlarge"])
    with pytest.raises(EksAiDataValidationError, match=message):
        TrainingCheckpoints(
            stack,
            f"Expiry{len(message)}",
            cluster=cluster,
            storage=storage,
            namespace="training",
            scratch_node_groups=[gpus],
            service_account=f"writer-{len(message)}",
            **props,
        )


def test_a_volume_in_a_namespace_the_storage_does_not_create_names_its_owner(platform):
    from eks_ai_data.k8s import EfsVolumeSpec

    stack, _cluster, storage = platform
    owner = cdk.Stack(stack.node.root, "Owner")
    spec = EfsVolumeSpec(
        name="shared", file_system_id="fs-12345678", access_point_id="fsap-12345678", namespace="ml"
    )
    with pytest.raises(
        EksAiDataValidationError,
        match=r"^Owner: invalid efs_volumes.namespace='ml': must be a namespace Names/InCluster creates: other, training",
    ):
        storage.add_static_volumes("Shared", efs_volumes=[spec], owner=owner)


def _efs(stack, cluster):
    return SharedEfs(
        stack,
        "Shared",
        vpc=cluster.vpc,
        node_security_groups=[cluster.node_security_group],
        kms_key=cluster.keys.data_key,
    )


@pytest.mark.parametrize("where", ["class", "volume"])
def test_mounting_an_iam_only_file_system_without_iam_is_refused_at_synth(where):
    app = cdk.App()
    stack = cdk.Stack(app, "Efs")
    cluster = AiCluster(stack, "Platform")
    shared = _efs(stack, cluster)
    classes = [EfsClassSpec(file_system_id=shared.file_system_id, iam=False)] if where == "class" else []
    storage = ClusterStorage(
        stack, "InCluster", cluster=cluster, shared_efs=[shared], efs_classes=classes, namespaces=["t"]
    )
    if where == "volume":
        ap = shared.add_access_point("t", path="/t", uid=1000, gid=1000)
        storage.add_static_volumes(
            "Home",
            efs_volumes=[
                EfsVolumeSpec(
                    name="t-home",
                    file_system_id=shared.file_system_id,
                    access_point_id=ap.access_point_id,
                    namespace="t",
                    iam=False,
                )
            ],
        )
    with pytest.raises(
        RuntimeError, match=r"whose file-system policy has no Allow statement: only IAM-authorized mounts"
    ):
        app.synth()


def test_iam_mounts_grant_the_efs_node_role_once_per_file_system():
    stack = cdk.Stack(cdk.App(), "Grant")
    cluster = AiCluster(stack, "Platform")
    shared = _efs(stack, cluster)
    storage = ClusterStorage(stack, "InCluster", cluster=cluster, shared_efs=[shared])
    storage.grant_efs_mounts(shared)  # again: idempotent
    assert storage.efs_mount_problems() == []


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"storage": None}, r"^Names/Bad\d: invalid storage=None: must be the cluster's ClusterStorage"),
        (
            {"namespace": "research"},
            r"^Names/Bad\d: invalid namespace='research': must be a namespace Names/InCluster creates",
        ),
        (
            {"dataset_prefix": "images"},
            r"^Names/Bad\d: invalid dataset_prefix='images': prefix must be '' or 'a/b/'",
        ),
        (
            {"file_system_path": "datasets"},
            r"^Names/Bad\d: invalid file_system_path='datasets': file_system_path must",
        ),
        (
            {"gpu_instance_types": "g6e.12xlarge"},
            r"^Names/Bad\d: invalid gpu_instance_types='g6e.12xlarge': must be a list",
        ),
    ],
)
def test_dataset_props_are_reported_as_the_user_passed_them(platform, props, message):
    stack, cluster, storage = platform
    kwargs = {"storage": storage, "namespace": "training", "gpu_instance_types": ["g6e.12xlarge"], **props}
    with pytest.raises(EksAiDataValidationError, match=message):
        DistributedDataset(stack, f"Bad{len(props)}", cluster=cluster, **kwargs)
