"""Node labels, taints and tags shared by node groups, charts and backup plans (layer 1: no CDK import).

Node groups apply these; the in-cluster charts select and tolerate them; the backup plan selects EBS
volumes by the backup tag that the gp3 StorageClass puts on every volume it creates.
"""

from __future__ import annotations

# -- node roles ------------------------------------------------------------------------------------
NODE_ROLE_LABEL = "eks-ai-data/node-role"
NODE_ROLE_SYSTEM = "system"

# -- accelerators ----------------------------------------------------------------------------------
ACCELERATOR_LABEL = "eks-ai-data/accelerator"  # "nvidia" | "neuron"
GPU_MODEL_LABEL = "eks-ai-data/gpu-model"  # e.g. "H100"
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "true"
NEURON_TAINT_KEY = "aws.amazon.com/neuron"
NEURON_TAINT_VALUE = "true"
TAINT_EFFECT = "NoSchedule"

# -- local NVMe ------------------------------------------------------------------------------------
LOCAL_NVME_LABEL = "eks-ai-data/local-nvme"
LOCAL_NVME_RAID0 = "raid0"  # ephemeral mode: kubelet and containerd on the RAID0 array
LOCAL_NVME_VOLUMES = "local-volumes"  # local static provisioner mode
LOCAL_NVME_TAINT_KEY = "eks-ai-data/local-nvme"
LOCAL_NVME_TAINT_VALUE = "true"
#: Where each instance-store disk is mounted (one file system per disk) in local-volumes mode; the local static
#: provisioner discovers every mount point under it and offers it as a PersistentVolume.
LOCAL_DISKS_DIR = "/mnt/fast-disks"

# -- backups ---------------------------------------------------------------------------------------
#: Tag that the gp3 StorageClass puts on every EBS volume it provisions; the backup plan selects by it.
BACKUP_TAG_KEY = "eks-ai-data:backup"
BACKUP_TAG_VALUE = "true"
