"""Local NVMe volumes: the Kubernetes local static provisioner on the NVMe nodes in local-volume mode.

Two modes are chosen per NVMe node group by the node label ``eks-ai-data/local-nvme``:

- ``raid0`` (ephemeral): the node's user data stripes the NVMe disks into one RAID0 array holding
  kubelet's and containerd's state, so ``emptyDir`` volumes land on NVMe. Nothing runs in the cluster
  for this mode, so no chart is needed.
- ``local-volumes``: the user data mounts each disk under ``/mnt/fast-disks/<name>``
  (:data:`eks_ai_data.labels.LOCAL_DISKS_DIR`), and this chart's provisioner (a DaemonSet on those
  nodes only) publishes each mount point as a local PersistentVolume of the ``local-nvme``
  StorageClass (created by :class:`~eks_ai_data.k8s.StorageClassesChart`).
"""

from __future__ import annotations

import cdk8s
import cdk8s_plus_27 as kplus
from constructs import Construct

from ..labels import (
    ALL_NODE_TAINTS,
    LOCAL_DISKS_DIR,
    LOCAL_NVME_LABEL,
    LOCAL_NVME_STORAGE_CLASS,
    LOCAL_NVME_VOLUMES,
    LOCAL_VOLUME_MODE,
)
from ._common import MANAGED_BY, fail, metadata, require_label, require_subdomain, toleration, unresolved
from ._daemonset import node_daemonset

#: sig-storage-local-static-provisioner release v2.9.0 (newest release, checked 2026-11).
LOCAL_PROVISIONER_VERSION = "v2.9.0"
LOCAL_PROVISIONER_IMAGE = f"registry.k8s.io/sig-storage/local-volume-provisioner:{LOCAL_PROVISIONER_VERSION}"

#: Node labels copied onto each local PersistentVolume.
PV_NODE_LABELS = ("topology.kubernetes.io/zone", "node.kubernetes.io/instance-type")

_NAME = "local-volume-provisioner"
_METRICS_PORT = 8080


class LocalNvmeChart(cdk8s.Chart):
    """The local static provisioner: ServiceAccount, ClusterRole and binding, ConfigMap, DaemonSet.

    :param namespace: namespace of the provisioner (must exist). Default: ``"kube-system"``.
    :param storage_class_name: the class the volumes belong to. Default: ``"local-nvme"``.
    :param disks_dir: where the user data mounts the disks. Default: ``/mnt/fast-disks``.
    :param image: the provisioner image. Default: :data:`LOCAL_PROVISIONER_IMAGE` (pinned).

    Attributes: ``service_account``, ``cluster_role``, ``config_map``, ``daemon_set``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str = "kube-system",
        storage_class_name: str = LOCAL_NVME_STORAGE_CLASS,
        disks_dir: str = LOCAL_DISKS_DIR,
        image: str = LOCAL_PROVISIONER_IMAGE,
    ) -> None:
        super().__init__(scope, id, labels=MANAGED_BY)
        require_label(self, "namespace", namespace)
        require_subdomain(self, "storage_class_name", storage_class_name)
        if not unresolved(disks_dir) and not (disks_dir.startswith("/") and len(disks_dir) > 1):
            raise fail(self, "disks_dir", disks_dir, "must be an absolute path other than /")
        if not unresolved(image) and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
            raise fail(self, "image", image, "must be pinned to a version tag")

        self.service_account = kplus.ServiceAccount(
            self, "service-account", metadata=metadata(_NAME, namespace), automount_token=False
        )
        self.cluster_role = kplus.ClusterRole(self, "cluster-role", metadata=metadata(_NAME))
        core = kplus.ApiResource
        self.cluster_role.allow(["get", "list", "watch", "create", "delete"], core.PERSISTENT_VOLUMES)
        self.cluster_role.allow(["get", "list", "watch"], core.STORAGE_CLASSES)
        self.cluster_role.allow(["watch", "create", "update", "patch"], core.EVENTS)
        self.cluster_role.allow(
            ["create", "update", "patch"], core.custom(api_group="events.k8s.io", resource_type="events")
        )
        # "get" on nodes only: the provisioner reads its node (for PV owner references and labels);
        # upstream's "update" serves the optional start-up taint removal, which this chart does not use.
        self.cluster_role.allow(["get"], core.NODES)
        self.cluster_role_binding = kplus.ClusterRoleBinding(
            self, "cluster-role-binding", role=self.cluster_role, metadata=metadata(_NAME)
        )
        self.cluster_role_binding.add_subjects(self.service_account)

        storage_class_map = {
            storage_class_name: {
                "hostDir": disks_dir,
                "mountDir": disks_dir,
                "volumeMode": LOCAL_VOLUME_MODE,
                "accessMode": "ReadWriteOnce",
                "namePattern": "*",
            }
        }
        self.config_map = kplus.ConfigMap(
            self,
            "config",
            metadata=metadata(f"{_NAME}-config", namespace),
            data={
                "storageClassMap": cdk8s.Yaml.stringify(storage_class_map),
                "nodeLabelsForPV": cdk8s.Yaml.stringify(list(PV_NODE_LABELS)),
                # a PV is owned by its Node: when the node (and its instance store) goes, so do its PVs
                "setPVOwnerRef": "true",
            },
        )

        self.daemon_set = node_daemonset(
            self,
            name=_NAME,
            namespace=namespace,
            service_account=self.service_account,
            automount_token=True,
            node_selector={LOCAL_NVME_LABEL: LOCAL_NVME_VOLUMES},
            tolerations=[toleration(t) for t in ALL_NODE_TAINTS],
        )
        container = self.daemon_set.add_container(
            name="provisioner",
            image=image,
            image_pull_policy=kplus.ImagePullPolicy.IF_NOT_PRESENT,
            # privileged: it must see the host's mounts (mount propagation) and wipe released volumes
            security_context=kplus.ContainerSecurityContextProps(
                privileged=True,
                allow_privilege_escalation=True,
                ensure_non_root=False,
                read_only_root_filesystem=False,
            ),
            env_variables={
                "MY_NODE_NAME": kplus.EnvValue.from_field_ref(kplus.EnvFieldPaths.NODE_NAME),
                "MY_NAMESPACE": kplus.EnvValue.from_field_ref(kplus.EnvFieldPaths.POD_NAMESPACE),
                "JOB_CONTAINER_IMAGE": kplus.EnvValue.from_value(image),
            },
            ports=[kplus.ContainerPort(number=_METRICS_PORT, name="metrics")],
            liveness=kplus.Probe.from_tcp_socket(
                port=_METRICS_PORT,
                initial_delay_seconds=cdk8s.Duration.seconds(10),
                period_seconds=cdk8s.Duration.seconds(60),
                timeout_seconds=cdk8s.Duration.seconds(5),
                failure_threshold=3,
            ),
            resources=kplus.ContainerResources(
                cpu=kplus.CpuResources(request=kplus.Cpu.millis(50)),
                memory=kplus.MemoryResources(
                    request=cdk8s.Size.mebibytes(64), limit=cdk8s.Size.mebibytes(256)
                ),
            ),
        )
        container.mount(
            "/etc/provisioner/config",
            kplus.Volume.from_config_map(self, "config-volume", self.config_map, name="provisioner-config"),
            read_only=True,
        )
        container.mount(
            "/dev",
            kplus.Volume.from_host_path(self, "dev-volume", "provisioner-dev", path="/dev"),
        )
        container.mount(
            disks_dir,
            kplus.Volume.from_host_path(self, "disks-volume", "local-disks", path=disks_dir),
            propagation=kplus.MountPropagation.HOST_TO_CONTAINER,
        )
