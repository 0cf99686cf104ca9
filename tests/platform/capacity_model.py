"""What the capacity engines and the Helm-installed device plugins will do with a synthesized platform: a mixin of
:class:`~tests.platform.k8s_model.ClusterModel`.

**Cluster Autoscaler** (kubernetes/autoscaler tag ``cluster-autoscaler-1.36.1``, ``cloudprovider/aws/``): a pending
pod triggers a scale-up of a node group only when

- CA runs (a Helm release of chart ``cluster-autoscaler`` whose image tag is the cluster's Kubernetes minor) and its
  identity may ``SetDesiredCapacity`` on the group's Auto Scaling group;
- it discovers the group: the group carries both tags of ``--node-group-auto-discovery=asg:tag=
  k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/<autoDiscovery.clusterName>`` (the chart's default
  tags), written by the platform's tagging custom resource;
- the *template node* CA builds for the group admits the pod (``aws_manager.go`` ``buildNodeFromTemplate``): labels
  from the instance type (arch, os, instance type), the ASG's first zone, the ASG's
  ``node-template/label/...`` tags and, through DescribeNodegroup, the node group's labels (which win); taints from
  ``node-template/taint/...`` tags and the node group's taints that have a value; capacity from the instance type
  (vCPUs, memory, ``nvidia.com/gpu`` = its NVIDIA GPUs; nothing else), overridden by ``node-template/resources/...``
  tags on the ASG and then on the node group. For a group in several zones CA takes the ASG's first zone, an order
  the templates do not fix: the model then requires the pod to fit the template in every zone of the group.

**Karpenter** (aws/karpenter-provider-aws v1.14): a pending pod gets a node from a NodePool when the controller
and its CRDs are installed, the pool's requirements (instance types, zones, capacity types) and template labels are
compatible with the pod's node selector and required affinity, the pool's taints are tolerated, the instance type
offers the pod's requests (Karpenter's instance-type model: vCPUs, memory, ``nvidia.com/gpu``,
``aws.amazon.com/neuron``, ``vpc.amazonaws.com/efa`` = the type's EFA interfaces), one node of the type fits under
every limit of ``spec.limits``, a capacity type is allowed (``reserved`` only with reservations the node class
selects), and the EC2NodeClass it references exists, with a subnet in the zone and an AMI alias.

**Helm releases** render DaemonSets the model has to see (device plugins): the EFA and Neuron charts are rendered
here from their values as their templates do it (aws/eks-charts ``stable/aws-efa-k8s-device-plugin/templates/
daemonset.yaml`` v0.5.30; aws-neuron/neuron-helm-charts ``templates/device-plugin/device-plugin-daemonset.yaml``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eks_ai_data import catalog
from eks_ai_data.capacity_versions import cluster_autoscaler_image_tag

if TYPE_CHECKING:
    from tests.platform.k8s_model import NodeGroup, Pod, Taint

HELM_CHART = "Custom::AWSCDK-EKS-HelmChart"
ASG_TAGS = "Custom::EksAiDataAsgTags"
CA_PREFIX = "k8s.io/cluster-autoscaler/"
LABEL_TAG, TAINT_TAG, RESOURCE_TAG = (
    CA_PREFIX + f"node-template/{k}/" for k in ("label", "taint", "resources")
)
ZONE = "topology.kubernetes.io/zone"


def helm_values(release: Mapping[str, Any]) -> dict[str, Any]:
    values = release.get("Values")
    return json.loads(values) if isinstance(values, str) else dict(values or {})


def render_device_plugin_daemonsets(release: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The DaemonSet a known device-plugin chart renders from its values (empty for other charts)."""
    chart, values = release.get("Chart"), helm_values(release)
    if chart == "aws-efa-k8s-device-plugin":
        labels = values.get("supportedInstanceLabels", {})
        terms = [
            {
                "matchExpressions": [
                    {"key": key, "operator": "In", "values": list(labels.get("values", []))},
                    {"key": "eks.amazonaws.com/compute-type", "operator": "NotIn", "values": ["auto"]},
                ]
            }
            for key in labels.get("keys", ["node.kubernetes.io/instance-type"])
        ]
        image = values.get("image", {})
        spec: dict[str, Any] = {
            "tolerations": [
                {"key": "CriticalAddonsOnly", "operator": "Exists"},
                *values.get("tolerations", []),
            ],
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
                }
            },
            "containers": [
                {"name": "aws-efa-k8s-device-plugin", "image": f"{image['repository']}:{image['tag']}"}
            ],
        }
        if values.get("nodeSelector"):
            spec["nodeSelector"] = values["nodeSelector"]
        return [_daemonset(release, spec)]
    if chart == "neuron-helm-chart":
        plugin = values.get("devicePlugin", {})
        if not plugin.get("enabled", True):
            return []
        terms = [
            {
                "matchExpressions": [
                    {
                        "key": "node.kubernetes.io/instance-type",
                        "operator": "In",
                        "values": values["neuronInstances"],
                    },
                    {
                        "key": "eks.amazonaws.com/compute-type",
                        "operator": "NotIn",
                        "values": ["fargate", "hybrid", "auto"],
                    },
                ]
            }
        ]
        spec = {
            "nodeSelector": plugin.get("nodeSelector", {}),
            "tolerations": plugin.get("tolerations", []),
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
                }
            },
            "containers": [
                {
                    "name": "neuron-device-plugin",
                    "image": "public.ecr.aws/neuron/neuron-device-plugin:2.32.0.0",
                }
            ],
        }
        return [_daemonset(release, spec)]
    return []


def _daemonset(release: Mapping[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": release["Release"], "namespace": release.get("Namespace", "default")},
        "spec": {"template": {"spec": spec}},
        "x-rendered-from-helm": release["Chart"],
    }


class CapacityEngines:
    """Mixin of :class:`ClusterModel`: which engine runs, and whether it can bring a node up for a pod."""

    helm_releases: list[dict[str, Any]]
    node_groups: list[NodeGroup]
    stack: str
    kubernetes_version: str

    # -- what runs -----------------------------------------------------------------------------------------
    def release(self, chart: str) -> dict[str, Any] | None:
        found = [r for r in self.helm_releases if r.get("Chart") == chart]
        assert len(found) <= 1, f"{len(found)} releases of {chart}"
        return found[0] if found else None

    def engines(self) -> list[str]:
        return [name for name in ("cluster-autoscaler", "karpenter") if self.release(name) is not None]

    def asg_tags(self, group: NodeGroup) -> dict[str, str]:
        """The tags the platform's custom resource writes on ``group``'s Auto Scaling group (node template and
        discovery), resolved."""
        tags: dict[str, str] = {}
        for (stack, _), res in self._resources.items():  # type: ignore[attr-defined]
            if stack != self.stack or res.type != ASG_TAGS:
                continue
            props = self._resolve(stack, res.properties)  # type: ignore[attr-defined]
            if props["NodegroupName"] == f"<{group.logical_id}.NodegroupName>":
                tags.update(props.get("DiscoveryTags") or {})
                tags.update(props.get("Tags") or {})
        return tags

    # -- the Cluster Autoscaler ---------------------------------------------------------------------------
    def autoscaler_problems(self, group: NodeGroup) -> list[str]:
        """Why CA would not manage ``group`` at all (empty: it discovers and may scale it)."""
        release = self.release("cluster-autoscaler")
        if release is None:
            return ["no Cluster Autoscaler"]
        values = helm_values(release)
        problems = []
        if values.get("image", {}).get("tag") != cluster_autoscaler_image_tag(self.kubernetes_version):
            problems.append(f"CA image {values.get('image')} is not the {self.kubernetes_version} release")
        cluster_name = values.get("autoDiscovery", {}).get("clusterName")
        tags = self.asg_tags(group)
        for key in (CA_PREFIX + "enabled", CA_PREFIX + str(cluster_name)):
            if key not in tags:
                problems.append(f"the Auto Scaling group lacks the discovery tag {key}")
        if group.max_size < 1:
            problems.append("max size 0")
        return problems

    def ca_template(
        self, group: NodeGroup, zone: str
    ) -> tuple[dict[str, str], list[Taint], dict[str, float]]:
        """CA's template node of ``group`` (labels, taints, allocatable) when the ASG's first zone is ``zone``."""
        from tests.platform.k8s_model import Taint, parse_quantity

        tags = self.asg_tags(group)
        instance_type = group.instance_types[0]  # the first override of the ASG's mixed instances policy
        spec = catalog.get(instance_type)
        labels = {
            "kubernetes.io/arch": spec.kubernetes_arch,
            "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": instance_type,
            ZONE: zone,
        }
        labels.update({k[len(LABEL_TAG) :]: v for k, v in tags.items() if k.startswith(LABEL_TAG)})
        labels.update(group.labels)  # DescribeNodegroup labels win over ASG tags
        labels["eks.amazonaws.com/nodegroup"] = group.logical_id
        labels["eks.amazonaws.com/capacityType"] = group.capacity_type
        taints = []
        for key, value in tags.items():
            if key.startswith(TAINT_TAG):
                taint_value, _, effect = value.partition(":")
                taints.append(Taint(key[len(TAINT_TAG) :], taint_value, effect))
        taints += [t for t in group.taints if t.value is not None]  # DescribeNodegroup taints with a value
        capacity: dict[str, float] = {
            "cpu": float(spec.vcpus),
            "memory": spec.memory_gib * 2**30,
            "nvidia.com/gpu": float(spec.accelerator_count if spec.accelerator_kind == "nvidia" else 0),
        }
        for source in (tags, group.tags):
            for key, value in source.items():
                if key.startswith(RESOURCE_TAG):
                    try:
                        capacity[key[len(RESOURCE_TAG) :]] = parse_quantity(value)
                    except ValueError:
                        continue  # CA skips an unparsable quantity silently
        return labels, taints, capacity

    def ca_scale_up_problems(self, pod: Pod, group: NodeGroup) -> list[str]:
        problems = self.autoscaler_problems(group)
        if problems:
            return problems
        for zone in group.zones:  # CA uses the ASG's first zone: fit whichever it is
            labels, taints, capacity = self.ca_template(group, zone)
            reasons = self.filters(pod, labels, taints, capacity, group)  # type: ignore[attr-defined]
            if reasons:
                return [f"CA's template node in {zone}: {r}" for r in reasons]
        return []

    # -- Karpenter ---------------------------------------------------------------------------------------
    def karpenter_scale_up_problems(
        self, pod: Pod, pool: NodeGroup, zone: str, instance_type: str
    ) -> list[str]:
        from tests.platform.k8s_model import matches_terms

        if self.release("karpenter") is None or self.release("karpenter-crd") is None:
            return ["no Karpenter controller and CRDs"]
        problems = []
        node_class = pool.node_class or {}
        if not node_class:
            problems.append("the NodePool's EC2NodeClass does not exist")
        elif not any("alias" in term for term in node_class.get("amiSelectorTerms", [])):
            problems.append("the EC2NodeClass selects no AMI alias")
        if zone not in pool.subnet_zones:
            problems.append(f"the EC2NodeClass has no subnet in {zone}")
        capacities = set(pool.capacity_types) - (
            {"reserved"} if not node_class.get("capacityReservationSelectorTerms") else set()
        )
        if not capacities:
            problems.append("no capacity type Karpenter can launch")
        spec = catalog.get(instance_type)
        offered = karpenter_capacity(spec)
        for resource, limit in pool.limits.items():
            if offered.get(resource, 0) > limit:
                problems.append(
                    f"one {instance_type} has {offered[resource]} {resource}, above the limit {limit}"
                )
        requirements = pool.node_labels(zone, instance_type)
        if any(requirements.get(k) != v for k, v in pod.node_selector.items()):
            problems.append("the pod's nodeSelector is not among the pool's labels and requirements")
        if not matches_terms(requirements, pod.affinity_terms):
            problems.append("the pod's node affinity excludes the pool")
        reasons = self.filters(pod, requirements, pool.taints, offered, pool)  # type: ignore[attr-defined]
        return problems + [f"Karpenter's simulation: {r}" for r in reasons]

    def engine_problems(self, pod: Pod, group: NodeGroup, zone: str, instance_type: str) -> list[str]:
        """Why no engine brings up a node of ``group`` for ``pod`` (empty: one does, from zero)."""
        if group.kind == "nodepool":
            return self.karpenter_scale_up_problems(pod, group, zone, instance_type)
        if group.desired_size >= 1 and group.min_size >= 1:
            return []  # a node that exists already (the system group)
        return self.ca_scale_up_problems(pod, group)


def karpenter_capacity(spec: catalog.InstanceSpec) -> dict[str, float]:
    """Karpenter's capacity of an instance type (``website/content/en/docs/reference/instance-types.md``)."""
    capacity: dict[str, float] = {"cpu": float(spec.vcpus), "memory": spec.memory_gib * 2**30}
    if spec.accelerator_kind == "nvidia":
        capacity["nvidia.com/gpu"] = float(spec.accelerator_count)
    if spec.accelerator_kind == "neuron":
        capacity["aws.amazon.com/neuron"] = float(spec.accelerator_count)
    if spec.max_efa_interfaces:
        capacity["vpc.amazonaws.com/efa"] = float(spec.max_efa_interfaces)
    if spec.has_nvme:
        capacity["ephemeral-storage"] = spec.nvme_total_gb * 1e9
    return capacity


def requirement_values(requirements: Sequence[Mapping[str, Any]], key: str) -> list[str]:
    for requirement in requirements:
        if requirement.get("key") == key and requirement.get("operator") == "In":
            return list(requirement.get("values", []))
    return []
