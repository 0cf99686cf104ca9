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
    "GpuNodeGroup": "nodegroups",
    "NvmeNodeGroup": "nodegroups",
    "NodeLaunchTemplate": "launch_template",
    # data layer
    "DataBucket": "bucket",
    "ReplicationTarget": "bucket",
    "LustreStore": "lustre",
    "DataRepositoryLink": "lustre",
    "size_lustre": "lustre_sizing",
    "LustreSize": "lustre_sizing",
    "SharedEfs": "efs",
    # in-cluster storage drivers, identity, backups
    "StorageDrivers": "csi",
    "WorkloadIdentity": "identity",
    "IdentityMode": "identity",
    "DataBackupPlan": "backup",
    "BackupRuleSpec": "backup_rules",
    "VaultLock": "backup_rules",
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
