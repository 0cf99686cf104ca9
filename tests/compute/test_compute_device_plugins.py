"""The EFA and Neuron device plugins: one release per cluster, created by the groups that have the hardware, with
values that place them on exactly those nodes."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks

from eks_ai_data.cluster import AiCluster
from eks_ai_data.compute.device_plugins import efa_device_plugin, neuron_device_plugin
from eks_ai_data.nodegroups import GpuNodeGroup
from tests.platform.capacity_model import helm_values
from tests.platform.cfn_templates import REFERENCE_PLATFORMS
from tests.platform.k8s_model import ClusterModel

TRAINING, INFERENCE = REFERENCE_PLATFORMS["training"], REFERENCE_PLATFORMS["inference"]


def test_only_clusters_with_efa_or_neuron_groups_get_those_plugins(reference):
    charts = {
        stack: {
            ClusterModel(reference.templates, stack)._resolve(stack, r["Properties"])["Chart"]
            for r in reference.resources(stack, "Custom::AWSCDK-EKS-HelmChart").values()
        }
        for stack in reference.templates
    }
    assert charts[TRAINING.cluster] == {"cluster-autoscaler", "aws-efa-k8s-device-plugin"}
    assert charts[INFERENCE.cluster] == {"cluster-autoscaler"}  # g6e inference nodes: no EFA, no Neuron
    assert charts[TRAINING.data] == charts[INFERENCE.data] == set()  # no cluster in a data stack
    model = ClusterModel(reference.templates, TRAINING.cluster)
    values = helm_values(model.release("aws-efa-k8s-device-plugin"))
    assert values["image"] == {
        "repository": f"602401143452.dkr.ecr.{model.region}.amazonaws.com/eks/aws-efa-k8s-device-plugin",
        "tag": "v0.5.20",
    }
    assert values["supportedInstanceLabels"] == {"keys": ["eks-ai-data/efa"], "values": ["true"]}
    nvme = next(g for g in model.node_groups if g.labels.get("eks-ai-data/local-nvme") == "local-volumes")
    assert model.plugins_on(nvme, r"aws-efa-k8s-device-plugin:") == []  # i4i nodes have no EFA interfaces


def test_one_release_per_cluster_whatever_the_number_of_groups():
    stack = cdk.Stack(cdk.App(), "Plugins")
    platform = AiCluster(stack, "Platform")
    neuron = eks.NodegroupAmiType.AL2023_X86_64_NEURON
    first = GpuNodeGroup(
        stack, "Trn1", cluster=platform, instance_types=["trn1.32xlarge"], ami_type=neuron, efa=True
    )
    second = GpuNodeGroup(stack, "Inf2", cluster=platform, instance_types=["inf2.48xlarge"], ami_type=neuron)
    assert first.neuron_device_plugin is second.neuron_device_plugin is neuron_device_plugin(platform)
    assert first.efa_device_plugin is efa_device_plugin(platform) and second.efa_device_plugin is None
    releases = [c for c in platform.cluster.node.find_all() if isinstance(c, eks.HelmChart)]
    assert len(releases) == 2
    # the release's neuronInstances value is rendered at synth time from every Neuron group's types
    assert {"trn1.32xlarge", "inf2.48xlarge"} <= set(first.neuron_device_plugin.instance_types.produce())
