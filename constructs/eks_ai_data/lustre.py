"""FSx for Lustre linked to S3, placed next to the GPU nodes (:class:`LustreStore`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_kms as kms
from constructs import Construct

from . import lustre_sizing as sizing
from ._cfn import default_child
from ._retention import retain_network_of
from ._validate import (
    KEY,
    SUBNET,
    VPC,
    fail,
    require,
    require_enum,
    require_resource,
    require_security_groups,
    whole_days,
)
from .errors import require_items
from .labels import PROTECTED_TAG_KEY, PROTECTED_TAG_VALUE
from .lustre_access import LUSTRE_PORT as LUSTRE_PORT
from .lustre_access import LUSTRE_PORT_RANGES as LUSTRE_PORT_RANGES
from .lustre_access import LUSTRE_PORTS as LUSTRE_PORTS
from .lustre_access import MAX_DATA_REPOSITORY_ASSOCIATIONS as MAX_DATA_REPOSITORY_ASSOCIATIONS
from .lustre_access import DataRepositoryLink as DataRepositoryLink
from .lustre_access import LustreAccess

if TYPE_CHECKING:
    from .lustre_import import ImportedLustreStore

MAX_BACKUP_RETENTION_DAYS = 90

_LINKED_BACKUP_RULE = (
    "must be 0 days on a file system with data repository associations: FSx does not back up file systems "
    "linked to S3; the linked bucket is the durable copy (back it up with DataBackupPlan.add_bucket)"
)
_DEFAULT_PER_UNIT = {("PERSISTENT_2", "SSD"): 250, ("PERSISTENT_1", "SSD"): 200, ("PERSISTENT_1", "HDD"): 40}


@jsii.implements(ec2.IConnectable)
class LustreStore(LustreAccess):
    """An FSx for Lustre file system in one subnet, linked to S3, reachable only from the cluster's nodes.

    Data locality is the point: the file system lives in exactly one subnet (one Availability Zone), and
    GPU nodes that read from it should run in the same zone (:attr:`availability_zone`). Defaults:
    ``PERSISTENT_2`` on SSD at 250 MB/s/TiB, LZ4 compression, Lustre 2.15, encryption with your
    customer-managed key, automatic daily backups kept 7 days, a weekly maintenance window, automatic
    metadata IOPS, and ``RemovalPolicy.RETAIN``.

    Network: its own security group carries Lustre traffic (TCP 988 and 1018-1023) between the file servers, and
    :meth:`allow_clients` admits a client security group both ways on both groups: FSx requires the *client* group
    to accept inbound 988 and 1018-1023 from the file system's group, because file servers open connections to
    clients too (FSx for Lustre user guide, "File system access control with Amazon VPC"). The rules are separate
    resources created on the consuming side (in the client group's stack when that is another stack), so a data
    stack never references a cluster stack. The L2's own all-ports 988-1023 self rule is not created.
    :attr:`connections` makes the store an ``ec2.IConnectable``.

    On stack deletion the file system is retained, and with it what its network interfaces stay in: its
    security group, and its subnet and VPC when this app creates them (otherwise CloudFormation could not delete
    them, and ``cdk destroy`` would end in DELETE_FAILED). Delete the file system first to remove them.

    Automatic backups: FSx does not back up file systems linked to S3 ("File system backups aren't supported on
    file systems that are linked to an Amazon S3 data repository", FSx for Lustre user guide, *Working with
    backups*): with data repository associations the file system's bucket is the durable copy, automatic backups
    are off, and an explicit retention above 0 days is refused.

    S3 links are data repository associations (Lustre 2.12 or 2.15, any deployment type but ``SCRATCH_1``, at
    most 8). FSx reads and writes
    the bucket through its service-linked role ``AWSServiceRoleForFSxS3Access_<file system id>``. For a
    bucket encrypted with a KMS key, that role must be allowed on the key: when the bucket's key is one
    this app manages, a statement is added to its key policy (FSx's S3 service-linked roles, through S3, in
    this account). That statement's principal is ``*`` limited by ``aws:PrincipalArn`` to
    ``role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_fs-*``: the
    role's name holds the file system's id, which the key policy cannot name (the file system is encrypted
    with a key whose policy would then depend on the file system: a dependency cycle), and a key policy
    cannot name a principal with a wildcard. Otherwise (an imported bucket or key) add it yourself; a warning
    says so when the key is known.

    :param vpc: the VPC of the subnet.
    :param subnet: the one subnet (and so Availability Zone) for the file system.
    :param node_security_groups: security groups of the clients (e.g. the EKS cluster security group that
        managed nodes carry). More can be added with :meth:`allow_clients`. Default: none.
    :param kms_key: customer-managed key for data at rest (e.g. ``DataKeys.data_key``). Required for
        persistent types; must be omitted for scratch types (AWS encrypts those with its own keys).
    :param storage_capacity_gib: storage capacity; see :mod:`eks_ai_data.lustre_sizing`. Default: 1200.
    :param deployment_type: Default: ``PERSISTENT_2``.
    :param storage_type: ``SSD``, or ``HDD`` with ``PERSISTENT_1``. Default: ``SSD``.
    :param per_unit_storage_throughput: MB/s/TiB (PERSISTENT_2: 125, 250, 500, 1000; PERSISTENT_1 SSD: 50,
        100, 200; HDD: 12, 40; scratch: none). Default: 250 (PERSISTENT_2), 200 (PERSISTENT_1 SSD), 40 (HDD).
    :param data_compression: Default: ``LZ4``.
    :param file_system_type_version: Default: Lustre 2.15.
    :param automatic_backup_retention: daily automatic backups kept this long, 0-90 days;
        ``Duration.days(0)`` turns them off. Default: 7 days (persistent), off (scratch: not supported).
    :param daily_automatic_backup_start_time: UTC start of the 30-minute backup window. Default: 05:00.
    :param weekly_maintenance_start_time: UTC start of the weekly maintenance window. Default: Sunday 02:00.
    :param metadata_iops: user-provisioned metadata IOPS (PERSISTENT_2 SSD: 1500, 3000, 6000, 12000, or a
        multiple of 12000 up to 192000). Default: ``None``, automatic mode (PERSISTENT_2 with Lustre 2.15).
    :param data_repositories: S3 links to create now; more with :meth:`add_data_repository`. Default: none.
    :param removal_policy: Default: ``RemovalPolicy.RETAIN``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnet: ec2.ISubnet,
        node_security_groups: Sequence[ec2.ISecurityGroup] = (),
        kms_key: kms.IKey | None = None,
        storage_capacity_gib: int = 1200,
        deployment_type: fsx.LustreDeploymentType = fsx.LustreDeploymentType.PERSISTENT_2,
        storage_type: fsx.StorageType = fsx.StorageType.SSD,
        per_unit_storage_throughput: int | None = None,
        data_compression: fsx.LustreDataCompressionType = fsx.LustreDataCompressionType.LZ4,
        file_system_type_version: fsx.FileSystemTypeVersion = fsx.FileSystemTypeVersion.V_2_15,
        automatic_backup_retention: Duration | None = None,
        daily_automatic_backup_start_time: fsx.DailyAutomaticBackupStartTime | None = None,
        weekly_maintenance_start_time: fsx.LustreMaintenanceTime | None = None,
        metadata_iops: int | None = None,
        data_repositories: Sequence[DataRepositoryLink] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        for prop, value, enum in (
            ("deployment_type", deployment_type, fsx.LustreDeploymentType),
            ("storage_type", storage_type, fsx.StorageType),
            ("data_compression", data_compression, fsx.LustreDataCompressionType),
            ("file_system_type_version", file_system_type_version, fsx.FileSystemTypeVersion),
            ("removal_policy", removal_policy, RemovalPolicy),
        ):
            require_enum(self, prop, value, enum)
        require_security_groups(self, "node_security_groups", node_security_groups)
        require_resource(self, "vpc", vpc, *VPC)
        require_resource(self, "subnet", subnet, *SUBNET)
        if kms_key is not None:
            require_resource(self, "kms_key", kms_key, *KEY)
        for prop, window, kind in (
            (
                "daily_automatic_backup_start_time",
                daily_automatic_backup_start_time,
                fsx.DailyAutomaticBackupStartTime,
            ),
            ("weekly_maintenance_start_time", weekly_maintenance_start_time, fsx.LustreMaintenanceTime),
        ):
            if window is not None and not isinstance(window, kind):
                raise fail(self, prop, window, f"must be an fsx.{kind.__name__}(...)")
        data_repositories = require_items(self, "data_repositories", data_repositories, DataRepositoryLink)
        dtype = deployment_type.value
        stype = storage_type.value
        scratch = dtype in sizing.SCRATCH_TYPES
        self.deployment_type = deployment_type
        #: "2.10", "2.12" or "2.15" (the enum member V_2_15 is written 2.15 in the template)
        self.file_system_type_version: str = file_system_type_version.name[2:].replace("_", ".")

        require(
            self,
            stype in sizing.STORAGE_TYPES[dtype],
            "storage_type",
            stype,
            f"{dtype} supports {', '.join(sizing.STORAGE_TYPES[dtype])} (HDD only with PERSISTENT_1)",
        )
        if file_system_type_version == fsx.FileSystemTypeVersion.V_2_10 and dtype == sizing.PERSISTENT_2:
            raise fail(self, "file_system_type_version", "2.10", "PERSISTENT_2 needs Lustre 2.12 or 2.15")

        per_unit = self._per_unit(dtype, stype, per_unit_storage_throughput)
        require(
            self,
            sizing.is_valid_storage_capacity(storage_capacity_gib, dtype, stype, per_unit),
            "storage_capacity_gib",
            storage_capacity_gib,
            f"must be {sizing.storage_capacity_rule(dtype, stype, per_unit)}",
        )

        if scratch and kms_key is not None:
            raise fail(
                self, "kms_key", kms_key.node.path, f"{dtype} is encrypted with keys FSx manages; omit it"
            )
        if not scratch and kms_key is None:
            raise fail(
                self,
                "kms_key",
                None,
                "persistent file systems need a customer-managed key (DataKeys.data_key)",
            )

        retention_days = self._retention_days(
            scratch, automatic_backup_retention, linked=bool(data_repositories)
        )
        self._explicit_retention = automatic_backup_retention is not None
        if daily_automatic_backup_start_time is not None and not retention_days:
            raise fail(
                self,
                "daily_automatic_backup_start_time",
                daily_automatic_backup_start_time.to_timestamp(),
                "needs automatic backups (automatic_backup_retention of 1-90 days)",
            )

        metadata = self._metadata_configuration(dtype, file_system_type_version, metadata_iops)

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="FSx for Lustre: Lustre traffic (TCP 988, 1018-1023) with cluster nodes and itself",
            allow_all_outbound=False,
            disable_inline_rules=True,
        )
        self._init_access()
        for port in LUSTRE_PORTS:
            self.security_group.add_ingress_rule(self.security_group, port, "Lustre between file servers")
            self.security_group.add_egress_rule(self.security_group, port, "Lustre between file servers")
        for group in node_security_groups:
            self.allow_clients(group)

        # The L2 adds an all-ports 988-1023 self rule to the group it is given; an immutable reference to
        # ours keeps that rule out while the file system still uses our group.
        fs_group = ec2.SecurityGroup.from_security_group_id(
            self, "FileSystemSecurityGroup", self.security_group.security_group_id, mutable=False
        )
        lustre_config = fsx.LustreConfiguration(
            deployment_type=deployment_type,
            per_unit_storage_throughput=per_unit,
            data_compression_type=data_compression,
            automatic_backup_retention=Duration.days(retention_days) if not scratch else None,
            copy_tags_to_backups=True if retention_days else None,
            daily_automatic_backup_start_time=(
                daily_automatic_backup_start_time or fsx.DailyAutomaticBackupStartTime(hour=5, minute=0)
            )
            if retention_days
            else None,
            weekly_maintenance_start_time=weekly_maintenance_start_time
            or fsx.LustreMaintenanceTime(day=fsx.Weekday.SUNDAY, hour=2, minute=0),
        )
        self.file_system = fsx.LustreFileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnet=subnet,
            storage_capacity_gib=storage_capacity_gib,
            lustre_configuration=lustre_config,
            kms_key=kms_key,
            security_group=fs_group,
            storage_type=storage_type,
            file_system_type_version=file_system_type_version,
            removal_policy=removal_policy,
        )
        # Driver roles may not change a file system carrying this tag (see StorageDrivers: an explicit Deny).
        Tags.of(self.file_system).add(PROTECTED_TAG_KEY, PROTECTED_TAG_VALUE)
        cfn = default_child(self.file_system, fsx.CfnFileSystem)
        if metadata is not None:
            cfn.add_property_override("LustreConfiguration.MetadataConfiguration", metadata)
        if removal_policy != RemovalPolicy.DESTROY:
            # What the retained file system's network interfaces sit in must outlive the stack too.
            self.security_group.apply_removal_policy(RemovalPolicy.RETAIN)
            retain_network_of([subnet])

        #: Days FSx keeps daily automatic backups (0: off, always with data repository associations).
        self.automatic_backup_retention_days = retention_days
        self.subnet = subnet
        self.availability_zone: str = subnet.availability_zone
        self.storage_capacity_gib = storage_capacity_gib
        self.per_unit_storage_throughput = per_unit
        self.file_system_id: str = self.file_system.file_system_id
        self.dns_name: str = self.file_system.dns_name
        self.mount_name: str = self.file_system.mount_name
        self.file_system_arn: str = Stack.of(self).format_arn(
            service="fsx", resource="file-system", resource_name=self.file_system_id
        )
        #: ``True``: this app creates the file system (``False`` for :meth:`from_existing`).
        self.created = True
        for link in data_repositories:
            self.add_data_repository(link)

    @staticmethod
    def from_existing(
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
    ) -> ImportedLustreStore:
        """An FSx for Lustre file system created elsewhere (another stack, Terraform), for the patterns.

        What an ``fsx.IFileSystem`` cannot tell is passed explicitly; see
        :class:`~eks_ai_data.lustre_import.ImportedLustreStore` for each prop. Nothing is created but what
        :meth:`~eks_ai_data.lustre_import.ImportedLustreStore.allow_clients` and
        :meth:`~eks_ai_data.lustre_import.ImportedLustreStore.add_data_repository` add.

        :param scope: the scope of the imported store.
        :param id: its construct id.
        :param file_system: e.g. ``fsx.LustreFileSystem.from_lustre_file_system_attributes(...)``.
        :param dns_name: the file system's DNS name.
        :param mount_name: the file system's mount name.
        :param subnet: the file system's subnet, with its Availability Zone.
        :param storage_capacity_gib: the file system's storage capacity.
        :param deployment_type: the file system's deployment type, if known. Default: not known.
        :param links: its existing data repository associations. Default: none.
        """
        from .lustre_import import ImportedLustreStore

        return ImportedLustreStore(
            scope,
            id,
            file_system=file_system,
            dns_name=dns_name,
            mount_name=mount_name,
            subnet=subnet,
            storage_capacity_gib=storage_capacity_gib,
            deployment_type=deployment_type,
            links=links,
        )

    def add_data_repository(self, link: DataRepositoryLink) -> fsx.CfnDataRepositoryAssociation:
        """Link ``link.file_system_path`` to ``s3://bucket/prefix`` (a data repository association).

        A linked file system is not backed up by FSx: default automatic backups are turned off, and an explicit
        retention above 0 days is refused (see the class docstring).
        """
        self._check_link(link)
        if self.automatic_backup_retention_days:
            if self._explicit_retention:
                raise fail(
                    self,
                    "automatic_backup_retention",
                    f"{self.automatic_backup_retention_days} days",
                    _LINKED_BACKUP_RULE,
                )
            cfn = default_child(self.file_system, fsx.CfnFileSystem)
            cfn.add_property_override("LustreConfiguration.AutomaticBackupRetentionDays", 0)
            cfn.add_property_deletion_override("LustreConfiguration.DailyAutomaticBackupStartTime")
            cfn.add_property_deletion_override("LustreConfiguration.CopyTagsToBackups")
            self.automatic_backup_retention_days = 0
        return self._associate(link)

    # -- validation helpers -------------------------------------------------------------------------
    def _per_unit(self, dtype: str, stype: str, value: int | None) -> int | None:
        allowed = sizing.allowed_throughputs(dtype, stype)
        if not allowed:
            if value is not None:
                raise fail(
                    self, "per_unit_storage_throughput", value, f"{dtype} takes none (throughput is fixed)"
                )
            return None
        if value is None:
            return _DEFAULT_PER_UNIT[(dtype, stype)]
        require(
            self,
            value in allowed,
            "per_unit_storage_throughput",
            value,
            f"{dtype} {stype} allows {', '.join(map(str, allowed))} MB/s/TiB",
        )
        return value

    def _retention_days(self, scratch: bool, retention: Duration | None, *, linked: bool) -> int:
        if retention is None:
            return 0 if (scratch or linked) else 7
        days = whole_days(self, "automatic_backup_retention", retention)
        if scratch and days > 0:
            raise fail(
                self, "automatic_backup_retention", f"{days} days", "scratch file systems have no backups"
            )
        if not 0 <= days <= MAX_BACKUP_RETENTION_DAYS:
            raise fail(self, "automatic_backup_retention", f"{days} days", "must be 0 (off) to 90 days")
        if linked and days > 0:
            raise fail(self, "automatic_backup_retention", f"{days} days", _LINKED_BACKUP_RULE)
        return int(days)

    def _metadata_configuration(
        self, dtype: str, version: fsx.FileSystemTypeVersion, iops: int | None
    ) -> dict[str, object] | None:
        supported = dtype == sizing.PERSISTENT_2 and version == fsx.FileSystemTypeVersion.V_2_15
        if iops is None:
            return {"Mode": "AUTOMATIC"} if supported else None
        if not supported:
            raise fail(
                self, "metadata_iops", iops, "metadata configuration needs PERSISTENT_2 with Lustre 2.15"
            )
        require(
            self,
            sizing.is_valid_metadata_iops(iops),
            "metadata_iops",
            iops,
            "must be 1500, 3000, 6000, 12000, or a multiple of 12000 up to 192000",
        )
        return {"Mode": "USER_PROVISIONED", "Iops": iops}
