"""An FSx for Lustre file system created elsewhere, as the patterns see it (:class:`ILustreStore`).

Two classes implement :class:`ILustreStore`, as ``IAiCluster`` is implemented by a created and an imported cluster:

- :class:`~eks_ai_data.lustre.LustreStore`: a file system this app creates;
- :class:`ImportedLustreStore` (``LustreStore.from_existing(...)``): one another stack or tool (Terraform) created,
  described by explicit props, because an ``fsx.IFileSystem`` offers only its id and connections.

``DistributedDataset``, ``TrainingCheckpoints`` and ``ModelRepository`` take an ``ILustreStore`` and use only what
this interface offers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, cast, runtime_checkable

import jsii
from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from constructs import Construct, IConstruct, IMixin, Node

from ._imported import is_instance, only_security_group, refused
from ._validate import SUBNET, fail, require, require_resource, unresolved
from .errors import require_items
from .lustre_access import DataRepositoryLink, LustreAccess

# FSx API model (botocore fsx 2018-03-01 service-2.json): FileSystemId is 11-21 characters of ^(fs-[0-9a-f]{8,})$;
# DNSName is 16-275 characters of ^((fs|fc)i?-[0-9a-f]{8,}\..{4,253})$; LustreFileSystemMountName is
# ^([A-Za-z0-9_-]{1,8})$, and LustreFileSystemConfiguration.MountName is always "fsx" for SCRATCH_1.
FILE_SYSTEM_ID = re.compile(r"fs-[0-9a-f]{8,18}")
DNS_NAME = re.compile(r"(fs|fc)i?-[0-9a-f]{8,}\..{4,253}")
MOUNT_NAME = re.compile(r"[A-Za-z0-9_-]{1,8}")
SCRATCH_1_MOUNT_NAME = "fsx"
#: FSx for Lustre storage capacity bounds in GiB (1200 GiB is the smallest SSD file system; 64 PiB is far above any
#: quota): a value outside them is a typo, not a file system.
_MAX_CAPACITY_GIB = 64 * 1024 * 1024


@runtime_checkable
class ILustreStore(Protocol):
    """An FSx for Lustre file system as the patterns see it: :class:`~eks_ai_data.lustre.LustreStore` or
    :class:`ImportedLustreStore`.

    - ``file_system_id``, ``dns_name``, ``mount_name``, ``storage_capacity_gib``: what a static PersistentVolume of
      the FSx CSI driver carries;
    - ``subnet`` and ``availability_zone``: where the file system lives (GPU nodes and the volume's node affinity);
    - ``links``: its data repository associations (S3 links);
    - ``connections`` and ``allow_clients``: its security group, and the rules that admit clients both ways;
    - ``add_data_repository``: a new association (``TrainingCheckpoints`` adds its export path);
    - ``created``: ``True`` when this app creates the file system.
    """

    @property
    def node(self) -> Node: ...

    def with_(self, *mixins: IMixin) -> IConstruct:
        """A construct's ``with_`` (mixins): an ILustreStore is a construct (``Annotations.of(store)`` works)."""
        ...

    @property
    def file_system_id(self) -> str: ...

    @property
    def dns_name(self) -> str: ...

    @property
    def mount_name(self) -> str: ...

    @property
    def storage_capacity_gib(self) -> int: ...

    @property
    def subnet(self) -> ec2.ISubnet: ...

    @property
    def availability_zone(self) -> str: ...

    @property
    def links(self) -> tuple[DataRepositoryLink, ...]: ...

    @property
    def connections(self) -> ec2.Connections: ...

    @property
    def created(self) -> bool: ...

    def allow_clients(
        self, peer: ec2.ISecurityGroup | ec2.IConnectable, *, scope: Construct | None = None
    ) -> list[Construct]: ...

    def add_data_repository(self, link: DataRepositoryLink) -> fsx.CfnDataRepositoryAssociation: ...


def require_lustre_store(scope: Construct, prop: str, value: object) -> ILustreStore:
    """``value`` as an :class:`ILustreStore`, or a clear error naming what to pass instead."""
    if is_instance(value, ILustreStore):
        return cast(ILustreStore, value)
    raise refused(
        scope,
        prop,
        value,
        bare="an fsx file system on its own lacks what the volume needs (DNS and mount names, subnet, capacity): "
        "describe it with LustreStore.from_existing(scope, id, file_system=..., dns_name=..., mount_name=..., "
        "subnet=..., storage_capacity_gib=...)",
        other="must be a LustreStore or LustreStore.from_existing(...) (an ILustreStore)",
    )


@jsii.implements(ec2.IConnectable)
class ImportedLustreStore(LustreAccess):
    """An FSx for Lustre file system created elsewhere (``LustreStore.from_existing``), usable by the patterns.

    Nothing of the file system is created or changed: no ``AWS::FSx::FileSystem``, no removal policy, no tag, no
    backup setting. What this app adds is separate resources: :meth:`allow_clients` creates the same Lustre rules as
    a :class:`~eks_ai_data.lustre.LustreStore` (TCP 988 and 1018-1023, both ways, on the file system's and the
    clients' groups) in the consuming scope, and :meth:`add_data_repository` creates an
    ``AWS::FSx::DataRepositoryAssociation`` on the file system (CloudFormation takes any file system's id).

    An ``fsx.IFileSystem`` offers only its id and connections; the facts a static PersistentVolume and the GPU
    nodes' placement need are explicit props. ``DataBackupPlan.add_lustre`` refuses an imported store: its backups
    belong to whoever owns the file system.

    :param file_system: the file system, e.g. ``fsx.LustreFileSystem.from_lustre_file_system_attributes(...)``, whose
        connections carry its one security group.
    :param dns_name: its DNS name (``fs-<id>.fsx.<region>.amazonaws.com``).
    :param mount_name: its mount name (``fsx`` for SCRATCH_1; otherwise up to 8 characters FSx assigned, shown as
        ``MountName`` by ``aws fsx describe-file-systems``).
    :param subnet: its subnet, with the Availability Zone (``ec2.Subnet.from_subnet_attributes(...,
        availability_zone=...)``): GPU nodes and the volume's node affinity use that zone.
    :param storage_capacity_gib: its storage capacity (the PersistentVolume's capacity).
    :param deployment_type: its deployment type, if known (then the mount name and S3 links are checked against it).
        Default: not known.
    :param links: its data repository associations that exist already (described, not created), so that the
        patterns find the bucket a path is linked to. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        file_system: fsx.IFileSystem,
        dns_name: str,
        mount_name: str,
        subnet: ec2.ISubnet,
        storage_capacity_gib: int,
        deployment_type: fsx.LustreDeploymentType | None = None,
        links: Sequence[DataRepositoryLink] = (),
    ) -> None:
        super().__init__(scope, id)
        require_resource(
            self,
            "file_system",
            file_system,
            "file_system_id",
            "an fsx.IFileSystem (fsx.LustreFileSystem.from_lustre_file_system_attributes(...)), not its id",
        )
        require_resource(self, "subnet", subnet, *SUBNET)
        links = require_items(self, "links", links, DataRepositoryLink)
        file_system_id = file_system.file_system_id
        if not unresolved(file_system_id):
            require(
                self,
                isinstance(file_system_id, str) and FILE_SYSTEM_ID.fullmatch(file_system_id) is not None,
                "file_system",
                file_system_id,
                "its file_system_id must be fs- and 8 to 18 hexadecimal digits (FSx FileSystemId)",
            )
        if not unresolved(dns_name):
            require(
                self,
                isinstance(dns_name, str)
                and 16 <= len(dns_name) <= 275
                and DNS_NAME.fullmatch(dns_name) is not None,
                "dns_name",
                dns_name,
                "must be the file system's DNS name, fs-<id>.fsx.<region>.amazonaws.com (FSx DNSName)",
            )
            if not unresolved(file_system_id):
                require(
                    self,
                    dns_name.startswith(f"{file_system_id}."),
                    "dns_name",
                    dns_name,
                    f"must be the DNS name of {file_system_id} ({file_system_id}.fsx.<region>.amazonaws.com)",
                )
        if deployment_type is not None and not isinstance(deployment_type, fsx.LustreDeploymentType):
            raise fail(
                self,
                "deployment_type",
                deployment_type,
                f"must be an fsx.LustreDeploymentType ({', '.join(t.name for t in fsx.LustreDeploymentType)})",
            )
        self._check_mount_name(mount_name, deployment_type)
        require(
            self,
            isinstance(storage_capacity_gib, int)
            and not isinstance(storage_capacity_gib, bool)
            and 1200 <= storage_capacity_gib <= _MAX_CAPACITY_GIB,
            "storage_capacity_gib",
            storage_capacity_gib,
            "must be the file system's storage capacity in GiB (FSx for Lustre: 1200 GiB or more)",
        )
        group = only_security_group(
            self,
            file_system,
            "the group the file system's network interfaces use (from_lustre_file_system_attributes(security_group=...))",
        )
        zone = _zone(subnet)
        if zone is None:
            raise fail(
                self,
                "subnet",
                subnet.node.path,
                "must carry its Availability Zone: import it with ec2.Subnet.from_subnet_attributes(scope, id, "
                "subnet_id=..., availability_zone=...) (GPU nodes and the volume's node affinity use the zone)",
            )

        self.file_system = file_system
        self.security_group: ec2.ISecurityGroup = group
        self.file_system_id: str = file_system_id
        self.dns_name: str = dns_name
        self.mount_name: str = mount_name
        self.subnet = subnet
        self.availability_zone: str = zone
        self.storage_capacity_gib = storage_capacity_gib
        self.deployment_type = deployment_type
        #: not known for an imported file system (S3 links are then not checked against Lustre 2.10)
        self.file_system_type_version = None
        self.file_system_arn: str = Stack.of(self).format_arn(
            service="fsx", resource="file-system", resource_name=file_system_id
        )
        #: ``False``: the file system is not this app's (no removal policy, backups or tags are set on it).
        self.created = False
        self._init_access()
        for link in links:
            self._check_link(link, prop="links")
            self._links.append(link)

    def add_data_repository(self, link: DataRepositoryLink) -> fsx.CfnDataRepositoryAssociation:
        """Link ``link.file_system_path`` to ``s3://bucket/prefix``: an ``AWS::FSx::DataRepositoryAssociation`` on
        the imported file system, checked against its existing ``links``.

        :param link: the association to create.
        """
        self._check_link(link)
        return self._associate(link)

    def _check_mount_name(self, mount_name: str, deployment_type: fsx.LustreDeploymentType | None) -> None:
        if unresolved(mount_name):
            return
        require(
            self,
            isinstance(mount_name, str) and MOUNT_NAME.fullmatch(mount_name) is not None,
            "mount_name",
            mount_name,
            "must be the file system's mount name: 1 to 8 letters, digits, '_' or '-' (FSx MountName)",
        )
        if deployment_type == fsx.LustreDeploymentType.SCRATCH_1:
            require(
                self,
                mount_name == SCRATCH_1_MOUNT_NAME,
                "mount_name",
                mount_name,
                "must be 'fsx': FSx names every SCRATCH_1 file system's mount 'fsx'",
            )
        elif deployment_type is not None:
            require(
                self,
                mount_name != SCRATCH_1_MOUNT_NAME,
                "mount_name",
                mount_name,
                f"is 'fsx' only on SCRATCH_1; a {deployment_type.value} file system has the mount name FSx "
                "assigned it (MountName in aws fsx describe-file-systems)",
            )


def _zone(subnet: ec2.ISubnet) -> str | None:
    """The subnet's Availability Zone, ``None`` when it was imported without one (``from_subnet_id``)."""
    try:
        zone = subnet.availability_zone
    except RuntimeError:  # jsii: "You cannot reference a Subnet's availability zone if it was not supplied"
        return None
    return zone or None
