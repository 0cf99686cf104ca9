"""A small model of what Kubernetes and EKS do with a synthesized platform: which node groups exist with which
labels, taints, zones and devices, which objects the cluster applies, and where a pod can be scheduled.

It reads the templates only (the managed node groups, their subnets, the manifests the kubectl provider applies,
the Helm releases), with intrinsic functions resolved by :class:`~tests.platform.cfn_templates.Templates`, and
answers the questions the platform tests ask::

    model = ClusterModel(templates, "EksAiDataTraining")
    pod = Pod(namespace="training", claims=["datasets"], requests={"nvidia.com/gpu": 1},
              tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}])
    model.feasible(pod)        # node groups (and zones) where kube-scheduler could place it once a node exists

Semantics modelled (kube-scheduler's filter plugins, reduced to what the platform emits):

- NodeAffinity / nodeSelector: every ``nodeSelector`` label equals the node's; ``requiredDuringScheduling`` node
  affinity terms are ORed, their ``matchExpressions`` ANDed (``In``, ``NotIn``, ``Exists``, ``DoesNotExist``).
- TaintToleration: every ``NoSchedule``/``NoExecute`` taint of the node is tolerated (empty key with ``Exists``
  tolerates everything; ``Exists`` ignores the value; an empty effect matches every effect).
- VolumeBinding: a claim bound to a PersistentVolume with node affinity admits only nodes that match it; a claim
  of a ``WaitForFirstConsumer`` class with no provisioner (local volumes) admits only nodes where the local volume
  provisioner publishes volumes of that class.
- NodeResourcesFit for extended resources: a node offers ``nvidia.com/gpu``, ``aws.amazon.com/neuron`` or
  ``vpc.amazonaws.com/efa`` only when the hardware is there (instance catalog) *and* a device plugin that
  advertises it runs there (a DaemonSet whose node selector and tolerations admit the node, or the OS's own
  plugin: Bottlerocket's NVIDIA variants run the NVIDIA device plugin as a host service); CPU and memory
  requests must fit the instance.

Nodes carry the labels EKS and kubelet set (``topology.kubernetes.io/zone``, ``node.kubernetes.io/instance-type``,
``kubernetes.io/arch``, ``kubernetes.io/os``, ``eks.amazonaws.com/nodegroup``, ``eks.amazonaws.com/capacityType``)
besides the node group's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eks_ai_data import catalog
from tests.platform.capacity_model import CapacityEngines, render_device_plugin_daemonsets, requirement_values
from tests.platform.iam_model import PolicyModel

MANIFEST = "Custom::AWSCDK-EKS-KubernetesResource"
HELM_CHART = "Custom::AWSCDK-EKS-HelmChart"
ZONE = "topology.kubernetes.io/zone"
GPU, NEURON, EFA = "nvidia.com/gpu", "aws.amazon.com/neuron", "vpc.amazonaws.com/efa"
_EKS_EFFECTS = {
    "NO_SCHEDULE": "NoSchedule",
    "NO_EXECUTE": "NoExecute",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
}
#: Images of device plugins and the extended resource each advertises on the nodes it runs on.
DEVICE_PLUGIN_IMAGES = {
    re.compile(r"(^|/)k8s-device-plugin:"): GPU,
    re.compile(r"(^|/)(eks/)?aws-efa-k8s-device-plugin:"): EFA,
    re.compile(r"(^|/)neuron-device-plugin:"): NEURON,
}


@dataclass(frozen=True)
class Taint:
    key: str
    value: str | None
    effect: str


@dataclass
class NodeGroup:
    """A managed node group as its nodes will look."""

    stack: str
    logical_id: str
    labels: dict[str, str]
    taints: list[Taint]
    zones: list[str]
    instance_types: list[str]
    ami_type: str
    capacity_type: str
    min_size: int
    max_size: int
    desired_size: int
    #: ``managed`` (an EKS managed node group) or ``nodepool`` (a Karpenter NodePool, named ``name``)
    kind: str = "managed"
    name: str = ""
    tags: dict[str, str] = field(default_factory=dict)  # the node group's own tags (CA reads resources there)
    capacity_types: list[str] = field(default_factory=list)  # NodePool: karpenter.sh/capacity-type values
    limits: dict[str, float] = field(default_factory=dict)  # NodePool: spec.limits
    node_class: dict[str, Any] | None = None  # NodePool: its EC2NodeClass spec
    subnet_zones: list[str] = field(default_factory=list)  # NodePool: zones of the node class's subnets

    @property
    def bottlerocket(self) -> bool:
        return self.ami_type.startswith("BOTTLEROCKET")

    def node_labels(self, zone: str, instance_type: str) -> dict[str, str]:
        """The labels of one node of this group in ``zone``."""
        spec = catalog.get(instance_type)
        labels = {
            **self.labels,
            ZONE: zone,
            "node.kubernetes.io/instance-type": instance_type,
            "kubernetes.io/arch": spec.kubernetes_arch,
            "kubernetes.io/os": "linux",
        }
        if self.kind == "nodepool":  # Karpenter labels its nodes with the pool and the chosen capacity type
            labels["karpenter.sh/nodepool"] = self.name
            labels["karpenter.sh/capacity-type"] = self.capacity_types[0]
        else:
            labels["eks.amazonaws.com/nodegroup"] = self.logical_id
            labels["eks.amazonaws.com/capacityType"] = self.capacity_type
        return labels

    def hardware(self, instance_type: str) -> dict[str, int]:
        """Extended resources the instance's hardware has (whether or not a plugin advertises them)."""
        spec = catalog.get(instance_type)
        found: dict[str, int] = {}
        if spec.accelerator_kind == "nvidia":
            found[GPU] = spec.accelerator_count
        elif spec.accelerator_kind == "neuron":
            found[NEURON] = spec.accelerator_count
        if spec.max_efa_interfaces:
            found[EFA] = spec.max_efa_interfaces
        return found


@dataclass
class Pod:
    """What a workload pod asks of the scheduler."""

    namespace: str
    claims: Sequence[str] = ()
    requests: Mapping[str, float] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, Any]] = ()
    node_selector: Mapping[str, str] = field(default_factory=dict)
    affinity_terms: Sequence[Mapping[str, Any]] = ()  # requiredDuringScheduling nodeSelectorTerms

    @classmethod
    def from_spec(cls, namespace: str, spec: Mapping[str, Any]) -> Pod:
        """A pod from a Kubernetes PodSpec (a Job's template spec): claims, requests, tolerations, placement."""
        requests: dict[str, float] = {}
        for container in spec.get("containers", []):
            for name, quantity in (container.get("resources", {}).get("requests") or {}).items():
                requests[name] = requests.get(name, 0) + parse_quantity(quantity)
            for name, quantity in (container.get("resources", {}).get("limits") or {}).items():
                if "/" in name and name not in (container.get("resources", {}).get("requests") or {}):
                    requests[name] = requests.get(name, 0) + parse_quantity(
                        quantity
                    )  # extended: limit = request
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in spec.get("volumes", [])
            if "persistentVolumeClaim" in v
        ]
        affinity = (
            spec.get("affinity", {})
            .get("nodeAffinity", {})
            .get("requiredDuringSchedulingIgnoredDuringExecution", {})
            .get("nodeSelectorTerms", [])
        )
        return cls(
            namespace=namespace,
            claims=claims,
            requests=requests,
            tolerations=spec.get("tolerations", []),
            node_selector=spec.get("nodeSelector", {}),
            affinity_terms=affinity,
        )


@dataclass(frozen=True)
class Placement:
    """Where a pod fits: a node group, a zone and an instance type."""

    node_group: NodeGroup
    zone: str
    instance_type: str


def parse_quantity(value: Any) -> float:
    """A Kubernetes quantity (``"8"``, ``"500m"``, ``"64Gi"``) as a number (bytes for memory, cores for CPU)."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    suffixes = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    for suffix, factor in suffixes.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    if text.endswith("m"):
        return float(text[:-1]) / 1000
    return float(text)


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Taint) -> bool:
    """Whether any toleration tolerates ``taint`` (Kubernetes' ToleratesTaint)."""
    for t in tolerations:
        effect = t.get("effect")
        if effect and effect != taint.effect:
            continue
        key = t.get("key")
        operator = t.get("operator", "Equal")
        if not key:
            if operator == "Exists":
                return True
            continue
        if key != taint.key:
            continue
        if operator == "Exists" or t.get("value") == taint.value:
            return True
    return False


def matches_expressions(labels: Mapping[str, str], expressions: Iterable[Mapping[str, Any]]) -> bool:
    for e in expressions:
        key, op, values = e["key"], e["operator"], e.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise NotImplementedError(op)
    return True


def matches_terms(labels: Mapping[str, str], terms: Sequence[Mapping[str, Any]]) -> bool:
    """``nodeSelectorTerms``: ORed terms of ANDed expressions; no terms admit every node."""
    if not terms:
        return True
    return any(matches_expressions(labels, t.get("matchExpressions", [])) for t in terms)


class ClusterModel(CapacityEngines, PolicyModel):
    """The node groups and applied Kubernetes objects of one stack's cluster (and, as a
    :class:`~tests.platform.iam_model.PolicyModel`, the policies of every stack).

    :param templates: ``{stack name: template}`` (every stack of the app, so imports resolve).
    :param stack: the stack whose cluster is modelled.
    :param subnet_zones: zones of subnets the templates name only by id (an imported VPC).
    """

    def __init__(
        self,
        templates: Mapping[str, Mapping[str, Any]],
        stack: str,
        *,
        subnet_zones: Mapping[str, str] | None = None,
        kubernetes_version: str = "1.36",
        **kwargs: Any,
    ) -> None:
        self.stack = stack
        self.subnet_zones = dict(subnet_zones or {})
        self.kubernetes_version = kubernetes_version
        super().__init__(templates, **kwargs)

    def _index(self) -> None:
        super()._index()
        self.objects: list[dict[str, Any]] = []
        self.helm_releases: list[dict[str, Any]] = []
        self.node_groups: list[NodeGroup] = []
        for (stack, lid), res in self._resources.items():
            if stack != self.stack:
                continue
            if res.type == MANIFEST:
                self.objects += json.loads(self._resolve(stack, res.properties["Manifest"]))
            elif res.type == HELM_CHART:
                self.helm_releases.append(self._resolve(stack, res.properties))
            elif res.type == "AWS::EKS::Nodegroup":
                self.node_groups.append(self._node_group(lid, self._resolve(stack, res.properties)))
        for (
            release
        ) in self.helm_releases:  # DaemonSets of the device-plugin charts, as their templates render
            self.objects += render_device_plugin_daemonsets(release)
        self.node_groups += [self._node_pool(pool) for pool in self.of_kind("NodePool")]

    def _node_pool(self, pool: Mapping[str, Any]) -> NodeGroup:
        """A Karpenter NodePool as its nodes will look (requirements with one value become node labels)."""
        spec = pool["spec"]
        template = spec["template"]
        requirements = template["spec"]["requirements"]
        node_class_name = template["spec"]["nodeClassRef"]["name"]
        classes = [c for c in self.of_kind("EC2NodeClass") if c["metadata"]["name"] == node_class_name]
        node_class = classes[0]["spec"] if classes else None
        types = requirement_values(requirements, "node.kubernetes.io/instance-type")
        accelerator = {catalog.get(t).accelerator_kind for t in types}
        variant = {"nvidia": "NVIDIA", "neuron": "NEURON"}.get(next(iter(accelerator)) or "", "STANDARD")
        arch = "ARM_64" if catalog.get(types[0]).architecture == "arm64" else "x86_64"
        alias = (node_class or {}).get("amiSelectorTerms", [{}])[0].get("alias", "")
        labels = dict(template.get("metadata", {}).get("labels", {}))
        for requirement in requirements:
            if requirement["operator"] == "In" and len(requirement.get("values", [])) == 1:
                labels[requirement["key"]] = requirement["values"][0]
        return NodeGroup(
            stack=self.stack,
            logical_id=f"NodePool/{pool['metadata']['name']}",
            labels=labels,
            taints=[Taint(t["key"], t.get("value"), t["effect"]) for t in template["spec"].get("taints", [])],
            zones=requirement_values(requirements, ZONE),
            instance_types=types,
            ami_type=f"{alias.split('@')[0].upper()}_{arch}_{variant}",
            capacity_type="KARPENTER",
            min_size=0,
            max_size=1 << 30,
            desired_size=0,
            kind="nodepool",
            name=pool["metadata"]["name"],
            capacity_types=requirement_values(requirements, "karpenter.sh/capacity-type"),
            limits={k: parse_quantity(v) for k, v in spec.get("limits", {}).items()},
            node_class=node_class,
            subnet_zones=sorted(
                {self._zone_of(term["id"]) for term in (node_class or {}).get("subnetSelectorTerms", [])}
            ),
        )

    def _node_group(self, lid: str, props: Mapping[str, Any]) -> NodeGroup:
        scaling = props.get("ScalingConfig", {})
        return NodeGroup(
            stack=self.stack,
            logical_id=lid,
            labels=dict(props.get("Labels", {})),
            taints=[
                Taint(t["Key"], t.get("Value"), _EKS_EFFECTS[t["Effect"]]) for t in props.get("Taints", [])
            ],
            zones=sorted({self._zone_of(s) for s in props["Subnets"]}),
            instance_types=list(props.get("InstanceTypes", [])) or self._launch_template_types(props),
            tags=dict(props.get("Tags", {})),
            ami_type=props.get("AmiType", "AL2023_x86_64_STANDARD"),
            capacity_type=props.get("CapacityType", "ON_DEMAND"),
            min_size=int(scaling.get("MinSize", 1)),
            max_size=int(scaling.get("MaxSize", 1)),
            desired_size=int(scaling.get("DesiredSize", scaling.get("MinSize", 1))),
        )

    def _launch_template_types(self, props: Mapping[str, Any]) -> list[str]:
        """A node group without InstanceTypes launches its launch template's (a capacity block's) type."""
        template = props.get("LaunchTemplate", {}).get("Id")
        for (stack, lid), res in self._resources.items():
            if (
                stack == self.stack
                and res.type == "AWS::EC2::LaunchTemplate"
                and self.ref(stack, lid) == template
            ):
                data = self._resolve(stack, res.properties["LaunchTemplateData"])
                return [data["InstanceType"]] if "InstanceType" in data else []
        return []

    def _zone_of(self, subnet: str) -> str:
        if subnet in self.subnet_zones:
            return self.subnet_zones[subnet]
        for (stack, lid), res in self._resources.items():
            if res.type == "AWS::EC2::Subnet" and self.ref(stack, lid) == subnet:
                return str(self._resolve(stack, res.properties["AvailabilityZone"]))
        raise KeyError(f"the zone of subnet {subnet} is unknown: pass subnet_zones")

    # -- objects -------------------------------------------------------------------------------------
    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("kind") == kind]

    def named(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        for o in self.of_kind(kind):
            meta = o["metadata"]
            if meta["name"] == name and meta.get("namespace") == namespace:
                return o
        raise KeyError(f"no {kind} {namespace}/{name}")

    def workload_namespaces(self) -> list[str]:
        return [n["metadata"]["name"] for n in self.of_kind("Namespace")]

    def claims(self, namespace: str | None = None) -> list[dict[str, Any]]:
        return [
            c
            for c in self.of_kind("PersistentVolumeClaim")
            if namespace in (None, c["metadata"]["namespace"])
        ]

    def volume_of(self, claim: Mapping[str, Any]) -> dict[str, Any] | None:
        name = claim["spec"].get("volumeName")
        return self.named("PersistentVolume", name) if name else None

    def storage_class(self, name: str) -> dict[str, Any]:
        return self.named("StorageClass", name)

    # -- scheduling ------------------------------------------------------------------------------------
    def daemonset_runs_on(
        self, daemonset: Mapping[str, Any], labels: Mapping[str, str], taints: Sequence[Taint]
    ) -> bool:
        spec = daemonset["spec"]["template"]["spec"]
        if any(labels.get(k) != v for k, v in spec.get("nodeSelector", {}).items()):
            return False
        affinity = (
            spec.get("affinity", {})
            .get("nodeAffinity", {})
            .get("requiredDuringSchedulingIgnoredDuringExecution", {})
            .get("nodeSelectorTerms", [])
        )
        if not matches_terms(labels, affinity):
            return False
        return all(
            tolerates(spec.get("tolerations", []), t) for t in taints if t.effect != "PreferNoSchedule"
        )

    def advertised(self, group: NodeGroup, instance_type: str, zone: str) -> dict[str, int]:
        """Extended resources a node of ``group`` offers: hardware it has that a running plugin advertises."""
        labels = group.node_labels(zone, instance_type)
        plugins: set[str] = set()
        for ds in self.of_kind("DaemonSet"):
            images = [c["image"] for c in ds["spec"]["template"]["spec"]["containers"]]
            advertised = {
                r for img in images for pattern, r in DEVICE_PLUGIN_IMAGES.items() if pattern.search(img)
            }
            if advertised and self.daemonset_runs_on(ds, labels, group.taints):
                plugins |= advertised
        if group.bottlerocket and "NVIDIA" in group.ami_type:
            plugins.add(GPU)  # Bottlerocket runs the NVIDIA device plugin as a host service
        if any(r.get("Chart") == "gpu-operator" for r in self.helm_releases):
            plugins.add(GPU)  # the GPU operator deploys its own device plugin on NVIDIA nodes
        return {r: n for r, n in group.hardware(instance_type).items() if r in plugins}

    def plugins_on(self, group: NodeGroup, image_pattern: str) -> list[dict[str, Any]]:
        """DaemonSets whose image matches ``image_pattern`` that run on every instance type and zone of ``group``."""
        found = []
        for ds in self.of_kind("DaemonSet"):
            images = [c["image"] for c in ds["spec"]["template"]["spec"]["containers"]]
            if any(re.search(image_pattern, i) for i in images) and any(
                self.daemonset_runs_on(ds, group.node_labels(z, t), group.taints)
                for z in group.zones
                for t in group.instance_types
            ):
                found.append(ds)
        return found

    def feasible(self, pod: Pod) -> list[Placement]:
        """Every (node group or NodePool, zone, instance type) where ``pod`` will run: a capacity engine brings
        such a node up from zero for it (or the node exists), and kube-scheduler then places the pod there."""
        found = []
        for group in self.node_groups:
            if group.max_size < 1:
                continue
            for zone in group.zones:
                for instance_type in group.instance_types:
                    if self._fits(pod, group, zone, instance_type) and not self.engine_problems(
                        pod, group, zone, instance_type
                    ):
                        found.append(Placement(group, zone, instance_type))
        return found

    def why_not(self, pod: Pod, group: NodeGroup, zone: str, instance_type: str) -> list[str]:
        """The filters that reject ``pod`` on such a node once it exists (empty: it fits)."""
        spec = catalog.get(instance_type)
        resources: dict[str, float] = {"cpu": float(spec.vcpus), "memory": spec.memory_gib * 2**30}
        resources.update(self.advertised(group, instance_type, zone))
        return self.filters(pod, group.node_labels(zone, instance_type), group.taints, resources, group)

    def filters(
        self,
        pod: Pod,
        labels: Mapping[str, str],
        taints: Sequence[Taint],
        resources: Mapping[str, float],
        group: NodeGroup,
    ) -> list[str]:
        """kube-scheduler's filters for ``pod`` on a node with these labels, taints and allocatable resources (a
        real node, or an engine's picture of one)."""
        reasons = []
        if any(labels.get(k) != v for k, v in pod.node_selector.items()):
            reasons.append("nodeSelector")
        if not matches_terms(labels, pod.affinity_terms):
            reasons.append("node affinity")
        untolerated = [
            t for t in taints if t.effect in ("NoSchedule", "NoExecute") and not tolerates(pod.tolerations, t)
        ]
        if untolerated:
            reasons.append(f"taints {[t.key for t in untolerated]}")
        for claim_name in pod.claims:
            reason = self._volume_problem(pod.namespace, claim_name, labels, group)
            if reason:
                reasons.append(reason)
        for resource, amount in pod.requests.items():
            if resource == "cpu" and amount > resources.get("cpu", 0):
                reasons.append(f"cpu {amount} > {resources.get('cpu', 0)}")
            elif resource == "memory" and amount > resources.get("memory", 0):
                reasons.append("memory")
            elif "/" in resource and amount > resources.get(resource, 0):
                reasons.append(f"{resource} {amount} > {resources.get(resource, 0)} advertised")
        return reasons

    def _fits(self, pod: Pod, group: NodeGroup, zone: str, instance_type: str) -> bool:
        return not self.why_not(pod, group, zone, instance_type)

    def _volume_problem(
        self, namespace: str, claim_name: str, labels: Mapping[str, str], group: NodeGroup
    ) -> str | None:
        claim = self.named("PersistentVolumeClaim", claim_name, namespace)
        volume = self.volume_of(claim)
        if volume is not None:
            terms = volume["spec"].get("nodeAffinity", {}).get("required", {}).get("nodeSelectorTerms", [])
            return (
                None if matches_terms(labels, terms) else f"volume {volume['metadata']['name']} node affinity"
            )
        class_name = claim["spec"].get("storageClassName")
        storage_class = self.storage_class(class_name)
        if storage_class["provisioner"] == "kubernetes.io/no-provisioner":
            provisioners = [
                ds
                for ds in self.plugins_on(group, r"local-volume-provisioner")
                if self.daemonset_runs_on(ds, labels, group.taints)
            ]
            return (
                None if provisioners else f"no local volume provisioner for class {class_name} on this node"
            )
        return None  # a dynamic class the cluster provisions wherever the pod lands

    def zonal_volumes(self) -> list[tuple[dict[str, Any], list[str]]]:
        """Each PersistentVolume with zone node affinity, and the zones it admits."""
        found = []
        for volume in self.of_kind("PersistentVolume"):
            terms = volume["spec"].get("nodeAffinity", {}).get("required", {}).get("nodeSelectorTerms", [])
            zones = [
                v
                for t in terms
                for e in t.get("matchExpressions", [])
                if e["key"] == ZONE and e["operator"] == "In"
                for v in e["values"]
            ]
            if zones:
                found.append((volume, zones))
        return found

    def vpc_zones(self) -> list[str]:
        """Zones of every subnet the cluster's node groups could use (all zones the templates name)."""
        zones = {z for g in self.node_groups for z in g.zones}
        for (stack, _), res in self._resources.items():
            if res.type == "AWS::EC2::Subnet":
                zones.add(str(self._resolve(stack, res.properties["AvailabilityZone"])))
        return sorted(zones | set(self.subnet_zones.values()))
