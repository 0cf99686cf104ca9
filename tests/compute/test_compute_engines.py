"""The capacity engines in the reference templates: the Cluster Autoscaler's release and least-privilege identity,
Karpenter's controller, node role, access entry, interruption queue and rules, the NodePools and EC2NodeClasses it
is given (schema-valid, priced), and the gates (cfn-lint, cdk-nag, snapshot) on the Karpenter variant."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from eks_ai_data.compute.karpenter import INTERRUPTION_EVENTS
from eks_ai_data.ops import cost
from tests._gates import cfn_lint_errors, normalize_template
from tests.platform.capacity_model import helm_values
from tests.platform.cfn_templates import REFERENCE_PLATFORMS
from tests.platform.iam_model import PolicyModel
from tests.platform.k8s_model import ClusterModel

pytestmark = pytest.mark.heavy

#: The cluster stacks (the engine, its identities, node groups and pools) and the training data stack (its keys).
TRAINING, INFERENCE = (p.cluster for p in REFERENCE_PLATFORMS.values())
TRAINING_DATA = REFERENCE_PLATFORMS["training"].data
CLUSTER = "PlatformCluster6842C9C4"


def _role(model: PolicyModel, stack: str, prefix: str):
    (lid,) = [lid for s, lid in model.resources("AWS::IAM::Role", stack) if lid.startswith(prefix)]
    return model.role(stack, lid)


# -- Cluster Autoscaler -------------------------------------------------------------------------------


def test_the_autoscaler_release_runs_the_clusters_minor_on_system_nodes(reference):
    model = ClusterModel(reference.templates, TRAINING)
    release = model.release("cluster-autoscaler")
    assert (
        release["Version"] == "9.59.0" and release["Repository"] == "https://kubernetes.github.io/autoscaler"
    )
    values = helm_values(release)
    assert values["image"] == {
        "repository": "registry.k8s.io/autoscaling/cluster-autoscaler",
        "tag": "v1.36.1",
    }
    assert values["autoDiscovery"] == {"clusterName": model.ref(TRAINING, CLUSTER)}
    assert values["awsRegion"] == model.region  # no instance metadata needed (the nodes allow one hop)
    assert values["nodeSelector"] == {"eks-ai-data/node-role": "system"}
    assert values["rbac"]["serviceAccount"] == {"create": True, "name": "cluster-autoscaler"}
    args = values["extraArgs"]
    assert args["scale-down-unneeded-time"] == "15m" and args["skip-nodes-with-local-storage"] == "true"
    associations = [
        model._resolve(TRAINING, r.properties)
        for (s, _), r in model._resources.items()
        if s == TRAINING and r.type == "AWS::EKS::PodIdentityAssociation"
    ]
    assert {"Namespace": "kube-system", "ServiceAccount": "cluster-autoscaler"}.items() <= next(
        a for a in associations if a["ServiceAccount"] == "cluster-autoscaler"
    ).items()


def test_the_autoscaler_may_scale_only_this_clusters_node_groups(reference):
    model = PolicyModel(reference.templates)
    ca = _role(model, TRAINING, "AutoscalerIdentityRole")
    cluster = model.ref(TRAINING, CLUSTER)
    asg = f"arn:aws:autoscaling:{model.region}:{model.account}:autoScalingGroup:uuid:autoScalingGroupName/eks-gpu"
    ours = {"autoscaling:ResourceTag/eks:cluster-name": cluster}
    theirs = {"autoscaling:ResourceTag/eks:cluster-name": "another-cluster"}
    for action in ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"):
        assert model.can(ca, action, asg, context=ours)
        assert not model.can(ca, action, asg, context=theirs)
        assert not model.can(ca, action, asg.replace("eks-gpu", "self-managed"), context=ours)
    assert not model.can(ca, "autoscaling:UpdateAutoScalingGroup", asg, context=ours)
    assert model.can(ca, "autoscaling:DescribeAutoScalingGroups", "*")
    nodegroup = f"arn:aws:eks:{model.region}:{model.account}:nodegroup/{cluster}/gpu/uuid"
    assert model.can(ca, "eks:DescribeNodegroup", nodegroup)
    assert not model.can(ca, "eks:DescribeNodegroup", nodegroup.replace(cluster, "another-cluster"))


# -- Karpenter ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def karpenter_model(reference_karpenter) -> ClusterModel:
    return ClusterModel(reference_karpenter.templates, TRAINING)


def test_karpenter_gates(reference_karpenter):
    assert reference_karpenter.nag_findings == []
    assert len(reference_karpenter.templates) == 4  # both platforms' data and cluster stacks
    for stack, template in reference_karpenter.templates.items():
        assert cfn_lint_errors(template) == [], stack


def test_the_engine_changes_nothing_in_the_data_stacks(reference, reference_karpenter):
    """The capacity engine is the cluster stack's: the data stacks are the same with either engine (so switching
    engines never updates, let alone replaces, the data)."""
    for platform in REFERENCE_PLATFORMS.values():
        assert normalize_template(reference_karpenter.template(platform.data)) == normalize_template(
            reference.template(platform.data)
        ), platform.data


@pytest.mark.parametrize("stack", [TRAINING, INFERENCE])
def test_karpenter_template_matches_snapshot(reference_karpenter, stack, snapshot_json):
    assert normalize_template(reference_karpenter.template(stack)) == snapshot_json


def test_karpenter_replaces_the_gpu_and_nvme_node_groups(reference_karpenter, karpenter_model):
    training = REFERENCE_PLATFORMS["training"].stacks
    groups = [lid for s in training for lid in reference_karpenter.resources(s, "AWS::EKS::Nodegroup")]
    assert groups == ["PlatformSystemNodes9CD72BAC"]
    assert [
        lid for s in training for lid in reference_karpenter.resources(s, "Custom::EksAiDataAsgTags")
    ] == []
    assert karpenter_model.engines() == ["karpenter"]
    pools = {g.name: g for g in karpenter_model.node_groups if g.kind == "nodepool"}
    assert len(pools) == 2
    gpu = next(p for p in pools.values() if "p5.48xlarge" in p.instance_types)
    nvme = next(p for p in pools.values() if "i4i.8xlarge" in p.instance_types)
    assert gpu.labels["eks-ai-data/accelerator"] == "nvidia" and gpu.labels["eks-ai-data/efa"] == "true"
    assert [(t.key, t.value, t.effect) for t in gpu.taints] == [("nvidia.com/gpu", "true", "NoSchedule")]
    assert gpu.node_class["instanceStorePolicy"] == "RAID0"
    assert gpu.node_class["amiSelectorTerms"] == [{"alias": "al2023@v20260714"}]
    assert gpu.node_class["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert gpu.node_class["blockDeviceMappings"][0]["ebs"]["encrypted"] is True
    assert "placementGroupSelector" in gpu.node_class
    assert len(gpu.zones) == 1 and gpu.zones == gpu.subnet_zones  # the Lustre file system's zone
    assert nvme.labels["eks-ai-data/local-nvme"] == "local-volumes"
    assert '"strategy": "Mount"' in nvme.node_class["userData"]
    pool = next(o for o in karpenter_model.of_kind("NodePool") if o["metadata"]["name"] == gpu.name)
    assert pool["spec"]["disruption"] == {
        "consolidationPolicy": "WhenEmpty",
        "consolidateAfter": "15m",
        "budgets": [
            {"nodes": "0", "reasons": ["Drifted", "Underutilized"]},
            {"nodes": "10%", "reasons": ["Empty"]},
        ],
    }
    assert pool["spec"]["template"]["spec"]["expireAfter"] == "Never"


def test_karpenter_controller_node_role_queue_and_rules(reference_karpenter, karpenter_model):
    values = helm_values(karpenter_model.release("karpenter"))
    queues = reference_karpenter.resources(TRAINING, "AWS::SQS::Queue")
    (queue_id,) = queues
    assert values["settings"]["interruptionQueue"] == karpenter_model._resolve(
        TRAINING, {"Fn::GetAtt": [queue_id, "QueueName"]}
    )
    assert values["settings"]["clusterName"] == karpenter_model.ref(TRAINING, CLUSTER)
    assert values["controller"]["env"] == [{"name": "AWS_REGION", "value": karpenter_model.region}]
    assert karpenter_model.release("karpenter")["Version"] == "1.14.1"
    assert karpenter_model.release("karpenter-crd")["Version"] == "1.14.1"
    queue = queues[queue_id]
    assert (
        queue["Properties"]["MessageRetentionPeriod"] == 300 and queue["Properties"]["SqsManagedSseEnabled"]
    )
    assert queue["DeletionPolicy"] == "Retain"
    rules = reference_karpenter.resources(TRAINING, "AWS::Events::Rule").values()
    patterns = {
        (r["Properties"]["EventPattern"]["source"][0], r["Properties"]["EventPattern"]["detail-type"][0])
        for r in rules
    }
    assert patterns == set(INTERRUPTION_EVENTS.values())
    (entry,) = [
        e
        for e in reference_karpenter.resources(TRAINING, "AWS::EKS::AccessEntry").values()
        if e["Properties"].get("Type") == "EC2_LINUX"
    ]
    node_class = next(g.node_class for g in karpenter_model.node_groups if g.kind == "nodepool")
    role = karpenter_model._resolve(TRAINING, entry["Properties"]["PrincipalArn"])
    assert role.endswith(
        "/" + node_class["role"]
    )  # the access entry is for the role the node class launches with


def test_karpenter_may_launch_and_terminate_only_what_it_tagged_for_this_cluster(karpenter_model):
    model = karpenter_model
    controller = _role(model, TRAINING, "KarpenterIdentityRole")
    cluster = model.ref(TRAINING, CLUSTER)
    instance = f"arn:aws:ec2:{model.region}:{model.account}:instance/i-0123456789abcdef0"
    owned = {
        f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "owned",
        "aws:ResourceTag/karpenter.sh/nodepool": "gpu",
    }
    assert model.can(controller, "ec2:TerminateInstances", instance, context=owned)
    assert not model.can(
        controller,
        "ec2:TerminateInstances",
        instance,
        context={**owned, f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "shared"},
    )
    assert not model.can(
        controller,
        "ec2:TerminateInstances",
        instance,
        context={"aws:ResourceTag/karpenter.sh/nodepool": "gpu"},
    )
    launch = {
        f"aws:RequestTag/kubernetes.io/cluster/{cluster}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": cluster,
        "aws:RequestTag/karpenter.sh/nodepool": "gpu",
    }
    assert model.can(controller, "ec2:RunInstances", instance, context=launch)
    assert not model.can(
        controller,
        "ec2:RunInstances",
        instance,
        context={**launch, "aws:RequestTag/eks:eks-cluster-name": "other"},
    )
    node_role = _role(model, TRAINING, "KarpenterNodeRole")
    assert model.can(
        controller, "iam:PassRole", node_role.arn, context={"iam:PassedToService": "ec2.amazonaws.com"}
    )
    other = model.arn(
        TRAINING,
        next(
            lid
            for s, lid in model.resources("AWS::IAM::Role", TRAINING)
            if lid.startswith("PlatformSystemNodeRole")
        ),
    )
    assert not model.can(
        controller, "iam:PassRole", other, context={"iam:PassedToService": "ec2.amazonaws.com"}
    )
    key = model.arn(TRAINING_DATA, "KeysDataKey8F3FE3A4")
    via = {"kms:ViaService": f"ec2.{model.region}.amazonaws.com"}
    assert model.can(controller, "kms:GenerateDataKeyWithoutPlaintext", key, context=via)
    assert not model.can(controller, "kms:Decrypt", key)  # only through EC2


def test_karpenter_node_pools_and_node_classes_are_schema_valid(karpenter_model):
    from tests.k8s.k8s_support import validate

    objects = karpenter_model.of_kind("NodePool") + karpenter_model.of_kind("EC2NodeClass")
    assert len(objects) == 4
    for obj in objects:
        # the cluster security group's id is a placeholder in the model (<Cluster.ClusterSecurityGroupId>)
        text = re.sub(r"<[A-Za-z0-9]+\.ClusterSecurityGroupId>", "sg-0123456789abcdef0", json.dumps(obj))
        validate(json.loads(text))


def test_karpenter_pools_are_priced_by_the_cost_command(reference_karpenter):
    """eks-ai-data cost prices each NodePool from its requirements and spec.limits: nothing at rest, at most the
    limit's nodes (16 GPUs = 2 x p5.48xlarge; 4 x 32 vCPU of i4i.8xlarge)."""
    report = cost.estimate(reference_karpenter.outdir, today=dt.date(2026, 7, 20))
    assert not [r.resource_type for r in report.resources if r.classification == "unknown"]
    pools = [i for i in report.items if i.component.startswith("NodePool ")]
    assert len(pools) == 3  # training GPU and NVMe, inference GPU
    assert all(i.priced and i.desired.high == 0 and i.max.high > 0 for i in pools), pools
    whats = {i.what for i in pools}
    assert any("up to 2 x p5.48xlarge" in w for w in whats), whats
    assert any("up to 4 x i4i.8xlarge" in w for w in whats), whats


def test_karpenter_variant_retains_its_stateful_resources(reference_karpenter):
    from eks_ai_data.stateful import STATEFUL_RESOURCE_TYPES

    for stack, template in reference_karpenter.templates.items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] in STATEFUL_RESOURCE_TYPES:
                assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == (
                    "Retain",
                    "Retain",
                ), f"{stack}/{logical_id}"
