"""The Cluster Autoscaler's node-template tags (layer 1) and the limits the node groups check them against."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from eks_ai_data import catalog
from eks_ai_data.cluster import AiCluster
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.nodegroups import GpuNodeGroup, template_resources
from eks_ai_data.scale_from_zero import (
    NodeTemplate,
    TemplateTaint,
    ephemeral_storage,
    min_quantities,
    tag_problems,
    template_tags,
)


def test_template_tags_name_labels_taints_resources_zone_options_and_discovery():
    template = NodeTemplate(
        labels={"eks-ai-data/accelerator": "nvidia"},
        taints=(TemplateTaint("nvidia.com/gpu", "true", "NoSchedule"),),
        resources={"nvidia.com/gpu": "8"},
        zone="us-east-2a",
        options={"scaledowngpuutilizationthreshold": "0"},
    )
    assert template_tags(template, "ml") == {
        "k8s.io/cluster-autoscaler/enabled": "true",
        "k8s.io/cluster-autoscaler/ml": "owned",
        "k8s.io/cluster-autoscaler/node-template/label/eks-ai-data/accelerator": "nvidia",
        "k8s.io/cluster-autoscaler/node-template/label/topology.kubernetes.io/zone": "us-east-2a",
        "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
        "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "8",
        "k8s.io/cluster-autoscaler/node-template/autoscaling-options/scaledowngpuutilizationthreshold": "0",
    }
    assert "k8s.io/cluster-autoscaler/node-template/label/topology.kubernetes.io/zone" not in template_tags(
        NodeTemplate(labels={}), "ml"
    )  # a group in several zones: CA takes the ASG's first


def test_resources_are_the_smallest_any_type_offers():
    assert min_quantities([{"a": 4, "b": 1}, {"a": 2}]) == {"a": 2}
    p5 = catalog.get("p5.48xlarge")
    resources = template_resources([p5], efa=True, kubelet_disk_bytes=[p5.nvme_total_gb * 1e9])
    assert resources == {"nvidia.com/gpu": "8", "vpc.amazonaws.com/efa": "32", "ephemeral-storage": "24914Gi"}
    trn = catalog.get("trn2.48xlarge")
    neuron = template_resources([trn], efa=False, kubelet_disk_bytes=[200 * 2**30])
    assert neuron["aws.amazon.com/neuron"] == "16" and neuron["ephemeral-storage"] == "176Gi"
    assert "vpc.amazonaws.com/efa" not in neuron  # no interfaces attached without efa=True


def test_ephemeral_storage_never_promises_more_than_the_node_allocates():
    assert ephemeral_storage(100 * 2**30) == "88Gi"  # 10% hard eviction + file-system overhead kept back


def test_tag_limits_are_checked():
    assert tag_problems({f"k{i}": "v" for i in range(41)}) and not tag_problems(
        {f"k{i}": "v" for i in range(40)}
    )
    assert "longer than 256" in tag_problems({"k": "v" * 257})[0]


def test_a_group_with_too_many_labels_for_an_auto_scaling_group_is_refused():
    platform = AiCluster(cdk.Stack(cdk.App(), "Tags"), "Platform")
    labels = {f"example.com/l{i}": "x" for i in range(34)}
    with pytest.raises(
        EksAiDataValidationError, match=r"node-template tags; an Auto Scaling group holds 50 tags"
    ):
        GpuNodeGroup(platform, "Gpu", cluster=platform, instance_types=["g6e.xlarge"], labels=labels)
