"""eks-ai-data: AWS CDK v2 constructs for the data side of AI/ML platforms on Amazon EKS.

Public names are imported lazily (PEP 562) so that ``import eks_ai_data`` and the
``eks-ai-data`` command line stay fast and never load aws_cdk unless a construct is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    "EksAiDataValidationError": "errors",
    # keys, network, cluster, node groups
    "DataKeys": "keys",
    "ClusterNetwork": "network",
    "ZonalStack": "network",
    "AiCluster": "cluster",
    "default_cluster_name": "cluster",
    "IAiCluster": "cluster_interface",
    "IPlatformKeys": "cluster_interface",
    "PlatformKeys": "cluster_interface",
    "ImportedAiCluster": "imported_cluster",
    "DEFAULT_KUBERNETES_VERSION": "versions",
    "DEFAULT_LOG_RETENTION": "function_logs",
    "GpuNodeGroup": "nodegroups",
    "GpuNodeGroupOptions": "nodegroups",
    "NvmeNodeGroup": "nodegroups",
    "NodeLaunchTemplate": "launch_template",
    # capacity: engines, pools, device plugins, node health
    "ClusterAutoscaler": "compute.autoscaler",
    "Karpenter": "compute.karpenter",
    "GpuNodePool": "compute.node_pools",
    "GpuNodePoolOptions": "compute.node_pools",
    "NvmeNodePool": "compute.node_pools",
    "NodegroupAsgTags": "compute.asg_tags",
    "NodeMonitoringAgent": "compute.node_health",
    "NodeRepair": "node_repair",
    "RepairOverride": "node_repair",
    "efa_device_plugin": "compute.device_plugins",
    "neuron_device_plugin": "compute.device_plugins",
    # data layer
    "DataBucket": "bucket",
    "ReplicationTarget": "bucket",
    "LustreStore": "lustre",
    "ILustreStore": "lustre_import",
    "ImportedLustreStore": "lustre_import",
    "DataRepositoryLink": "lustre",
    "size_lustre": "lustre_sizing",
    "LustreSize": "lustre_sizing",
    "SharedEfs": "efs",
    "ISharedEfs": "efs_import",
    "ImportedSharedEfs": "efs_import",
    "NFS_PORT": "efs",
    "LUSTRE_PORT": "lustre",
    "LUSTRE_PORTS": "lustre",
    "LUSTRE_PORT_RANGES": "lustre",
    # in-cluster storage drivers, identity, backups
    "StorageDrivers": "csi",
    "WorkloadIdentity": "identity",
    "IdentityMode": "identity",
    "IdentityLike": "identity",
    "DataBackupPlan": "backup",
    "BackupRuleSpec": "backup_rules",
    "VaultLock": "backup_rules",
    "VaultLockMode": "backup_rules",
    "RestoreTestSpec": "backup_restore_testing",
    # in-cluster objects: what the charts take (static volumes, classes, namespaces, service accounts, Helm)
    "NamespaceSpec": "k8s",
    "ServiceAccountSpec": "k8s",
    "EfsClassSpec": "k8s",
    "LustreClassSpec": "k8s",
    "EfsVolumeSpec": "k8s",
    "LustreVolumeSpec": "k8s",
    "HelmChartSpec": "k8s",
    "lustre_volume_spec": "patterns._common",
    # labels, taints and tags the constructs put on nodes and volumes (for workloads' selectors and tolerations)
    "NODE_ROLE_LABEL": "labels",
    "ACCELERATOR_LABEL": "labels",
    "GPU_MODEL_LABEL": "labels",
    "GPU_TAINT_KEY": "labels",
    "LOCAL_NVME_LABEL": "labels",
    "LOCAL_NVME_TAINT_KEY": "labels",
    "LOCAL_NVME_STORAGE_CLASS": "labels",
    "BACKUP_TAG_KEY": "labels",
    "BACKUP_TAG_VALUE": "labels",
    # governance: teams (namespaces, RBAC, quotas, network policies) and their members' access entries
    "TeamSpec": "k8s.teams",
    "TeamAccess": "governance",
    "MountpointVolumeSpec": "k8s.mountpoint",
    # patterns
    "ClusterStorage": "patterns.cluster_storage",
    "DistributedDataset": "patterns.distributed_dataset",
    "ModelRepository": "patterns.model_repository",
    "TrainingCheckpoints": "patterns.training_checkpoints",
    # guards
    "STATEFUL_RESOURCE_TYPES": "stateful",
    "compare_assemblies": "guard",
}

if TYPE_CHECKING:
    # What type checkers see (the same names, from the same modules, as _EXPORTS; tests/test_typing.py holds
    # the two together). At run time the names are imported on first use (__getattr__ below).
    from .backup import DataBackupPlan as DataBackupPlan
    from .backup_restore_testing import RestoreTestSpec as RestoreTestSpec
    from .backup_rules import (
        BackupRuleSpec as BackupRuleSpec,
    )
    from .backup_rules import (
        VaultLock as VaultLock,
    )
    from .backup_rules import (
        VaultLockMode as VaultLockMode,
    )
    from .bucket import DataBucket as DataBucket
    from .bucket import ReplicationTarget as ReplicationTarget
    from .cluster import AiCluster as AiCluster
    from .cluster import default_cluster_name as default_cluster_name
    from .cluster_interface import (
        IAiCluster as IAiCluster,
    )
    from .cluster_interface import (
        IPlatformKeys as IPlatformKeys,
    )
    from .cluster_interface import (
        PlatformKeys as PlatformKeys,
    )
    from .compute.asg_tags import NodegroupAsgTags as NodegroupAsgTags
    from .compute.autoscaler import ClusterAutoscaler as ClusterAutoscaler
    from .compute.device_plugins import (
        efa_device_plugin as efa_device_plugin,
    )
    from .compute.device_plugins import (
        neuron_device_plugin as neuron_device_plugin,
    )
    from .compute.karpenter import Karpenter as Karpenter
    from .compute.node_health import NodeMonitoringAgent as NodeMonitoringAgent
    from .compute.node_pools import GpuNodePool as GpuNodePool
    from .compute.node_pools import GpuNodePoolOptions as GpuNodePoolOptions
    from .compute.node_pools import NvmeNodePool as NvmeNodePool
    from .csi import StorageDrivers as StorageDrivers
    from .efs import NFS_PORT as NFS_PORT
    from .efs import SharedEfs as SharedEfs
    from .efs_import import ImportedSharedEfs as ImportedSharedEfs
    from .efs_import import ISharedEfs as ISharedEfs
    from .errors import EksAiDataValidationError as EksAiDataValidationError
    from .function_logs import DEFAULT_LOG_RETENTION as DEFAULT_LOG_RETENTION
    from .governance import TeamAccess as TeamAccess
    from .guard import compare_assemblies as compare_assemblies
    from .identity import IdentityLike as IdentityLike
    from .identity import IdentityMode as IdentityMode
    from .identity import WorkloadIdentity as WorkloadIdentity
    from .imported_cluster import ImportedAiCluster as ImportedAiCluster
    from .k8s import (
        EfsClassSpec as EfsClassSpec,
    )
    from .k8s import (
        EfsVolumeSpec as EfsVolumeSpec,
    )
    from .k8s import (
        HelmChartSpec as HelmChartSpec,
    )
    from .k8s import (
        LustreClassSpec as LustreClassSpec,
    )
    from .k8s import (
        LustreVolumeSpec as LustreVolumeSpec,
    )
    from .k8s import (
        NamespaceSpec as NamespaceSpec,
    )
    from .k8s import (
        ServiceAccountSpec as ServiceAccountSpec,
    )
    from .k8s.mountpoint import MountpointVolumeSpec as MountpointVolumeSpec
    from .k8s.teams import TeamSpec as TeamSpec
    from .keys import DataKeys as DataKeys
    from .labels import (
        ACCELERATOR_LABEL as ACCELERATOR_LABEL,
    )
    from .labels import (
        BACKUP_TAG_KEY as BACKUP_TAG_KEY,
    )
    from .labels import (
        BACKUP_TAG_VALUE as BACKUP_TAG_VALUE,
    )
    from .labels import (
        GPU_MODEL_LABEL as GPU_MODEL_LABEL,
    )
    from .labels import (
        GPU_TAINT_KEY as GPU_TAINT_KEY,
    )
    from .labels import (
        LOCAL_NVME_LABEL as LOCAL_NVME_LABEL,
    )
    from .labels import (
        LOCAL_NVME_STORAGE_CLASS as LOCAL_NVME_STORAGE_CLASS,
    )
    from .labels import (
        LOCAL_NVME_TAINT_KEY as LOCAL_NVME_TAINT_KEY,
    )
    from .labels import (
        NODE_ROLE_LABEL as NODE_ROLE_LABEL,
    )
    from .launch_template import NodeLaunchTemplate as NodeLaunchTemplate
    from .lustre import (
        LUSTRE_PORT as LUSTRE_PORT,
    )
    from .lustre import (
        LUSTRE_PORT_RANGES as LUSTRE_PORT_RANGES,
    )
    from .lustre import (
        LUSTRE_PORTS as LUSTRE_PORTS,
    )
    from .lustre import (
        DataRepositoryLink as DataRepositoryLink,
    )
    from .lustre import (
        LustreStore as LustreStore,
    )
    from .lustre_import import ILustreStore as ILustreStore
    from .lustre_import import ImportedLustreStore as ImportedLustreStore
    from .lustre_sizing import LustreSize as LustreSize
    from .lustre_sizing import size_lustre as size_lustre
    from .network import ClusterNetwork as ClusterNetwork
    from .network import ZonalStack as ZonalStack
    from .node_repair import NodeRepair as NodeRepair
    from .node_repair import RepairOverride as RepairOverride
    from .nodegroups import GpuNodeGroup as GpuNodeGroup
    from .nodegroups import GpuNodeGroupOptions as GpuNodeGroupOptions
    from .nodegroups import NvmeNodeGroup as NvmeNodeGroup
    from .patterns._common import lustre_volume_spec as lustre_volume_spec
    from .patterns.cluster_storage import ClusterStorage as ClusterStorage
    from .patterns.distributed_dataset import DistributedDataset as DistributedDataset
    from .patterns.model_repository import ModelRepository as ModelRepository
    from .patterns.training_checkpoints import TrainingCheckpoints as TrainingCheckpoints
    from .stateful import STATEFUL_RESOURCE_TYPES as STATEFUL_RESOURCE_TYPES
    from .versions import DEFAULT_KUBERNETES_VERSION as DEFAULT_KUBERNETES_VERSION

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eks_ai_data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
