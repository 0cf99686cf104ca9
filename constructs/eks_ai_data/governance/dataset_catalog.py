"""An AWS Glue Data Catalog of a platform's datasets, kept current by crawlers (:class:`DatasetCatalog`)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import ArnFormat, Names, RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._nag import acknowledge, acknowledge_inline_policy, nag_flatten
from .._validate import (
    BUCKET,
    GRANTABLE,
    KEY,
    fail,
    require,
    require_bool,
    require_enum,
    require_resource,
    unresolved,
)
from ..bucket import DataBucket
from ..errors import require_items
from ..schedule import CronSchedule, glue_schedule_problem, parse_schedule

#: Database and table names Athena can query without quoting: lowercase letters, digits and underscores (Athena
#: user guide, "Name databases, tables, and columns"; Glue itself lowercases names and allows 255 characters).
NAME = re.compile(r"^[a-z0-9_]{1,255}$")
DATASET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: What a crawler reads and writes in the catalog (AWS Glue developer guide, "Step 2: Create an IAM role for AWS
#: Glue" and the AWSGlueServiceRole policy's Glue actions, narrowed to tables: no delete, the schema change policy
#: only logs deletions).
CRAWLER_CATALOG_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
    "glue:BatchUpdatePartition",
)
#: What a reader of the catalog needs to resolve a table to its S3 location and partitions.
READ_CATALOG_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
)
#: A crawler with a security configuration logs to ``/aws-glue/crawlers-role/<role name>-<configuration name>``
#: and associates the configuration's key with that group (AWS Glue developer guide, "Encrypting data written by
#: crawlers, jobs, and development endpoints"; ``logs:AssociateKmsKey`` is not in AWSGlueServiceRole).
CRAWLER_LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:AssociateKmsKey",
)


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: a key prefix that one crawler turns into tables.

    :param name: the dataset's name: a lowercase letter, then up to 62 lowercase letters, digits or ``_``; its
        tables are named ``<name>_<directory>``.
    :param bucket: the bucket (a :class:`~eks_ai_data.bucket.DataBucket` or any ``s3.IBucket``).
    :param prefix: the key prefix, like ``datasets/imagenet/``: no leading ``/``, ending in ``/``.
    :param schedule: when the crawler runs, a ``cron(...)`` expression (UTC; Glue takes no ``rate``).
        Default: daily at 03:00 UTC.
    """

    name: str
    bucket: DataBucket | s3.IBucket
    prefix: str
    schedule: str = "cron(0 3 * * ? *)"


class DatasetCatalog(Construct):
    """A Glue database of the platform's datasets, a scheduled crawler per dataset prefix, and read grants.

    - The database (``database_name``, Athena-compatible) holds the tables the crawlers write.
    - Each dataset gets a crawler with a role of its own: read its prefix (and decrypt through S3 with the bucket's
      key), create and update tables named ``<dataset>_*`` and their partitions in this database only, and write
      its log group. Deleted objects are logged, not deleted from the catalog (``DeleteBehavior: LOG``).
    - One Glue security configuration encrypts what the crawlers write: CloudWatch Logs (SSE-KMS), S3 (SSE-KMS)
      and job bookmarks (CSE-KMS), all with ``key`` (the data key, whose policy already admits CloudWatch Logs for
      this account's log groups). Each crawler's log group is created by the stack, encrypted with ``key``, kept
      ``log_retention`` and retained.
    - :meth:`grant_read` lets a training identity resolve the tables and read their S3 locations.
    - ``register_with_lake_formation=True`` registers each dataset location with Lake Formation through a role of
      its own. Lake Formation needs more that this construct does not decide for you: data lake administrators
      (``AWS::LakeFormation::DataLakeSettings`` is one per account and Region: creating it here would replace the
      account's), and Lake Formation grants for the crawler roles and readers (``AWS::LakeFormation::
      PrincipalPermissions``), until which the default ``IAMAllowedPrincipals`` grants keep IAM in charge.

    :param key: KMS key of the security configuration and the log groups (e.g. ``DataKeys.data_key``). Required.
    :param database_name: Default: derived from the construct path (lowercased, ``_`` for other characters).
    :param description: Default: names the construct.
    :param datasets: datasets to crawl now; more with :meth:`add_dataset`. Default: none.
    :param register_with_lake_formation: Default: ``False``.
    :param log_retention: retention of the crawler log groups. Default: one year.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        database_name: str | None = None,
        description: str | None = None,
        datasets: Sequence[DatasetSpec] = (),
        register_with_lake_formation: bool = False,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, id)
        if key is None:
            raise fail(self, "key", None, "is required: the catalog's customer-managed KMS key")
        require_resource(self, "key", key, *KEY)
        require_bool(self, "register_with_lake_formation", register_with_lake_formation)
        require_enum(self, "log_retention", log_retention, logs.RetentionDays)
        # Glue DatabaseInput Description: at most 2048 characters (Glue API reference, DatabaseInput)
        if description is not None and not unresolved(description):
            require(
                self,
                isinstance(description, str) and len(description) <= 2048,
                "description",
                description,
                "must be a string of at most 2048 characters (Glue database descriptions)",
            )
        datasets = require_items(self, "datasets", datasets, DatasetSpec)
        if database_name is None:
            database_name = re.sub(
                r"[^a-z0-9_]", "_", Names.unique_resource_name(self, max_length=120).lower()
            )
        elif not unresolved(database_name) and not (
            isinstance(database_name, str) and NAME.match(database_name)
        ):
            raise fail(
                self,
                "database_name",
                database_name,
                "must be 1-255 lowercase letters, digits or '_' (Athena queries such names unquoted)",
            )
        stack = Stack.of(self)
        self._stack = stack
        self.key = key
        self.database_name = database_name
        self.register_with_lake_formation = register_with_lake_formation
        self._log_retention = log_retention
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name, description=description or f"eks-ai-data datasets of {self.node.path}"
            ),
        )
        self.catalog_arn = stack.format_arn(service="glue", resource="catalog")
        self.database_arn = stack.format_arn(service="glue", resource="database", resource_name=database_name)
        self.security_configuration_name = f"{database_name[:200]}-crawlers"
        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=self.security_configuration_name,
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key.key_arn
                ),
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                    )
                ],
            ),
        )
        self.lake_formation_role: iam.Role | None = None
        if register_with_lake_formation:
            self.lake_formation_role = iam.Role(
                self,
                "LakeFormationRole",
                assumed_by=iam.ServicePrincipal("lakeformation.amazonaws.com"),
                description=f"Lake Formation access to the dataset locations of {self.node.path}",
            )
            acknowledge_inline_policy(self.lake_formation_role)
        self.datasets: dict[str, DatasetSpec] = {}
        self.crawlers: dict[str, glue.CfnCrawler] = {}
        self.crawler_roles: dict[str, iam.Role] = {}
        self.crawler_log_groups: dict[str, logs.LogGroup] = {}
        self.lake_formation_resources: dict[str, lakeformation.CfnResource] = {}
        for spec in datasets:
            self.add_dataset(spec)

    # -- datasets ------------------------------------------------------------------------------------------
    def add_dataset(self, spec: DatasetSpec) -> glue.CfnCrawler:
        """A scheduled crawler (and role and log group) for ``s3://bucket/prefix``; returns the crawler."""
        schedule = self._check(spec)
        name = spec.name
        cid = "".join(part.capitalize() for part in name.split("_"))
        bucket = _l2(spec.bucket)
        role = iam.Role(
            self,
            f"{cid}CrawlerRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Glue crawler of s3://.../{spec.prefix} into {self.node.path} (tables {name}_*)",
        )
        acknowledge_inline_policy(role)
        self._grant_location(role, spec)
        tables = self._table_arn(f"{name}_*")
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(CRAWLER_CATALOG_ACTIONS), resources=[self.catalog_arn, self.database_arn, tables]
            )
        )
        log_group_name = f"/aws-glue/crawlers-role/{role.role_name}-{self.security_configuration_name}"
        log_group = logs.LogGroup(
            self,
            f"{cid}CrawlerLogs",
            log_group_name=log_group_name,
            encryption_key=self.key,
            retention=self._log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(CRAWLER_LOG_ACTIONS),
                resources=[
                    log_group.log_group_arn,
                    self._stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"{log_group_name}:log-stream:*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    ),
                ],
            )
        )
        reason = (
            "a crawler reads every object under its dataset prefix, writes only tables named <dataset>_* of this "
            "database (their names come from the prefix's directories) and writes log streams of its own log group"
        )
        for resource in (tables, f"{log_group_name}:log-stream:*"):
            self._acknowledge(role, resource, reason)
        crawler = glue.CfnCrawler(
            self,
            f"{cid}Crawler",
            role=role.role_arn,
            database_name=self.database_name,
            description=f"{name}: s3://{bucket.bucket_name}/{spec.prefix}",
            table_prefix=f"{name}_",
            targets=glue.CfnCrawler.TargetsProperty(
                s3_targets=[glue.CfnCrawler.S3TargetProperty(path=f"s3://{bucket.bucket_name}/{spec.prefix}")]
            ),
            schedule=glue.CfnCrawler.ScheduleProperty(schedule_expression=schedule),
            crawler_security_configuration=self.security_configuration_name,
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="UPDATE_IN_DATABASE", delete_behavior="LOG"
            ),
            configuration=json.dumps({"Version": 1.0, "CreatePartitionIndex": True}),
        )
        crawler.node.add_dependency(self.database)
        crawler.node.add_dependency(self.security_configuration)
        crawler.node.add_dependency(log_group)
        crawler.node.add_dependency(role)
        if self.lake_formation_role is not None:
            self._grant_location(self.lake_formation_role, spec)
            location = lakeformation.CfnResource(
                self,
                f"{cid}LakeFormationLocation",
                resource_arn=f"{bucket.bucket_arn}/{spec.prefix.rstrip('/')}",
                use_service_linked_role=False,
                role_arn=self.lake_formation_role.role_arn,
            )
            self.lake_formation_resources[name] = location
        self.datasets[name] = spec
        self.crawlers[name] = crawler
        self.crawler_roles[name] = role
        self.crawler_log_groups[name] = log_group
        return crawler

    # -- grants --------------------------------------------------------------------------------------------
    def grant_read(self, grantee: iam.IGrantable, dataset: str | None = None) -> iam.Grant:
        """Let ``grantee`` resolve the tables of ``dataset`` (default: every dataset) and read their locations.

        Adds ``glue:GetDatabase``, ``GetTable(s)``, ``GetPartition(s)`` and ``BatchGetPartition`` on the catalog,
        the database and the dataset's tables (``<dataset>_*``), and read access to the dataset's prefix with
        ``kms:Decrypt`` through S3 (``DataBucket.grant_read`` for a DataBucket).
        """
        require_resource(self, "grantee", grantee, *GRANTABLE)
        if dataset is not None and dataset not in self.datasets:
            raise fail(self, "dataset", dataset, f"no such dataset (have: {sorted(self.datasets)})")
        names = [dataset] if dataset is not None else sorted(self.datasets)
        if not names:
            raise fail(self, "dataset", dataset, "the catalog has no dataset yet: add_dataset first")
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(READ_CATALOG_ACTIONS),
            resource_arns=[self.catalog_arn, self.database_arn, *(self._table_arn(f"{n}_*") for n in names)],
        )
        for n in names:
            grant = grant.combine(self._grant_location(grantee, self.datasets[n]))
            reason = f"reads the tables of dataset {n} (<dataset>_*: their names come from the crawled directories)"
            self._acknowledge(grantee.grant_principal, self._table_arn(f"{n}_*"), reason)
        return grant

    def _acknowledge(self, principal: Any, resource: str, reason: str) -> None:
        """cdk-nag IAM5 evidence, per wildcard finding, on the role that carries it (when it is a construct)."""
        if not hasattr(principal, "node"):
            return
        if resource.startswith("/aws-glue/"):
            resource = self._stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=resource,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        finding = f"Resource::{nag_flatten(self._stack.resolve(resource))}"
        acknowledge(principal, "IAM5", reason, finding=finding)

    # -- helpers -------------------------------------------------------------------------------------------
    def _table_arn(self, pattern: str) -> str:
        return self._stack.format_arn(
            service="glue", resource="table", resource_name=f"{self.database_name}/{pattern}"
        )

    def _grant_location(self, grantee: iam.IGrantable, spec: DatasetSpec) -> iam.Grant:
        """Read the objects under the dataset's prefix (and list that prefix, decrypt through S3): a DataBucket's
        own :meth:`~eks_ai_data.bucket.DataBucket.grant_read`, the same statements for another bucket."""
        objects = _l2(spec.bucket).arn_for_objects(f"{spec.prefix}*")
        self._acknowledge(
            grantee.grant_principal,
            objects,
            f"reads every object of dataset {spec.name} under its prefix (the locations of its tables)",
        )
        if isinstance(spec.bucket, DataBucket):
            return spec.bucket.grant_read(grantee, spec.prefix)
        bucket = spec.bucket
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=["s3:GetObject"], resource_arns=[objects])
        grant = grant.combine(
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["s3:ListBucket"],
                resource_arns=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [spec.prefix, f"{spec.prefix}*"]}},
            )
        )
        if bucket.encryption_key is not None:
            grant = grant.combine(
                iam.Grant.add_to_principal(
                    grantee=grantee,
                    actions=["kms:Decrypt"],
                    resource_arns=[bucket.encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{self._stack.region}.amazonaws.com"}},
                )
            )
        return grant

    def _check(self, spec: DatasetSpec) -> str:
        if not isinstance(spec, DatasetSpec):
            raise fail(self, "datasets", spec, "must be DatasetSpec objects")
        require_resource(self, "bucket", _l2(spec.bucket), *BUCKET)
        if not isinstance(spec.prefix, str):
            raise fail(self, "prefix", spec.prefix, "must be a key prefix like 'datasets/imagenet/'")
        if not (isinstance(spec.name, str) and DATASET_NAME.match(spec.name)):
            raise fail(
                self,
                "name",
                spec.name,
                "must be a lowercase letter, then up to 62 lowercase letters, digits or '_'",
            )
        if spec.name in self.datasets:
            raise fail(self, "name", spec.name, "dataset names must be unique in the catalog")
        prefix = spec.prefix
        if not unresolved(prefix) and (
            not prefix
            or prefix.startswith("/")
            or not prefix.endswith("/")
            or "//" in prefix
            or any(c in prefix for c in "*?")
        ):
            raise fail(
                self,
                "prefix",
                prefix,
                "must be a key prefix like 'datasets/imagenet/': not empty, no leading '/', ending in '/', "
                "no '//', '*' or '?'",
            )
        bucket = _l2(spec.bucket)
        key = json.dumps(self._stack.resolve(bucket.bucket_name), sort_keys=True)
        for other in self.datasets.values():
            same = json.dumps(self._stack.resolve(_l2(other.bucket).bucket_name), sort_keys=True) == key
            if same and (prefix.startswith(other.prefix) or other.prefix.startswith(prefix)):
                raise fail(
                    self,
                    "prefix",
                    prefix,
                    f"overlaps dataset {other.name!r} ({other.prefix}): two crawlers would catalog the same objects",
                )
        if not isinstance(spec.schedule, str):
            raise fail(self, "schedule", spec.schedule, "must be a string: 'cron(...)'")
        problem = glue_schedule_problem(spec.schedule)
        if problem is not None:
            raise fail(self, "schedule", spec.schedule, problem)
        parsed = parse_schedule(spec.schedule)
        return parsed.expression if isinstance(parsed, CronSchedule) else spec.schedule


def _l2(bucket: DataBucket | s3.IBucket) -> s3.IBucket:
    return bucket.bucket if isinstance(bucket, DataBucket) else bucket
