"""An EFS file system created elsewhere, as ClusterStorage and ModelRepository see it (:class:`ISharedEfs`).

Two classes implement :class:`ISharedEfs`: :class:`~eks_ai_data.efs.SharedEfs` (a file system this app creates) and
:class:`ImportedSharedEfs` (``SharedEfs.from_existing(...)``: one another stack or tool created), which takes as an
explicit prop what an ``efs.IFileSystem`` cannot tell: whether its file-system policy refuses anonymous clients.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol, cast, runtime_checkable

import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct, IMixin, Node

from ._imported import is_instance, only_security_group, refused
from ._validate import require, require_dns1123_label, require_mapping, require_resource, unresolved
from .efs_access import EfsAccess

# EFS API model (botocore efs 2015-02-01 service-2.json): FileSystemId and AccessPointId patterns.
FILE_SYSTEM_ID = re.compile(r"fs-[0-9a-f]{8,40}")
ACCESS_POINT_ID = re.compile(r"fsap-[0-9a-f]{8,40}")


@runtime_checkable
class ISharedEfs(Protocol):
    """An EFS file system as ClusterStorage and ModelRepository see it: :class:`~eks_ai_data.efs.SharedEfs` or
    :class:`ImportedSharedEfs`.

    ``requires_iam``: its file-system policy refuses anonymous clients, so every mount must be IAM-authorized
    (``-o tls,iam``; ClusterStorage checks its classes and volumes); ``created``: this app creates it.
    """

    @property
    def node(self) -> Node: ...

    def with_(self, *mixins: IMixin) -> IConstruct:
        """A construct's ``with_`` (mixins): an ISharedEfs is a construct."""
        ...

    @property
    def file_system_id(self) -> str: ...

    @property
    def file_system_arn(self) -> str: ...

    @property
    def connections(self) -> ec2.Connections: ...

    @property
    def requires_iam(self) -> bool: ...

    @property
    def created(self) -> bool: ...

    @property
    def access_points(self) -> dict[str, efs.IAccessPoint]: ...

    def allow_clients(
        self, peer: ec2.ISecurityGroup | ec2.IConnectable, *, scope: Construct | None = None
    ) -> list[ec2.CfnSecurityGroupIngress]: ...

    def add_access_point(
        self,
        name: str,
        *,
        path: str,
        uid: int,
        gid: int,
        secondary_gids: Sequence[int] = (),
        owner_uid: int | None = None,
        owner_gid: int | None = None,
        permissions: str = "750",
    ) -> efs.IAccessPoint: ...

    def grant_read_write(self, grantee: iam.IGrantable) -> iam.Grant: ...


def require_shared_efs(scope: Construct, prop: str, value: object) -> ISharedEfs:
    """``value`` as an :class:`ISharedEfs`, or a clear error naming what to pass instead."""
    if is_instance(value, ISharedEfs):
        return cast(ISharedEfs, value)
    raise refused(
        scope,
        prop,
        value,
        bare="an efs file system on its own does not say whether its policy refuses anonymous clients: describe "
        "it with SharedEfs.from_existing(scope, id, file_system=..., requires_iam=...)",
        other="must be a SharedEfs or SharedEfs.from_existing(...) (an ISharedEfs)",
    )


@jsii.implements(ec2.IConnectable)
class ImportedSharedEfs(EfsAccess):
    """An EFS file system created elsewhere (``SharedEfs.from_existing``), usable by ClusterStorage and ModelRepository.

    Nothing of the file system is created or changed (no mount target, policy, removal policy or backup setting).
    What this app adds is separate resources: :meth:`allow_clients` creates the NFS ingress rule (TCP 2049) on the
    mount targets' group in the consuming scope, :meth:`add_access_point` an ``AWS::EFS::AccessPoint`` on the file
    system, and the grants add statements to the grantee's policy.

    :param file_system: the file system, e.g. ``efs.FileSystem.from_file_system_attributes(...)``, whose connections
        carry its mount targets' one security group.
    :param requires_iam: ``True`` when its file-system policy refuses anonymous clients (no Allow statement for
        ``*``, as a SharedEfs writes): every class and volume on it must then mount with ``iam``, which
        ClusterStorage checks. ``False`` when anonymous NFS clients may mount (EFS's default policy, no policy).
        Required: it cannot be read from an imported file system.
    :param access_points: its existing access points by name (DNS-1123 labels), e.g. for ``ModelRepository``'s
        ``access_point``. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        file_system: efs.IFileSystem,
        requires_iam: bool,
        access_points: Mapping[str, efs.IAccessPoint] | None = None,
    ) -> None:
        super().__init__(scope, id)
        require_resource(
            self,
            "file_system",
            file_system,
            "file_system_id",
            "an efs.IFileSystem (efs.FileSystem.from_file_system_attributes(...)), not its id",
        )
        file_system_id = file_system.file_system_id
        if not unresolved(file_system_id):
            require(
                self,
                isinstance(file_system_id, str) and FILE_SYSTEM_ID.fullmatch(file_system_id) is not None,
                "file_system",
                file_system_id,
                "its file_system_id must be fs- and 8 to 40 hexadecimal digits (EFS FileSystemId)",
            )
        require(
            self,
            isinstance(requires_iam, bool),
            "requires_iam",
            requires_iam,
            "must be True (the file-system policy refuses anonymous clients: mounts need -o iam) or False",
        )
        group = only_security_group(
            self, file_system, "the mount targets' group (from_file_system_attributes(security_group=...))"
        )
        self.file_system = file_system
        self.security_group = group
        self.file_system_id: str = file_system_id
        self.file_system_arn: str = file_system.file_system_arn
        self.requires_iam = requires_iam
        #: ``False``: the file system is not this app's.
        self.created = False
        self._init_access()
        access_points = require_mapping(
            self,
            "access_points",
            access_points,
            "a mapping of names to efs.IAccessPoint, e.g. {'models': ap}",
        )
        for name, access_point in access_points.items():
            require_dns1123_label(self, "access_points", name)
            point_id = access_point.access_point_id
            if not unresolved(point_id):
                require(
                    self,
                    ACCESS_POINT_ID.fullmatch(point_id) is not None,
                    "access_points",
                    {name: point_id},
                    "access point ids are fsap- and 8 to 40 hexadecimal digits (EFS AccessPointId)",
                )
            self.access_points[name] = access_point
