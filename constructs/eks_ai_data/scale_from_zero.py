"""What the Cluster Autoscaler must know of a node group before any of its nodes exists (layer 1: no CDK import).

The Cluster Autoscaler scales a group from zero by simulating a *template node* and asking whether a pending pod
would fit on it. On AWS it builds that node (kubernetes/autoscaler tag ``cluster-autoscaler-1.36.1``,
``cluster-autoscaler/cloudprovider/aws/aws_manager.go`` ``buildNodeFromTemplate`` and ``getAsgTemplate``) from:

- the instance type: vCPUs, memory, and ``nvidia.com/gpu`` = the GPU count DescribeInstanceTypes reports
  (Neuron devices, EFA interfaces and local storage are never derived);
- the Auto Scaling group: its *first* Availability Zone becomes ``topology.kubernetes.io/zone`` (with several
  zones CA still uses the first), and its tags ``k8s.io/cluster-autoscaler/node-template/label/<key>: <value>``,
  ``.../taint/<key>: <value>:<effect>`` and ``.../resources/<name>: <quantity>`` (a resource tag overrides the
  instance type's capacity; an unparsable quantity is skipped silently);
- for an EKS managed node group (ASG tags ``eks:cluster-name`` and ``eks:nodegroup-name``, which EKS sets), the
  DescribeNodegroup answer: its labels, its taints (only those with a value), and node-group tags of the
  ``.../resources/`` form.

EKS managed node group tags do not reach the Auto Scaling group ("These tags don't propagate to other resources
in the node group, such as Auto Scaling groups or instances", EKS user guide ``nodes/create-managed-node-group``),
so the library writes these tags on the EKS-created group itself (:mod:`eks_ai_data.compute.asg_tags`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TAG_PREFIX = "k8s.io/cluster-autoscaler/"
LABEL_TAG_PREFIX = TAG_PREFIX + "node-template/label/"
TAINT_TAG_PREFIX = TAG_PREFIX + "node-template/taint/"
RESOURCE_TAG_PREFIX = TAG_PREFIX + "node-template/resources/"
OPTION_TAG_PREFIX = TAG_PREFIX + "node-template/autoscaling-options/"
#: Auto-discovery (``--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,
#: k8s.io/cluster-autoscaler/<cluster>``): CA manages the groups carrying both keys (values are not compared).
DISCOVERY_ENABLED_TAG = TAG_PREFIX + "enabled"

#: Tags EKS puts on a managed node group's Auto Scaling group (the node-group service-linked role may tag with
#: ``eks``, ``eks:cluster-name`` and ``eks:nodegroup-name``: AWSServiceRoleForAmazonEKSNodegroup v11,
#: AllowASGCreationByEKS) and the two auto-discovery tags EKS adds ("automatically tagged for auto-discovery",
#: EKS user guide ``nodes/managed-node-groups``).
EKS_ASG_TAG_KEYS = ("eks", "eks:cluster-name", "eks:nodegroup-name")
EKS_ASG_NODEGROUP_TAG = "eks:nodegroup-name"
EKS_ASG_CLUSTER_TAG = "eks:cluster-name"
#: "Currently an EC2 Autoscaling group can only have 50 tags" (``proposals/circumvent-tag-limit-aws.md``).
ASG_TAG_LIMIT = 50
#: Tags the library leaves for EKS's own and the user's: the node-template tags must fit in the rest.
ASG_TAGS_RESERVED = 10
#: Kubernetes' ``nodefs.available`` hard-eviction default (10%) and file-system overhead: the share of a node's
#: raw disk the template advertises as ``ephemeral-storage``. The template must never promise a pod more than the
#: node will allocate, or CA would scale up for a pod that then cannot schedule.
EPHEMERAL_STORAGE_SHARE = 0.88


def discovery_tag(cluster_name: str) -> str:
    """The per-cluster auto-discovery tag key (``k8s.io/cluster-autoscaler/<cluster name>``)."""
    return TAG_PREFIX + cluster_name


@dataclass(frozen=True)
class TemplateTaint:
    key: str
    value: str
    effect: str  # NoSchedule | NoExecute | PreferNoSchedule


@dataclass(frozen=True)
class NodeTemplate:
    """A node group's nodes as CA must picture them: labels, taints, extended resources, zone, CA options."""

    labels: Mapping[str, str]
    taints: tuple[TemplateTaint, ...] = ()
    resources: Mapping[str, str] = field(default_factory=dict)
    zone: str | None = None  # only for a group in one zone
    options: Mapping[str, str] = field(default_factory=dict)


def template_tags(template: NodeTemplate, cluster_name: str) -> dict[str, str]:
    """The Auto Scaling group tags that make CA discover the group and know ``template`` before a node exists."""
    tags = {DISCOVERY_ENABLED_TAG: "true", discovery_tag(cluster_name): "owned"}
    labels = dict(template.labels)
    if template.zone is not None:
        labels["topology.kubernetes.io/zone"] = template.zone
    for key, value in labels.items():
        tags[LABEL_TAG_PREFIX + key] = value
    for taint in template.taints:
        tags[TAINT_TAG_PREFIX + taint.key] = f"{taint.value}:{taint.effect}"
    for name, quantity in template.resources.items():
        tags[RESOURCE_TAG_PREFIX + name] = quantity
    for name, value in template.options.items():
        tags[OPTION_TAG_PREFIX + name] = value
    return tags


def ephemeral_storage(raw_bytes: int | float) -> str:
    """The ``ephemeral-storage`` quantity a node with ``raw_bytes`` of kubelet disk can allocate (whole GiB)."""
    return f"{math.floor(raw_bytes * EPHEMERAL_STORAGE_SHARE / 2**30)}Gi"


def tag_problems(tags: Mapping[str, str]) -> list[str]:
    """Why these tags cannot all be written on an Auto Scaling group (AWS tag limits), empty when they can."""
    problems = []
    if len(tags) > ASG_TAG_LIMIT - ASG_TAGS_RESERVED:
        problems.append(
            f"{len(tags)} node-template tags; an Auto Scaling group holds {ASG_TAG_LIMIT} tags and "
            f"{ASG_TAGS_RESERVED} are left for EKS's own: use fewer labels"
        )
    for key, value in tags.items():
        if len(key) > 128:
            problems.append(f"tag key {key!r} is longer than 128 characters")
        if len(value) > 256:
            problems.append(f"tag value of {key!r} is longer than 256 characters")
    return problems


def min_quantities(per_type: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """For a group of several instance types, each resource at the smallest amount any type offers (a resource
    one type lacks is left out): CA applies one template to the whole group."""
    rows = list(per_type)
    if not rows:
        return {}
    common = set(rows[0]).intersection(*rows[1:])
    return {name: min(row[name] for row in rows) for name in sorted(common)}
