"""A shared EFS file system with per-tenant access points (:class:`SharedEfs`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import jsii
from aws_cdk import RemovalPolicy, Size, SizeRoundingBehavior, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ._flags import MOUNT_TARGET_ORDER_INSENSITIVE_IDS, pin_feature_flags
from ._validate import (
    KEY,
    VPC,
    fail,
    require,
    require_bool,
    require_enum,
    require_resource,
    require_security_groups,
    unresolved,
)
from .efs_access import CLIENT_MOUNT as CLIENT_MOUNT
from .efs_access import CLIENT_ROOT as CLIENT_ROOT
from .efs_access import CLIENT_WRITE as CLIENT_WRITE
from .efs_access import NFS_PORT as NFS_PORT
from .efs_access import EfsAccess

if TYPE_CHECKING:
    from .efs_import import ImportedSharedEfs


REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+\Z")
#: ProvisionedThroughputInMibps: "Valid values are 1-3414 MiBps, with the upper limit depending on Region"
#: (CloudFormation AWS::EFS::FileSystem reference).
MAX_PROVISIONED_MIBPS = 3414


def _days(policy: efs.LifecyclePolicy) -> int:
    match = re.search(r"\d+", policy.value)  # AFTER_<n>_DAY(S)
    if match is None:
        raise ValueError(f"{policy.value} is not a lifecycle policy in days")
    return int(match.group())


@jsii.implements(ec2.IConnectable)
class SharedEfs(EfsAccess):
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
    :param node_security_groups: security groups of the nodes that mount the file system (more through
        ``connections``). Default: none.
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
        node_security_groups: Sequence[ec2.ISecurityGroup] = (),
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
        for prop, value, enum in (
            ("throughput_mode", throughput_mode, efs.ThroughputMode),
            ("performance_mode", performance_mode, efs.PerformanceMode),
            ("transition_to_ia", transition_to_ia, efs.LifecyclePolicy),
            ("transition_to_archive", transition_to_archive, efs.LifecyclePolicy),
            ("removal_policy", removal_policy, RemovalPolicy),
        ):
            if value is not None:
                require_enum(self, prop, value, enum)
        require_security_groups(self, "node_security_groups", node_security_groups)
        require_resource(self, "vpc", vpc, *VPC)
        require_resource(self, "kms_key", kms_key, *KEY)
        if replication_kms_key is not None:
            require_resource(self, "replication_kms_key", replication_kms_key, *KEY)
        require_bool(self, "transition_to_primary_on_access", transition_to_primary_on_access)
        require_bool(self, "enable_automatic_backups", enable_automatic_backups)
        if replication_region is not None and not isinstance(replication_region, str):
            raise fail(
                self, "replication_region", replication_region, "must be a Region name such as 'us-west-2'"
            )
        if vpc_subnets is not None and not isinstance(vpc_subnets, ec2.SubnetSelection):
            raise fail(
                self,
                "vpc_subnets",
                vpc_subnets,
                "must be an ec2.SubnetSelection, e.g. ec2.SubnetSelection(subnets=[...]) or "
                "ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)",
            )
        if file_system_name is not None and not unresolved(file_system_name):
            require(
                self,
                isinstance(file_system_name, str) and 1 <= len(file_system_name) <= 256,
                "file_system_name",
                file_system_name,
                "must be 1-256 characters (it is the file system's Name tag, an AWS tag value)",
            )
        if provisioned_throughput_per_second is not None:
            if not hasattr(provisioned_throughput_per_second, "to_kibibytes"):
                raise fail(
                    self,
                    "provisioned_throughput_per_second",
                    provisioned_throughput_per_second,
                    "must be an aws_cdk.Size per second, such as Size.mebibytes(100)",
                )
            kib = provisioned_throughput_per_second.to_kibibytes(rounding=SizeRoundingBehavior.NONE)
            if not unresolved(kib) and kib % 1024:
                # EFS takes fractions (ProvisionedThroughputInMibps is a Double), but aws-cdk-lib's FileSystem
                # converts the Size with toMebibytes() (aws-efs/lib/efs-file-system.ts), which refuses them
                raise fail(
                    self,
                    "provisioned_throughput_per_second",
                    f"{kib:g} KiB/s",
                    "must be a whole number of MiB/s (aws-cdk-lib's FileSystem takes whole mebibytes)",
                )
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
        self.file_system: efs.FileSystem = efs.FileSystem(
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
        self._init_access()
        for group in node_security_groups:
            self.allow_clients(group)
        self.file_system_id: str = self.file_system.file_system_id
        self.file_system_arn: str = self.file_system.file_system_arn
        self.availability_zones = azs
        #: ``True``: the file-system policy has no Allow, so clients must mount with IAM (``-o tls,iam``).
        self.requires_iam = True
        #: ``True``: this app creates the file system (``False`` for :meth:`from_existing`).
        self.created = True

    def _access_point_scope(self) -> Construct:
        return self.file_system  # where FileSystem.add_access_point puts them (their logical ids stay)

    @staticmethod
    def from_existing(
        scope: Construct,
        id: str,
        *,
        file_system: efs.IFileSystem,
        requires_iam: bool,
        access_points: Mapping[str, efs.IAccessPoint] | None = None,
    ) -> ImportedSharedEfs:
        """An EFS file system created elsewhere (another stack, Terraform), for ClusterStorage and ModelRepository.

        See :class:`~eks_ai_data.efs_import.ImportedSharedEfs` for each prop.

        :param scope: the scope of the imported file system.
        :param id: its construct id.
        :param file_system: e.g. ``efs.FileSystem.from_file_system_attributes(...)``.
        :param requires_iam: whether its file-system policy refuses anonymous clients (mounts need ``-o iam``).
        :param access_points: its existing access points by name. Default: none.
        """
        from .efs_import import ImportedSharedEfs

        return ImportedSharedEfs(
            scope, id, file_system=file_system, requires_iam=requires_iam, access_points=access_points
        )
