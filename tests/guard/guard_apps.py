"""Small real CDK apps whose variants the guard tests synthesize and compare.

One app, many resources: every stateful type the guard checks, the access point and data repository
association beside them, a nested stack, a stage and a second stack. Each variant changes many
things at once, so a handful of synths covers every category (synthesis is the costly step):

``baseline``
    the app as deployed.
``replace``
    a create-only (or table-ruled) property changed on each stateful type, and a KMS key spec.
``benign``
    tags, new resources, mutable properties, equal values written differently, a nested stack
    whose template (and so asset hash) changes, an OpenSearch upgrade with ``EnableVersionUpgrade``.
``removed``
    a destroyed bucket, a retained bucket, an access point, the stage's stack, the nested stack.
``renamed``
    a renamed construct, a renamed stack, a resource moved between stacks, a renamed nested stack,
    and a retained bucket whose policies drop to Delete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

VARIANTS = ("baseline", "baseline_again", "replace", "benign", "removed", "renamed")
DATA = "GuardData"
MOVABLE = "GuardMovable"
MOVABLE_RENAMED = "GuardMovableV2"
LOGS = "Prod-GuardLogs"  # a stack inside a Stage: a nested cloud assembly
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]


# what `cdk synth` adds to the app's context: construct paths and asset paths in resource metadata
CLI_CONTEXT = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}


def build(outdir: Path, variant: str) -> None:
    """Synthesize one variant of the test app into ``outdir``, as ``cdk synth`` would.

    ``baseline_again`` is the baseline synthesized by ``app.synth()`` alone, without the CLI's
    metadata: comparing it with ``baseline`` is a metadata-only change, and its nested stack
    template is found through the asset manifest.
    """
    from aws_cdk import App, Stack, Stage, Tags

    assert variant in VARIANTS, variant
    app = App(outdir=str(outdir), context={} if variant == "baseline_again" else CLI_CONTEXT)
    data = Stack(app, DATA)
    movable = Stack(app, MOVABLE, stack_name=MOVABLE_RENAMED if variant == "renamed" else None)
    _data_stack(data, movable, variant)
    _movable_stack(movable, variant)
    if variant != "removed":
        logs_stack = Stack(Stage(app, "Prod"), "GuardLogs")
        _log_group(logs_stack, "TrainingLogs", destroy=True)
    if variant == "benign":
        for scope in (data, movable):
            Tags.of(scope).add("team", "ml-platform")
    app.synth()


def _log_group(scope: Any, cid: str, *, destroy: bool = False, name: str | None = None) -> Any:
    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_logs as logs

    policy = RemovalPolicy.DESTROY if destroy else RemovalPolicy.RETAIN
    return logs.LogGroup(scope, cid, removal_policy=policy, log_group_name=name)


def _data_stack(stack: Any, movable: Any, variant: str) -> None:
    from aws_cdk import NestedStack, RemovalPolicy
    from aws_cdk import aws_backup as backup
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sqs as sqs

    retain = RemovalPolicy.RETAIN
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["us-east-1a", "us-east-1b"],
        private_subnet_ids=SUBNETS,
    )
    key = kms.Key(stack, "DataKey", enable_key_rotation=True, removal_policy=retain)
    other_key = kms.Key(stack, "OtherKey", enable_key_rotation=True, removal_policy=retain)
    kms.Key(
        stack,
        "SigningKey",
        key_spec=kms.KeySpec.ECC_NIST_P384 if variant == "replace" else kms.KeySpec.ECC_NIST_P256,
        key_usage=kms.KeyUsage.SIGN_VERIFY,
        removal_policy=retain,
    )
    replaced_key = other_key if variant == "replace" else key

    _file_systems(stack, vpc, key, replaced_key, variant)

    # buckets: a destroyed one, a retained one, a fixed-name one
    if variant != "removed":
        s3.Bucket(stack, "Checkpoints", enforce_ssl=True, removal_policy=RemovalPolicy.DESTROY)
    datasets_id = "TrainingDatasets" if variant == "renamed" else "Datasets"
    if variant != "removed":
        s3.Bucket(stack, datasets_id, enforce_ssl=True, removal_policy=retain)
    s3.Bucket(
        stack,
        "Named",
        bucket_name="eks-ai-data-guard-named-bucket",
        enforce_ssl=True,
        removal_policy=RemovalPolicy.DESTROY if variant == "renamed" else retain,
        object_lock_enabled=variant == "replace" or None,
        versioned=variant in ("replace", "benign"),
    )

    # DynamoDB: the sort key is part of the key schema
    dynamodb.Table(
        stack,
        "Features",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING)
        if variant == "replace"
        else None,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=variant == "benign"
        ),
        removal_policy=retain,
    )

    _databases(stack, vpc, key, replaced_key, variant)

    # log groups, queue, stream, volume, backup vault and plan
    _log_group(stack, "AuditLogs", name="/guard/audit-v2" if variant == "replace" else None)
    sqs.Queue(stack, "Jobs", fifo=True if variant == "replace" else None, removal_policy=retain)
    _stream_and_volume(stack, variant)
    vault = backup.BackupVault(stack, "Vault", encryption_key=replaced_key, removal_policy=retain)
    plan = backup.BackupPlan(stack, "Plan", backup_vault=vault)
    rules = [backup.BackupPlanRule.daily()] if variant != "benign" else [backup.BackupPlanRule.weekly()]
    for rule in rules:
        plan.add_rule(rule)
    plan.add_selection("Selection", resources=[backup.BackupResource.from_tag("backup", "daily")])

    # a nested stack; renamed in one variant, removed in another
    if variant != "removed":
        nested = NestedStack(stack, "ArchiveNested" if variant == "renamed" else "Archive")
        s3.Bucket(nested, "Archive", enforce_ssl=True, removal_policy=RemovalPolicy.DESTROY)
        _log_group(nested, "ArchiveLogs", destroy=True)
        if variant == "benign":
            _log_group(nested, "ArchiveAudit", destroy=True)

    # the moved log group lives in GuardData, then in GuardMovable
    _log_group(movable if variant == "renamed" else stack, "JobLogs", destroy=True)
    if variant == "benign":
        s3.Bucket(stack, "Staging", enforce_ssl=True, removal_policy=RemovalPolicy.DESTROY)


def _file_systems(stack: Any, vpc: Any, key: Any, replaced_key: Any, variant: str) -> None:
    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_efs as efs
    from aws_cdk import aws_fsx as fsx

    retain = RemovalPolicy.RETAIN
    efs_fs = efs.FileSystem(
        stack,
        "Shared",
        vpc=vpc,
        kms_key=replaced_key,
        removal_policy=retain,
        throughput_mode=efs.ThroughputMode.ELASTIC if variant == "benign" else efs.ThroughputMode.BURSTING,
    )
    if variant != "removed":
        efs_fs.add_access_point(
            "Models",
            path="/models-v2" if variant == "replace" else "/models",
            create_acl=efs.Acl(owner_uid="1000", owner_gid="1000", permissions="750"),
            posix_user=efs.PosixUser(uid="1000", gid="1000"),
        )
    lustre = fsx.LustreFileSystem(
        stack,
        "Scratch",
        vpc=vpc,
        vpc_subnet=vpc.private_subnets[0],
        storage_capacity_gib=1200,
        kms_key=key,
        lustre_configuration=fsx.LustreConfiguration(
            deployment_type=fsx.LustreDeploymentType.PERSISTENT_2,
            per_unit_storage_throughput=250 if variant == "replace" else 125,
            weekly_maintenance_start_time=fsx.LustreMaintenanceTime(day=fsx.Weekday.SUNDAY, hour=2, minute=0)
            if variant == "benign"
            else None,
        ),
        removal_policy=retain,
    )
    if variant == "benign":
        lustre.connections.allow_from(ec2.Peer.ipv4("10.0.0.0/16"), ec2.Port.tcp(988))
        # the same throughput written as a string: CloudFormation reads both as 125
        lustre.node.default_child.add_property_override("LustreConfiguration.PerUnitStorageThroughput", "125")
    path = "/datasets-v2" if variant == "replace" else "/datasets"
    written = {"Fn::Join": ["", ["/data", "sets"]]} if variant == "benign" else path
    dra = fsx.CfnDataRepositoryAssociation(
        stack,
        "DatasetLink",
        file_system_id=lustre.file_system_id,
        file_system_path="/datasets",
        data_repository_path="s3://eks-ai-data-guard-datasets/train",
        batch_import_meta_data_on_create=True,
    )
    dra.add_property_override("FileSystemPath", written)


def _databases(stack: Any, vpc: Any, key: Any, replaced_key: Any, variant: str) -> None:
    from aws_cdk import CfnUpdatePolicy, Duration, RemovalPolicy
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_elasticache as elasticache
    from aws_cdk import aws_opensearchservice as opensearch
    from aws_cdk import aws_rds as rds

    subnets = ec2.SubnetSelection(subnets=vpc.private_subnets)
    # RDS for PostgreSQL: no DeletionPolicy of its own in one variant (CloudFormation's default applies)
    rds.DatabaseInstance(
        stack,
        "Metadata",
        engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16),
        vpc=vpc,
        vpc_subnets=subnets,
        storage_encrypted=True,
        storage_encryption_key=replaced_key,
        backup_retention=Duration.days(14 if variant == "benign" else 7),
        removal_policy=RemovalPolicy.RETAIN,
    )
    # Aurora PostgreSQL: a cluster and its writer instance
    rds.DatabaseCluster(
        stack,
        "Catalog",
        engine=rds.DatabaseClusterEngine.aurora_postgres(version=rds.AuroraPostgresEngineVersion.VER_16_1),
        writer=rds.ClusterInstance.serverless_v2("Writer"),
        vpc=vpc,
        vpc_subnets=subnets,
        storage_encryption_key=key,
        cluster_identifier="guard-catalog-v2" if variant == "replace" else None,
        removal_policy=RemovalPolicy.SNAPSHOT,
    )
    subnet_group = elasticache.CfnSubnetGroup(
        stack, "CacheSubnets", description="guard test", subnet_ids=SUBNETS
    )
    elasticache.CfnReplicationGroup(
        stack,
        "Sessions",
        replication_group_description="guard test",
        engine="redis",
        cache_node_type="cache.t4g.small",
        num_cache_clusters=2,
        cache_subnet_group_name=subnet_group.ref,
        at_rest_encryption_enabled=True,
        kms_key_id=replaced_key.key_arn,
        transit_encryption_enabled=True,
        snapshot_retention_limit=3 if variant == "benign" else 1,
    )
    elasticache.CfnServerlessCache(
        stack, "Prompts", engine="valkey", serverless_cache_name="guard-prompts", subnet_ids=SUBNETS
    )
    domain = opensearch.CfnDomain(
        stack,
        "Search",
        engine_version="OpenSearch_2.13" if variant in ("replace", "benign") else "OpenSearch_2.11",
        cluster_config=opensearch.CfnDomain.ClusterConfigProperty(
            instance_type="r6g.large.search", instance_count=1
        ),
        ebs_options=opensearch.CfnDomain.EBSOptionsProperty(
            ebs_enabled=True, volume_size=20, volume_type="gp3"
        ),
        encryption_at_rest_options=opensearch.CfnDomain.EncryptionAtRestOptionsProperty(
            enabled=True, kms_key_id=key.key_id
        ),
        node_to_node_encryption_options=opensearch.CfnDomain.NodeToNodeEncryptionOptionsProperty(
            enabled=True
        ),
        domain_endpoint_options=opensearch.CfnDomain.DomainEndpointOptionsProperty(enforce_https=True),
    )
    domain.apply_removal_policy(RemovalPolicy.RETAIN)
    if variant == "benign":
        domain.cfn_options.update_policy = CfnUpdatePolicy(enable_version_upgrade=True)


def _stream_and_volume(stack: Any, variant: str) -> None:
    from aws_cdk import RemovalPolicy, Size
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kinesis as kinesis

    kinesis.Stream(
        stack,
        "Events",
        stream_name="guard-events-v2" if variant == "replace" else None,
        removal_policy=RemovalPolicy.RETAIN,
    )
    ec2.Volume(
        stack,
        "Scratchpad",
        availability_zone="us-east-1b" if variant == "replace" else "us-east-1a",
        size=Size.gibibytes(100),
        encrypted=True,
        removal_policy=RemovalPolicy.SNAPSHOT,
    )


def _movable_stack(stack: Any, variant: str) -> None:
    from aws_cdk import RemovalPolicy
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_s3 as s3

    s3.Bucket(stack, "Exports", enforce_ssl=True, removal_policy=RemovalPolicy.RETAIN)
    dynamodb.Table(
        stack,
        "Runs",
        partition_key=dynamodb.Attribute(name="run", type=dynamodb.AttributeType.STRING),
        table_name="guard-runs",
        removal_policy=RemovalPolicy.RETAIN,
    )
