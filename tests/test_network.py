"""ClusterNetwork's S3 gateway endpoint policy: the platform's buckets and what nodes need, nothing else."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from eks_ai_data.keys import DataKeys
from eks_ai_data.network import ClusterNetwork, ZonalStack
from stacks import INFERENCE_DATA_STACK, INFERENCE_STACK, TRAINING_DATA_STACK, TRAINING_STACK
from tests._gates import cfn_lint_errors
from tests.platform.iam_model import PolicyModel

# the networks (and buckets) are in the data stacks, the roles granted the buckets in the cluster stacks
TRAINING, INFERENCE = TRAINING_DATA_STACK, INFERENCE_DATA_STACK
CLUSTER_OF = {TRAINING: TRAINING_STACK, INFERENCE: INFERENCE_STACK}
REGION = "eu-west-1"


@pytest.fixture(scope="module")
def model(reference) -> PolicyModel:
    return PolicyModel(reference.templates, region=REGION)


def _endpoint(model: PolicyModel, stack: str) -> str:
    ((_, logical_id),) = model.resources("AWS::EC2::VPCEndpoint", stack)
    return model.ref(stack, logical_id)


def _node(model: PolicyModel):
    """A node (or pod) role that IAM lets read and write any bucket: only the endpoint policy can stop it."""
    return model.principal("Node", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])


@pytest.mark.parametrize("stack", [TRAINING, INFERENCE])
def test_nodes_reach_ecr_layers_os_repositories_and_cloudformation_through_the_endpoint(model, stack):
    endpoint = _endpoint(model, stack)
    allowed = [
        ("s3:GetObject", f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/sha256/abc"),
        (
            "s3:GetObject",
            f"arn:aws:s3:::al2023-repos-{REGION}-de612dc2/core/mirrors/2023.9/x86_64/mirror.list",
        ),
        ("s3:GetObject", f"arn:aws:s3:::prod-registry-k8s-io-{REGION}/containers/images/sha256:abc"),
        ("s3:PutObject", "arn:aws:s3:::cloudformation-custom-resource-response-euwest1/arn%3Aaws%3A..."),
    ]
    for action, resource in allowed:
        assert model.endpoint_allows(endpoint, action, resource), resource
    refused = [
        ("s3:GetObject", "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/x"),  # another Region's layers
        ("s3:PutObject", f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/x"),  # read-only
        ("s3:PutObject", "arn:aws:s3:::cloudformation-custom-resource-response-eu-west-1/x"),  # no such name
        ("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/x"),
        ("s3:PutObject", "arn:aws:s3:::exfiltration-target/x"),
    ]
    for action, resource in refused:
        assert not model.endpoint_allows(endpoint, action, resource), resource


@pytest.mark.parametrize("stack", [TRAINING, INFERENCE])
def test_every_bucket_a_role_is_granted_goes_through_the_endpoint_and_no_other(model, reference, stack):
    endpoint = _endpoint(model, stack)
    node = _node(model)
    platform = {model.arn(s, lid) for s, lid in model.resources("AWS::S3::Bucket", stack)}
    granted = {
        arn.split("/", 1)[0]
        for role in [*model.roles(stack), *model.roles(CLUSTER_OF[stack])]
        for statement in role.statements
        if any(a.startswith("s3:") for a in statement.actions or ())
        for arn in statement.resources or ()
        if arn.startswith("arn:aws:s3:::")
    }
    assert granted, "the reference grants roles buckets"
    assert granted <= platform
    for bucket in granted:
        assert model.can(node, "s3:GetObject", f"{bucket}/any/key", via_endpoint=endpoint), bucket
        assert model.can(node, "s3:ListBucket", bucket, via_endpoint=endpoint), bucket
    for bucket in platform - granted:  # the access-log buckets: S3's log delivery writes them, not the VPC
        assert not model.can(node, "s3:GetObject", f"{bucket}/x", via_endpoint=endpoint), bucket
    other = model.can(node, "s3:GetObject", "arn:aws:s3:::not-a-platform-bucket/x", via_endpoint=endpoint)
    assert other.reason == "the VPC endpoint policy does not allow it"
    # The other stack's buckets are not this VPC's to reach.
    theirs = INFERENCE if stack == TRAINING else TRAINING
    for s, lid in model.resources("AWS::S3::Bucket", theirs):
        assert not model.can(node, "s3:GetObject", f"{model.arn(s, lid)}/x", via_endpoint=endpoint)


def _network(stack: cdk.Stack, **props) -> ClusterNetwork:
    return ClusterNetwork(stack, "Network", logs_key=DataKeys(stack, "Keys").data_key, **props)


def _endpoint_policy(stack: cdk.Stack):
    template = cdk.assertions.Template.from_stack(stack).to_json()
    ((endpoint,),) = [[r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::VPCEndpoint"]]
    return endpoint["Properties"].get("PolicyDocument"), template


def test_allow_bucket_is_idempotent_and_takes_imported_buckets():
    stack = cdk.Stack(cdk.App(), "Net")
    network = _network(stack)
    imported = s3.Bucket.from_bucket_name(stack, "Imported", "team-datasets")
    network.allow_bucket(imported)
    network.allow_bucket(imported)
    document, template = _endpoint_policy(stack)
    (platform,) = [s for s in document["Statement"] if s.get("Sid") == "PlatformBuckets"]
    assert platform["Action"] == "s3:*"
    assert platform["Resource"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::team-datasets"]]},
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::team-datasets/*"]]},
    ]
    assert cfn_lint_errors(template) == []


def test_unrestricted_endpoint_has_no_policy():
    stack = cdk.Stack(cdk.App(), "Open")
    network = _network(stack, restrict_s3_endpoint=False)
    network.allow_bucket(s3.Bucket.from_bucket_name(stack, "Imported", "team-datasets"))
    document, _ = _endpoint_policy(stack)
    assert document is None  # no policy: the endpoint allows every bucket


def test_concrete_region_names_the_regions_buckets_literally():
    env = cdk.Environment(account="111122223333", region="ap-southeast-2")
    stack = ZonalStack(
        cdk.App(), "Sydney", env=env, availability_zones=["ap-southeast-2a", "ap-southeast-2b"]
    )
    _network(stack)
    document, _ = _endpoint_policy(stack)
    resources = {s["Sid"]: s["Resource"]["Fn::Join"][1][-1] for s in document["Statement"]}
    assert resources["EcrImageLayers"] == ":s3:::prod-ap-southeast-2-starport-layer-bucket/*"
    assert (
        resources["CloudFormationResponses"] == ":s3:::cloudformation-custom-resource-response-apsoutheast2/*"
    )


def test_buckets_nodes_mount_with_mountpoint_are_allowed_through_the_clusters_endpoint():
    from eks_ai_data.cluster import AiCluster
    from eks_ai_data.patterns.cluster_storage import ClusterStorage

    stack = cdk.Stack(cdk.App(), "Mountpoint")
    platform = AiCluster(stack, "Platform")
    shared = s3.Bucket.from_bucket_name(stack, "Shared", "shared-models")
    ClusterStorage(stack, "InCluster", cluster=platform, mountpoint_s3_buckets=[shared])
    model = PolicyModel({"Mountpoint": cdk.assertions.Template.from_stack(stack).to_json()}, region=REGION)
    endpoint = _endpoint(model, "Mountpoint")
    assert model.endpoint_allows(endpoint, "s3:GetObject", "arn:aws:s3:::shared-models/llama/weights")
    assert model.endpoint_allows(endpoint, "s3:ListBucket", "arn:aws:s3:::shared-models")
    assert not model.endpoint_allows(endpoint, "s3:GetObject", "arn:aws:s3:::other-models/llama/weights")
