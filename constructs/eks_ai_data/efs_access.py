"""What every EFS file system of the platform shares, created here or imported: client rules, access points, grants.

:class:`~eks_ai_data.efs.SharedEfs` (a file system this app creates) and
:class:`~eks_ai_data.efs_import.ImportedSharedEfs` (``SharedEfs.from_existing``: one created elsewhere) both derive
from :class:`EfsAccess`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from constructs import Construct

from ._clients import client_home, client_key, client_suffix, rules_of_same_group
from ._validate import GRANTABLE, fail, require, require_dns1123_label, require_resource

#: Access points per file system (EFS quota; raised on request).
MAX_ACCESS_POINTS = 10_000
MAX_SECONDARY_GIDS = 16
MAX_POSIX_ID = 4_294_967_295
#: EFS access point root path: "/" or up to four directories, at most 100 characters.
ACCESS_POINT_PATH = re.compile(r"^(/|(/(?!\.)[^$#<>;`|&?{}^*/\n]+){1,4})\Z")
PERMISSIONS = re.compile(r"^[0-7]{3,4}\Z")

NFS_PORT = 2049
CLIENT_MOUNT = "elasticfilesystem:ClientMount"
CLIENT_WRITE = "elasticfilesystem:ClientWrite"
CLIENT_ROOT = "elasticfilesystem:ClientRootAccess"


class EfsAccess(Construct):
    """Client rules, access points and grants of an EFS file system (the base of SharedEfs and ImportedSharedEfs).

    A subclass sets ``file_system``, ``security_group`` (the mount targets' group) and ``file_system_arn``, then
    calls :meth:`_init_access`.
    """

    file_system: efs.IFileSystem
    security_group: ec2.ISecurityGroup
    file_system_arn: str

    def _init_access(self) -> None:
        self._clients: dict[str, ec2.CfnSecurityGroupIngress] = {}
        #: access points by name: those created here with :meth:`add_access_point` (and an imported file system's)
        self.access_points: dict[str, efs.IAccessPoint] = {}

    def _access_point_scope(self) -> Construct:
        """Where :meth:`add_access_point` creates access points."""
        return self

    # -- network ------------------------------------------------------------------------------------------
    @property
    def connections(self) -> ec2.Connections:
        """The mount targets' security group (``ec2.IConnectable``); default port NFS (TCP 2049)."""
        return self.file_system.connections

    def allow_clients(
        self, peer: ec2.ISecurityGroup | ec2.IConnectable, *, scope: Construct | None = None
    ) -> list[ec2.CfnSecurityGroupIngress]:
        """Admit NFS (TCP 2049) from clients that carry ``peer``'s security groups.

        One ingress rule per client group, a separate resource under ``scope``; by default under the client group
        itself when it lives in another stack (the consuming side), else under this construct.
        """
        if not (hasattr(peer, "security_group_id") or hasattr(peer, "connections")):
            raise fail(
                self,
                "peer",
                peer,
                "must be an ec2.ISecurityGroup or an ec2.IConnectable (ec2.SecurityGroup.from_security_group_id(...) "
                "for an id)",
            )
        # a security group itself, told apart by its id (jsii interfaces cannot be checked with isinstance)
        groups = (
            [cast(ec2.ISecurityGroup, peer)]
            if hasattr(peer, "security_group_id")
            else list(peer.connections.security_groups)
        )
        if not groups:
            raise fail(self, "peer", getattr(peer, "node", peer), "has no security group to admit")
        rules = []
        for group in groups:
            key = client_key(group)
            if key in self._clients:  # admitted once already: the same rule serves every caller
                rules.append(self._clients[key])
                continue
            shared = rules_of_same_group(self, EfsAccess, key)
            if shared is not None:  # another file system in the same security group admitted it
                self._clients[key] = shared
                rules.append(shared)
                continue
            home = client_home(self, group, scope)
            rule = ec2.CfnSecurityGroupIngress(
                home,
                f"Efs{self.node.addr[-8:]}NfsClient{client_suffix(group, home)}",
                group_id=self.security_group.security_group_id,
                source_security_group_id=group.security_group_id,
                ip_protocol="tcp",
                from_port=NFS_PORT,
                to_port=NFS_PORT,
                description="NFS from EFS clients",
            )
            rules.append(rule)
            self._clients[key] = rule
        return rules

    # -- access points ------------------------------------------------------------------------------
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
    ) -> efs.AccessPoint:
        """An access point that roots ``name``'s clients at ``path`` and acts as ``uid``/``gid``.

        :param name: DNS-1123 label naming the team, tenant or model repository (unique per file system).
        :param path: root directory, ``/`` or up to four levels such as ``/models/llama``; created on first
            use with ``owner_uid``/``owner_gid`` and ``permissions``.
        :param uid: POSIX user every request through the access point acts as (0-4294967295).
        :param gid: POSIX group (0-4294967295).
        :param secondary_gids: up to 16 further groups. Default: none.
        :param owner_uid: owner of a created root directory. Default: ``uid``.
        :param owner_gid: group of a created root directory. Default: ``gid``.
        :param permissions: octal mode of a created root directory. Default: ``"750"``.
        """
        require_dns1123_label(self, "name", name)
        if name in self.access_points:
            raise fail(self, "name", name, "access point names must be unique on the file system")
        if len(self.access_points) >= MAX_ACCESS_POINTS:
            raise fail(
                self, "name", name, f"a file system has at most {MAX_ACCESS_POINTS} access points (EFS quota)"
            )
        require(
            self,
            isinstance(path, str) and len(path) <= 100 and bool(ACCESS_POINT_PATH.match(path)),
            "path",
            path,
            "must be '/' or an absolute path of up to 4 directories and 100 characters, no '.'-leading names",
        )
        owner_uid = uid if owner_uid is None else owner_uid
        owner_gid = gid if owner_gid is None else owner_gid
        for prop, value in (("uid", uid), ("gid", gid), ("owner_uid", owner_uid), ("owner_gid", owner_gid)):
            self._check_id(prop, value)
        if len(secondary_gids) > MAX_SECONDARY_GIDS:
            raise fail(self, "secondary_gids", list(secondary_gids), "at most 16 secondary groups")
        for value in secondary_gids:
            self._check_id("secondary_gids", value)
        require(
            self,
            isinstance(permissions, str) and PERMISSIONS.match(permissions) is not None,
            "permissions",
            permissions,
            "octal such as '750'",
        )

        access_point = efs.AccessPoint(
            self._access_point_scope(),
            name,
            file_system=self.file_system,
            path=path,
            posix_user=efs.PosixUser(
                uid=str(uid), gid=str(gid), secondary_gids=[str(g) for g in secondary_gids] or None
            ),
            create_acl=efs.Acl(owner_uid=str(owner_uid), owner_gid=str(owner_gid), permissions=permissions),
        )
        self.access_points[name] = access_point
        return access_point

    # -- IAM ----------------------------------------------------------------------------------------
    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """``ClientMount`` (read-only) through a mount target."""
        return self.file_system.grant_read(grantee)

    def grant_read_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """``ClientMount`` and ``ClientWrite`` through a mount target."""
        require_resource(self, "grantee", grantee, *GRANTABLE)
        return self.file_system.grant_read_write(grantee)

    def grant_root_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """``ClientMount``, ``ClientWrite`` and ``ClientRootAccess`` through a mount target."""
        require_resource(self, "grantee", grantee, *GRANTABLE)
        return self.file_system.grant_root_access(grantee)

    def grant_access_point(self, grantee: iam.IGrantable, name: str, *, write: bool = True) -> iam.Grant:
        """Mount (and write, unless ``write=False``) only through access point ``name``."""
        access_point = self.access_points.get(name)
        if access_point is None:
            raise fail(
                self, "name", name, f"no such access point (have: {', '.join(sorted(self.access_points))})"
            )
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[CLIENT_MOUNT, CLIENT_WRITE] if write else [CLIENT_MOUNT],
            resource_arns=[self.file_system_arn],
            conditions={
                "StringEquals": {"elasticfilesystem:AccessPointArn": access_point.access_point_arn},
                "Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"},
            },
        )

    def _check_id(self, prop: str, value: int) -> None:
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_POSIX_ID
        require(self, ok, prop, value, f"must be an integer from 0 to {MAX_POSIX_ID}")
