"""A shared EFS file system with per-tenant access points (:class:`SharedEfs`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

import jsii
from aws_cdk import RemovalPolicy, Size, SizeRoundingBehavior, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ._clients import client_home, client_key, client_suffix
from ._flags import MOUNT_TARGET_ORDER_INSENSITIVE_IDS, pin_feature_flags
from ._validate import fail, require, require_dns1123_label, unresolved

#: Access points per file system (EFS quota; raised on request).
MAX_ACCESS_POINTS = 10_000
MAX_SECONDARY_GIDS = 16
MAX_POSIX_ID = 4_294_967_295
#: EFS access point root path: "/" or up to four directories, at most 100 characters.
ACCESS_POINT_PATH = re.compile(r"^(/|(/(?!\.)[^$#<>;`|&?{}^*/\n]+){1,4})\Z")
PERMISSIONS = re.compile(r"^[0-7]{3,4}\Z")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+\Z")

NFS_PORT = 2049
#: ProvisionedThroughputInMibps: "Valid values are 1-3414 MiBps, with the upper limit depending on Region"
#: (CloudFormation AWS::EFS::FileSystem reference).
MAX_PROVISIONED_MIBPS = 3414
CLIENT_MOUNT = "elasticfilesystem:ClientMount"
CLIENT_WRITE = "elasticfilesystem:ClientWrite"
CLIENT_ROOT = "elasticfilesystem:ClientRootAccess"


def _days(policy: efs.LifecyclePolicy) -> int:
    match = re.search(r"\d+", policy.value)  # AFTER_<n>_DAY(S)
    if match is None:
        raise ValueError(f"{policy.value} is not a lifecycle policy in days")
    return int(match.group())


@jsii.implements(ec2.IConnectable)
class SharedEfs(Construct):
    """An encrypted EFS file system with mount targets in every node AZ and access points per tenant.

    Defaults: encryption with your customer-managed key, Elastic throughput, General Purpose performance,
    lifecycle to Infrequent Access after 30 days (Archive optional) and back to Standard on first access,
    ``RemovalPolicy.RETAIN``. Its security group admits NFS (TCP 2049) from client security groups only
    (:meth:`allow_clients`: separate rule resources on the consuming side, so a data stack never references a
    cluster stack) and allows no outbound traffic (EFS never initiates connections). :attr:`connections` makes it
    an ``ec2.IConnectable``. Mount targets get logical ids that do not depend on the order of the subnets
    (aws-cdk-lib's ``@aws-cdk/aws-efs:mountTargetOrderInsensitiveLogicalId``, pinned here whatever the app sets).

    File-system policy: explicit Deny of every request without TLS (``aws:SecureTransport`` false), and of
    client access that does not come through a mount target (``elasticfilesystem:AccessedViaMountTarget``
    false). Anonymous clients get nothing: a file-system policy replaces EFS's default policy (which lets
    any anonymous client in), and this one allows nothing to ``*``. There is no condition key that singles
    out anonymous NFS clients (EFS evaluates only ``aws:SecureTransport``, ``aws:SourceIp``,
    ``elasticfilesystem:AccessPointArn`` and ``elasticfilesystem:AccessedViaMountTarget`` for clients), so
    the denial rests on that absence of an Allow. Clients must mount with IAM (``-o tls,iam``; with the EFS
    CSI driver, ``mountOptions: [iam]``, the driver adds ``tls``) as a principal granted ``ClientMount`` (and ``ClientWrite`` or
    ``ClientRootAccess`` only if needed) through :meth:`grant_read`, :meth:`grant_read_write`,
    :meth:`grant_root_access` or :meth:`grant_access_point`.

    :param vpc: the VPC.
    :param node_security_groups: security groups of the nodes that mount the file system.
    :param kms_key: customer-managed key for data at rest (e.g. ``DataKeys.data_key``).
    :param vpc_subnets: subnets for mount targets, one per AZ where nodes run. Default: the private
        subnets with egress, one per AZ.
    :param throughput_mode: Default: ``ELASTIC``.
    :param performance_mode: Default: ``GENERAL_PURPOSE``.
    :param provisioned_throughput_per_second: required with ``PROVISIONED`` throughput. Default: none.
    :param transition_to_ia: Default: ``AFTER_30_DAYS``; ``None`` keeps files in Standard.
    :param transition_to_archive: needs Elastic throughput and General Purpose performance, and must be
        later than ``transition_to_ia``. Default: ``None``.
    :param transition_to_primary_on_access: move files back to Standard on first access. Default: ``True``.
    :param enable_automatic_backups: EFS's own daily backups (AWS-managed vault). Default: ``False``; back up
        with the platform's AWS Backup plan (select :attr:`file_system_arn`).
    :param replication_region: replicate to a new file system in this region. Default: no replication.
    :param replication_kms_key: key in ``replication_region`` for the replica. Default: EFS's managed key.
    :param file_system_name: the ``Name`` tag. Default: the construct path.
    :param removal_policy: Default: ``RemovalPolicy.RETAIN``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        node_security_groups: Sequence[ec2.ISecurityGroup],
        kms_key: kms.IKey,
        vpc_subnets: ec2.SubnetSelection | None = None,
        throughput_mode: efs.ThroughputMode = efs.ThroughputMode.ELASTIC,
        performance_mode: efs.PerformanceMode = efs.PerformanceMode.GENERAL_PURPOSE,
        provisioned_throughput_per_second: Size | None = None,
        transition_to_ia: efs.LifecyclePolicy | None = efs.LifecyclePolicy.AFTER_30_DAYS,
        transition_to_archive: efs.LifecyclePolicy | None = None,
        transition_to_primary_on_access: bool = True,
        enable_automatic_backups: bool = False,
        replication_region: str | None = None,
        replication_kms_key: kms.IKey | None = None,
        file_system_name: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        if file_system_name is not None and not unresolved(file_system_name):
            require(
                self,
                isinstance(file_system_name, str) and 1 <= len(file_system_name) <= 256,
                "file_system_name",
                file_system_name,
                "must be 1-256 characters (it is the file system's Name tag, an AWS tag value)",
            )
        if provisioned_throughput_per_second is not None:
            mibps = provisioned_throughput_per_second.to_mebibytes(rounding=SizeRoundingBehavior.NONE)
            require(
                self,
                1 <= mibps <= MAX_PROVISIONED_MIBPS,
                "provisioned_throughput_per_second",
                f"{mibps:g} MiB/s",
                f"must be 1-{MAX_PROVISIONED_MIBPS} MiB/s (AWS::EFS::FileSystem ProvisionedThroughputInMibps; the "
                "upper limit depends on the Region and can be raised through AWS Support)",
            )
        # Mount-target logical ids from the AZ, not the subnet's position (pinned: the app's flags must not
        # rename them, which would replace them and fail on "one mount target per AZ").
        pin_feature_flags(self, {MOUNT_TARGET_ORDER_INSENSITIVE_IDS: True})
        if throughput_mode == efs.ThroughputMode.PROVISIONED and provisioned_throughput_per_second is None:
            raise fail(
                self, "provisioned_throughput_per_second", None, "is required with PROVISIONED throughput"
            )
        if (
            throughput_mode != efs.ThroughputMode.PROVISIONED
            and provisioned_throughput_per_second is not None
        ):
            raise fail(
                self,
                "provisioned_throughput_per_second",
                provisioned_throughput_per_second.to_mebibytes(),
                "applies only to PROVISIONED throughput",
            )
        if throughput_mode == efs.ThroughputMode.ELASTIC and performance_mode == efs.PerformanceMode.MAX_IO:
            raise fail(
                self, "performance_mode", "maxIO", "Elastic throughput needs General Purpose performance"
            )
        if transition_to_archive is not None:
            if (
                throughput_mode != efs.ThroughputMode.ELASTIC
                or performance_mode != efs.PerformanceMode.GENERAL_PURPOSE
            ):
                raise fail(
                    self,
                    "transition_to_archive",
                    transition_to_archive.value,
                    "Archive needs Elastic throughput and General Purpose performance",
                )
            if transition_to_ia is not None and _days(transition_to_archive) <= _days(transition_to_ia):
                raise fail(
                    self,
                    "transition_to_archive",
                    transition_to_archive.value,
                    f"must be later than transition_to_ia ({transition_to_ia.value})",
                )
        stack_region = Stack.of(self).region
        if replication_region is not None and not unresolved(replication_region):
            if not REGION.match(replication_region):
                raise fail(
                    self,
                    "replication_region",
                    replication_region,
                    "must be a region name such as 'us-west-2'",
                )
            if not unresolved(stack_region) and replication_region == stack_region:
                raise fail(
                    self, "replication_region", replication_region, "must differ from the stack's region"
                )
        if replication_kms_key is not None and replication_region is None:
            raise fail(self, "replication_kms_key", replication_kms_key.node.path, "needs replication_region")

        selection = vpc_subnets or ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, one_per_az=True
        )
        subnets = vpc.select_subnets(
            availability_zones=selection.availability_zones,
            one_per_az=selection.one_per_az,
            subnet_filters=selection.subnet_filters,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            subnet_type=selection.subnet_type,
        ).subnets
        azs = [s.availability_zone for s in subnets]
        if not subnets:
            raise fail(self, "vpc_subnets", "no subnets", "must select at least one subnet")
        concrete = [az for az in azs if not unresolved(az)]
        if len(set(concrete)) != len(concrete):
            raise fail(
                self, "vpc_subnets", sorted(concrete), "one mount target per AZ: select one subnet per AZ"
            )

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="EFS mount targets: NFS (TCP 2049) from cluster nodes only",
            allow_all_outbound=False,
            disable_inline_rules=True,
        )
        policy = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="DenyInsecureTransport",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["*"],
                    conditions={"Bool": {"aws:SecureTransport": "false"}},
                ),
                iam.PolicyStatement(
                    sid="DenyClientAccessNotThroughMountTarget",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=[CLIENT_MOUNT, CLIENT_WRITE, CLIENT_ROOT],
                    conditions={"Bool": {"elasticfilesystem:AccessedViaMountTarget": "false"}},
                ),
            ]
        )
        replication = (
            efs.ReplicationConfiguration.regional_file_system(
                region=replication_region, kms_key=replication_kms_key
            )
            if replication_region is not None
            else None
        )
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=selection,
            security_group=self.security_group,
            encrypted=True,
            kms_key=kms_key,
            throughput_mode=throughput_mode,
            performance_mode=performance_mode,
            provisioned_throughput_per_second=provisioned_throughput_per_second,
            lifecycle_policy=transition_to_ia,
            transition_to_archive_policy=transition_to_archive,
            out_of_infrequent_access_policy=efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS
            if transition_to_primary_on_access
            else None,
            enable_automatic_backups=enable_automatic_backups,
            replication_configuration=replication,
            file_system_name=file_system_name,
            file_system_policy=policy,
            # True only stops the L2 from adding its own statement, an Allow of ClientWrite and
            # ClientRootAccess to every principal; the policy above already keeps anonymous clients out.
            allow_anonymous_access=True,
            removal_policy=removal_policy,
        )
        self._clients: dict[str, ec2.CfnSecurityGroupIngress] = {}
        for group in node_security_groups:
            self.allow_clients(group)
        self.file_system_id: str = self.file_system.file_system_id
        self.file_system_arn: str = self.file_system.file_system_arn
        self.availability_zones = azs
        self.access_points: dict[str, efs.AccessPoint] = {}

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
            PERMISSIONS.match(permissions) is not None,
            "permissions",
            permissions,
            "octal such as '750'",
        )

        access_point = self.file_system.add_access_point(
            name,
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
        return self.file_system.grant_read_write(grantee)

    def grant_root_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """``ClientMount``, ``ClientWrite`` and ``ClientRootAccess`` through a mount target."""
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
