"""Mountpoint for Amazon S3 with pod-level credentials: a namespace reads only its models.

``ModelRepository(cache="mountpoint")`` offers ``s3://<bucket>/models/`` to one namespace through a static volume
mounted with the workload pod's own IRSA role; the Mountpoint driver itself has no role (IRSA stack) and no Pod
Identity association (Pod Identity stack), so no volume of any namespace can read through the driver. Checked with
the policy model over the templates (tests/platform/iam_model.py) and the manifests the cluster applies.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from eks_ai_data.cluster import AiCluster
from eks_ai_data.csi import MOUNTPOINT, StorageDrivers
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.identity import WorkloadIdentity
from eks_ai_data.patterns.cluster_storage import ClusterStorage
from eks_ai_data.patterns.model_repository import ModelRepository
from tests._gates import cfn_lint_errors
from tests.conftest import synthesize
from tests.platform.iam_model import PolicyModel
from tests.platform.k8s_model import ClusterModel

IRSA, POD = "MountpointIrsa", "MountpointPodIdentity"
DRIVER_SA = "s3-csi-driver-sa"


def _build(app: cdk.App) -> None:
    for name, identity in ((IRSA, "irsa"), (POD, "pod-identity")):
        stack = cdk.Stack(app, name)
        platform = AiCluster(stack, "Platform")
        storage = ClusterStorage(
            stack, "InCluster", cluster=platform, namespaces=["inference", "batch"], identity=identity
        )
        models = ModelRepository(
            stack, "Models", cluster=platform, storage=storage, namespace="inference", cache="mountpoint"
        )
        # another namespace's workload, granted another prefix of the same bucket
        other = WorkloadIdentity(
            stack, "Batch", cluster=platform.cluster, namespace="batch", service_account="batch"
        )
        other.read_prefix(models.bucket, "features")


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return synthesize(_build, tmp_path_factory.mktemp("mountpoint"))


@pytest.fixture(scope="module")
def model(synth) -> PolicyModel:
    return PolicyModel(synth.templates)


def _one(synth, stack: str, type_: str, **props) -> tuple[str, dict]:
    found = [
        (k, r)
        for k, r in synth.resources(stack, type_).items()
        if all(r["Properties"].get(p) == v for p, v in props.items())
    ]
    assert len(found) == 1, found
    return found[0]


def _models_bucket(synth, stack: str) -> str:
    (bucket,) = [
        lid
        for lid in synth.resources(stack, "AWS::S3::Bucket")
        if lid.startswith("ModelsBucket") and "AccessLogs" not in lid
    ]
    return bucket


@pytest.mark.parametrize("stack", [IRSA, POD])
def test_the_driver_is_installed_with_no_credentials_of_its_own(synth, stack):
    _, addon = _one(synth, stack, "AWS::EKS::Addon", AddonName=MOUNTPOINT)
    assert "ServiceAccountRoleArn" not in addon["Properties"]
    assert "PodIdentityAssociations" not in addon["Properties"]
    associations = synth.resources(stack, "AWS::EKS::PodIdentityAssociation").values()
    assert DRIVER_SA not in [a["Properties"]["ServiceAccount"] for a in associations]
    for lid, role in synth.resources(stack, "AWS::IAM::Role").items():
        assert DRIVER_SA not in json.dumps(role["Properties"]["AssumeRolePolicyDocument"]), lid


@pytest.mark.parametrize("stack", [IRSA, POD])
def test_only_the_namespaces_reader_can_read_its_models(synth, model, stack):
    bucket = _models_bucket(synth, stack)
    readers = [
        lid
        for s, lid in model.resources("AWS::IAM::Role", stack)
        if model.can_read_object(model.role(s, lid), stack, bucket, "models/llama/weights.safetensors")
    ]
    assert len(readers) == 1 and readers[0].startswith("ModelsReaderRole"), readers
    reader = model.role(stack, readers[0])
    bucket_arn = model.arn(stack, bucket)
    # Mountpoint lists the mounted prefix ("models/") and reads under it; nothing else of the bucket
    assert model.can(reader, "s3:ListBucket", bucket_arn, context={"s3:prefix": "models/"})
    assert not model.can(reader, "s3:ListBucket", bucket_arn, context={"s3:prefix": "features/"})
    assert not model.can_read_object(reader, stack, bucket, "features/part-0")
    assert not model.can(reader, "s3:PutObject", f"{bucket_arn}/models/x")
    # the other namespace's workload reads its own prefix, not the models
    batch = model.role(stack, "BatchRole")
    assert model.can_read_object(batch, stack, bucket, "features/part-0")
    assert not model.can_read_object(batch, stack, bucket, "models/llama/weights.safetensors")


@pytest.mark.parametrize("stack", [IRSA, POD])
def test_the_reader_role_is_the_irsa_role_of_the_namespaces_service_account(synth, stack):
    """Pod-level mounts use IRSA (the service account's role-arn annotation): the driver passes the workload's
    sts.amazonaws.com token to STS (mountpoint-s3-csi-driver provider_pod.go); Pod Identity pod-level mounts were
    reported failing (issue 781)."""
    cluster = ClusterModel(synth.templates, stack)
    accounts = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in cluster.objects
        if o["kind"] == "ServiceAccount"
    }
    reader = accounts[("inference", "model-reader")]
    (role_id,) = [
        lid for lid in synth.resources(stack, "AWS::IAM::Role") if lid.startswith("ModelsReaderRole")
    ]
    assert reader["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == cluster.arn(stack, role_id)
    trust = synth.resources(stack, "AWS::IAM::Role")[role_id]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    conditions = statement["Condition"]["StringEquals"]["Fn::GetAtt"][0]  # a CfnJson: the issuer is a token
    parts = synth.template(stack)["Resources"][conditions]["Properties"]["Value"]["Fn::Join"][1]
    value = json.loads("".join(p if isinstance(p, str) else "<issuer>" for p in parts))
    assert value == {
        "<issuer>:sub": "system:serviceaccount:inference:model-reader",
        "<issuer>:aud": "sts.amazonaws.com",
    }


@pytest.mark.parametrize("stack", [IRSA, POD])
def test_the_volume_is_a_pod_level_read_only_mount_of_the_prefix_in_the_namespace(synth, stack):
    cluster = ClusterModel(synth.templates, stack)
    (pv,) = [
        o
        for o in cluster.objects
        if o["kind"] == "PersistentVolume" and o["spec"].get("csi", {}).get("driver") == "s3.csi.aws.com"
    ]
    assert pv["spec"]["claimRef"]["namespace"] == "inference"
    assert pv["spec"]["accessModes"] == ["ReadOnlyMany"]
    attributes = pv["spec"]["csi"]["volumeAttributes"]
    assert attributes["authenticationSource"] == "pod"
    bucket = _models_bucket(synth, stack)
    assert attributes["bucketName"] == cluster.ref(stack, bucket)
    assert "prefix models/" in pv["spec"]["mountOptions"]
    assert (
        attributes["stsRegion"] == cluster.region and f"region {cluster.region}" in pv["spec"]["mountOptions"]
    )


@pytest.mark.parametrize("stack", [IRSA, POD])
def test_the_volumes_are_applied_after_the_driver_and_the_bucket_is_reachable_through_the_endpoint(
    synth, model, stack
):
    add_on, _ = _one(synth, stack, "AWS::EKS::Addon", AddonName=MOUNTPOINT)
    (volumes,) = [
        r
        for lid, r in synth.resources(stack, "Custom::AWSCDK-EKS-KubernetesResource").items()
        if "ModelsVolumes" in lid
    ]
    assert add_on in volumes["DependsOn"]
    (endpoint,) = [lid for _, lid in model.resources("AWS::EC2::VPCEndpoint", stack)]
    bucket = _models_bucket(synth, stack)
    assert model.endpoint_allows(
        model.ref(stack, endpoint), "s3:GetObject", f"{model.arn(stack, bucket)}/models/x"
    )


@pytest.mark.parametrize("stack", [IRSA, POD])
def test_gates(synth, stack):
    assert cfn_lint_errors(synth.template(stack)) == []
    assert synth.nag_findings == []


def test_pod_level_mountpoint_has_no_role_and_enabling_twice_is_one_addon():
    stack = cdk.Stack(cdk.App(), "S")
    drivers = StorageDrivers(stack, "D", cluster=AiCluster(stack, "P"), mountpoint_s3=True)
    assert MOUNTPOINT in drivers.addons and MOUNTPOINT not in drivers.roles
    assert drivers.enable_mountpoint() is drivers.addons[MOUNTPOINT]
    other = cdk.Stack(cdk.App(), "T")
    without = StorageDrivers(other, "D", cluster=AiCluster(other, "P"))
    assert MOUNTPOINT not in without.addons and MOUNTPOINT not in without.roles


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"cache": "s3"}, r"cache='s3': must be one of \['efs', 'lustre', 'mountpoint'\]"),
        ({"cache": "mountpoint", "models_prefix": "/"}, r"models_prefix='/': must name a key prefix"),
        ({"cache": "mountpoint", "models_prefix": "models/*"}, r"prefix='models/\*'"),
    ],
)
def test_bad_model_repository_input(props, message):
    stack = cdk.Stack(cdk.App(), "S")
    platform = AiCluster(stack, "P")
    storage = ClusterStorage(stack, "C", cluster=platform, namespaces=["inference"])
    with pytest.raises(EksAiDataValidationError, match=message):
        ModelRepository(stack, "M", cluster=platform, storage=storage, namespace="inference", **props)
