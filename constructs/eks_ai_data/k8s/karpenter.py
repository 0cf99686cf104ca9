"""A Karpenter NodePool and its EC2NodeClass (karpenter.sh/v1, karpenter.k8s.aws/v1), as a chart
(:class:`NodePoolChart`).

The fields follow Karpenter 1.14's CRDs (aws/karpenter-provider-aws ``pkg/apis/crds/karpenter.sh_nodepools.yaml``
and ``karpenter.k8s.aws_ec2nodeclasses.yaml``) and its docs (``website/content/en/docs/concepts/``):

- requirements on ``node.kubernetes.io/instance-type`` (exact types), ``karpenter.sh/capacity-type``
  (``on-demand``, ``spot``, ``reserved``) and ``topology.kubernetes.io/zone``; a requirement with one value
  becomes a node label, as do the template's labels;
- ``reserved`` capacity only from the reservations the node class selects by id (``capacityReservationSelectorTerms``:
  Karpenter never matches an open reservation by itself; capacity blocks are selected so, ``odcrs.md``);
- disruption that leaves training alone: ``consolidationPolicy: WhenEmpty`` (a node is removed only when no pod but
  DaemonSets runs there, after ``consolidateAfter``), budgets of 0 nodes for ``Drifted`` and ``Underutilized``,
  ``expireAfter: Never`` (expiry is forceful and budgets do not stop it: ``disruption.md``);
- an AMI by alias (``al2023@<release>``: Karpenter picks the NVIDIA, Neuron or standard variant per type),
  IMDSv2 with hop limit 1, an encrypted gp3 root volume, ``instanceStorePolicy: RAID0`` for types with NVMe
  instance store (kubelet and containerd on the array), or nodeadm user data that mounts each disk for local
  volumes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cdk8s
from constructs import Construct

from ..labels import Taint
from ._common import MANAGED_BY, api_object, fail, metadata, require, require_subdomain, unresolved

CAPACITY_TYPES = ("on-demand", "spot", "reserved")
ZONE_LABEL = "topology.kubernetes.io/zone"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
_RESTRICTED_DOMAINS = ("karpenter.sh", "karpenter.k8s.aws")


@dataclass(frozen=True)
class NodeClassSpec:
    """An EC2NodeClass: where and how Karpenter launches the pool's instances.

    :param role: the node role's *name*.
    :param subnet_ids: subnets to launch in.
    :param security_group_ids: the nodes' security groups.
    :param ami_alias: e.g. ``al2023@v20260714``.
    :param root_volume_gib: the root volume.
    :param kms_key_arn: key of the root volume.
    :param instance_store_raid0: stripe the NVMe instance store.
    :param user_data: AL2023 nodeadm MIME user data merged by Karpenter.
    :param capacity_reservation_ids: the reservations (``cr-...``) ``reserved`` capacity may use.
    :param placement_group: a placement group's name.
    :param tags: tags on every instance and volume.
    """

    role: str
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    ami_alias: str
    root_volume_gib: int = 200
    kms_key_arn: str | None = None
    instance_store_raid0: bool = False
    user_data: str | None = None
    capacity_reservation_ids: Sequence[str] = ()
    placement_group: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NodePoolSpec:
    """A NodePool: which nodes Karpenter may launch for pending pods, and when it may take them away.

    :param instance_types: exact types.
    :param capacity_types: ``on-demand``, ``spot``, ``reserved``.
    :param zones: zones the nodes may land in.
    :param labels: node labels.
    :param taints: node taints.
    :param limits: the pool's total resources (``{"nvidia.com/gpu": "16"}``).
    :param consolidate_after: how long an empty node stays (``"15m"``).
    :param weight: priority among pools (1-100).
    :param annotations: node annotations.
    """

    instance_types: Sequence[str]
    capacity_types: Sequence[str]
    zones: Sequence[str]
    labels: Mapping[str, str]
    taints: Sequence[Taint]
    limits: Mapping[str, str]
    consolidate_after: str = "15m"
    weight: int | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)


class NodePoolChart(cdk8s.Chart):
    """One EC2NodeClass and one NodePool of the same ``name`` (see the module docstring).

    Attributes: ``node_class``, ``node_pool`` (the ApiObjects).
    """

    def __init__(
        self, scope: Construct, id: str, *, name: str, node_class: NodeClassSpec, node_pool: NodePoolSpec
    ) -> None:
        super().__init__(scope, id, labels=MANAGED_BY)
        require_subdomain(self, "name", name)
        self._check(node_class, node_pool)
        self.node_class = api_object(
            self,
            "node-class",
            api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass",
            meta=metadata(name),
            spec=_node_class_spec(node_class),
        )
        self.node_pool = api_object(
            self,
            "node-pool",
            api_version="karpenter.sh/v1",
            kind="NodePool",
            meta=metadata(name),
            spec=_node_pool_spec(name, node_pool),
        )
        self.name = name

    def _check(self, node_class: NodeClassSpec, pool: NodePoolSpec) -> None:
        require(
            self,
            len(pool.instance_types) > 0,
            "instance_types",
            list(pool.instance_types),
            "must not be empty",
        )
        require(
            self,
            len(pool.capacity_types) > 0,
            "capacity_types",
            list(pool.capacity_types),
            "must not be empty",
        )
        for capacity in pool.capacity_types:
            require(
                self,
                capacity in CAPACITY_TYPES,
                "capacity_types",
                capacity,
                f"must be one of {list(CAPACITY_TYPES)}",
            )
        reserved = "reserved" in pool.capacity_types
        if reserved != bool(node_class.capacity_reservation_ids):
            raise fail(
                self,
                "capacity_types",
                list(pool.capacity_types),
                "'reserved' goes with capacity_reservation_ids and needs them (Karpenter uses only the reservations "
                "its node class selects, and never selects one unless the pool allows 'reserved')",
            )
        require(self, len(pool.zones) > 0, "zones", list(pool.zones), "must name at least one zone")
        require(
            self,
            len(node_class.subnet_ids) > 0,
            "subnet_ids",
            list(node_class.subnet_ids),
            "must not be empty",
        )
        for key in pool.labels:
            domain = key.split("/", 1)[0] if "/" in key else ""
            if not unresolved(key) and domain.endswith(_RESTRICTED_DOMAINS):
                raise fail(
                    self, "labels", key, "label domains karpenter.sh and karpenter.k8s.aws are restricted"
                )
        require(
            self, bool(pool.limits), "limits", dict(pool.limits), "must bound the pool (e.g. nvidia.com/gpu)"
        )
        if pool.weight is not None:
            require(self, 1 <= pool.weight <= 100, "weight", pool.weight, "must be between 1 and 100")


def _node_class_spec(spec: NodeClassSpec) -> dict[str, Any]:
    body: dict[str, Any] = {
        "role": spec.role,
        "amiSelectorTerms": [{"alias": spec.ami_alias}],
        "subnetSelectorTerms": [{"id": subnet} for subnet in spec.subnet_ids],
        "securityGroupSelectorTerms": [{"id": group} for group in spec.security_group_ids],
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/xvda",
                "rootVolume": True,
                "ebs": {
                    "volumeSize": f"{spec.root_volume_gib}Gi",
                    "volumeType": "gp3",
                    "encrypted": True,
                    "deleteOnTermination": True,
                    **({"kmsKeyID": spec.kms_key_arn} if spec.kms_key_arn else {}),
                },
            }
        ],
    }
    if spec.instance_store_raid0:
        body["instanceStorePolicy"] = "RAID0"
    if spec.user_data:
        body["userData"] = spec.user_data
    if spec.capacity_reservation_ids:
        body["capacityReservationSelectorTerms"] = [{"id": cr} for cr in spec.capacity_reservation_ids]
    if spec.placement_group:
        body["placementGroupSelector"] = {"name": spec.placement_group}
    if spec.tags:
        body["tags"] = dict(spec.tags)
    return body


def _node_pool_spec(name: str, spec: NodePoolSpec) -> dict[str, Any]:
    template_meta: dict[str, Any] = {"labels": dict(spec.labels)}
    if spec.annotations:
        template_meta["annotations"] = dict(spec.annotations)
    body: dict[str, Any] = {
        "template": {
            "metadata": template_meta,
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": name},
                "requirements": [
                    {"key": INSTANCE_TYPE_LABEL, "operator": "In", "values": list(spec.instance_types)},
                    {"key": CAPACITY_TYPE_LABEL, "operator": "In", "values": list(spec.capacity_types)},
                    {"key": ZONE_LABEL, "operator": "In", "values": list(spec.zones)},
                ],
                "taints": [
                    {"key": t.key, "effect": t.effect, **({"value": t.value} if t.value else {})}
                    for t in spec.taints
                ],
                "expireAfter": "Never",
            },
        },
        "disruption": {
            "consolidationPolicy": "WhenEmpty",
            "consolidateAfter": spec.consolidate_after,
            "budgets": [
                {"nodes": "0", "reasons": ["Drifted", "Underutilized"]},
                {"nodes": "10%", "reasons": ["Empty"]},
            ],
        },
        "limits": dict(spec.limits),
    }
    if not spec.taints:
        del body["template"]["spec"]["taints"]
    if spec.weight is not None:
        body["weight"] = spec.weight
    return body
