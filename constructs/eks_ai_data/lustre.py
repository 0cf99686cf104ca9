"""FSx for Lustre linked to S3, placed next to the GPU nodes (:class:`LustreStore`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import jsii
from aws_cdk import Annotations, Duration, RemovalPolicy, Stack, Tags, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import lustre_sizing as sizing
from ._cfn import default_child
from ._clients import client_home, client_key, client_suffix
from ._retention import retain_network_of
from ._validate import fail, require, unresolved, whole_days
from .labels import PROTECTED_TAG_KEY, PROTECTED_TAG_VALUE
from .naming import BUCKET_RULE, is_bucket_name
from .service_roles import FSX_S3_ROLES, fsx_s3_role_arn_pattern

#: Lustre traffic: TCP 988 and TCP 1018-1023, between clients and servers in both directions (FSx for Lustre user
#: guide, "File system access control with Amazon VPC": both the file system's and the clients' security groups
#: must allow inbound and outbound on these ports from and to each other).
LUSTRE_PORT = 988
LUSTRE_PORT_RANGES = ((988, 988), (1018, 1023))
LUSTRE_PORTS = tuple(
    ec2.Port.tcp(low) if low == high else ec2.Port.tcp_range(low, high) for low, high in LUSTRE_PORT_RANGES
)
MAX_DATA_REPOSITORY_ASSOCIATIONS = 8
MAX_BACKUP_RETENTION_DAYS = 90
MAX_IMPORTED_FILE_CHUNK_SIZE_MIB = 512_000
MAX_DATA_REPOSITORY_PATH_LENGTH = 4357
MAX_FILE_SYSTEM_PATH_LENGTH = 4096

#: Characters FSx refuses in association paths (CreateDataRepositoryAssociation FileSystemPath and
#: DataRepositoryPath patterns: ``^[^\u0000\u0085\u2028\u2029\r\n]{...}$``).
_CONTROL = re.compile("[\u0000\u0085\u2028\u2029\r\n]")
_KEY_USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


@dataclass(frozen=True)
class DataRepositoryLink:
    """A data repository association: a file-system directory mapped 1:1 to ``s3://bucket/prefix``.

    :param file_system_path: absolute directory on the file system, e.g. ``/datasets/``. ``/`` alone is
        allowed only for a file system's single association.
    :param bucket: the S3 bucket (FSx reaches it through its service-linked role, not yours).
    :param prefix: key prefix in the bucket, ending in ``/``. Default: ``""`` (the whole bucket).
    :param auto_import: import NEW, CHANGED and DELETED objects as they happen in S3 (the file system mirrors the
        bucket; deleting an object removes the file from the cache, never from S3). Default: ``True``.
    :param auto_export: export NEW and CHANGED files to S3 as they happen. Default: ``False``.
    :param auto_export_deletes: with ``auto_export``, also export DELETED: removing a file on the file system
        (``rm`` in a pod) then deletes its object in S3 (in a versioned bucket the object becomes a noncurrent
        version and expires with the bucket's noncurrent-version rule). Default: ``False``.
    :param import_metadata_on_create: list the existing objects when the association is created. Default: ``True``.
    :param imported_file_chunk_size_mib: stripe size for imported files, 1-512000 MiB. Default: 1024.
    """

    file_system_path: str
    bucket: s3.IBucket
    prefix: str = ""
    auto_import: bool = True
    auto_export: bool = False
    auto_export_deletes: bool = False
    import_metadata_on_create: bool = True
    imported_file_chunk_size_mib: int = 1024


_IMPORT_EVENTS = ["NEW", "CHANGED", "DELETED"]
_EXPORT_EVENTS = ["NEW", "CHANGED"]
_LINKED_BACKUP_RULE = (
    "must be 0 days on a file system with data repository associations: FSx does not back up file systems "
    "linked to S3; the linked bucket is the durable copy (back it up with DataBackupPlan.add_bucket)"
)
_DEFAULT_PER_UNIT = {("PERSISTENT_2", "SSD"): 250, ("PERSISTENT_1", "SSD"): 200, ("PERSISTENT_1", "HDD"): 40}


def _security_groups(peer: ec2.ISecurityGroup | ec2.IConnectable) -> list[ec2.ISecurityGroup]:
    if hasattr(peer, "security_group_id"):
        return [peer]  # type: ignore[list-item]
    return list(peer.connections.security_groups)


@jsii.implements(ec2.IConnectable)
class LustreStore(Construct):
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
        managed nodes carry). More can be added with :meth:`allow_clients`.
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
        node_security_groups: Sequence[ec2.ISecurityGroup],
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
        self._connections = ec2.Connections(
            security_groups=[self.security_group], default_port=ec2.Port.tcp(LUSTRE_PORT)
        )
        for port in LUSTRE_PORTS:
            self.security_group.add_ingress_rule(self.security_group, port, "Lustre between file servers")
            self.security_group.add_egress_rule(self.security_group, port, "Lustre between file servers")
        self._clients: dict[str, list[Construct]] = {}
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
        self.associations: list[fsx.CfnDataRepositoryAssociation] = []
        self._links: list[DataRepositoryLink] = []
        for link in data_repositories:
            self.add_data_repository(link)

    # -- public API ---------------------------------------------------------------------------------
    @property
    def connections(self) -> ec2.Connections:
        """The file system's security group (``ec2.IConnectable``); default port TCP 988."""
        return self._connections

    def allow_clients(
        self, peer: ec2.ISecurityGroup | ec2.IConnectable, *, scope: Construct | None = None
    ) -> list[Construct]:
        """Admit Lustre clients that carry ``peer``'s security groups, both ways on both sides.

        For each client group: the file system's group accepts 988 and 1018-1023 from it and may send to it; the
        client group accepts 988 and 1018-1023 from the file system's group (file servers connect to clients)
        and may send to it. The rules are separate resources under ``scope``; by default under the client group
        itself when it lives in another stack (the consuming side: no reference from this stack to that one),
        else under this construct. Admitting a group again returns the rules created the first time. Returns the
        rule resources.
        """
        groups = _security_groups(peer)
        if not groups:
            raise fail(self, "peer", getattr(peer, "node", peer), "has no security group to admit")
        created: list[Construct] = []
        for group in groups:
            key = client_key(group)
            if key in self._clients:  # admitted once already: the same rules serve every caller
                created += self._clients[key]
                continue
            home = client_home(self, group, scope)
            rules = self._client_rules(home, group, client_suffix(group, home))
            self._clients[key] = rules
            created += rules
        return created

    def _client_rules(self, home: Construct, client: ec2.ISecurityGroup, suffix: str) -> list[Construct]:
        fs_group = self.security_group.security_group_id
        client_group = client.security_group_id
        # unique per (file system, client) under any home: the store's address tells stores apart, the client's
        # identity (not the order of admission) tells clients apart (see eks_ai_data._clients)
        base = f"Lustre{self.node.addr[-8:]}Client{suffix}"
        rules: list[Construct] = []
        for index, (low, high) in enumerate(LUSTRE_PORT_RANGES):
            rules += [
                ec2.CfnSecurityGroupIngress(
                    home,
                    f"{base}In{index}",
                    group_id=fs_group,
                    source_security_group_id=client_group,
                    description=f"Lustre {low}-{high} from clients",
                    ip_protocol="tcp",
                    from_port=low,
                    to_port=high,
                ),
                ec2.CfnSecurityGroupEgress(
                    home,
                    f"{base}Out{index}",
                    group_id=fs_group,
                    destination_security_group_id=client_group,
                    description=f"Lustre {low}-{high} from file servers to clients",
                    ip_protocol="tcp",
                    from_port=low,
                    to_port=high,
                ),
                ec2.CfnSecurityGroupIngress(
                    home,
                    f"{base}ClientIn{index}",
                    group_id=client_group,
                    source_security_group_id=fs_group,
                    description=f"Lustre {low}-{high} from FSx file servers (servers connect to clients)",
                    ip_protocol="tcp",
                    from_port=low,
                    to_port=high,
                ),
                ec2.CfnSecurityGroupEgress(
                    home,
                    f"{base}ClientOut{index}",
                    group_id=client_group,
                    destination_security_group_id=fs_group,
                    description=f"Lustre {low}-{high} to FSx file servers",
                    ip_protocol="tcp",
                    from_port=low,
                    to_port=high,
                ),
            ]
        return rules

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
        name = link.bucket.bucket_name
        path = f"s3://{name}/{link.prefix}" if link.prefix else f"s3://{name}"
        auto_import = (
            fsx.CfnDataRepositoryAssociation.AutoImportPolicyProperty(events=list(_IMPORT_EVENTS))
            if link.auto_import
            else None
        )
        export_events = [*_EXPORT_EVENTS, *(["DELETED"] if link.auto_export_deletes else [])]
        auto_export = (
            fsx.CfnDataRepositoryAssociation.AutoExportPolicyProperty(events=export_events)
            if link.auto_export
            else None
        )
        association = fsx.CfnDataRepositoryAssociation(
            self,
            f"Association{link.file_system_path}",
            file_system_id=self.file_system_id,
            file_system_path=link.file_system_path,
            data_repository_path=path,
            batch_import_meta_data_on_create=link.import_metadata_on_create,
            imported_file_chunk_size=link.imported_file_chunk_size_mib,
            s3=fsx.CfnDataRepositoryAssociation.S3Property(
                auto_import_policy=auto_import, auto_export_policy=auto_export
            )
            if (auto_import or auto_export)
            else None,
        )
        self._allow_fsx_on_bucket_key(link.bucket)
        self.associations.append(association)
        self._links.append(link)
        return association

    @property
    def links(self) -> tuple[DataRepositoryLink, ...]:
        """The data repository associations added so far."""
        return tuple(self._links)

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

    def _check_link(self, link: DataRepositoryLink) -> None:
        prop = "data_repositories"
        if link.auto_export_deletes and not link.auto_export:
            raise fail(
                self,
                prop,
                link.file_system_path,
                "auto_export_deletes needs auto_export=True (it adds DELETED)",
            )
        # "Data repository associations are supported on all FSx for Lustre 2.12 and 2.15 file systems, excluding
        # scratch_1 deployment type" (FSx API reference, CreateDataRepositoryAssociation).
        if (
            self.deployment_type == fsx.LustreDeploymentType.SCRATCH_1
            or self.file_system_type_version == "2.10"
        ):
            raise fail(
                self,
                prop,
                link.file_system_path,
                "data repository associations need Lustre 2.12 or 2.15 and a deployment type other than "
                f"SCRATCH_1 (this file system: {self.deployment_type.value}, Lustre {self.file_system_type_version})",
            )
        if len(self._links) >= MAX_DATA_REPOSITORY_ASSOCIATIONS:
            raise fail(
                self, prop, link.file_system_path, "a file system has at most 8 data repository associations"
            )
        fs_path = link.file_system_path
        for field, value in (("file_system_path", fs_path), ("prefix", link.prefix)):
            if isinstance(value, str) and not unresolved(value) and _CONTROL.search(value):
                raise fail(
                    self,
                    prop,
                    value,
                    f"{field} must not contain NUL, line breaks or U+0085/U+2028/U+2029 (FSx refuses them)",
                )
        if not unresolved(fs_path):
            parts = fs_path.strip("/").split("/")
            well_formed = (
                fs_path.startswith("/")
                and len(fs_path) <= MAX_FILE_SYSTEM_PATH_LENGTH
                and "//" not in fs_path
                and not any(p in (".", "..") for p in parts)
            )
            if not well_formed:
                raise fail(
                    self,
                    prop,
                    fs_path,
                    "file_system_path must be absolute ('/name/'), without '//', '.' or '..'",
                )
            if "/" in (fs_path, *(o.file_system_path for o in self._links)) and self._links:
                raise fail(
                    self,
                    prop,
                    fs_path,
                    "'/' as file_system_path allows only one association on the file system",
                )
            for other in self._links:
                if _nested(_dir(fs_path), _dir(other.file_system_path)):
                    raise fail(
                        self,
                        prop,
                        fs_path,
                        f"file-system paths must not overlap (already linked: {other.file_system_path})",
                    )
        name = link.bucket.bucket_name
        if not Token.is_unresolved(name) and not is_bucket_name(name):
            raise fail(self, prop, name, f"bucket name {BUCKET_RULE}")
        prefix = link.prefix
        if (
            not unresolved(prefix)
            and prefix
            and (prefix.startswith("/") or not prefix.endswith("/") or "//" in prefix or "*" in prefix)
        ):
            raise fail(
                self,
                prop,
                prefix,
                "prefix must be '' or 'a/b/': no leading '/', ending in '/', no '//' or '*'",
            )
        repo = f"{name}/{prefix}"
        if not unresolved(prefix) and len(f"s3://{repo}") > MAX_DATA_REPOSITORY_PATH_LENGTH:
            raise fail(self, prop, repo, "the S3 path must be at most 4357 characters")
        for other in self._links:
            if _nested(repo, f"{other.bucket.bucket_name}/{other.prefix}"):
                raise fail(self, prop, f"s3://{repo}", "S3 paths of associations must not overlap")
        size = link.imported_file_chunk_size_mib
        require(
            self,
            isinstance(size, int) and 1 <= size <= MAX_IMPORTED_FILE_CHUNK_SIZE_MIB,
            prop,
            size,
            "imported_file_chunk_size_mib must be 1 to 512000",
        )

    def _allow_fsx_on_bucket_key(self, bucket: s3.IBucket) -> None:
        key = bucket.encryption_key
        if key is None:
            return
        stack = Stack.of(key)
        # FSx for Lustre user guide, "Working with server-side encrypted Amazon S3 buckets": the actions and the
        # CallerAccount/ViaService conditions of its statement; the role is matched by aws:PrincipalArn because
        # its name carries the file system id (see the class docstring).
        statement = iam.PolicyStatement(
            sid="AllowFsxLustreDataRepositoriesThroughS3",
            principals=[iam.AnyPrincipal()],
            actions=_KEY_USE_ACTIONS,
            resources=["*"],  # in a key policy, "*" means this key
            conditions={
                "StringEquals": {
                    "kms:CallerAccount": stack.account,
                    "kms:ViaService": f"s3.{stack.region}.amazonaws.com",
                },
                "ArnLike": {"aws:PrincipalArn": fsx_s3_role_arn_pattern(stack)},
            },
        )
        if not key.add_to_resource_policy(statement).statement_added:
            Annotations.of(self).add_warning_v2(
                "eks-ai-data:LustreBucketKeyPolicy",
                f"The key of bucket {bucket.node.path} is not managed here: allow the FSx service-linked role "
                f"(role/{FSX_S3_ROLES}) to use it through S3, or the data repository associations cannot "
                "read or write encrypted objects.",
            )


def _dir(path: str) -> str:
    return path if path.endswith("/") else f"{path}/"


def _nested(a: str, b: str) -> bool:
    """Whether one of two directory-like paths (ending in '/') contains the other, or they are equal."""
    return a.startswith(b) or b.startswith(a)
