"""Everything in-cluster a data platform needs, applied by the cluster from one synth (:class:`ClusterStorage`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import cdk8s
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._validate import fail, require
from ..cluster import AiCluster
from ..csi import EFS as EFS_ADDON
from ..csi import StorageDrivers
from ..efs import SharedEfs
from ..k8s import (
    EfsClassSpec,
    EfsVolumeSpec,
    GpuSoftwareChart,
    LocalNvmeChart,
    LustreVolumeSpec,
    NamespaceSpec,
    ServiceAccountSpec,
    SnapshotClassesChart,
    StaticVolumesChart,
    StorageClassesChart,
    WorkloadsChart,
    gpu_operator_helm_chart,
)

GpuSoftware = Literal["device-plugin", "gpu-operator", "none"]


class ClusterStorage(Construct):
    """CSI drivers, StorageClasses, snapshot class, local NVMe, GPU software and workload namespaces, applied to an
    :class:`AiCluster` with ``add_cdk8s_chart`` (so ``cdk deploy`` delivers them; CDK tokens such as file-system
    ids, key ARNs and role ARNs resolve in the template).

    - CSI drivers (EBS, EFS, FSx for Lustre, snapshot controller; Mountpoint for S3 when buckets are given) as
      EKS managed add-ons with their own roles (:class:`~eks_ai_data.csi.StorageDrivers`).
    - StorageClasses: ``gp3`` (the default; encrypted with the data key; WaitForFirstConsumer; expandable; every
      volume tagged for the backup plan), one ``efs-ap`` class per shared EFS, and ``local-nvme``.
    - The EBS VolumeSnapshotClass (after the snapshot controller, which brings its CRDs).
    - The local static provisioner when any NVMe node group uses ``local-volumes`` mode.
    - The NVIDIA device plugin (or the GPU operator through Helm) for GPU node groups.
    - Workload namespaces; static volumes and service accounts are added with :meth:`add_static_volumes` and
      :meth:`add_service_accounts`, which check that their namespaces are created here.

    :param cluster: the cluster. Required.
    :param namespaces: workload namespaces to create (names or ``NamespaceSpec``). Default: none.
    :param efs_classes: one dynamic ``efs-ap`` class per shared EFS (``EfsClassSpec``). Default: none.
    :param local_volumes: install the local static provisioner (NVMe ``local-volumes`` mode). Default: False.
    :param gpu_software: ``device-plugin``, ``gpu-operator`` or ``none``. Default: ``device-plugin``.
    :param identity: how CSI drivers get AWS credentials: ``irsa`` or ``pod-identity``. Default: ``irsa``.
    :param mountpoint_s3_buckets: buckets for the Mountpoint for S3 CSI driver (installed only when given; each is
        allowed through the S3 endpoint of a network the cluster made).
    :param gp3_iops: provisioned IOPS of gp3 volumes. Default: gp3's baseline (3000).
    :param gp3_throughput: provisioned throughput (MiB/s) of gp3 volumes. Default: gp3's baseline (125).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: AiCluster,
        namespaces: Sequence[NamespaceSpec | str] = (),
        efs_classes: Sequence[EfsClassSpec] = (),
        local_volumes: bool = False,
        gpu_software: GpuSoftware = "device-plugin",
        identity: Literal["irsa", "pod-identity"] = "irsa",
        mountpoint_s3_buckets: Sequence[s3.IBucket] = (),
        gp3_iops: int | None = None,
        gp3_throughput: int | None = None,
    ) -> None:
        super().__init__(scope, id)
        require(
            self,
            gpu_software in ("device-plugin", "gpu-operator", "none"),
            "gpu_software",
            gpu_software,
            "must be 'device-plugin', 'gpu-operator' or 'none'",
        )
        self.cluster = cluster
        self.drivers = StorageDrivers(
            self, "Drivers", cluster=cluster, identity=identity, mountpoint_s3_buckets=mountpoint_s3_buckets
        )
        network = getattr(cluster, "network", None)
        if network is not None:  # nodes mount these buckets through the VPC's S3 endpoint
            for bucket in mountpoint_s3_buckets:
                network.allow_bucket(bucket)
        self.charts = cdk8s.App()
        self.manifests: dict[str, eks.KubernetesManifest] = {}

        self.storage_classes = StorageClassesChart(
            self.charts,
            "storage-classes",
            kms_key_arn=cluster.keys.data_key.key_arn,
            gp3_iops=gp3_iops,
            gp3_throughput=gp3_throughput,
            efs_classes=efs_classes,
            local_nvme=True,
        )
        self._apply("StorageClasses", self.storage_classes)

        self.snapshot_classes = SnapshotClassesChart(self.charts, "snapshot-classes")
        self._apply(
            "SnapshotClasses", self.snapshot_classes, after=[self.drivers.addons["snapshot-controller"]]
        )

        self.local_nvme: LocalNvmeChart | None = None
        if local_volumes:
            self.local_nvme = LocalNvmeChart(self.charts, "local-nvme")
            self._apply("LocalNvme", self.local_nvme)

        self.gpu_software: GpuSoftwareChart | None = None
        self.gpu_operator: eks.HelmChart | None = None
        if gpu_software == "device-plugin":
            self.gpu_software = GpuSoftwareChart(self.charts, "gpu-software")
            self._apply("GpuSoftware", self.gpu_software)
        elif gpu_software == "gpu-operator":
            spec = gpu_operator_helm_chart()
            self.gpu_operator = cluster.cluster.add_helm_chart(
                "GpuOperator",
                chart=spec.chart,
                repository=spec.repository,
                version=spec.version,
                release=spec.release,
                namespace=spec.namespace,
                create_namespace=spec.create_namespace,
                values=spec.values,
            )

        self.workloads = WorkloadsChart(self.charts, "workloads", namespaces=namespaces)
        self.namespace_names: frozenset[str] = frozenset(self.workloads.namespace_names)
        self._apply("Workloads", self.workloads)

    def grant_efs_mounts(self, efs: SharedEfs) -> None:
        """Let the EFS CSI driver mount and write ``efs``: its node plugin mounts with ``-o iam`` as the driver's
        role, and :class:`SharedEfs`'s file-system policy admits no anonymous client."""
        efs.grant_read_write(self.drivers.roles[EFS_ADDON])

    def add_static_volumes(
        self,
        id: str,
        *,
        lustre_volumes: Sequence[LustreVolumeSpec] = (),
        efs_volumes: Sequence[EfsVolumeSpec] = (),
    ) -> StaticVolumesChart:
        """Static PersistentVolumes bound to claims, for existing Lustre file systems and EFS access points; the
        claims' namespaces must be among those this construct creates."""
        chart = StaticVolumesChart(
            self.charts,
            f"volumes-{id.lower()}",
            known_namespaces=self.namespace_names,
            lustre_volumes=lustre_volumes,
            efs_volumes=efs_volumes,
        )
        self._apply(f"Volumes{id}", chart, after=[self.manifests["Workloads"]])
        return chart

    def add_service_accounts(self, id: str, service_accounts: Sequence[ServiceAccountSpec]) -> WorkloadsChart:
        """ServiceAccounts (annotated with their IAM role) in namespaces this construct creates (or kube-system)."""
        for spec in service_accounts:
            if spec.namespace not in self.namespace_names | {"kube-system"}:
                raise fail(
                    self,
                    "service_accounts",
                    f"{spec.namespace}/{spec.name}",
                    f"namespace must be one ClusterStorage creates: {sorted(self.namespace_names)}",
                )
        chart = WorkloadsChart(
            self.charts,
            f"service-accounts-{id.lower()}",
            service_accounts=service_accounts,
            existing_namespaces=(*self.namespace_names, "kube-system"),
        )
        self._apply(f"ServiceAccounts{id}", chart, after=[self.manifests["Workloads"]])
        return chart

    def _apply(self, id: str, chart: cdk8s.Chart, after: Sequence[Construct] = ()) -> eks.KubernetesManifest:
        if id in self.manifests:
            raise fail(self, "id", id, "is already used by another chart of this ClusterStorage")
        manifest = self.cluster.cluster.add_cdk8s_chart(id, chart, ingress_alb=False, prune=True)
        manifest.node.add_dependency(self.cluster.system_nodegroup)
        for dependency in after:
            manifest.node.add_dependency(dependency)
        self.manifests[id] = manifest
        return manifest
