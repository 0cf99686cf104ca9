"""Static volumes: a PersistentVolume and the claim bound to it for each existing Lustre or EFS volume.

Zonal volumes carry the node affinity of their zone: an FSx for Lustre file system lives in one Availability
Zone, so its PersistentVolume has ``nodeAffinity`` ``topology.kubernetes.io/zone In [<zone>]`` and the scheduler
places every pod that mounts it in that zone (kube-scheduler's VolumeBinding plugin checks a bound PV's node
affinity against each candidate node). EFS is regional (a mount target per zone) and gets none.

EFS volumes mount over TLS (``encryptInTransit``; the EFS CSI node plugin adds ``tls``) and, by default, with
``iam`` (efs-utils signs the mount with the EFS CSI node plugin's credentials): a file-system policy without an Allow statement, as :class:`~eks_ai_data.efs.SharedEfs` writes,
admits only IAM-authorized clients.

Each pair is bound both ways (the volume's ``claimRef`` names the claim, the claim's ``volumeName``
names the volume), so no other claim can take the volume; volumes are ``Retain``: deleting a claim
never touches the file system. Claims go into namespaces that the charts create
(:class:`~eks_ai_data.k8s.WorkloadsChart`): pass its ``namespace_names`` as ``known_namespaces``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cdk8s
from constructs import Construct

from ._common import (
    ACCESS_POINT_ID,
    FILE_SYSTEM_ID,
    HOSTNAME,
    MANAGED_BY,
    ZONE_NAME,
    api_object,
    fail,
    metadata,
    require,
    require_bool,
    require_int_range,
    require_items,
    require_label,
    require_names,
    require_pattern,
    require_subdomain,
    require_unique,
    unresolved,
    zone_affinity,
)
from .mountpoint import MountpointVolumeSpec, mountpoint_pv_spec
from .storage_classes import EFS_CSI_DRIVER, FSX_CSI_DRIVER, efs_mount_options

_MAX_GIB = 2**40  # far above any file system; keeps quantities sane
#: FSx ``MountName`` (FSx API reference: 1-8 characters of this set; "fsx" for SCRATCH_1 file systems).
LUSTRE_MOUNT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,8}\Z")
#: One mount option (``name`` or ``name=value``) as mount(8) takes it in its comma-separated ``-o`` list.
MOUNT_OPTION = re.compile(r"^[A-Za-z0-9_.-]+(=[^,\s]+)?\Z")


@dataclass(frozen=True)
class LustreVolumeSpec:
    """An existing FSx for Lustre file system offered to one namespace.

    :param name: the PersistentVolume name (cluster-wide, DNS-1123 subdomain).
    :param file_system_id: ``fs-...`` (or a token).
    :param dns_name: the file system's DNS name (or a token).
    :param mount_name: the file system's mount name (or a token).
    :param storage_capacity_gib: the file system's capacity in GiB.
    :param namespace: namespace of the claim.
    :param availability_zone: the file system's Availability Zone (or a token); pods that mount the claim are
        scheduled in it only.
    :param claim_name: Default: ``name``.
    :param mount_options: Default: ``("flock",)`` (cluster-wide coherent locks, which training
        frameworks' checkpoint writers rely on).
    :param read_only: mount read-only (``ReadOnlyMany``). Default: False (``ReadWriteMany``).
    """

    name: str
    file_system_id: str
    dns_name: str
    mount_name: str
    storage_capacity_gib: int
    namespace: str
    availability_zone: str
    claim_name: str | None = None
    mount_options: Sequence[str] = ("flock",)
    read_only: bool = False


@dataclass(frozen=True)
class EfsVolumeSpec:
    """An existing EFS access point offered to one namespace, mounted over TLS.

    :param name: the PersistentVolume name.
    :param file_system_id: ``fs-...`` (or a token).
    :param access_point_id: ``fsap-...`` (or a token).
    :param namespace: namespace of the claim.
    :param claim_name: Default: ``name``.
    :param capacity_gib: the capacity written on the volume and claim. EFS is elastic and ignores
        it, but Kubernetes requires one. Default: 1024.
    :param iam: mount with the ``iam`` option (efs-utils authorizes the mount with the EFS CSI node plugin's
        role), which a file-system policy without an Allow statement requires. Default: True.
    :param read_only: Default: False (``ReadWriteMany``).
    """

    name: str
    file_system_id: str
    access_point_id: str
    namespace: str
    claim_name: str | None = None
    capacity_gib: int = 1024
    iam: bool = True
    read_only: bool = False


class StaticVolumesChart(cdk8s.Chart):
    """PersistentVolume/claim pairs for existing Lustre file systems, EFS access points and S3 key prefixes
    (Mountpoint for Amazon S3 with pod-level credentials: :mod:`eks_ai_data.k8s.mountpoint`).

    :param known_namespaces: namespaces that the charts create; every claim must be in one of them.
    :param lustre_volumes: Default: none.
    :param efs_volumes: Default: none.
    :param mountpoint_volumes: Default: none.

    Attributes: ``volumes`` and ``claims``, dicts of the ApiObjects by volume name.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        known_namespaces: Iterable[str],
        lustre_volumes: Sequence[LustreVolumeSpec] = (),
        efs_volumes: Sequence[EfsVolumeSpec] = (),
        mountpoint_volumes: Sequence[MountpointVolumeSpec] = (),
    ) -> None:
        super().__init__(scope, id, labels=MANAGED_BY)
        lustre_volumes = require_items(self, "lustre_volumes", lustre_volumes, LustreVolumeSpec)
        efs_volumes = require_items(self, "efs_volumes", efs_volumes, EfsVolumeSpec)
        mountpoint_volumes = require_items(
            self, "mountpoint_volumes", mountpoint_volumes, MountpointVolumeSpec
        )
        self._known = set(require_names(self, "known_namespaces", known_namespaces))
        for prop, specs in (
            ("lustre_volumes", lustre_volumes),
            ("efs_volumes", efs_volumes),
            ("mountpoint_volumes", mountpoint_volumes),
        ):
            for spec in specs:
                require_bool(self, f"{prop}.read_only", spec.read_only)
        for efs_spec in efs_volumes:
            require_bool(self, "efs_volumes.iam", efs_spec.iam)
        every: tuple[LustreVolumeSpec | EfsVolumeSpec | MountpointVolumeSpec, ...] = (
            *lustre_volumes,
            *efs_volumes,
            *mountpoint_volumes,
        )
        require_unique(self, "volume name", [v.name for v in every])
        require_unique(self, "claim", [f"{v.namespace}/{v.claim_name or v.name}" for v in every])
        self.volumes: dict[str, cdk8s.ApiObject] = {}
        self.claims: dict[str, cdk8s.ApiObject] = {}
        for spec in lustre_volumes:
            self._lustre(spec)
        for efs_spec in efs_volumes:
            self._efs(efs_spec)
        for mp in mountpoint_volumes:
            claim = mp.claim_name or mp.name
            self._common_checks("mountpoint_volumes", mp.name, mp.namespace, claim)
            require_int_range(self, "mountpoint_volumes.capacity_gib", mp.capacity_gib, 1, _MAX_GIB)
            pv_spec = mountpoint_pv_spec(self, mp)
            self._pair(mp.name, mp.namespace, claim, mp.capacity_gib, mp.read_only, pv_spec)

    def _common_checks(self, prop: str, name: str, namespace: str, claim: str) -> None:
        require_subdomain(self, f"{prop}.name", name)
        require_label(self, f"{prop}.namespace", namespace)
        require_subdomain(self, f"{prop}.claim_name", claim)
        if not unresolved(namespace) and namespace not in self._known:
            raise fail(
                self,
                f"{prop}.namespace",
                namespace,
                "must be a namespace the charts create: "
                + (", ".join(sorted(self._known)) or "(none given)"),
            )

    def _pair(self, name: str, namespace: str, claim: str, gib: int, read_only: bool, pv_spec: dict) -> None:
        """The volume and its claim, bound both ways."""
        mode = "ReadOnlyMany" if read_only else "ReadWriteMany"
        storage = f"{gib}Gi"
        self.volumes[name] = api_object(
            self,
            f"pv-{name}",
            api_version="v1",
            kind="PersistentVolume",
            meta=metadata(name),
            spec={
                "capacity": {"storage": storage},
                "volumeMode": "Filesystem",
                "accessModes": [mode],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": namespace,
                    "name": claim,
                },
                **pv_spec,
            },
        )
        self.claims[name] = api_object(
            self,
            f"pvc-{name}",
            api_version="v1",
            kind="PersistentVolumeClaim",
            meta=metadata(claim, namespace),
            spec={
                "accessModes": [mode],
                "storageClassName": "",
                "volumeName": name,
                "volumeMode": "Filesystem",
                "resources": {"requests": {"storage": storage}},
            },
        )

    def _lustre(self, spec: LustreVolumeSpec) -> None:
        claim = spec.claim_name or spec.name
        self._common_checks("lustre_volumes", spec.name, spec.namespace, claim)
        require_pattern(
            self, "lustre_volumes.file_system_id", spec.file_system_id, FILE_SYSTEM_ID, "must be fs-<hex>"
        )
        require_pattern(self, "lustre_volumes.dns_name", spec.dns_name, HOSTNAME, "must be a DNS name")
        require_pattern(
            self,
            "lustre_volumes.mount_name",
            spec.mount_name,
            LUSTRE_MOUNT_NAME,
            "must be the file system's mount name: 1-8 letters, digits, '_' or '-' (FSx MountName)",
        )
        # the FSx CSI node plugin hands mountOptions to mount -t lustre -o <a,b,...>: one option per item
        require(
            self,
            not isinstance(spec.mount_options, str)
            and all(isinstance(o, str) and MOUNT_OPTION.match(o) for o in spec.mount_options),
            "lustre_volumes.mount_options",
            spec.mount_options,
            "must be a list of mount options such as ['flock'] or ['flock', 'noatime'] (no spaces or commas)",
        )
        require_int_range(self, "lustre_volumes.storage_capacity_gib", spec.storage_capacity_gib, 1, _MAX_GIB)
        require_pattern(
            self,
            "lustre_volumes.availability_zone",
            spec.availability_zone,
            ZONE_NAME,
            "must be an Availability Zone name such as 'us-east-1a' (the file system's zone)",
        )
        self._pair(
            spec.name,
            spec.namespace,
            claim,
            spec.storage_capacity_gib,
            spec.read_only,
            {
                "mountOptions": list(spec.mount_options),
                "nodeAffinity": zone_affinity(spec.availability_zone),
                "csi": {
                    "driver": FSX_CSI_DRIVER,
                    "volumeHandle": spec.file_system_id,
                    "volumeAttributes": {"dnsname": spec.dns_name, "mountname": spec.mount_name},
                },
            },
        )

    def _efs(self, spec: EfsVolumeSpec) -> None:
        claim = spec.claim_name or spec.name
        self._common_checks("efs_volumes", spec.name, spec.namespace, claim)
        require_pattern(
            self, "efs_volumes.file_system_id", spec.file_system_id, FILE_SYSTEM_ID, "must be fs-<hex>"
        )
        require_pattern(
            self, "efs_volumes.access_point_id", spec.access_point_id, ACCESS_POINT_ID, "must be fsap-<hex>"
        )
        require_int_range(self, "efs_volumes.capacity_gib", spec.capacity_gib, 1, _MAX_GIB)
        self._pair(
            spec.name,
            spec.namespace,
            claim,
            spec.capacity_gib,
            spec.read_only,
            {
                **({"mountOptions": efs_mount_options(spec.iam)} if spec.iam else {}),
                "csi": {
                    "driver": EFS_CSI_DRIVER,
                    # "<fs>::<ap>": no sub path, the access point's root (format accepted by all driver versions)
                    "volumeHandle": f"{spec.file_system_id}::{spec.access_point_id}",
                    "volumeAttributes": {"encryptInTransit": "true"},
                },
            },
        )
