"""eks-ai-data: AWS CDK v2 constructs for the data side of AI/ML platforms on Amazon EKS.

Public names are imported lazily (PEP 562) so that ``import eks_ai_data`` and the
``eks-ai-data`` command line stay fast and never load aws_cdk unless a construct is used.
"""

from __future__ import annotations

import importlib
from typing import Any

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
    "NvmeNodeGroup": "nodegroups",
    "NodeLaunchTemplate": "launch_template",
    # capacity: engines, pools, device plugins, node health
    "ClusterAutoscaler": "compute.autoscaler",
    "Karpenter": "compute.karpenter",
    "GpuNodePool": "compute.node_pools",
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
    "DataRepositoryLink": "lustre",
    "size_lustre": "lustre_sizing",
    "LustreSize": "lustre_sizing",
    "SharedEfs": "efs",
    "NFS_PORT": "efs",
    "LUSTRE_PORT": "lustre",
    "LUSTRE_PORTS": "lustre",
    "LUSTRE_PORT_RANGES": "lustre",
    # in-cluster storage drivers, identity, backups
    "StorageDrivers": "csi",
    "WorkloadIdentity": "identity",
    "IdentityMode": "identity",
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
