"""Node labels, taints and tags shared by node groups, charts and backup plans (layer 1: no CDK import).

Node groups apply these; the in-cluster charts select and tolerate them; the backup plan selects EBS
volumes by the backup tag that the gp3 StorageClass puts on every volume it creates.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- node roles ------------------------------------------------------------------------------------
NODE_ROLE_LABEL = "eks-ai-data/node-role"
NODE_ROLE_SYSTEM = "system"

# -- AMI family --------------------------------------------------------------------------------------
#: Which OS image family a node runs (``al2023`` or ``bottlerocket``). Bottlerocket's NVIDIA variants run the NVIDIA
#: device plugin as a host service (bottlerocket ``settings.kubelet-device-plugins.nvidia``), so the in-cluster
#: device plugin is scheduled on AL2023 NVIDIA nodes only; nodeadm configuration applies to AL2023 only.
AMI_FAMILY_LABEL = "eks-ai-data/ami-family"
AMI_FAMILY_AL2023 = "al2023"
AMI_FAMILY_BOTTLEROCKET = "bottlerocket"

# -- accelerators ----------------------------------------------------------------------------------
ACCELERATOR_LABEL = "eks-ai-data/accelerator"  # "nvidia" | "neuron"
ACCELERATOR_NVIDIA = "nvidia"
ACCELERATOR_NEURON = "neuron"
GPU_MODEL_LABEL = "eks-ai-data/gpu-model"  # e.g. "H100"
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "true"
NEURON_TAINT_KEY = "aws.amazon.com/neuron"
NEURON_TAINT_VALUE = "true"
TAINT_EFFECT = "NoSchedule"
#: Nodes with EFA interfaces attached (node groups and pools with ``efa=True``): the EFA device plugin runs there.
EFA_LABEL = "eks-ai-data/efa"
EFA_LABEL_VALUE = "true"
#: The label that makes a node a GPU node to the Cluster Autoscaler on AWS (kubernetes/autoscaler
#: ``cloudprovider/aws/aws_cloud_provider.go`` ``GPULabel``), value ``nvidia-<model>``: CA then waits for the
#: device plugin to advertise the GPUs of a new node instead of scaling up again, and applies its GPU
#: scale-down threshold. NVIDIA node groups set it.
CLUSTER_AUTOSCALER_GPU_LABEL = "k8s.amazonaws.com/accelerator"

# -- local NVMe ------------------------------------------------------------------------------------
LOCAL_NVME_LABEL = "eks-ai-data/local-nvme"
LOCAL_NVME_RAID0 = "raid0"  # ephemeral mode: kubelet and containerd on the RAID0 array
LOCAL_NVME_VOLUMES = "local-volumes"  # local static provisioner mode
LOCAL_NVME_TAINT_KEY = "eks-ai-data/local-nvme"
LOCAL_NVME_TAINT_VALUE = "true"
#: Where each instance-store disk is mounted (one file system per disk) in local-volumes mode; the local static
#: provisioner discovers every mount point under it and offers it as a PersistentVolume.
LOCAL_DISKS_DIR = "/mnt/fast-disks"
#: Local-volume mode disk layout, the contract between the node's user data and the provisioner's ConfigMap:
#: each NVMe instance-store disk is formatted (:data:`LOCAL_DISKS_FS_TYPE`) and mounted as its own mount point
#: directly under :data:`LOCAL_DISKS_DIR` (``/mnt/fast-disks/<name>``, ``<name>`` stable for the disk) before
#: kubelet starts. The provisioner runs in :data:`LOCAL_VOLUME_MODE` mode: it offers each *mount point* as one
#: PersistentVolume sized as its file system, ignores plain directories and block-device symlinks (``Block``
#: mode is not used: pods want a mounted file system for datasets, caches and checkpoints), and when a claim
#: is released it deletes the volume's files and offers the volume again.
LOCAL_VOLUME_MODE = "Filesystem"
LOCAL_DISKS_FS_TYPE = "xfs"
#: The StorageClass of local NVMe volumes (no provisioner; the local static provisioner creates the volumes).
LOCAL_NVME_STORAGE_CLASS = "local-nvme"

#: Node label keys eks-ai-data sets itself; a user's labels may not set them (they would silently change where the
#: platform's device plugins, provisioners and volumes go).
LIBRARY_NODE_LABELS = (
    NODE_ROLE_LABEL,
    AMI_FAMILY_LABEL,
    ACCELERATOR_LABEL,
    GPU_MODEL_LABEL,
    LOCAL_NVME_LABEL,
    EFA_LABEL,
    CLUSTER_AUTOSCALER_GPU_LABEL,
)

# -- backups ---------------------------------------------------------------------------------------
#: Tag that the gp3 StorageClass puts on every EBS volume it provisions; the backup plan selects by it.
BACKUP_TAG_KEY = "eks-ai-data:backup"
BACKUP_TAG_VALUE = "true"


# -- ownership of file systems -----------------------------------------------------------------------
#: Tag on every file system the platform creates through CloudFormation (LustreStore): driver roles are denied every
#: change to a resource that carries it (tag, untag, update, delete), whatever else their policy allows.
PROTECTED_TAG_KEY = "eks-ai-data:protected"
PROTECTED_TAG_VALUE = "true"
#: Tag the FSx CSI driver must put on every file system it creates (StorageClass ``extraTags``): the cluster's name.
#: Its role may update and delete only file systems that carry this cluster's value.
CSI_OWNER_TAG_KEY = "eks-ai-data:csi-cluster"


@dataclass(frozen=True)
class Taint:
    """A node taint: node groups put it on nodes, node-level DaemonSets tolerate it (``value`` None: any)."""

    key: str
    value: str | None
    effect: str = TAINT_EFFECT


GPU_TAINT = Taint(GPU_TAINT_KEY, GPU_TAINT_VALUE)
NEURON_TAINT = Taint(NEURON_TAINT_KEY, NEURON_TAINT_VALUE)
LOCAL_NVME_TAINT = Taint(LOCAL_NVME_TAINT_KEY, LOCAL_NVME_TAINT_VALUE)
#: Every taint the project's node groups may carry.
ALL_NODE_TAINTS = (GPU_TAINT, NEURON_TAINT, LOCAL_NVME_TAINT)
