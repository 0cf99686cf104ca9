"""Props given the wrong kind of value (a string for an enum, a name or ARN for a resource) get the library's
message naming the construct path and the prop, not jsii's type error about an internal argument."""

from __future__ import annotations

import itertools

import aws_cdk as cdk
import pytest

from eks_ai_data import AiCluster, DataBackupPlan, DataBucket, DataKeys, GpuNodeGroup
from eks_ai_data.errors import EksAiDataValidationError

_ids = itertools.count()


@pytest.fixture(scope="module")
def scratch():
    stack = cdk.Stack(cdk.App(), "Types")
    keys = DataKeys(stack, "Keys")
    return {
        "stack": stack,
        "keys": keys,
        "cluster": AiCluster(stack, "Platform", keys=keys),
        "plan": DataBackupPlan(stack, "Plan", backup_key=keys.backup_key),
    }


CASES = {
    "capacity type as a string": (
        lambda s, i: GpuNodeGroup(
            s["stack"], i, cluster=s["cluster"], instance_types=["g6e.xlarge"], capacity_type="SPOT"
        ),
        r"^Types/X\d+: invalid capacity_type='SPOT': must be CapacityType.<member>, one of \['SPOT', 'ON_DEMAND'",
    ),
    "log retention as days": (
        lambda s, i: AiCluster(s["stack"], i, keys=s["keys"], log_retention=30),
        r"^Types/X\d+: invalid log_retention=30: must be RetentionDays.<member>, one of \['ONE_DAY'",
    ),
    "bucket key as an ARN": (
        lambda s, i: DataBucket(s["stack"], i, encryption_key="arn:aws:kms:us-east-1:111111111111:key/k"),
        r"^Types/X\d+: invalid encryption_key='arn:aws:kms:.*': must be a kms.IKey",
    ),
    "removal policy as a string": (
        lambda s, i: DataBucket(s["stack"], i, encryption_key=s["keys"].data_key, removal_policy="retain"),
        r"^Types/X\d+: invalid removal_policy='retain': must be RemovalPolicy.<member>",
    ),
    "replication as a Region": (
        lambda s, i: DataBucket(s["stack"], i, encryption_key=s["keys"].data_key, replication="us-west-2"),
        r"^Types/X\d+: invalid replication='us-west-2': must be a ReplicationTarget",
    ),
    "backed-up bucket as a name": (
        lambda s, i: s["plan"].add_bucket("acme-datasets"),
        r"^Types/Plan: invalid bucket='acme-datasets': must be an s3.IBucket",
    ),
    "backed-up EFS as an id": (
        lambda s, i: s["plan"].add_efs("fs-12345678"),
        r"^Types/Plan: invalid file_system='fs-12345678': must be an efs.IFileSystem",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrong_kind_of_value_is_named_with_the_prop(scratch, case):
    build, message = CASES[case]
    with pytest.raises(EksAiDataValidationError, match=message):
        build(scratch, f"X{next(_ids)}")


def test_file_system_props_of_the_wrong_kind_are_named(tmp_path):
    from eks_ai_data import ClusterNetwork, LustreStore, SharedEfs, ZonalStack

    stack = ZonalStack(
        cdk.App(),
        "Fs",
        env=cdk.Environment(account="111111111111", region="us-east-1"),
        availability_zones=["us-east-1a", "us-east-1b"],
    )
    keys = DataKeys(stack, "Keys")
    vpc = ClusterNetwork(stack, "Net", logs_key=keys.data_key).vpc
    lustre = dict(vpc=vpc, subnet=vpc.private_subnets[0], kms_key=keys.data_key)
    with pytest.raises(
        EksAiDataValidationError, match=r"^Fs/L1: invalid deployment_type='PERSISTENT_2': must be "
    ):
        LustreStore(stack, "L1", deployment_type="PERSISTENT_2", **lustre)
    with pytest.raises(
        EksAiDataValidationError, match=r"^Fs/L2: invalid node_security_groups=None: must be a list"
    ):
        LustreStore(stack, "L2", node_security_groups=None, **lustre)
    one = vpc.vpc_default_security_group
    group = cdk.aws_ec2.SecurityGroup.from_security_group_id(stack, "One", one)
    with pytest.raises(
        EksAiDataValidationError, match=r"^Fs/L3: invalid node_security_groups='Fs/One': must be a"
    ):
        LustreStore(stack, "L3", node_security_groups=group, **lustre)
    with pytest.raises(
        EksAiDataValidationError, match=r"^Fs/E1: invalid transition_to_ia='AFTER_30_DAYS': must be "
    ):
        SharedEfs(stack, "E1", vpc=vpc, kms_key=keys.data_key, transition_to_ia="AFTER_30_DAYS")
    shared = SharedEfs(stack, "E2", vpc=vpc, kms_key=keys.data_key)  # clients may be admitted later
    with pytest.raises(
        EksAiDataValidationError, match=r"^Fs/E2: invalid permissions=750: octal such as '750'"
    ):
        shared.add_access_point("models", path="/models", uid=1000, gid=1000, permissions=750)
    LustreStore(stack, "L4", **lustre)  # no clients yet: allow_clients() later
