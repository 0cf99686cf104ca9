"""Round 3 of wrong-kind and edge values (a number for a Duration or a Size, a string for a bool or a resource, one
item for a list): each gets the library's message with the construct path and the prop the user passed, and the
edge values AWS accepts still pass."""

from __future__ import annotations

import itertools

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Size
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from eks_ai_data import (
    AiCluster,
    BackupRuleSpec,
    ClusterNetwork,
    DataBackupPlan,
    DataBucket,
    DataKeys,
    DataRepositoryLink,
    GpuNodeGroup,
    LustreStore,
    NodeLaunchTemplate,
    NodeRepair,
    NvmeNodeGroup,
    ReplicationTarget,
    RestoreTestSpec,
    SharedEfs,
    WorkloadIdentity,
    ZonalStack,
)
from eks_ai_data.errors import EksAiDataValidationError

_ids = itertools.count()
ARN = "arn:aws:iam::111111111111:role/reader"


@pytest.fixture(scope="module")
def s():
    stack = ZonalStack(
        cdk.App(),
        "K",
        env=cdk.Environment(account="111111111111", region="us-east-1"),
        availability_zones=["us-east-1a", "us-east-1b"],
    )
    keys = DataKeys(stack, "Keys")
    net = ClusterNetwork(stack, "Net", logs_key=keys.data_key)
    bucket = DataBucket(stack, "Bucket", encryption_key=keys.data_key)
    return {
        "stack": stack,
        "keys": keys,
        "net": net,
        "bucket": bucket,
        "efs": SharedEfs(stack, "Efs", vpc=net.vpc, kms_key=keys.data_key),
        "role": iam.Role(stack, "Role", assumed_by=iam.AccountRootPrincipal()),
        "cluster": AiCluster(stack, "Platform", vpc=net.vpc, keys=keys),
        "plan": DataBackupPlan(stack, "Plan", backup_key=keys.backup_key),
    }


def _plan(s, i, **props):
    return DataBackupPlan(s["stack"], i, backup_key=s["keys"].backup_key, **props)


def _rule(**props):
    return BackupRuleSpec(name="Nightly", schedule="cron(0 5 * * ? *)", retention=Duration.days(35), **props)


def _identity(s, i, **props):
    props.setdefault("cluster", s["cluster"].cluster)
    props.setdefault("mode", "pod-identity")
    return WorkloadIdentity(s["stack"], i, namespace="training", service_account=f"sa-{i.lower()}", **props)


def _net(**props):
    stack = ZonalStack(cdk.App(), "N", availability_zones=["us-east-1a", "us-east-1b"])
    return ClusterNetwork(stack, "Net", logs_key=DataKeys(stack, "K").data_key, **props)


def _bucket(s, i, **props):
    return DataBucket(s["stack"], i, encryption_key=s["keys"].data_key, **props)


def _lustre(s, i, **props):
    net = s["net"]
    props.setdefault("kms_key", s["keys"].data_key)
    return LustreStore(s["stack"], i, vpc=net.vpc, subnet=net.vpc.private_subnets[0], **props)


def _efs(s, i, **props):
    props.setdefault("kms_key", s["keys"].data_key)
    return SharedEfs(s["stack"], i, vpc=s["net"].vpc, **props)


def _link(s, **props):
    return DataRepositoryLink(file_system_path="/data", bucket=s["bucket"].bucket, **props)


def _gpus(s, i, **props):
    return GpuNodeGroup(s["stack"], i, cluster=s["cluster"], instance_types=["g6e.xlarge"], **props)


def _nvme(s, i, **props):
    return NvmeNodeGroup(s["stack"], i, cluster=s["cluster"], instance_types=["i4i.8xlarge"], **props)


def _template(s, i, **props):
    return NodeLaunchTemplate(s["stack"], i, volume_key=s["keys"].data_key, **props)


CASES = {
    # DataBackupPlan
    "backup: one rule, not a list": (
        lambda s, i: _plan(s, i, rules=BackupRuleSpec.daily()),
        r"^K/X\d+: invalid rules=BackupRuleSpec\(name='Daily'.*: must be a list of BackupRuleSpec, not one",
    ),
    "backup: rule name as a number": (
        lambda s, i: _plan(
            s, i, rules=[BackupRuleSpec(name=5, schedule="cron(0 5 * * ? *)", retention=Duration.days(7))]
        ),
        r"^K/X\d+: invalid rules\[0\].name=5: must be 1-50 letters",
    ),
    "backup: start_window as minutes": (
        lambda s, i: _plan(s, i, rules=[_rule(start_window=60)]),
        r"^K/X\d+: invalid rules\[0\].start_window=60: must be an aws_cdk.Duration such as Duration.hours\(8\)$",
    ),
    "backup: completion_window as minutes": (
        lambda s, i: _plan(s, i, rules=[_rule(completion_window=600)]),
        r"^K/X\d+: invalid rules\[0\].completion_window=600: must be an aws_cdk.Duration",
    ),
    "backup: backup_key as an ARN": (
        lambda s, i: DataBackupPlan(s["stack"], i, backup_key="arn:aws:kms:us-east-1:111111111111:key/k"),
        r"^K/X\d+: invalid backup_key='arn:aws:kms:.*': must be a kms.IKey",
    ),
    "backup: notification_key as an ARN": (
        lambda s, i: _plan(s, i, notification_key="arn:aws:kms:x"),
        r"^K/X\d+: invalid notification_key='arn:aws:kms:x': must be a kms.IKey",
    ),
    "backup: removal_policy as a string": (
        lambda s, i: _plan(s, i, removal_policy="RETAIN"),
        r"^K/X\d+: invalid removal_policy='RETAIN': must be RemovalPolicy.<member>",
    ),
    "backup: deny_recovery_point_deletion as a string": (
        lambda s, i: _plan(s, i, deny_recovery_point_deletion="no"),
        r"^K/X\d+: invalid deny_recovery_point_deletion='no': must be True or False$",
    ),
    "backup: plan_name as a number": (
        lambda s, i: _plan(s, i, plan_name=5),
        r"^K/X\d+: invalid plan_name=5: must be 1-50 letters",
    ),
    "backup: vault_name as a number": (
        lambda s, i: _plan(s, i, vault_name=55),
        r"^K/X\d+: invalid vault_name=55: must be 2-50 letters",
    ),
    "backup: copy_to_vault_arn as a number": (
        lambda s, i: _plan(s, i, copy_to_vault_arn=5),
        r"^K/X\d+: invalid copy_to_vault_arn=5: must be a backup vault ARN",
    ),
    "backup: restore-test keys as an ARN": (
        lambda s, i: _plan(s, i, restore_testing=RestoreTestSpec(keys="arn:aws:kms:x")),
        r"^K/X\d+: invalid restore_testing.keys='arn:aws:kms:x': must be a list of kms.IKey",
    ),
    "backup: restore-test exclude as one ARN string": (
        lambda s, i: _plan(s, i, restore_testing=RestoreTestSpec(exclude="arn:aws:s3:::acme")),
        r"^K/X\d+: invalid restore_testing.exclude='arn:aws:s3:::acme': must be a list, not a string",
    ),
    "backup: restore-test exclude of a name": (
        lambda s, i: _plan(s, i, restore_testing=RestoreTestSpec(exclude=["acme-datasets"])),
        r"^K/X\d+: invalid restore_testing.exclude='acme-datasets': must hold buckets, file systems or their ARNs",
    ),
    "backup: add_file_system with a number": (
        lambda s, i: s["plan"].add_file_system(5),
        r"^K/Plan: invalid arn=5: must be an EFS or FSx file system ARN \(a string\)",
    ),
    "backup: add_ebs_by_tag key as a number": (
        lambda s, i: s["plan"].add_ebs_by_tag(key=5),
        r"^K/Plan: invalid key=5: must be a tag key",
    ),
    "backup: add_ebs_by_tag value as a number": (
        lambda s, i: s["plan"].add_ebs_by_tag(key="backup", value=1),
        r"^K/Plan: invalid value=1: must be a tag value",
    ),
    # WorkloadIdentity
    "identity: cluster as a name": (
        lambda s, i: _identity(s, i, cluster="platform"),
        r"^K/X\d+: invalid cluster='platform': must be an eks.ICluster",
    ),
    "identity: role_name as a number": (
        lambda s, i: _identity(s, i, role_name=5),
        r"^K/X\d+: invalid role_name=5: must be 1-64 letters",
    ),
    "identity: read_prefix of a bucket name": (
        lambda s, i: _identity(s, i).read_prefix("acme-datasets", "data"),
        r"^K/X\d+: invalid bucket='acme-datasets': must be an s3.IBucket",
    ),
    "identity: read_prefix as a number": (
        lambda s, i: _identity(s, i).read_prefix(s["bucket"].bucket, 5),
        r"^K/X\d+: invalid prefix=5: must be a non-empty S3 key prefix",
    ),
    "identity: read_prefix key as an ARN": (
        lambda s, i: _identity(s, i).read_prefix(s["bucket"].bucket, "data", key="arn:aws:kms:x"),
        r"^K/X\d+: invalid key='arn:aws:kms:x': must be a kms.IKey",
    ),
    "identity: write_prefix delete as a string": (
        lambda s, i: _identity(s, i).write_prefix(s["bucket"].bucket, "ckpt", delete="no"),
        r"^K/X\d+: invalid delete='no': must be True or False$",
    ),
    "identity: efs_client with an access point id": (
        lambda s, i: _identity(s, i).efs_client(s["efs"].file_system, "fsap-0123456789abcdef0"),
        r"^K/X\d+: invalid access_point='fsap-0123456789abcdef0': must be an efs.IAccessPoint",
    ),
    "identity: efs_client with a number for the file system": (
        lambda s, i: _identity(s, i).efs_client(
            5, s["efs"].add_access_point(f"ap-{i.lower()}", path=f"/{i.lower()}", uid=1000, gid=1000)
        ),
        r"^K/X\d+: invalid file_system=5: must be an efs.IFileSystem or an EFS file system ARN",
    ),
    "identity: manifest labels as a list": (
        lambda s, i: _identity(s, i).service_account_manifest(labels=["team"]),
        r"^K/X\d+: invalid labels=\['team'\]: must be a mapping of label keys to values",
    ),
    "identity: manifest label key with a space": (
        lambda s, i: _identity(s, i).service_account_manifest(labels={"team name": "a"}),
        r"^K/X\d+: invalid labels=\{'team name': 'a'\}: a label key's name must be 1-63 characters",
    ),
    # AiCluster
    "cluster: system_node_count 2.5": (
        lambda s, i: AiCluster(s["stack"], i, vpc=s["net"].vpc, keys=s["keys"], system_node_count=2.5),
        r"^K/X\d+: invalid system_node_count=2.5: must be a whole number between 2 and 10$",
    ),
    "cluster: system_node_count as a string": (
        lambda s, i: AiCluster(s["stack"], i, vpc=s["net"].vpc, keys=s["keys"], system_node_count="2"),
        r"^K/X\d+: invalid system_node_count='2': must be a whole number between 2 and 10$",
    ),
    "cluster: addon_versions as a string": (
        lambda s, i: AiCluster(
            s["stack"], i, vpc=s["net"].vpc, keys=s["keys"], addon_versions="v1.20.4-eksbuild.1"
        ),
        r"^K/X\d+: invalid addon_versions='v1.20.4-eksbuild.1': must be a mapping of add-on names to versions",
    ),
    "cluster: node_monitoring_agent as a string": (
        lambda s, i: AiCluster(s["stack"], i, vpc=s["net"].vpc, keys=s["keys"], node_monitoring_agent="no"),
        r"^K/X\d+: invalid node_monitoring_agent='no': must be True or False$",
    ),
    "cluster: grant_admin to a name": (
        lambda s, i: s["cluster"].grant_admin(i, "Admin"),
        r"^K/Platform: invalid principal_arn='Admin': must be an IAM role or user ARN",
    ),
    "cluster: grant_admin to a number": (
        lambda s, i: s["cluster"].grant_admin(i, 5),
        r"^K/Platform: invalid principal_arn=5: must be an IAM role or user ARN",
    ),
    "cluster: IRSA principal for a bad namespace": (
        lambda s, i: s["cluster"].service_account_principal("Training", "reader"),
        r"^K/Platform: invalid namespace='Training': must be a DNS-1123 label",
    ),
    "cluster: IRSA principal for a bad service account": (
        lambda s, i: s["cluster"].service_account_principal("training", "Data Reader"),
        r"^K/Platform: invalid service_account='Data Reader': must be a DNS-1123 subdomain",
    ),
    # node groups and their launch template
    "gpu group: efa as a string": (
        lambda s, i: _gpus(s, i, efa="yes"),
        r"^K/X\d+: invalid efa='yes': must be True or False$",
    ),
    "gpu group: nvme_raid0 as a string": (
        lambda s, i: _gpus(s, i, nvme_raid0="no"),
        r"^K/X\d+: invalid nvme_raid0='no': must be True or False$",
    ),
    "gpu group: force_update as a string": (
        lambda s, i: _gpus(s, i, force_update="yes"),
        r"^K/X\d+: invalid force_update='yes': must be True or False$",
    ),
    "gpu group: subnet as an id": (
        lambda s, i: _gpus(s, i, subnet="subnet-1"),
        r"^K/X\d+: invalid subnet='subnet-1': must be an ec2.ISubnet",
    ),
    "gpu group: root volume as a string (named on the group)": (
        lambda s, i: _gpus(s, i, root_volume_gib="200"),
        r"^K/X\d+: invalid root_volume_gib='200': must be a whole number between 20 and 16384$",
    ),
    "gpu group: root volume 1.5 GiB": (
        lambda s, i: _gpus(s, i, root_volume_gib=1.5),
        r"^K/X\d+: invalid root_volume_gib=1.5: must be a whole number between 20 and 16384$",
    ),
    "gpu group: node repair enabled as a string": (
        lambda s, i: _gpus(s, i, node_repair=NodeRepair(enabled="no")),
        r"^K/X\d+: invalid node_repair.enabled='no': must be True or False$",
    ),
    "nvme group: taint as a string": (
        lambda s, i: _nvme(s, i, taint="yes"),
        r"^K/X\d+: invalid taint='yes': must be True or False$",
    ),
    "nvme group: root volume of 0 GiB": (
        lambda s, i: _nvme(s, i, root_volume_gib=0),
        r"^K/X\d+: invalid root_volume_gib=0: must be between 20 and 16384$",
    ),
    "launch template: ami_family not known": (
        lambda s, i: _template(s, i, ami_family="ubuntu"),
        r"^K/X\d+: invalid ami_family='ubuntu': must be one of \['al2023', 'bottlerocket'\]$",
    ),
    "launch template: local_storage not known": (
        lambda s, i: _template(s, i, local_storage="raid5"),
        r"^K/X\d+: invalid local_storage='raid5': must be one of \['none', 'raid0', 'mount'\]$",
    ),
    "launch template: efa_interfaces as a string": (
        lambda s, i: _template(s, i, efa_interfaces="1"),
        r"^K/X\d+: invalid efa_interfaces='1': must be a whole number between 0 and 32$",
    ),
    "launch template: security group not an id": (
        lambda s, i: _template(s, i, security_group_id="web"),
        r"^K/X\d+: invalid security_group_id='web': must be a security group id",
    ),
    "launch template: volume key as an ARN": (
        lambda s, i: NodeLaunchTemplate(s["stack"], i, volume_key="arn:aws:kms:x"),
        r"^K/X\d+: invalid volume_key='arn:aws:kms:x': must be a kms.IKey",
    ),
    # DataKeys
    "keys: shared_key as a string": (
        lambda s, i: DataKeys(s["stack"], i, shared_key="yes"),
        r"^K/X\d+: invalid shared_key='yes': must be True or False$",
    ),
    "keys: pending_window as days": (
        lambda s, i: DataKeys(s["stack"], i, pending_window=7),
        r"^K/X\d+: invalid pending_window=7: must be an aws_cdk.Duration such as Duration.days\(7\)$",
    ),
    "keys: pending_window in hours": (
        lambda s, i: DataKeys(s["stack"], i, pending_window=Duration.hours(200)),
        r"^K/X\d+: invalid pending_window='200 hours': must be a whole number of days$",
    ),
    "keys: admins as ARNs": (
        lambda s, i: DataKeys(s["stack"], i, admins=[ARN]),
        r"^K/X\d+: invalid admins=\['arn:aws:iam::111111111111:role/reader'\]: must be a list of iam.IPrincipal",
    ),
    "keys: data_key as an ARN": (
        lambda s, i: DataKeys(s["stack"], i, data_key="arn:aws:kms:us-east-1:111111111111:key/k"),
        r"^K/X\d+: invalid data_key='arn:aws:kms:.*': must be a kms.IKey",
    ),
    "keys: removal_policy as a string": (
        lambda s, i: DataKeys(s["stack"], i, removal_policy="RETAIN"),
        r"^K/X\d+: invalid removal_policy='RETAIN': must be RemovalPolicy.<member>",
    ),
    # ClusterNetwork
    "network: nat_gateways 2.5": (
        lambda s, i: _net(nat_gateways=2.5),
        r"^N/Net: invalid nat_gateways=2.5: must be a whole number: must be between 1 and max_azs \(3\)",
    ),
    "network: nat_gateways True": (
        lambda s, i: _net(nat_gateways=True),
        r"^N/Net: invalid nat_gateways=True: must be a whole number",
    ),
    "network: flow_log_retention as days": (
        lambda s, i: _net(flow_log_retention=30),
        r"^N/Net: invalid flow_log_retention=30: must be RetentionDays.<member>",
    ),
    "network: restrict_s3_endpoint as a string": (
        lambda s, i: _net(restrict_s3_endpoint="no"),
        r"^N/Net: invalid restrict_s3_endpoint='no': must be True or False$",
    ),
    "network: logs_key None": (
        lambda s, i: ClusterNetwork(ZonalStack(cdk.App(), "N"), "Net", logs_key=None),
        r"^N/Net: invalid logs_key=None: must be a kms.IKey",
    ),
    "network: allow_bucket with a name": (
        lambda s, i: s["net"].allow_bucket("acme-datasets"),
        r"^K/Net: invalid bucket='acme-datasets': must be an s3.IBucket",
    ),
    # DataBucket
    "bucket: name with a dash next to a period": (
        lambda s, i: _bucket(s, i, bucket_name="acme.-data"),
        r"^K/X\d+: invalid bucket_name='acme.-data': must be 3-63 lowercase .* have no '..', '.-' or '-.'",
    ),
    "bucket: name as a number": (
        lambda s, i: _bucket(s, i, bucket_name=123),
        r"^K/X\d+: invalid bucket_name=123: must be 3-63 lowercase",
    ),
    "bucket: access_logs_bucket as a name": (
        lambda s, i: _bucket(s, i, access_logs_bucket="acme-logs"),
        r"^K/X\d+: invalid access_logs_bucket='acme-logs': must be an s3.IBucket",
    ),
    "bucket: access_logs_prefix as a number": (
        lambda s, i: _bucket(s, i, access_logs_prefix=5),
        r"^K/X\d+: invalid access_logs_prefix=5: must be '' or like 'a/b/'",
    ),
    "bucket: noncurrent_version_expiration as days": (
        lambda s, i: _bucket(s, i, noncurrent_version_expiration=30),
        r"^K/X\d+: invalid noncurrent_version_expiration=30: must be an aws_cdk.Duration",
    ),
    "bucket: request_metrics as a string": (
        lambda s, i: _bucket(s, i, request_metrics="yes"),
        r"^K/X\d+: invalid request_metrics='yes': must be True or False$",
    ),
    "bucket: replication storage class as a string": (
        lambda s, i: _bucket(
            s,
            i,
            replication=ReplicationTarget(s["bucket"].bucket, s["keys"].data_key, storage_class="GLACIER"),
        ),
        r"^K/X\d+: invalid replication.storage_class='GLACIER': must be an s3.StorageClass",
    ),
    "bucket: replication key as an ARN": (
        lambda s, i: _bucket(s, i, replication=ReplicationTarget(s["bucket"].bucket, "arn:aws:kms:x")),
        r"^K/X\d+: invalid replication.kms_key='arn:aws:kms:x': must be a kms.IKey",
    ),
    "bucket: replication bucket as a name": (
        lambda s, i: _bucket(s, i, replication=ReplicationTarget("acme-replica", s["keys"].data_key)),
        r"^K/X\d+: invalid replication.bucket='acme-replica': must be an s3.IBucket",
    ),
    "bucket: grant_read to an ARN": (
        lambda s, i: s["bucket"].grant_read(ARN),
        r"^K/Bucket: invalid principal='arn:aws:iam::111111111111:role/reader': must be an iam.IGrantable",
    ),
    "bucket: grant_write prefix as a number": (
        lambda s, i: s["bucket"].grant_write(s["role"], prefix=5),
        r"^K/Bucket: invalid prefix=5: must be '' or like 'a/b/'",
    ),
    "bucket: allow_outside_vpc_endpoints with a non-ARN, on an unrestricted bucket": (
        lambda s, i: s["bucket"].allow_outside_vpc_endpoints("reader"),
        r"^K/Bucket: invalid principal='reader': must be an IAM role or user ARN \(or ArnLike pattern\)",
    ),
    "bucket: allow_outside_vpc_endpoints with a number": (
        lambda s, i: s["bucket"].allow_outside_vpc_endpoints(5),
        r"^K/Bucket: invalid principal=5: must be an iam.IRole, an iam.IUser or a role/user ARN$",
    ),
    # LustreStore
    "lustre: subnet as an id": (
        lambda s, i: LustreStore(
            s["stack"], i, vpc=s["net"].vpc, subnet="subnet-1", kms_key=s["keys"].data_key
        ),
        r"^K/X\d+: invalid subnet='subnet-1': must be an ec2.ISubnet",
    ),
    "lustre: vpc as an id": (
        lambda s, i: LustreStore(
            s["stack"], i, vpc="vpc-1", subnet=s["net"].vpc.private_subnets[0], kms_key=s["keys"].data_key
        ),
        r"^K/X\d+: invalid vpc='vpc-1': must be an ec2.IVpc",
    ),
    "lustre: kms_key as an ARN": (
        lambda s, i: _lustre(s, i, kms_key="arn:aws:kms:x"),
        r"^K/X\d+: invalid kms_key='arn:aws:kms:x': must be a kms.IKey",
    ),
    "lustre: backup start time as a string": (
        lambda s, i: _lustre(s, i, daily_automatic_backup_start_time="02:00"),
        r"^K/X\d+: invalid daily_automatic_backup_start_time='02:00': must be an fsx.DailyAutomaticBackupStartTime",
    ),
    "lustre: maintenance time as a string": (
        lambda s, i: _lustre(s, i, weekly_maintenance_start_time="1:02:00"),
        r"^K/X\d+: invalid weekly_maintenance_start_time='1:02:00': must be an fsx.LustreMaintenanceTime",
    ),
    "lustre: one data repository, not a list": (
        lambda s, i: _lustre(s, i, data_repositories=_link(s)),
        r"^K/X\d+: invalid data_repositories=DataRepositoryLink\(.*\): must be a list of DataRepositoryLink, not one",
    ),
    "lustre: a link's bucket as a name": (
        lambda s, i: _lustre(
            s, i, data_repositories=[DataRepositoryLink(file_system_path="/d", bucket="acme")]
        ),
        r"^K/X\d+: invalid data_repositories.bucket='acme': must be an s3.IBucket",
    ),
    "lustre: a link's prefix as a number": (
        lambda s, i: _lustre(s, i, data_repositories=[_link(s, prefix=5)]),
        r"^K/X\d+: invalid data_repositories.prefix=5: must be a string",
    ),
    "lustre: a link's auto_import as a string": (
        lambda s, i: _lustre(s, i, data_repositories=[_link(s, auto_import="yes")]),
        r"^K/X\d+: invalid data_repositories.auto_import='yes': must be True or False",
    ),
    "lustre: add_data_repository with an S3 URL": (
        lambda s, i: _lustre(s, i).add_data_repository("s3://acme"),
        r"^K/X\d+: invalid data_repositories='s3://acme': must be a DataRepositoryLink",
    ),
    # SharedEfs
    "efs: provisioned throughput as a number": (
        lambda s, i: _efs(
            s, i, throughput_mode=efs.ThroughputMode.PROVISIONED, provisioned_throughput_per_second=100
        ),
        r"^K/X\d+: invalid provisioned_throughput_per_second=100: must be an aws_cdk.Size per second",
    ),
    "efs: provisioned throughput not whole MiB": (
        lambda s, i: _efs(
            s,
            i,
            throughput_mode=efs.ThroughputMode.PROVISIONED,
            provisioned_throughput_per_second=Size.kibibytes(1536),
        ),
        r"^K/X\d+: invalid provisioned_throughput_per_second='1536 KiB/s': must be a whole number of MiB/s",
    ),
    "efs: kms_key None": (
        lambda s, i: SharedEfs(s["stack"], i, vpc=s["net"].vpc, kms_key=None),
        r"^K/X\d+: invalid kms_key=None: must be a kms.IKey",
    ),
    "efs: replication key as an ARN": (
        lambda s, i: _efs(s, i, replication_region="us-west-2", replication_kms_key="arn:aws:kms:x"),
        r"^K/X\d+: invalid replication_kms_key='arn:aws:kms:x': must be a kms.IKey",
    ),
    "efs: replication region as a number": (
        lambda s, i: _efs(s, i, replication_region=5),
        r"^K/X\d+: invalid replication_region=5: must be a Region name",
    ),
    "efs: automatic backups as a string": (
        lambda s, i: _efs(s, i, enable_automatic_backups="yes"),
        r"^K/X\d+: invalid enable_automatic_backups='yes': must be True or False$",
    ),
    "efs: vpc_subnets as a list of subnets": (
        lambda s, i: _efs(s, i, vpc_subnets=s["net"].vpc.private_subnets),
        r"^K/X\d+: invalid vpc_subnets=.*: must be an ec2.SubnetSelection",
    ),
    "efs: grant_read_write to an ARN": (
        lambda s, i: s["efs"].grant_read_write(ARN),
        r"^K/Efs: invalid grantee='arn:aws:iam::111111111111:role/reader': must be an iam.IGrantable",
    ),
    "efs: allow_clients with a group id": (
        lambda s, i: s["efs"].allow_clients("sg-12345678"),
        r"^K/Efs: invalid peer='sg-12345678': must be an ec2.ISecurityGroup or an ec2.IConnectable",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrong_kind_of_value_is_named_with_the_prop(s, case):
    build, message = CASES[case]
    with pytest.raises(EksAiDataValidationError, match=message):
        build(s, f"X{next(_ids)}")


ACCEPTED = {
    "backup: a completion window of 70 days (AWS allows up to 100 years)": lambda s, i: _plan(
        s, i, rules=[_rule(start_window=Duration.hours(1), completion_window=Duration.days(70))]
    ),
    "backup: restore tests excluding a bucket ARN": lambda s, i: _plan(
        s, i, restore_testing=RestoreTestSpec(exclude=["arn:aws:s3:::acme-datasets"])
    ),
    "identity: a manifest label under kubernetes.io/": lambda s, i: _identity(s, i).service_account_manifest(
        labels={"app.kubernetes.io/name": "reader"}
    ),
    "cluster: grant_admin to a user": lambda s, i: s["cluster"].grant_admin(
        i, "arn:aws:iam::111111111111:user/alice"
    ),
    "cluster: IRSA principal for a dotted service account": lambda s, i: s[
        "cluster"
    ].service_account_principal("training", "reader.v2"),
    "gpu group: root volume of 16384 GiB (the gp3 maximum)": lambda s, i: _gpus(s, i, root_volume_gib=16384),
    "launch template: a 17-digit security group id": lambda s, i: _template(
        s, i, security_group_id="sg-0123456789abcdef0"
    ),
    "keys: pending_window of 7 days": lambda s, i: DataKeys(s["stack"], i, pending_window=Duration.days(7)),
    "bucket: a name with periods": lambda s, i: _bucket(s, i, bucket_name="acme.datasets.v2"),
    "bucket: a replica storage class": lambda s, i: _bucket(
        s,
        i,
        replication=ReplicationTarget(
            s["bucket"].bucket, s["keys"].data_key, storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL
        ),
    ),
    "bucket: exempt a role ARN pattern": lambda s, i: _bucket(
        s, i, deny_outside_vpc_endpoints=["vpce-0123456789abcdef0"]
    ).allow_outside_vpc_endpoints("arn:aws:iam::111111111111:role/ci-*"),
    "efs: provisioned throughput of 1 MiB/s": lambda s, i: _efs(
        s,
        i,
        throughput_mode=efs.ThroughputMode.PROVISIONED,
        provisioned_throughput_per_second=Size.mebibytes(1),
    ),
    "lustre: a link on '/'": lambda s, i: _lustre(
        s, i, data_repositories=[DataRepositoryLink(file_system_path="/", bucket=s["bucket"].bucket)]
    ),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_edge_values_aws_accepts_pass(s, case):
    ACCEPTED[case](s, f"A{next(_ids)}")
