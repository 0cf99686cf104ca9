"""Which CloudFormation resources hold data, and which property changes replace them (layer 1: no CDK import).

A resource is *stateful* when deleting or replacing it loses data or makes data unreadable: file
systems, volumes, buckets, databases, queues and streams, backup vaults, log groups, and KMS keys
(a deleted key leaves everything encrypted under it unreadable). The set follows the AWS CDK
service database's ``isStateful`` classification, without the two entries that are not data stores
(``AWS::CloudFormation::Stack``, ``AWS::Organizations::Account``), and adds the data-holding
types it omits that matter to AI data platforms (S3 Express One Zone directory buckets, FSx ONTAP and
OpenZFS volumes, KMS replica keys, logically air-gapped backup vaults). SNS topics are not in it:
a topic holds no data at rest, and a replaced topic loses only subscriptions, which CDK recreates.

A property change *replaces* a resource when the property is create-only. Two machine-readable
sources say which properties are:

- the CloudFormation resource provider schemas that cfn-lint ships (``createOnlyProperties``,
  JSON pointers such as ``/properties/KmsKeyId``), read by :func:`create_only_properties`;
- the AWS CDK CLI's service database (``aws-cdk/db.json.gz``, what ``cdk diff`` uses to print
  "requires replacement"), read by :func:`cdk_replacement_properties`. The provider schemas of
  legacy resource types omit nested create-only properties: the schema of ``AWS::FSx::FileSystem``
  names no ``LustreConfiguration`` property although changing its ``DeploymentType`` replaces the
  file system. The CDK database carries those, from the older CloudFormation resource specification.

:func:`replacement_properties` is the union of the two.
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
    }
)
"""CloudFormation types whose deletion or replacement loses data or makes it unreadable."""

RETAINING_POLICIES: frozenset[str] = frozenset({"Retain", "RetainExceptOnCreate"})
"""DeletionPolicy / UpdateReplacePolicy values that keep the physical resource."""

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
def cdk_replacement_properties(resource_type: str, spec_path: Path) -> frozenset[str]:
    """Pointers of the properties that the CDK service database marks as causing replacement.

    ``causesReplacement`` of ``yes`` or ``maybe``, at any depth; arrays and maps are crossed with
    ``*`` as in the provider schemas. Raises :class:`ServiceSpecError` if the file is unreadable.
    """
    resources, types = _load_cdk_spec(spec_path)
    found: set[str] = set()

    def walk(properties: dict[str, Any], prefix: str, seen: frozenset[str]) -> None:
        for name, prop in properties.items():
            pointer = f"{prefix}/{name}"
            if prop.get("causesReplacement") in ("yes", "maybe"):
                found.add(pointer)
            for ref, suffix in _type_refs(prop.get("type")):
                if ref in types and ref not in seen:
                    walk(types[ref], pointer + suffix, seen | {ref})

    try:
        walk(resources.get(resource_type, {}), "/properties", frozenset())
    except (KeyError, TypeError, AttributeError) as exc:
        raise ServiceSpecError(f"{spec_path}: {resource_type}: {exc}") from exc
    return frozenset(found)


def replacement_properties(resource_type: str, spec_path: Path | None) -> dict[str, tuple[str, ...]]:
    """Every pointer whose change replaces ``resource_type``, with the sources that say so."""
    sources: dict[str, list[str]] = {}
    for pointer in create_only_properties(resource_type):
        sources.setdefault(pointer, []).append("cfn-lint schema")
    if spec_path is not None:
        for pointer in cdk_replacement_properties(resource_type, spec_path):
            sources.setdefault(pointer, []).append("CDK service spec")
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
