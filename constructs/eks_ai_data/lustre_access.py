"""What every FSx for Lustre store shares, created here or imported: client security-group rules and S3 links.

:class:`~eks_ai_data.lustre.LustreStore` (a file system this app creates) and
:class:`~eks_ai_data.lustre_import.ImportedLustreStore` (``LustreStore.from_existing``: one created elsewhere) both
derive from :class:`LustreAccess`, so the rules that admit clients and the checks on data repository associations
are written once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Annotations, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ._clients import client_home, client_key, client_suffix, rules_of_same_group
from ._validate import BUCKET, fail, require, require_bool, require_resource, unresolved
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


def _security_groups(peer: ec2.ISecurityGroup | ec2.IConnectable) -> list[ec2.ISecurityGroup]:
    if hasattr(peer, "security_group_id"):
        return [peer]  # type: ignore[list-item]
    return list(peer.connections.security_groups)


class LustreAccess(Construct):
    """Client rules and S3 links of a Lustre file system (the base of LustreStore and ImportedLustreStore).

    A subclass sets, in its constructor: ``security_group`` (the file system's group), ``file_system_id``,
    ``deployment_type`` and ``file_system_type_version`` (``None`` where unknown), then calls
    :meth:`_init_access`.
    """

    security_group: ec2.ISecurityGroup
    file_system_id: str
    deployment_type: fsx.LustreDeploymentType | None
    file_system_type_version: str | None

    def _init_access(self, links: tuple[DataRepositoryLink, ...] = ()) -> None:
        """The file system's connections, no client yet, and ``links``: associations that exist already."""
        self._connections = ec2.Connections(
            security_groups=[self.security_group], default_port=ec2.Port.tcp(LUSTRE_PORT)
        )
        self._clients: dict[str, list[Construct]] = {}
        self.associations: list[fsx.CfnDataRepositoryAssociation] = []
        self._links: list[DataRepositoryLink] = list(links)

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
            shared = rules_of_same_group(self, LustreAccess, key)
            if (
                shared is not None
            ):  # another store in the same security group admitted it: EC2 refuses duplicates
                self._clients[key] = shared
                created += shared
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

    def _associate(self, link: DataRepositoryLink) -> fsx.CfnDataRepositoryAssociation:
        """A data repository association of ``link`` (checked with :meth:`_check_link` first) on this file system."""
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
        """The data repository associations: those that existed already (an imported store's ``links``), then those
        added here."""
        return tuple(self._links)

    def _check_link(self, link: DataRepositoryLink, *, prop: str = "data_repositories") -> None:
        """Refuse a link FSx would refuse on this file system, given the links it has (``prop``: for messages)."""
        if not isinstance(link, DataRepositoryLink):
            raise fail(self, prop, link, "must be a DataRepositoryLink(file_system_path=..., bucket=...)")
        require_resource(self, f"{prop}.bucket", link.bucket, *BUCKET)
        for flag in ("auto_import", "auto_export", "auto_export_deletes", "import_metadata_on_create"):
            require_bool(self, f"{prop}.{flag}", getattr(link, flag))
        for field in ("file_system_path", "prefix"):
            if not isinstance(getattr(link, field), str):
                raise fail(self, f"{prop}.{field}", getattr(link, field), "must be a string")
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
                f"SCRATCH_1 (this file system: {_value(self.deployment_type)}, "
                f"Lustre {self.file_system_type_version or 'version not given'})",
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


def _value(deployment_type: fsx.LustreDeploymentType | None) -> str:
    return deployment_type.value if deployment_type is not None else "deployment type not given"
