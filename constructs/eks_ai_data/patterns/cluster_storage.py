"""Everything in-cluster a data platform needs, applied by the cluster from one synth (:class:`ClusterStorage`)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Literal

import cdk8s
import jsii
from aws_cdk import Stack
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_s3 as s3
from constructs import Construct, IValidation

from .._validate import fail, require, require_bool, require_dns1123_label, unresolved
from ..cluster_interface import IAiCluster, dependencies, require_ai_cluster
from ..csi import StorageDrivers
from ..efs_import import ISharedEfs, require_shared_efs
from ..errors import EksAiDataValidationError, reported_by
from ..governance import TeamAccess
from ..identity import IdentityLike, IdentityMode
from ..k8s import (
    EfsClassSpec,
    EfsVolumeSpec,
    GpuSoftwareChart,
    LocalNvmeChart,
    LustreClassSpec,
    LustreVolumeSpec,
    MountpointVolumeSpec,
    NamespaceSpec,
    ServiceAccountSpec,
    SnapshotClassesChart,
    StaticVolumesChart,
    StorageClassesChart,
    TeamsChart,
    TeamSpec,
    WorkloadsChart,
    gpu_operator_helm_chart,
)
from ..k8s import unresolved as cdk8s_unresolved
from ..k8s._common import require_items

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
    - Workload namespaces and team namespaces (``teams``: RBAC for the team's group, quotas, limits, network
      policies, Pod Security ``restricted``: :class:`~eks_ai_data.k8s.TeamsChart`; each team's IAM roles get EKS
      access entries to its group: :class:`~eks_ai_data.governance.TeamAccess`); static volumes and service
      accounts are added with :meth:`add_static_volumes` and :meth:`add_service_accounts`, which check that their
      namespaces are created here.

    EFS mounts are IAM-authorized: every EFS class and static volume mounts with ``tls,iam``, and a class or volume
    on a :class:`SharedEfs` this construct knows (``shared_efs``, :meth:`grant_efs_mounts`) that asks for
    ``iam=False`` is refused at synth time (its file-system policy has no Allow: such a mount would be denied).

    Names are unique by construction or refused: each chart's id comes from the construct path of whoever adds it
    (two patterns with the same id under different parents get different charts), and a PersistentVolume name or a
    claim (namespace/name) used twice across the charts is refused with both owners named.

    :param cluster: the cluster (:class:`~eks_ai_data.cluster.AiCluster` or ``AiCluster.from_existing(...)``).
        Required.
    :param shared_efs: EFS file systems the cluster mounts: the EFS CSI driver's role is granted mount and write,
        and their classes and volumes must mount with IAM. More with :meth:`grant_efs_mounts`. Default: none.
    :param namespaces: workload namespaces to create (names or ``NamespaceSpec``). Default: none.
    :param teams: team namespaces to create (``TeamSpec``; names distinct from ``namespaces``). Default: none.
    :param efs_classes: one dynamic ``efs-ap`` class per shared EFS (``EfsClassSpec``). Default: none.
    :param lustre_class: a dynamic FSx for Lustre class (each claim creates a file system, tagged for this
        cluster's FSx driver role; ``cluster_name`` is filled in). Default: none.
    :param local_volumes: install the local static provisioner (NVMe ``local-volumes`` mode). Default: False.
    :param gpu_software: ``device-plugin``, ``gpu-operator`` or ``none``. Default: ``device-plugin``.
    :param identity: how CSI drivers get AWS credentials: ``IdentityMode.IRSA`` / ``"irsa"`` or
        ``IdentityMode.POD_IDENTITY`` / ``"pod-identity"``. Default: IRSA.
    :param mountpoint_s3_buckets: buckets the Mountpoint for S3 CSI driver may read with its own, driver-level
        credentials (each is allowed through the S3 endpoint of a network the cluster made). Default: none: volumes
        from :meth:`add_static_volumes` (``mountpoint_volumes``) mount with the pods' own credentials instead, and
        the driver (installed for them) has no role.
    :param gp3_iops: provisioned IOPS of gp3 volumes. Default: gp3's baseline (3000).
    :param gp3_throughput: provisioned throughput (MiB/s) of gp3 volumes. Default: gp3's baseline (125).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        shared_efs: Sequence[ISharedEfs] = (),
        namespaces: Sequence[NamespaceSpec | str] = (),
        teams: Sequence[TeamSpec] = (),
        efs_classes: Sequence[EfsClassSpec] = (),
        lustre_class: LustreClassSpec | None = None,
        local_volumes: bool = False,
        gpu_software: GpuSoftware = "device-plugin",
        identity: IdentityLike = IdentityMode.IRSA,
        mountpoint_s3_buckets: Sequence[s3.IBucket] = (),
        gp3_iops: int | None = None,
        gp3_throughput: int | None = None,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        require(
            self,
            gpu_software in ("device-plugin", "gpu-operator", "none"),
            "gpu_software",
            gpu_software,
            "must be 'device-plugin', 'gpu-operator' or 'none'",
        )
        # checked here, before any chart exists, so that the message names this construct's path
        namespaces = require_items(self, "namespaces", namespaces, (NamespaceSpec, str), what="namespaces")
        teams = require_items(self, "teams", teams, TeamSpec, what="teams")
        efs_classes = require_items(self, "efs_classes", efs_classes, EfsClassSpec)
        if isinstance(shared_efs, (str, Mapping)) or hasattr(shared_efs, "file_system_id"):
            raise fail(
                self,
                "shared_efs",
                getattr(getattr(shared_efs, "node", None), "path", shared_efs),
                "must be a list of SharedEfs (or SharedEfs.from_existing(...)), not one",
            )
        if lustre_class is not None and not isinstance(lustre_class, LustreClassSpec):
            raise fail(self, "lustre_class", lustre_class, "must be a LustreClassSpec(...) (or None)")
        require_bool(self, "local_volumes", local_volumes)
        for item in namespaces:
            require_dns1123_label(self, "namespaces", item.name if isinstance(item, NamespaceSpec) else item)
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
        self._granted_file_systems: set[str] = set()  # resolved file-system ids the EFS driver may mount
        self._iam_file_systems: dict[str, tuple[str, str]] = {}  # IAM-only ones -> (path, why)
        self._efs_mounts: list[tuple[str, str, str, bool]] = []  # (what, where, file-system id, iam)
        self._volume_owner: dict[str, str] = {}  # PersistentVolume name -> owner path
        self._claim_owner: dict[str, str] = {}  # namespace/claim -> owner path
        for file_system in shared_efs:
            self.grant_efs_mounts(file_system)
        for spec in efs_classes:
            self._efs_mounts.append(("efs_classes", spec.name, spec.file_system_id, spec.iam))
        self.node.add_validation(_EfsMountCheck(self))

        with reported_by(self.node.path):
            self.storage_classes = StorageClassesChart(
                self.charts,
                "storage-classes",
                kms_key_arn=cluster.keys.data_key.key_arn,
                gp3_iops=gp3_iops,
                gp3_throughput=gp3_throughput,
                efs_classes=efs_classes,
                lustre_class=dataclasses.replace(lustre_class, cluster_name=cluster.cluster.cluster_name)
                if lustre_class is not None and lustre_class.cluster_name is None
                else lustre_class,
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
            operator = gpu_operator_helm_chart()
            self.gpu_operator = cluster.cluster.add_helm_chart(
                "GpuOperator",
                chart=operator.chart,
                repository=operator.repository,
                version=operator.version,
                release=operator.release,
                namespace=operator.namespace,
                create_namespace=operator.create_namespace,
                values=operator.values,
            )

        with reported_by(self.node.path):
            self.workloads = WorkloadsChart(self.charts, "workloads", namespaces=namespaces)
        self._apply("Workloads", self.workloads)
        self.teams: TeamsChart | None = None
        #: Team name -> its members' access entries (teams with ``iam_role_arns``).
        self.team_access: dict[str, TeamAccess] = {}
        if teams:
            with reported_by(self.node.path):
                self.teams = TeamsChart(
                    self.charts,
                    "teams",
                    teams=teams,
                    storage_classes=list(self.storage_classes.storage_classes),
                    reserved_namespaces=self.workloads.namespace_names,
                )
            self._apply("Teams", self.teams, after=[self.manifests["StorageClasses"]])
            for team in teams:
                if team.iam_role_arns:
                    # reported as the TeamSpec field the user set
                    with reported_by(self.node.path, {"principal_arns": f"teams[{team.name}].iam_role_arns"}):
                        self.team_access[team.name] = TeamAccess(
                            self,
                            f"TeamAccess-{team.name}",
                            cluster=cluster,
                            kubernetes_group=team.group,
                            principal_arns=team.iam_role_arns,
                        )
        self.namespace_names: frozenset[str] = frozenset(
            [*self.workloads.namespace_names, *(self.teams.teams if self.teams else ())]
        )

    def grant_efs_mounts(self, efs: ISharedEfs) -> None:
        """Let the EFS CSI driver mount and write ``efs``: its node plugin mounts with ``-o iam`` as the driver's
        role. When the file system requires IAM (a :class:`SharedEfs`, whose file-system policy admits no anonymous
        client, or ``SharedEfs.from_existing(requires_iam=True)``), every class and volume on it must mount with
        ``iam``, which is checked."""
        efs = require_shared_efs(self, "efs", efs)
        key = self._key(efs.file_system_id)
        if key in self._granted_file_systems:
            return  # granted once already (a file system shared by several patterns)
        if self.drivers.efs_mount_role is None:
            raise fail(self, "efs", efs.node.path, "needs the EFS CSI driver, which is not installed")
        efs.grant_read_write(self.drivers.efs_mount_role)
        self._granted_file_systems.add(key)
        if efs.requires_iam:
            why = (
                "whose file-system policy has no Allow statement"
                if efs.created
                else "whose file-system policy refuses anonymous clients (requires_iam=True)"
            )
            self._iam_file_systems[key] = (efs.node.path, why)

    def efs_mount_problems(self) -> list[str]:
        """EFS classes and volumes that would mount a file system requiring IAM without ``iam``."""
        problems = []
        for what, where, file_system_id, iam in self._efs_mounts:
            found = self._iam_file_systems.get(self._key(file_system_id))
            if found is not None and not iam:
                owner, why = found
                problems.append(
                    str(
                        EksAiDataValidationError(
                            self.node.path,
                            f"{what}.iam",
                            {where: False},
                            f"mounts {owner}, {why}: only "
                            "IAM-authorized mounts (tls,iam) succeed; leave iam=True",
                        )
                    )
                )
        return problems

    def add_static_volumes(
        self,
        id: str,
        *,
        lustre_volumes: Sequence[LustreVolumeSpec] = (),
        efs_volumes: Sequence[EfsVolumeSpec] = (),
        mountpoint_volumes: Sequence[MountpointVolumeSpec] = (),
        owner: Construct | None = None,
    ) -> StaticVolumesChart:
        """Static PersistentVolumes bound to claims, for existing Lustre file systems, EFS access points and S3 key
        prefixes (Mountpoint with the pods' own credentials: the Mountpoint driver is installed on first use, with
        no role of its own); the claims' namespaces must be among those this construct creates.

        :param id: names the chart (with ``owner``: a name within the owner).
        :param owner: the construct adding the volumes (a pattern passes itself): the chart's id is derived from
            its path, so equal ids under different parents never collide. Default: none (``id`` must be unique).
        """
        where = self._owner_path(owner, id)
        reporter = owner if owner is not None else self
        lustre_volumes = require_items(reporter, "lustre_volumes", lustre_volumes, LustreVolumeSpec)
        efs_volumes = require_items(reporter, "efs_volumes", efs_volumes, EfsVolumeSpec)
        mountpoint_volumes = require_items(
            reporter, "mountpoint_volumes", mountpoint_volumes, MountpointVolumeSpec
        )
        for prop, specs in (
            ("lustre_volumes", lustre_volumes),
            ("efs_volumes", efs_volumes),
            ("mountpoint_volumes", mountpoint_volumes),
        ):
            for spec in specs:
                if spec.namespace not in self.namespace_names:
                    raise fail(
                        owner if owner is not None else self,
                        f"{prop}.namespace",
                        spec.namespace,
                        f"must be a namespace {self.node.path} creates: {', '.join(sorted(self.namespace_names))}",
                    )
        every: tuple[LustreVolumeSpec | EfsVolumeSpec | MountpointVolumeSpec, ...] = (
            *lustre_volumes,
            *efs_volumes,
            *mountpoint_volumes,
        )
        for spec in every:
            self._claim(where, spec.name, f"{spec.namespace}/{spec.claim_name or spec.name}")
        for spec in efs_volumes:
            self._efs_mounts.append(("efs_volumes", spec.name, spec.file_system_id, spec.iam))
        chart_id, manifest_id = self._ids("volumes", owner, id)
        with reported_by((owner if owner is not None else self).node.path):
            chart = StaticVolumesChart(
                self.charts,
                chart_id,
                known_namespaces=self.namespace_names,
                lustre_volumes=lustre_volumes,
                efs_volumes=efs_volumes,
                mountpoint_volumes=mountpoint_volumes,
            )
        after = self._namespace_manifests()
        if mountpoint_volumes:
            after.append(self.drivers.enable_mountpoint())
        self._apply(manifest_id, chart, after=after)
        return chart

    def add_service_accounts(
        self, id: str, service_accounts: Sequence[ServiceAccountSpec], *, owner: Construct | None = None
    ) -> WorkloadsChart:
        """ServiceAccounts (annotated with their IAM role) in namespaces this construct creates (or kube-system).

        :param owner: the construct adding them (names the chart, as in :meth:`add_static_volumes`). Default: none.
        """
        service_accounts = require_items(
            owner if owner is not None else self, "service_accounts", service_accounts, ServiceAccountSpec
        )
        for spec in service_accounts:
            if spec.namespace not in self.namespace_names | {"kube-system"}:
                raise fail(
                    self,
                    "service_accounts",
                    f"{spec.namespace}/{spec.name}",
                    f"namespace must be one ClusterStorage creates: {sorted(self.namespace_names)}",
                )
        chart_id, manifest_id = self._ids("service-accounts", owner, id)
        with reported_by((owner if owner is not None else self).node.path):
            chart = WorkloadsChart(
                self.charts,
                chart_id,
                service_accounts=service_accounts,
                existing_namespaces=(*self.namespace_names, "kube-system"),
            )
        self._apply(manifest_id, chart, after=self._namespace_manifests())
        return chart

    def _namespace_manifests(self) -> list[Construct]:
        """The manifests that create the namespaces (charts of namespaced objects are applied after them)."""
        return [self.manifests[m] for m in ("Workloads", "Teams") if m in self.manifests]

    # -- naming -----------------------------------------------------------------------------------------
    def _key(self, value: str) -> str:
        return json.dumps(Stack.of(self).resolve(value), sort_keys=True)

    @staticmethod
    def _owner_path(owner: Construct | None, id: str) -> str:
        return f"{owner.node.path}/{id}" if owner is not None else id

    def _ids(self, kind: str, owner: Construct | None, id: str) -> tuple[str, str]:
        """A cdk8s chart id and a manifest construct id, unique for (owner path, id)."""
        parts = [*(owner.node.path.split("/") if owner is not None else []), id]
        words = [w for part in parts for w in re.split(r"[^A-Za-z0-9]+", part) if w]
        chart_id = "-".join([kind, *(w.lower() for w in words)])
        manifest_id = "".join(w[:1].upper() + w[1:] for w in [*kind.split("-"), *words])
        if chart_id in {c.node.id for c in self.charts.charts} or manifest_id in self.manifests:
            raise fail(
                self,
                "id",
                self._owner_path(owner, id),
                "is already used by another chart of this ClusterStorage: give a different id or owner",
            )
        return chart_id, manifest_id

    def _claim(self, where: str, volume: str, claim: str) -> None:
        """Refuse a PersistentVolume name or a claim that another chart of this cluster already uses."""
        for registry, name, what in (
            (self._volume_owner, volume, "PersistentVolume"),
            (self._claim_owner, claim, "claim"),
        ):
            if name in registry and not cdk8s_unresolved(name):
                raise fail(
                    self,
                    "volumes",
                    name,
                    f"the {what} name is already used by {registry[name]} (and again by {where}); "
                    "give one of them another claim_name or namespace",
                )
            registry[name] = where

    def _apply(self, id: str, chart: cdk8s.Chart, after: Sequence[Construct] = ()) -> eks.KubernetesManifest:
        if id in self.manifests:
            raise fail(self, "id", id, "is already used by another chart of this ClusterStorage")
        manifest = self.cluster.cluster.add_cdk8s_chart(id, chart, ingress_alb=False, prune=True)
        for dependency in [*dependencies(self.cluster.node_dependency), *after]:
            manifest.node.add_dependency(dependency)
        self.manifests[id] = manifest
        return manifest


@jsii.implements(IValidation)
class _EfsMountCheck:
    """Synth-time check: no EFS class or volume mounts an IAM-only file system without ``iam`` (classes may be
    declared before their file system is granted)."""

    def __init__(self, storage: ClusterStorage) -> None:
        self._storage = storage

    def validate(self) -> list[str]:
        return self._storage.efs_mount_problems()


def require_storage(scope: Construct, storage: object, namespace: str) -> ClusterStorage:
    """``storage`` as the :class:`ClusterStorage` a pattern adds its volumes to, with ``namespace`` among the
    namespaces it creates (the pattern's claims and service accounts live there)."""
    if not isinstance(storage, ClusterStorage):
        raise fail(
            scope,
            "storage",
            getattr(getattr(storage, "node", None), "path", storage),
            "must be the cluster's ClusterStorage (it applies the pattern's volumes and claims)",
        )
    if not unresolved(namespace) and namespace not in storage.namespace_names:
        raise fail(
            scope,
            "namespace",
            namespace,
            f"must be a namespace {storage.node.path} creates: {', '.join(sorted(storage.namespace_names)) or 'none'} "
            "(ClusterStorage(namespaces=[...]))",
        )
    return storage
