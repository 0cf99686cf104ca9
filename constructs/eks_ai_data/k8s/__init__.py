"""In-cluster objects as cdk8s charts (layer 3: cdk8s and cdk8s-plus-27 only, never aws_cdk).

One chart per concern; each is a ``cdk8s.Chart`` built as ``Chart(app, id, *, ...)`` in a
``cdk8s.App``, for the cluster to apply with ``Cluster.add_cdk8s_chart``. Values may be CDK tokens
(resolved when the cluster applies the chart); :func:`concrete` tells whether a chart can also be
written to a manifest file (:func:`write_manifests`).
"""

from ._common import concrete, unresolved, write_manifests
from .gpu_software import (
    DEVICE_PLUGIN_IMAGE,
    DEVICE_PLUGIN_VERSION,
    GPU_OPERATOR_CHART,
    GPU_OPERATOR_REPOSITORY,
    GPU_OPERATOR_VERSION,
    GpuSoftwareChart,
    HelmChartSpec,
    gpu_operator_helm_chart,
)
from .local_nvme import LOCAL_PROVISIONER_IMAGE, LOCAL_PROVISIONER_VERSION, LocalNvmeChart
from .mountpoint import MountpointVolumeSpec
from .snapshot_classes import SnapshotClassesChart
from .static_volumes import EfsVolumeSpec, LustreVolumeSpec, StaticVolumesChart
from .storage_classes import EfsClassSpec, LustreClassSpec, StorageClassesChart
from .teams import TeamsChart, TeamSpec
from .workloads import NamespaceSpec, ServiceAccountSpec, WorkloadsChart

__all__ = [
    "DEVICE_PLUGIN_IMAGE",
    "DEVICE_PLUGIN_VERSION",
    "GPU_OPERATOR_CHART",
    "GPU_OPERATOR_REPOSITORY",
    "GPU_OPERATOR_VERSION",
    "LOCAL_PROVISIONER_IMAGE",
    "LOCAL_PROVISIONER_VERSION",
    "EfsClassSpec",
    "EfsVolumeSpec",
    "GpuSoftwareChart",
    "HelmChartSpec",
    "LocalNvmeChart",
    "LustreClassSpec",
    "LustreVolumeSpec",
    "MountpointVolumeSpec",
    "NamespaceSpec",
    "ServiceAccountSpec",
    "SnapshotClassesChart",
    "StaticVolumesChart",
    "StorageClassesChart",
    "TeamSpec",
    "TeamsChart",
    "WorkloadsChart",
    "concrete",
    "gpu_operator_helm_chart",
    "unresolved",
    "write_manifests",
]
