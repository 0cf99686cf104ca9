"""The replacement guard's sources of truth: schemas, the CDK service database, the rule table, values.

The guard on real synthesized assembly pairs is tested in tests/guard/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eks_ai_data.guard_rules import RULES, Change, judge, rules_for
from eks_ai_data.guard_values import normalize, same_value
from eks_ai_data.stateful import (
    GUARDED_RESOURCE_TYPES,
    IDENTITY_RESOURCE_TYPES,
    MISSING,
    PHYSICAL_NAME_PROPERTIES,
    SNAPSHOT_TYPES,
    STATEFUL_RESOURCE_TYPES,
    cdk_replacement_kinds,
    cdk_replacement_properties,
    conditional_create_only_properties,
    create_only_properties,
    effective_policy,
    find_cdk_service_spec,
    pointer_parts,
    replacement_properties,
    value_at,
)

# --------------------------------------------------------------------------- schema sources


def test_efs_create_only_properties_come_from_cfn_lint_schema():
    props = create_only_properties("AWS::EFS::FileSystem")
    assert "/properties/KmsKeyId" in props
    assert "/properties/PerformanceMode" in props
    assert "/properties/ThroughputMode" not in props  # updatable in place


def test_fsx_schema_omits_nested_lustre_properties_that_cdk_spec_declares():
    schema_props = create_only_properties("AWS::FSx::FileSystem")
    assert {"/properties/KmsKeyId", "/properties/SubnetIds", "/properties/FileSystemType"} <= schema_props
    # cfn-lint 1.58's schema (like the registry's) names no LustreConfiguration property at all,
    # although changing the deployment type replaces the file system; the CDK database has it
    spec = find_cdk_service_spec()
    assert spec is not None, "the project's pinned CDK CLI (node_modules/aws-cdk) is needed"
    assert "/properties/LustreConfiguration/DeploymentType" in cdk_replacement_properties(
        "AWS::FSx::FileSystem", spec
    )
    merged = replacement_properties("AWS::FSx::FileSystem", spec)
    assert "CDK service spec" in merged["/properties/LustreConfiguration/DeploymentType"]
    assert merged["/properties/KmsKeyId"] == ("cfn-lint schema", "CDK service spec")
    assert replacement_properties("AWS::FSx::FileSystem", None) == {
        p: ("cfn-lint schema",) for p in sorted(schema_props)
    }


def test_unknown_type_has_no_create_only_properties():
    assert create_only_properties("Example::Not::ARealType") == frozenset()


def test_every_stateful_type_is_known_to_the_provider_schemas():
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    for rtype in sorted(GUARDED_RESOURCE_TYPES):
        assert PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", rtype).type_name == rtype


def test_stateful_set_is_data_holding_types_only():
    assert {"AWS::FSx::FileSystem", "AWS::EFS::FileSystem", "AWS::S3::Bucket", "AWS::KMS::Key"} <= (
        STATEFUL_RESOURCE_TYPES
    )
    assert "AWS::SNS::Topic" not in STATEFUL_RESOURCE_TYPES
    assert "AWS::EC2::SecurityGroup" not in STATEFUL_RESOURCE_TYPES


def test_value_at_follows_nested_list_and_intrinsic_values():
    props = {
        "LustreConfiguration": {"DeploymentType": "SCRATCH_2"},
        "Policies": [{"PolicyArn": "a"}, {"Other": 1}],
        "KmsKeyId": {"Fn::GetAtt": ["DataKey", "Arn"]},
        "Config": {"Fn::If": ["C", {"X": 1}, {"Ref": "AWS::NoValue"}]},
    }
    assert value_at(props, "/properties/LustreConfiguration/DeploymentType") == "SCRATCH_2"
    assert value_at(props, "/properties/Policies/*/PolicyArn") == ["a", MISSING]
    assert value_at(props, "/properties/KmsKeyId") == {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert value_at(props, "/properties/Config/X") == props["Config"]  # unresolved until deploy
    assert value_at(props, "/properties/Absent/Deeper") is MISSING
    assert value_at(None, "/properties/KmsKeyId") is MISSING
    assert pointer_parts("/properties/A~1B/~0C") == ["A/B", "~C"]
    with pytest.raises(ValueError, match="not a resource property pointer"):
        pointer_parts("/Type")


def test_guard_modules_start_without_aws_cdk_or_cfn_lint():
    code = (
        "import sys, eks_ai_data.guard, eks_ai_data.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'cfnlint', 'constructs'}))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "constructs")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- the stateful set


def test_identity_types_are_guarded_but_not_data_holding():
    assert set(IDENTITY_RESOURCE_TYPES) == {"AWS::EFS::AccessPoint", "AWS::FSx::DataRepositoryAssociation"}
    assert not set(IDENTITY_RESOURCE_TYPES) & STATEFUL_RESOURCE_TYPES
    assert GUARDED_RESOURCE_TYPES == STATEFUL_RESOURCE_TYPES | set(IDENTITY_RESOURCE_TYPES)
    # backup plans and selections hold no recovery points: the vault does
    assert "AWS::Backup::BackupVault" in STATEFUL_RESOURCE_TYPES
    assert not {"AWS::Backup::BackupPlan", "AWS::Backup::BackupSelection"} & GUARDED_RESOURCE_TYPES


def test_physical_name_properties_are_create_only_properties_of_guarded_types():
    for rtype, prop in PHYSICAL_NAME_PROPERTIES.items():
        assert rtype in GUARDED_RESOURCE_TYPES
        assert f"/properties/{prop}" in create_only_properties(rtype), rtype


def test_effective_policies_follow_cloudformation_defaults():
    def policy(rtype, attribute="DeletionPolicy", value=None, **props):
        resource = {"Type": rtype, "Properties": props}
        if value is not None:
            resource[attribute] = value
        return effective_policy(resource, attribute)

    assert policy("AWS::S3::Bucket") == "Delete"
    assert policy("AWS::RDS::DBCluster") == "Snapshot"  # CloudFormation's default for clusters
    assert policy("AWS::RDS::DBInstance") == "Snapshot"
    assert policy("AWS::RDS::DBInstance", DBClusterIdentifier={"Ref": "Cluster"}) == "Delete"
    assert policy("AWS::RDS::DBCluster", "UpdateReplacePolicy") == "Delete"  # the exception is for deletion
    assert policy("AWS::S3::Bucket", value="Snapshot") == "Delete"  # no snapshots: falls back
    assert policy("AWS::EC2::Volume", value="Snapshot") == "Snapshot"
    assert policy("AWS::S3::Bucket", value="RetainExceptOnCreate") == "RetainExceptOnCreate"
    assert policy("AWS::S3::Bucket", value={"Fn::If": ["C", "Retain", "Delete"]}) == "Delete"
    assert "AWS::DocDB::DBCluster" in SNAPSHOT_TYPES and "AWS::S3::Bucket" not in SNAPSHOT_TYPES


# --------------------------------------------------------------------------- conditional sources and rules


def test_conditional_sources_are_labelled_apart():
    spec = find_cdk_service_spec()
    assert spec is not None
    rds = replacement_properties("AWS::RDS::DBInstance", spec)
    assert rds["/properties/BackupRetentionPeriod"] == (
        "cfn-lint schema (conditional)",
        "CDK service spec (maybe)",
    )
    assert rds["/properties/StorageEncrypted"] == ("cfn-lint schema", "CDK service spec")
    assert cdk_replacement_kinds("AWS::RDS::DBInstance", spec)["/properties/MultiAZ"] == "maybe"
    assert "/properties/Engine" in conditional_create_only_properties("AWS::RDS::DBInstance")


def _change(rtype, pointer, old, new, old_props=None, new_props=None, update_policy=None):
    new_resource = {"Type": rtype, "Properties": new_props or {}}
    if update_policy:
        new_resource["UpdatePolicy"] = update_policy
    return Change(pointer, old, new, {"Type": rtype, "Properties": old_props or {}}, new_resource)


@pytest.mark.parametrize(
    ("rtype", "pointer", "old", "new", "context", "outcome"),
    [
        ("AWS::RDS::DBInstance", "/properties/Engine", "postgres", "mysql", {}, "replaces"),
        ("AWS::RDS::DBInstance", "/properties/Engine", "oracle-ee", "oracle-ee-cdb", {}, "updates"),
        ("AWS::RDS::DBInstance", "/properties/BackupRetentionPeriod", 7, 14, {}, "updates"),
        ("AWS::RDS::DBInstance", "/properties/AvailabilityZone", "us-east-1a", "us-east-1b", {}, "replaces"),
        (
            "AWS::RDS::DBInstance",
            "/properties/AvailabilityZone",
            "us-east-1a",
            MISSING,
            {"MultiAZ": True},
            "updates",
        ),
        ("AWS::RDS::DBInstance", "/properties/SourceDBInstanceIdentifier", "db-a", MISSING, {}, "updates"),
        ("AWS::RDS::DBInstance", "/properties/SourceDBInstanceIdentifier", "db-a", "db-b", {}, "replaces"),
        ("AWS::RDS::DBInstance", "/properties/DBSnapshotIdentifier", "snap-a", MISSING, {}, "replaces"),
        ("AWS::RDS::DBInstance", "/properties/PerformanceInsightsKMSKeyId", MISSING, "k", {}, "updates"),
        ("AWS::RDS::DBInstance", "/properties/PerformanceInsightsKMSKeyId", "k1", "k2", {}, "replaces"),
        ("AWS::RDS::DBCluster", "/properties/Engine", "aurora", "aurora-mysql", {}, "updates"),
        ("AWS::RDS::DBCluster", "/properties/GlobalClusterIdentifier", "g1", MISSING, {}, "updates"),
        ("AWS::ElastiCache::ReplicationGroup", "/properties/AuthToken", MISSING, "t" * 16, {}, "replaces"),
        ("AWS::ElastiCache::ReplicationGroup", "/properties/AuthToken", "a" * 16, "b" * 16, {}, "updates"),
        (
            "AWS::OpenSearchService::Domain",
            "/properties/EncryptionAtRestOptions/KmsKeyId",
            MISSING,
            "k",
            {},
            "updates",
        ),
        (
            "AWS::OpenSearchService::Domain",
            "/properties/EncryptionAtRestOptions/KmsKeyId",
            "k1",
            "k2",
            {},
            "replaces",
        ),
        (
            "AWS::OpenSearchService::Domain",
            "/properties/AdvancedSecurityOptions/Enabled",
            False,
            True,
            {},
            "updates",
        ),
        (
            "AWS::OpenSearchService::Domain",
            "/properties/AdvancedSecurityOptions/Enabled",
            True,
            False,
            {},
            "replaces",
        ),
        ("AWS::KMS::Key", "/properties/KeyUsage", "ENCRYPT_DECRYPT", "SIGN_VERIFY", {}, "fails"),
    ],
)
def test_rule_table(rtype, pointer, old, new, context, outcome):
    verdict = judge(rules_for(rtype), _change(rtype, pointer, old, new, new_props=context))
    assert verdict is not None and verdict[0] == outcome


def test_update_policies_decide_version_upgrades_and_resharding():
    domain = "AWS::OpenSearchService::Domain"
    change = _change(domain, "/properties/EngineVersion", "OpenSearch_2.11", "OpenSearch_2.13")
    assert judge(rules_for(domain), change)[0] == "replaces"
    upgrade = _change(
        domain,
        "/properties/EngineVersion",
        "OpenSearch_2.11",
        "OpenSearch_2.13",
        update_policy={"EnableVersionUpgrade": True},
    )
    assert judge(rules_for(domain), upgrade)[0] == "updates"
    group = "AWS::ElastiCache::ReplicationGroup"
    online = _change(group, "/properties/NumNodeGroups", 2, 3, update_policy={"UseOnlineResharding": "true"})
    assert judge(rules_for(group), online)[0] == "updates"
    assert judge(rules_for(group), _change(group, "/properties/NumNodeGroups", 2, 3))[0] == "replaces"


def test_dynamodb_attribute_retyping_replaces_but_adding_one_does_not():
    table = "AWS::DynamoDB::Table"
    old = [{"AttributeName": "pk", "AttributeType": "S"}]
    added = [*old, {"AttributeName": "gsi", "AttributeType": "N"}]
    retyped = [{"AttributeName": "pk", "AttributeType": "N"}]
    assert (
        judge(rules_for(table), _change(table, "/properties/AttributeDefinitions", old, added))[0]
        == "updates"
    )
    assert (
        judge(rules_for(table), _change(table, "/properties/AttributeDefinitions", old, retyped))[0]
        == "replaces"
    )


def test_a_rule_covers_the_properties_below_its_pointer():
    table = "AWS::DynamoDB::GlobalTable"
    change = _change(table, "/properties/GlobalSecondaryIndexes/*/KeySchema/*/AttributeName", ["a"], ["b"])
    assert judge(rules_for(table), change)[0] == "updates"
    assert (
        judge(rules_for("AWS::S3::Bucket"), _change("AWS::S3::Bucket", "/properties/BucketName", "a", "b"))
        is None
    )


def test_every_rule_names_a_source_and_a_property_of_its_type():
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    for rule in RULES:
        assert rule.source and rule.because, rule
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", rule.resource_type).schema
        top = pointer_parts(rule.pointer)[0]
        assert top in schema["properties"], (rule.resource_type, rule.pointer)


def test_values_compare_as_cloudformation_reads_them():
    assert same_value(125, "125") and same_value(True, "true") and same_value(1.0, 1)
    assert not same_value("125", 250)
    assert same_value({"Fn::Join": ["", ["/data", "sets"]]}, "/datasets")
    assert same_value({"Fn::Sub": "plain"}, "plain")
    assert not same_value({"Fn::Sub": "${AWS::Region}"}, "us-east-1")
    assert same_value({"Ref": "AWS::NoValue"}, MISSING)
    assert same_value({"A": 1, "B": {"Ref": "AWS::NoValue"}}, {"A": "1"})
    assert not same_value({"Fn::GetAtt": ["KeyA", "Arn"]}, {"Fn::GetAtt": ["KeyB", "Arn"]})
    assert not same_value(["a", "b"], ["b", "a"])  # CloudFormation lists are ordered
    assert normalize({"Fn::Join": ["-", ["a", {"Ref": "X"}]]}) == {"Fn::Join": ["-", ["a", {"Ref": "X"}]]}
