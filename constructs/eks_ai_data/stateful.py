"""Which CloudFormation resources hold data, and which property changes replace them (layer 1: no CDK import).

Guarded types, in two classes:

*Data-holding* (:data:`STATEFUL_RESOURCE_TYPES`): deleting or replacing one loses data or makes it
unreadable. File systems (FSx, EFS, FSx ONTAP/OpenZFS volumes), EBS volumes, buckets (S3, S3 Express),
databases (DynamoDB tables and global tables, RDS instances and clusters, Aurora included, DocumentDB,
Neptune, Redshift, QLDB, SimpleDB), caches with data (ElastiCache replication groups, cache clusters and
serverless caches, MemoryDB), search domains (OpenSearch, Elasticsearch), EMR clusters (HDFS), queues
and streams (SQS, Kinesis), backup vaults (they hold the recovery points of every plan that writes to
them), log groups, container registries (ECR: model-serving images), Cognito user pools, secrets, and
KMS keys (a deleted key leaves everything encrypted under it unreadable). The set is the AWS CDK
service database's ``isStateful`` list, without its two entries that are not data stores
(``AWS::CloudFormation::Stack``: the guard walks nested stacks itself; ``AWS::Organizations::Account``),
plus the data-holding types that list omits. Backup *plans* and *selections* are not in it: a
plan's recovery points live in its vault and outlive the plan, and a replaced selection only reassigns
resources. SNS topics are not in it either: a topic holds no data at rest.

*Identity-bearing* (:data:`IDENTITY_RESOURCE_TYPES`): no data of their own, but other things name
their physical id, so a replacement or a rename breaks them even though nothing is deleted. EFS access
points (every PersistentVolume names ``fs-...::fsap-...`` in its immutable ``volumeHandle``; a new
access point at a new path shows pods an empty directory) and FSx data repository associations
(CloudFormation deletes an association with ``DeleteDataInFileSystem`` false, so files stay, but a
replacement is created before the old association is deleted and collides with its paths, or links
another path: files under the old one are no longer imported or exported). Their plain removal is
reported as a warning, not a failure.

A resource whose physical name is fixed (:data:`PHYSICAL_NAME_PROPERTIES`) cannot be replaced:
CloudFormation refuses ("cannot update a stack when a custom-named resource requires replacing") and
rolls back. One with a generated name is replaced by a new, empty resource.

A property change *replaces* a resource when the property is create-only. Two machine-readable
sources say which properties are:

- the CloudFormation resource provider schemas that cfn-lint ships (``createOnlyProperties``, and
  ``conditionalCreateOnlyProperties``: replaced only under conditions), read by
  :func:`create_only_properties` and :func:`conditional_create_only_properties`;
- the AWS CDK CLI's service database (``aws-cdk/db.json.gz``, what ``cdk diff`` uses to print
  "requires replacement" / "may cause replacement"), read by :func:`cdk_replacement_kinds`. The
  provider schemas of legacy resource types omit nested create-only properties: the schema of
  ``AWS::FSx::FileSystem`` names no ``LustreConfiguration`` property although changing its
  ``DeploymentType`` replaces the file system. The CDK database carries those, from the older
  CloudFormation resource specification.

:func:`replacement_properties` is the union of the two, each pointer with the sources that name it;
a pointer that only conditional sources name is *conditional*. What neither source knows (the
conditions themselves, and documented replacements they omit) is the explicit table in
:mod:`eks_ai_data.guard_rules`.

``DeletionPolicy`` / ``UpdateReplacePolicy`` (AWS CloudFormation User Guide, "DeletionPolicy
attribute" and "UpdateReplacePolicy attribute"): absent means ``Delete``, except that the
``DeletionPolicy`` default is ``Snapshot`` for ``AWS::RDS::DBCluster`` and for an
``AWS::RDS::DBInstance`` without ``DBClusterIdentifier``; ``Snapshot`` on a type that cannot take
snapshots falls back to ``Delete`` (:func:`effective_policy`).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

STATEFUL_RESOURCE_TYPES: frozenset[str] = frozenset(
    {
        # file systems and block storage
        "AWS::FSx::FileSystem",
        "AWS::FSx::Volume",
        "AWS::EFS::FileSystem",
        "AWS::EC2::Volume",
        # object storage
        "AWS::S3::Bucket",
        "AWS::S3Express::DirectoryBucket",
        # encryption keys: deleting one makes the data encrypted under it unreadable
        "AWS::KMS::Key",
        "AWS::KMS::ReplicaKey",
        # backups and logs
        "AWS::Backup::BackupVault",
        "AWS::Backup::LogicallyAirGappedBackupVault",
        "AWS::Logs::LogGroup",
        # databases, search, caches with persistence, ledgers
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::DocDB::DBCluster",
        "AWS::DocDB::DBInstance",
        "AWS::Neptune::DBCluster",
        "AWS::Neptune::DBInstance",
        "AWS::Redshift::Cluster",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::ServerlessCache",
        "AWS::MemoryDB::Cluster",
        "AWS::DocDBElastic::Cluster",
        "AWS::OpenSearchService::Domain",
        "AWS::Elasticsearch::Domain",
        "AWS::QLDB::Ledger",
        "AWS::SDB::Domain",
        "AWS::EMR::Cluster",
        # messages, streams, identities and secrets that exist nowhere else
        "AWS::SQS::Queue",
        "AWS::Kinesis::Stream",
        "AWS::Cognito::UserPool",
        "AWS::SecretsManager::Secret",
        # images that model-serving pods pull
        "AWS::ECR::Repository",
    }
)
"""CloudFormation types whose deletion or replacement loses data or makes it unreadable."""

IDENTITY_RESOURCE_TYPES: dict[str, str] = {
    "AWS::EFS::AccessPoint": (
        "its id changes: every PersistentVolume names it in an immutable volumeHandle, and a new access "
        "point at a new path shows pods an empty directory"
    ),
    "AWS::FSx::DataRepositoryAssociation": (
        "the new association is created before the old one is deleted and collides with its paths, or "
        "links another path, so files under the old path are no longer imported from or exported to S3"
    ),
}
"""Types that hold no data but whose physical id others depend on: replacement or rename fails the guard."""

GUARDED_RESOURCE_TYPES: frozenset[str] = STATEFUL_RESOURCE_TYPES | frozenset(IDENTITY_RESOURCE_TYPES)
"""Every type the guard checks."""

SNAPSHOT_TYPES: frozenset[str] = frozenset(
    {
        # CloudFormation User Guide, DeletionPolicy attribute, "Snapshot"; cfn-lint's
        # cfnlint.helpers.valid_snapshot_types adds DocumentDB clusters
        "AWS::DocDB::DBCluster",
        "AWS::EC2::Volume",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::Neptune::DBCluster",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::Redshift::Cluster",
    }
)
"""Types for which a ``Snapshot`` deletion or replace policy keeps a final snapshot."""

PHYSICAL_NAME_PROPERTIES: dict[str, str] = {
    # the property that fixes the physical name when set ("Name type" in the CloudFormation reference)
    "AWS::S3::Bucket": "BucketName",
    "AWS::S3Express::DirectoryBucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::DocDB::DBCluster": "DBClusterIdentifier",
    "AWS::DocDB::DBInstance": "DBInstanceIdentifier",
    "AWS::DocDBElastic::Cluster": "ClusterName",
    "AWS::Neptune::DBCluster": "DBClusterIdentifier",
    "AWS::Neptune::DBInstance": "DBInstanceIdentifier",
    "AWS::Redshift::Cluster": "ClusterIdentifier",
    "AWS::ElastiCache::ReplicationGroup": "ReplicationGroupId",
    "AWS::ElastiCache::CacheCluster": "ClusterName",
    "AWS::ElastiCache::ServerlessCache": "ServerlessCacheName",
    "AWS::MemoryDB::Cluster": "ClusterName",
    "AWS::OpenSearchService::Domain": "DomainName",
    "AWS::Elasticsearch::Domain": "DomainName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::Backup::LogicallyAirGappedBackupVault": "BackupVaultName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::QLDB::Ledger": "Name",
}
"""Guarded types whose physical name a property fixes; two resources cannot share it."""

RETAINING_POLICIES: frozenset[str] = frozenset({"Retain", "RetainExceptOnCreate"})
"""DeletionPolicy / UpdateReplacePolicy values that keep the physical resource."""


def effective_policy(resource: dict[str, Any], attribute: str) -> str:
    """What CloudFormation does with ``resource`` on deletion (``DeletionPolicy``) or replacement.

    ``Retain``, ``RetainExceptOnCreate``, ``Snapshot`` or ``Delete``, defaults and fallbacks applied
    (see the module documentation). A policy that is not a plain string (``Fn::If``) counts as
    ``Delete``: the guard assumes the weakest outcome it cannot rule out.
    """
    rtype = resource.get("Type", "")
    policy = resource.get(attribute)
    if (
        policy is None
        and attribute == "DeletionPolicy"
        and rtype in ("AWS::RDS::DBCluster", "AWS::RDS::DBInstance")
    ):
        cluster_member = (resource.get("Properties") or {}).get("DBClusterIdentifier") is not None
        policy = "Delete" if rtype == "AWS::RDS::DBInstance" and cluster_member else "Snapshot"
    if not isinstance(policy, str):
        return "Delete"
    if policy in RETAINING_POLICIES:
        return policy
    if policy == "Snapshot" and rtype in SNAPSHOT_TYPES:
        return "Snapshot"
    return "Delete"


CDK_SPEC_ENV = "EKS_AI_DATA_CDK_SPEC"
"""Environment variable naming the AWS CDK CLI's ``db.json.gz`` explicitly."""

_CDK_SPEC_RELATIVE = Path("node_modules", "aws-cdk", "db.json.gz")

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "(absent)"})()
"""Value of a pointer that leads nowhere in a resource's Properties."""


# --------------------------------------------------------------------------- create-only properties


@cache
def create_only_properties(resource_type: str) -> frozenset[str]:
    """The ``createOnlyProperties`` of ``resource_type`` in cfn-lint's provider schemas (us-east-1).

    JSON pointers such as ``/properties/KmsKeyId`` or ``/properties/Policies/*/PolicyArn``. A type
    the schemas do not know (custom resources, third-party types) has none.
    """
    from cfnlint.schema import ResourceNotFoundError  # deferred: ~1 s import
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type)
    except ResourceNotFoundError:
        return frozenset()
    return frozenset(schema.schema.get("createOnlyProperties", ()))


@cache
def conditional_create_only_properties(resource_type: str) -> frozenset[str]:
    """The ``conditionalCreateOnlyProperties`` of ``resource_type`` in cfn-lint's provider schemas.

    The registry schema's meaning: the property can be updated only under some conditions, and the
    resource is replaced when it cannot be (for example an engine change that the service cannot do
    in place).
    """
    from cfnlint.schema import ResourceNotFoundError  # deferred: ~1 s import
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type)
    except ResourceNotFoundError:
        return frozenset()
    return frozenset(schema.schema.get("conditionalCreateOnlyProperties", ()))


def find_cdk_service_spec(start_dirs: Iterable[str | os.PathLike[str]] = ()) -> Path | None:
    """Locate the AWS CDK CLI's service database, or ``None``.

    Looked for, in order: the file named by ``$EKS_AI_DATA_CDK_SPEC`` (when set, nothing else);
    ``node_modules/aws-cdk/db.json.gz`` in each of ``start_dirs`` and the current directory and
    their parents (a project's pinned CLI); the package of the ``cdk`` command on ``PATH`` (a
    global install).
    """
    explicit = os.environ.get(CDK_SPEC_ENV)
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    for start in [*start_dirs, Path.cwd()]:
        here = Path(start).resolve()
        for folder in (here, *here.parents):
            candidate = folder / _CDK_SPEC_RELATIVE
            if candidate.is_file():
                return candidate
    cdk = shutil.which("cdk")
    if cdk:
        package = Path(cdk).resolve().parent.parent  # <package>/bin/cdk
        if (package / "db.json.gz").is_file():
            return package / "db.json.gz"
    return None


class ServiceSpecError(Exception):
    """The CDK service database could not be read or has an unknown layout."""


@lru_cache(maxsize=4)
def _load_cdk_spec(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            schema = json.load(fh)["schema"]
        resources = {e["cloudFormationType"]: e["properties"] for e in schema["resource"]["entities"]}
        types = {e["$id"]: e["properties"] for e in schema["typeDefinition"]["entities"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ServiceSpecError(f"{path}: {exc}") from exc
    return resources, types


def _type_refs(type_: Any, suffix: str = "") -> Iterator[tuple[str, str]]:
    """(type-definition id, pointer suffix) pairs that a property type refers to."""
    if not isinstance(type_, dict):
        return
    kind = type_.get("type")
    if kind == "ref":
        yield type_["reference"]["$ref"], suffix
    elif kind in ("array", "map"):
        yield from _type_refs(type_.get("element"), suffix + "/*")
    elif kind == "union":
        for member in type_.get("types", ()):
            yield from _type_refs(member, suffix)


@cache
def cdk_replacement_kinds(resource_type: str, spec_path: Path) -> dict[str, str]:
    """Pointer -> ``causesReplacement`` (``yes`` or ``maybe``) in the CDK service database, at any depth.

    Arrays and maps are crossed with ``*`` as in the provider schemas. Raises
    :class:`ServiceSpecError` if the file is unreadable.
    """
    resources, types = _load_cdk_spec(spec_path)
    found: dict[str, str] = {}

    def walk(properties: dict[str, Any], prefix: str, seen: frozenset[str]) -> None:
        for name, prop in properties.items():
            pointer = f"{prefix}/{name}"
            if prop.get("causesReplacement") in ("yes", "maybe"):
                found[pointer] = prop["causesReplacement"]
            for ref, suffix in _type_refs(prop.get("type")):
                if ref in types and ref not in seen:
                    walk(types[ref], pointer + suffix, seen | {ref})

    try:
        walk(resources.get(resource_type, {}), "/properties", frozenset())
    except (KeyError, TypeError, AttributeError) as exc:
        raise ServiceSpecError(f"{spec_path}: {resource_type}: {exc}") from exc
    return found


def cdk_replacement_properties(resource_type: str, spec_path: Path) -> frozenset[str]:
    """Pointers that the CDK service database marks ``yes`` or ``maybe`` for replacement."""
    return frozenset(cdk_replacement_kinds(resource_type, spec_path))


SCHEMA = "cfn-lint schema"
SCHEMA_CONDITIONAL = "cfn-lint schema (conditional)"
SPEC = "CDK service spec"
SPEC_MAYBE = "CDK service spec (maybe)"
CONDITIONAL_SOURCES: frozenset[str] = frozenset({SCHEMA_CONDITIONAL, SPEC_MAYBE})


def replacement_properties(resource_type: str, spec_path: Path | None) -> dict[str, tuple[str, ...]]:
    """Every pointer whose change replaces ``resource_type`` (or may), with the sources that say so.

    A pointer whose sources are all in :data:`CONDITIONAL_SOURCES` replaces only under conditions.
    """
    sources: dict[str, list[str]] = {}
    for pointer in create_only_properties(resource_type):
        sources.setdefault(pointer, []).append(SCHEMA)
    for pointer in conditional_create_only_properties(resource_type):
        sources.setdefault(pointer, []).append(SCHEMA_CONDITIONAL)
    if spec_path is not None:
        for pointer, kind in cdk_replacement_kinds(resource_type, spec_path).items():
            sources.setdefault(pointer, []).append(SPEC if kind == "yes" else SPEC_MAYBE)
    return {pointer: tuple(names) for pointer, names in sorted(sources.items())}


# --------------------------------------------------------------------------- JSON pointers


def pointer_parts(pointer: str) -> list[str]:
    """``/properties/A/*/B`` -> ``["A", "*", "B"]`` (RFC 6901 unescaping; ``properties`` dropped)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if not parts or parts[0] != "properties":
        raise ValueError(f"not a resource property pointer: {pointer!r}")
    return parts[1:]


def is_intrinsic(value: Any) -> bool:
    """A CloudFormation intrinsic function or ``Ref`` (``{"Ref": ...}``, ``{"Fn::GetAtt": ...}``, ...)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key == "Ref" or key.startswith("Fn::") or key == "Condition"


def value_at(properties: Any, pointer: str) -> Any:
    """The value that ``pointer`` selects in a resource's ``Properties``.

    ``*`` projects over a list (the result is the list of each element's value). An intrinsic
    function met before the pointer ends is returned whole: its value is unknown until deploy
    time, so it is compared structurally (a changed ``Ref`` target is a change). A pointer that
    leads nowhere gives :data:`MISSING`.
    """

    def walk(value: Any, parts: list[str]) -> Any:
        if not parts:
            return value
        if is_intrinsic(value):
            return value
        head, rest = parts[0], parts[1:]
        if head == "*":
            return [walk(item, rest) for item in value] if isinstance(value, list) else MISSING
        if isinstance(value, dict) and head in value:
            return walk(value[head], rest)
        return MISSING

    return walk(properties if properties is not None else {}, pointer_parts(pointer))
