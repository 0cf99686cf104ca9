"""The EFA and Neuron device plugins, installed once per cluster, on exactly the nodes that have the hardware.

Kubernetes offers a pod an extended resource only when a device plugin on its node advertises it: without the EFA
plugin no node offers ``vpc.amazonaws.com/efa`` and a pod asking for it stays Pending; without the Neuron plugin
Trainium and Inferentia nodes offer no ``aws.amazon.com/neuron``. Neither has an EKS add-on (the EKS user guide
installs both from their vendors' charts: ``ml/node-efa``, ``ml-eks-k8s-device-plugin``), so the charts are
installed through the cluster's kubectl provider at the versions pinned in :mod:`eks_ai_data.capacity_versions`:

- :func:`efa_device_plugin`: ``aws-efa-k8s-device-plugin``. Its DaemonSet's node affinity is built from
  ``supportedInstanceLabels`` (aws/eks-charts ``stable/aws-efa-k8s-device-plugin/templates/daemonset.yaml``): set
  to the library's ``eks-ai-data/efa=true`` label, which only node groups and pools with EFA interfaces carry. A
  node without EFA interfaces (an EFA-capable type launched without them) would advertise nothing anyway.
- :func:`neuron_device_plugin`: the Neuron chart's device plugin only (``scheduler.enabled: false``; ``npd.enabled:
  false``: the EKS node monitoring agent reports Neuron hardware faults), with ``nodeSelector``
  ``eks-ai-data/accelerator=neuron`` and ``neuronInstances`` covering every Neuron type the cluster's groups use.
  The chart's scheduler extension is not installed: it serves pods asking for a subset of a node's Neuron devices
  (contiguous allocation), the platform's Neuron groups run whole-node pods, and the chart's second kube-scheduler
  defaults to a 1.31 image that does not match the cluster.

Both tolerate the platform's node taints (:data:`eks_ai_data.labels.ALL_NODE_TAINTS`), and are created by the
node groups and pools that need them (the first one creates the release; later ones reuse it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import jsii
from aws_cdk import Aws, CfnMapping, IStableListProducer, Lazy, Stack, Token
from constructs import Construct

from .._validate import fail
from ..capacity_versions import (
    EFA_DEVICE_PLUGIN_CHART,
    EFA_DEVICE_PLUGIN_IMAGE_TAG,
    EFA_DEVICE_PLUGIN_REPOSITORY,
    EKS_REGISTRY_ACCOUNTS,
    NEURON_CHART,
    NEURON_CHART_INSTANCES,
    ChartPin,
)
from ..cluster_interface import IAiCluster, is_ai_cluster
from ..errors import EksAiDataValidationError, shown
from ..labels import ACCELERATOR_LABEL, ACCELERATOR_NEURON, ALL_NODE_TAINTS, EFA_LABEL, EFA_LABEL_VALUE
from ._helm import helm_release


def cluster_scope(cluster: IAiCluster) -> Construct:
    """The EKS cluster construct, where the cluster-wide plugins live. ``eks.ICluster`` is an interface in jsii's
    typing, but every implementation (a created or an imported cluster) is a construct."""
    return cast(Construct, cluster.cluster)


EFA_RELEASE = "aws-efa-k8s-device-plugin"
NEURON_RELEASE = "neuron-helm-chart"
_EFA_ID = "EfaDevicePlugin"
_NEURON_ID = "NeuronDevicePlugin"
_REGISTRY_MAPPING_ID = "EksAiDataEksRegistries"


def platform_tolerations() -> list[dict[str, str]]:
    """Tolerations of every taint the platform's node groups carry (and of ``CriticalAddonsOnly``)."""
    return [
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        *({"key": t.key, "operator": "Exists", "effect": t.effect} for t in ALL_NODE_TAINTS),
    ]


def eks_registry(scope: Any) -> str:
    """The Amazon EKS image registry of the stack's Region (``602401143452.dkr.ecr.us-east-1.amazonaws.com``)."""
    stack = Stack.of(scope)
    region = stack.region
    if not Token.is_unresolved(region):
        account = EKS_REGISTRY_ACCOUNTS.get(region)
        if account is None:
            raise fail(
                scope,
                "region",
                region,
                "has no Amazon EKS image registry the library knows of (EKS user guide, add-ons-images); "
                f"known Regions: {sorted(EKS_REGISTRY_ACCOUNTS)}",
            )
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        return f"{account}.dkr.ecr.{region}.{suffix}"
    mapping = stack.node.try_find_child(_REGISTRY_MAPPING_ID)
    if not isinstance(mapping, CfnMapping):
        mapping = CfnMapping(
            stack,
            _REGISTRY_MAPPING_ID,
            mapping={r: {"account": a} for r, a in sorted(EKS_REGISTRY_ACCOUNTS.items())},
        )
    return f"{mapping.find_in_map(Aws.REGION, 'account')}.dkr.ecr.{Aws.REGION}.{Aws.URL_SUFFIX}"


@jsii.implements(IStableListProducer)
class _Types:
    """A growing set of instance types, rendered sorted into a release's values at synth time."""

    def __init__(self, initial: Iterable[str] = ()) -> None:
        self.types: set[str] = set(initial)

    def produce(self) -> list[str]:
        return sorted(self.types)


class DevicePlugin(Construct):
    """One device plugin release of a cluster (see the module docstring); find it with :func:`efa_device_plugin`
    and :func:`neuron_device_plugin`. Attributes: ``release`` (the ``HelmChart``), ``instance_types`` (Neuron)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        chart: ChartPin,
        release: str,
        values: dict[str, Any],
    ) -> None:
        super().__init__(scope, id)
        self.release = helm_release(
            self, "Release", cluster=cluster, chart=chart, release=release, values=values
        )
        self.instance_types = _Types()


def _existing(cluster: IAiCluster, id: str) -> DevicePlugin | None:
    found = cluster.cluster.node.try_find_child(id)
    return found if isinstance(found, DevicePlugin) else None


def _require_cluster(where: str, cluster: object) -> None:
    if not is_ai_cluster(cluster):
        raise EksAiDataValidationError(
            where,
            "cluster",
            shown(cluster),
            "must be an AiCluster or AiCluster.from_existing(...) (an IAiCluster)",
        )


def efa_device_plugin(cluster: IAiCluster) -> DevicePlugin:
    """The cluster's EFA device plugin (created on first use), on nodes labelled ``eks-ai-data/efa=true``."""
    _require_cluster("efa_device_plugin", cluster)
    existing = _existing(cluster, _EFA_ID)
    if existing is not None:
        return existing
    values = {
        "image": {
            "repository": f"{eks_registry(cluster.cluster)}/{EFA_DEVICE_PLUGIN_REPOSITORY}",
            "tag": EFA_DEVICE_PLUGIN_IMAGE_TAG,
        },
        "supportedInstanceLabels": {"keys": [EFA_LABEL], "values": [EFA_LABEL_VALUE]},
        "tolerations": platform_tolerations()[1:],  # the chart's template tolerates CriticalAddonsOnly itself
    }
    return DevicePlugin(
        cluster_scope(cluster),
        _EFA_ID,
        cluster=cluster,
        chart=EFA_DEVICE_PLUGIN_CHART,
        release=EFA_RELEASE,
        values=values,
    )


def neuron_device_plugin(cluster: IAiCluster, instance_types: Iterable[str] = ()) -> DevicePlugin:
    """The cluster's Neuron device plugin (created on first use); its node affinity admits ``instance_types`` too."""
    _require_cluster("neuron_device_plugin", cluster)
    if isinstance(instance_types, str) or not all(isinstance(t, str) for t in instance_types):
        raise EksAiDataValidationError(
            "neuron_device_plugin",
            "instance_types",
            instance_types,
            "must be a list of instance type names, e.g. ['trn2.48xlarge']",
        )
    plugin = _existing(cluster, _NEURON_ID)
    if plugin is None:
        types = _Types(NEURON_CHART_INSTANCES)
        values = {
            "neuronInstances": Lazy.list(types),
            "devicePlugin": {
                "nodeSelector": {ACCELERATOR_LABEL: ACCELERATOR_NEURON},
                "tolerations": platform_tolerations(),
            },
            "scheduler": {"enabled": False},
            "npd": {"enabled": False},
        }
        plugin = DevicePlugin(
            cluster_scope(cluster),
            _NEURON_ID,
            cluster=cluster,
            chart=NEURON_CHART,
            release=NEURON_RELEASE,
            values=values,
        )
        plugin.instance_types = types
    plugin.instance_types.types.update(instance_types)
    return plugin
