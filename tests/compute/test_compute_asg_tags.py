"""The Auto Scaling group tagging custom resource: its handler against moto's EKS and Auto Scaling (create, update,
replacement, delete, failures answered to CloudFormation), and its least-privilege role in the reference template."""

from __future__ import annotations

import json
import types
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from eks_ai_data.compute.asg_tags import HANDLER_CODE, RESOURCE_TYPE
from tests.platform.cfn_templates import REFERENCE_PLATFORMS
from tests.platform.iam_model import PolicyModel

REGION = "eu-west-1"
STACK = REFERENCE_PLATFORMS["training"].cluster  # the node groups, their tags and the handler
TEMPLATE_TAG = "k8s.io/cluster-autoscaler/node-template/label/eks-ai-data/accelerator"
DISCOVERY = {"k8s.io/cluster-autoscaler/enabled": "true", "k8s.io/cluster-autoscaler/c": "owned"}


def _handler() -> types.ModuleType:
    module = types.ModuleType("asg_tags_handler")
    exec(compile(HANDLER_CODE, "index.py", "exec"), module.__dict__)  # noqa: S102 - the function's own code
    return module


@pytest.fixture
def aws():
    with mock_aws():
        eks = boto3.client("eks", region_name=REGION)
        autoscaling = boto3.client("autoscaling", region_name=REGION)
        ec2 = boto3.client("ec2", region_name=REGION)
        eks.create_cluster(
            name="c",
            roleArn="arn:aws:iam::123456789012:role/r",
            resourcesVpcConfig={"subnetIds": ["subnet-1"]},
        )
        names = {}
        for nodegroup in ("gpu", "gpu2"):
            ng = eks.create_nodegroup(
                clusterName="c",
                nodegroupName=nodegroup,
                nodeRole="arn:aws:iam::123456789012:role/n",
                subnets=["subnet-1"],
            )["nodegroup"]
            (group,) = ng["resources"]["autoScalingGroups"]
            names[nodegroup] = group["name"]
            template = ec2.create_launch_template(
                LaunchTemplateName=f"lt-{nodegroup}", LaunchTemplateData={"ImageId": "ami-12345678"}
            )["LaunchTemplate"]
            autoscaling.create_auto_scaling_group(
                AutoScalingGroupName=group["name"],
                LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]},
                MinSize=0,
                MaxSize=2,
                AvailabilityZones=[f"{REGION}a"],
            )
        yield types.SimpleNamespace(eks=eks, autoscaling=autoscaling, names=names)


def _tags(aws, nodegroup: str) -> dict[str, tuple[str, bool]]:
    (group,) = aws.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[aws.names[nodegroup]])[
        "AutoScalingGroups"
    ]
    return {t["Key"]: (t["Value"], t["PropagateAtLaunch"]) for t in group["Tags"]}


def _event(kind: str, nodegroup: str = "gpu", tags=None, old=None, physical: str | None = None) -> dict:
    event = {
        "RequestType": kind,
        "ResourceProperties": {
            "ClusterName": "c",
            "NodegroupName": nodegroup,
            "Tags": tags if tags is not None else {TEMPLATE_TAG: "nvidia"},
            "DiscoveryTags": DISCOVERY,
        },
        "StackId": "stack",
        "RequestId": "request",
        "LogicalResourceId": "GpuAsgTags",
        "ResponseURL": "https://example.invalid/response",
    }
    if old is not None:
        event["OldResourceProperties"] = old
    if physical is not None:
        event["PhysicalResourceId"] = physical
    return event


def test_the_handler_fits_in_an_inline_zip_file():
    assert len(HANDLER_CODE) <= 4096  # CloudFormation's Code.ZipFile limit


def test_create_tags_the_nodegroups_group_without_propagating(aws):
    handler = _handler()
    physical, data = handler.apply(_event("Create"), aws.eks, aws.autoscaling)
    assert physical == "c/gpu"
    assert data == {"AutoScalingGroupNames": aws.names["gpu"]}
    tags = _tags(aws, "gpu")
    assert tags[TEMPLATE_TAG] == ("nvidia", False)
    assert tags["k8s.io/cluster-autoscaler/enabled"] == ("true", False)
    assert TEMPLATE_TAG not in _tags(aws, "gpu2")  # only its own node group's group


def test_update_rewrites_and_drops_stale_keys_but_keeps_discovery(aws):
    handler = _handler()
    handler.apply(
        _event("Create", tags={TEMPLATE_TAG: "nvidia", "k8s.io/cluster-autoscaler/x": "1"}),
        aws.eks,
        aws.autoscaling,
    )
    old = _event("Create", tags={TEMPLATE_TAG: "nvidia", "k8s.io/cluster-autoscaler/x": "1"})[
        "ResourceProperties"
    ]
    handler.apply(
        _event("Update", tags={TEMPLATE_TAG: "neuron"}, old=old, physical="c/gpu"), aws.eks, aws.autoscaling
    )
    tags = _tags(aws, "gpu")
    assert tags[TEMPLATE_TAG] == ("neuron", False)
    assert "k8s.io/cluster-autoscaler/x" not in tags
    assert "k8s.io/cluster-autoscaler/enabled" in tags


def test_a_replaced_node_group_is_tagged_under_a_new_physical_id(aws):
    handler = _handler()
    old = _event("Create")["ResourceProperties"]
    physical, _ = handler.apply(
        _event("Update", nodegroup="gpu2", old=old, physical="c/gpu"), aws.eks, aws.autoscaling
    )
    assert physical == "c/gpu2"  # CloudFormation then deletes c/gpu
    assert _tags(aws, "gpu2")[TEMPLATE_TAG] == ("nvidia", False)


def test_delete_removes_the_template_tags_and_tolerates_a_deleted_node_group(aws):
    handler = _handler()
    handler.apply(_event("Create"), aws.eks, aws.autoscaling)
    handler.apply(_event("Delete", physical="c/gpu"), aws.eks, aws.autoscaling)
    tags = _tags(aws, "gpu")
    assert TEMPLATE_TAG not in tags and "k8s.io/cluster-autoscaler/enabled" in tags
    physical, _ = handler.apply(
        _event("Delete", nodegroup="gone", physical="c/gone"), aws.eks, aws.autoscaling
    )
    assert physical == "c/gone"


def test_every_outcome_is_answered_to_cloudformation(aws):
    handler = _handler()
    sent = []

    def urlopen(request, timeout):
        sent.append(json.loads(request.data))

    context = types.SimpleNamespace(log_stream_name="stream")
    with (
        mock.patch.object(handler.urllib.request, "urlopen", urlopen),
        mock.patch.object(
            handler.boto3, "client", lambda service: {"eks": aws.eks, "autoscaling": aws.autoscaling}[service]
        ),
    ):
        handler.handler(_event("Create"), context)
        handler.handler(_event("Create", nodegroup="missing"), context)
    assert sent[0]["Status"] == "SUCCESS" and sent[0]["PhysicalResourceId"] == "c/gpu"
    assert sent[1]["Status"] == "FAILED"
    assert "ResourceNotFound" in sent[1]["Reason"] or "no Auto Scaling group" in sent[1]["Reason"]
    assert "(log stream stream)" in sent[1]["Reason"]


def test_the_handler_may_tag_only_its_node_groups_groups_with_autoscaler_keys(reference):
    model = PolicyModel(reference.templates)
    (role,) = [
        lid
        for s, lid in model.resources("AWS::IAM::Role", STACK)
        if lid.startswith("EksAiDataAsgTagsHandlerRole")
    ]
    handler = model.role(STACK, role)
    resources = reference.resources(STACK, RESOURCE_TYPE)
    assert len(resources) == 2  # the GPU and the NVMe node group
    nodegroup = next(iter(resources.values()))["Properties"]["NodegroupName"]["Fn::GetAtt"][0]
    name = f"<{nodegroup}.NodegroupName>"
    cluster = model.ref(STACK, "PlatformCluster6842C9C4")
    asg = (
        f"arn:aws:autoscaling:{model.region}:{model.account}:autoScalingGroup:uuid:autoScalingGroupName/eks-x"
    )

    def context(nodegroup_name: str, keys: list[str]) -> dict:
        return {
            "autoscaling:ResourceTag/eks:cluster-name": cluster,
            "autoscaling:ResourceTag/eks:nodegroup-name": nodegroup_name,
            "aws:TagKeys": keys,
        }

    assert model.can(handler, "autoscaling:CreateOrUpdateTags", asg, context=context(name, [TEMPLATE_TAG]))
    assert not model.can(handler, "autoscaling:CreateOrUpdateTags", asg, context=context(name, ["Name"]))
    assert not model.can(
        handler, "autoscaling:CreateOrUpdateTags", asg, context=context("someone-elses", [TEMPLATE_TAG])
    )
    assert not model.can(handler, "autoscaling:SetDesiredCapacity", asg, context=context(name, []))
    nodegroup_arn = model.arn(STACK, nodegroup)
    assert model.can(handler, "eks:DescribeNodegroup", nodegroup_arn)
    assert not model.can(handler, "eks:DescribeNodegroup", nodegroup_arn.replace(nodegroup, "Other"))
