"""What the machine-readable sources miss about replacement: conditions and documented gaps (no CDK import).

:mod:`eks_ai_data.stateful` reads which properties are create-only or conditionally create-only.
For a *conditional* property the sources do not say when the change replaces the resource, and a
few documented replacements (or refused updates) are in neither source. Each :class:`Rule` here
judges one property of one type from the old and new resources; every rule names its source.

A changed property with rules is judged by them: the first rule whose condition holds gives the
outcome, and when none holds the change is an in-place update. A conditional property without a
rule fails as ``may-replace`` (the guard cannot prove it safe; ``cdk diff`` says "may be replaced").
A property in neither source nor table is an update.

Values are compared as CloudFormation reads them (:mod:`eks_ai_data.guard_values`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from eks_ai_data.guard_values import is_true, normalize, present, same_value, text
from eks_ai_data.stateful import value_at

Outcome = Literal["replaces", "fails", "updates"]

_RDS_HANDLER = (
    "aws-cloudformation-resource-providers-rds, aws-rds-dbinstance/src/main/java/software/amazon/rds/"
    "dbinstance/util/ImmutabilityHelper.java (isChangeMutable)"
)
_RDS_CLUSTER_HANDLER = (
    "aws-cloudformation-resource-providers-rds, aws-rds-dbcluster/src/main/java/software/amazon/rds/"
    "dbcluster/util/ImmutabilityHelper.java (isChangeMutable)"
)


@dataclass(frozen=True)
class Change:
    """One property that differs between the old and the new resource."""

    pointer: str
    old: Any
    new: Any
    old_resource: dict[str, Any]
    new_resource: dict[str, Any]

    def new_at(self, pointer: str) -> Any:
        return value_at(self.new_resource.get("Properties"), pointer)

    def old_at(self, pointer: str) -> Any:
        return value_at(self.old_resource.get("Properties"), pointer)

    def update_policy(self, name: str) -> Any:
        return (self.new_resource.get("UpdatePolicy") or {}).get(name)


@dataclass(frozen=True)
class Rule:
    """When a change of ``pointer`` (or of anything below it) on ``resource_type`` replaces it."""

    resource_type: str
    pointer: str
    outcome: Outcome
    when: Callable[[Change], bool]
    because: str
    source: str

    def covers(self, pointer: str) -> bool:
        return pointer == self.pointer or pointer.startswith(self.pointer + "/")


# --------------------------------------------------------------------------- conditions


def _always(_change: Change) -> bool:
    return True


def _set_to_a_value(change: Change) -> bool:
    return present(change.new)


def _unless_promotion(change: Change) -> bool:
    return present(change.new)  # removing the source promotes the replica in place


def _once_set(change: Change) -> bool:
    return present(change.old)


def _added(change: Change) -> bool:
    return not present(change.old) and present(change.new)


def _removed(change: Change) -> bool:
    return present(change.old) and not present(change.new)


def _no_version_upgrade(change: Change) -> bool:
    return not is_true(change.update_policy("EnableVersionUpgrade"))


def _no_online_resharding(change: Change) -> bool:
    return not is_true(change.update_policy("UseOnlineResharding"))


def _disabled(change: Change) -> bool:
    return is_true(change.old) and not is_true(change.new)


# in-place engine changes the RDS handler allows (ImmutabilityHelper.isEngineMutable)
_RDS_ENGINE_MOVES = {
    ("aurora", "aurora-mysql"),
    ("oracle-se", "oracle-se2"),
    ("oracle-se1", "oracle-se2"),
    ("oracle-ee", "oracle-ee-cdb"),
    ("oracle-se2", "oracle-se2-cdb"),
}


def _instance_engine_change(change: Change) -> bool:
    return (text(change.old), text(change.new)) not in _RDS_ENGINE_MOVES


def _cluster_engine_change(change: Change) -> bool:
    return (text(change.old), text(change.new)) != ("aurora", "aurora-mysql")


def _zone_change(change: Change) -> bool:
    # moving to Multi-AZ and dropping the zone is an in-place change
    return not (not present(change.new) and is_true(change.new_at("/properties/MultiAZ")))


def _no_preferred_zones(change: Change) -> bool:
    zones = ("/properties/PreferredAvailabilityZone", "/properties/PreferredAvailabilityZones")
    return not any(present(change.old_at(z)) or present(change.new_at(z)) for z in zones)


def _attribute_retyped(change: Change) -> bool:
    def types(value: Any) -> dict[str, Any]:
        value = normalize(value)
        if not isinstance(value, list):
            return {}
        return {
            a["AttributeName"]: a.get("AttributeType")
            for a in value
            if isinstance(a, dict) and isinstance(a.get("AttributeName"), str)
        }

    old, new = types(change.old), types(change.new)
    return any(name in new and not same_value(kind, new[name]) for name, kind in old.items())


# --------------------------------------------------------------------------- the table

_CFN_REF = "AWS CloudFormation resource reference"


def _rules() -> list[Rule]:
    r = Rule
    inst, cluster = "AWS::RDS::DBInstance", "AWS::RDS::DBCluster"
    rules = [
        # RDS DB instances: the handler's immutability checks decide the conditional properties
        r(
            inst,
            "/properties/Engine",
            "replaces",
            _instance_engine_change,
            "an engine change other than the in-place moves the RDS handler allows",
            _RDS_HANDLER,
        ),
        r(
            inst,
            "/properties/PerformanceInsightsKMSKeyId",
            "replaces",
            _once_set,
            "the Performance Insights key cannot change once set",
            _RDS_HANDLER,
        ),
        r(
            inst,
            "/properties/AvailabilityZone",
            "replaces",
            _zone_change,
            "a new Availability Zone (dropping it for MultiAZ is in place)",
            _RDS_HANDLER,
        ),
        r(
            inst,
            "/properties/SourceDBInstanceIdentifier",
            "replaces",
            _unless_promotion,
            "a new read-replica source (removing it promotes the replica in place)",
            _RDS_HANDLER,
        ),
        r(
            inst,
            "/properties/SourceDBClusterIdentifier",
            "replaces",
            _unless_promotion,
            "a new source cluster (removing it promotes the replica in place)",
            _RDS_HANDLER,
        ),
        # the handler allows removing DBSnapshotIdentifier, the reference says an empty instance replaces
        # the restored one: the guard follows the reference
        r(
            inst,
            "/properties/DBSnapshotIdentifier",
            "replaces",
            _always,
            "a changed or removed restore snapshot creates a new instance and deletes the old one",
            f"{_CFN_REF}, AWS::RDS::DBInstance DBSnapshotIdentifier",
        ),
    ]
    rules += [
        r(
            inst,
            f"/properties/{name}",
            "replaces",
            _set_to_a_value,
            f"a new {name} restores a new instance",
            _RDS_HANDLER,
        )
        for name in (
            "DBClusterSnapshotIdentifier",
            "RestoreTime",
            "SourceDBInstanceAutomatedBackupsArn",
            "SourceDbiResourceId",
        )
    ]
    rules += [
        r(
            inst,
            "/properties/UseLatestRestorableTime",
            "replaces",
            lambda c: is_true(c.new),
            "turning on UseLatestRestorableTime restores a new instance",
            _RDS_HANDLER,
        ),
    ]
    rules += [
        # conditional in the schema, but no immutability check in the handler: modified in place
        r(inst, f"/properties/{name}", "updates", _always, "modified in place", _RDS_HANDLER)
        for name in (
            "AutoMinorVersionUpgrade",
            "BackupRetentionPeriod",
            "DBParameterGroupName",
            "MultiAZ",
            "PreferredMaintenanceWindow",
            "StorageType",
        )
    ]
    rules += [
        r(
            cluster,
            "/properties/Engine",
            "replaces",
            _cluster_engine_change,
            "an engine change other than aurora to aurora-mysql",
            _RDS_CLUSTER_HANDLER,
        ),
        r(
            cluster,
            "/properties/GlobalClusterIdentifier",
            "replaces",
            _set_to_a_value,
            "joining another global cluster (leaving one is in place)",
            _RDS_CLUSTER_HANDLER,
        ),
        # ElastiCache
        r(
            "AWS::ElastiCache::ReplicationGroup",
            "/properties/AuthToken",
            "replaces",
            _added,
            "adding an auth token",
            f"{_CFN_REF}, AWS::ElastiCache::ReplicationGroup AuthToken",
        ),
        r(
            "AWS::ElastiCache::ReplicationGroup",
            "/properties/NodeGroupConfiguration",
            "replaces",
            _no_online_resharding,
            "resharding without the UseOnlineResharding update policy",
            f"{_CFN_REF}, AWS::ElastiCache::ReplicationGroup NodeGroupConfiguration",
        ),
        r(
            "AWS::ElastiCache::ReplicationGroup",
            "/properties/NumNodeGroups",
            "replaces",
            _no_online_resharding,
            "resharding without the UseOnlineResharding update policy",
            f"{_CFN_REF}, AWS::ElastiCache::ReplicationGroup NumNodeGroups",
        ),
        r(
            "AWS::ElastiCache::CacheCluster",
            "/properties/NumCacheNodes",
            "replaces",
            _no_preferred_zones,
            "a node count change with no preferred Availability Zones",
            f"{_CFN_REF}, AWS::ElastiCache::CacheCluster NumCacheNodes",
        ),
        # OpenSearch and Elasticsearch domains
        r(
            "AWS::OpenSearchService::Domain",
            "/properties/EngineVersion",
            "replaces",
            _no_version_upgrade,
            "a version change without the EnableVersionUpgrade update policy",
            f"{_CFN_REF}, AWS::OpenSearchService::Domain EngineVersion",
        ),
        r(
            "AWS::Elasticsearch::Domain",
            "/properties/ElasticsearchVersion",
            "replaces",
            _no_version_upgrade,
            "a version change without the EnableVersionUpgrade update policy",
            f"{_CFN_REF}, AWS::Elasticsearch::Domain ElasticsearchVersion",
        ),
        r(
            "AWS::OpenSearchService::Domain",
            "/properties/VPCOptions",
            "replaces",
            _removed,
            "removing the VPC options (moving to a public endpoint)",
            f"{_CFN_REF}, AWS::OpenSearchService::Domain VPCOptions",
        ),
        r(
            "AWS::OpenSearchService::Domain",
            "/properties/EncryptionAtRestOptions/Enabled",
            "replaces",
            _once_set,
            "changing encryption at rest once it is set",
            f"{_CFN_REF}, AWS::OpenSearchService::Domain EncryptionAtRestOptions",
        ),
        r(
            "AWS::OpenSearchService::Domain",
            "/properties/EncryptionAtRestOptions/KmsKeyId",
            "replaces",
            _once_set,
            "changing the encryption key once it is set",
            f"{_CFN_REF}, AWS::OpenSearchService::Domain EncryptionAtRestOptions",
        ),
        r(
            "AWS::OpenSearchService::Domain",
            "/properties/AdvancedSecurityOptions/Enabled",
            "replaces",
            _disabled,
            "turning fine-grained access control off (turning it on is in place)",
            "conditionalCreateOnlyProperties of the provider schema; Amazon OpenSearch Service Developer "
            "Guide, fine-grained access control",
        ),
        # DynamoDB
        r(
            "AWS::DynamoDB::Table",
            "/properties/AttributeDefinitions",
            "replaces",
            _attribute_retyped,
            "an existing attribute definition changes its type",
            f"{_CFN_REF}, AWS::DynamoDB::Table AttributeDefinitions",
        ),
        r(
            "AWS::DynamoDB::GlobalTable",
            "/properties/GlobalSecondaryIndexes",
            "updates",
            _always,
            "indexes are added or deleted in place",
            f"{_CFN_REF}, AWS::DynamoDB::GlobalTable GlobalSecondaryIndexes",
        ),
    ]
    # documented "update fails" properties that no machine-readable source marks
    for name in ("KeySpec", "KeyUsage", "MultiRegion"):
        rules.append(
            r(
                "AWS::KMS::Key",
                f"/properties/{name}",
                "fails",
                _always,
                f"KMS refuses to change {name} of an existing key, whatever the UpdateReplacePolicy",
                f"{_CFN_REF}, AWS::KMS::Key {name}",
            )
        )
    for name in ("AvailabilityZone", "Encrypted", "KmsKeyId", "SnapshotId"):
        rules.append(
            r(
                "AWS::EC2::Volume",
                f"/properties/{name}",
                "fails",
                _always,
                f"CloudFormation does not support updating {name} of a volume",
                f"{_CFN_REF}, AWS::EC2::Volume {name} (Updates are not supported)",
            )
        )
    return rules


RULES: tuple[Rule, ...] = tuple(_rules())
"""The explicit table, in evaluation order."""


def rules_for(resource_type: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in RULES if rule.resource_type == resource_type)


def judge(rules: tuple[Rule, ...], change: Change) -> tuple[Outcome, Rule] | None:
    """The outcome the table gives ``change``, or None when no rule covers its property."""
    covering = [rule for rule in rules if rule.covers(change.pointer)]
    if not covering:
        return None
    for rule in covering:
        if rule.when(change):
            return rule.outcome, rule
    return "updates", covering[0]
