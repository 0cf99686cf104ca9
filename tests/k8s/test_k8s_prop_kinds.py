"""The charts refuse a string for a flag, a list or a mapping, and keys or values the API server or kubelet would
refuse, naming the chart's path and the prop (round 3 of the bad-input review); edge values still pass."""

from __future__ import annotations

import cdk8s
import pytest

from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.k8s import (
    EfsClassSpec,
    EfsVolumeSpec,
    GpuSoftwareChart,
    LustreClassSpec,
    LustreVolumeSpec,
    MountpointVolumeSpec,
    ServiceAccountSpec,
    SnapshotClassesChart,
    StaticVolumesChart,
    StorageClassesChart,
    TeamsChart,
    TeamSpec,
    WorkloadsChart,
    gpu_operator_helm_chart,
)

KEY = "arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789012"
LUSTRE = dict(
    name="data",
    file_system_id="fs-0123456789abcdef0",
    dns_name="fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com",
    mount_name="abcdefgh",
    storage_capacity_gib=1200,
    namespace="training",
    availability_zone="us-east-1a",
)


def _classes(**props):
    return StorageClassesChart(cdk8s.App(), "classes", kms_key_arn=KEY, **props)


def _volumes(**props):
    props.setdefault("known_namespaces", ["training"])
    return StaticVolumesChart(cdk8s.App(), "volumes", **props)


CASES = {
    "storage classes: gp3_default as a string": (
        lambda: _classes(gp3_default="yes"),
        r"^classes: invalid gp3_default='yes': must be True or False$",
    ),
    "storage classes: gp3_tags as a string": (
        lambda: _classes(gp3_tags="team=ml"),
        r"^classes: invalid gp3_tags='team=ml': must be a mapping of tag keys to values$",
    ),
    "storage classes: an EFS class's iam as a string": (
        lambda: _classes(efs_classes=[EfsClassSpec(file_system_id="fs-12345678", iam="no")]),
        r"^classes: invalid efs_classes.iam='no': must be True or False$",
    ),
    "storage classes: the Lustre class's default as a string": (
        lambda: _classes(
            lustre_class=LustreClassSpec(
                subnet_id="subnet-12345678", security_group_ids=["sg-12345678"], kms_key_id=KEY, default="yes"
            )
        ),
        r"^classes: invalid lustre_class.default='yes': must be True or False$",
    ),
    "snapshot classes: tags as a string": (
        lambda: SnapshotClassesChart(cdk8s.App(), "snapshots", tags="team=ml"),
        r"^snapshots: invalid tags='team=ml': must be a mapping of tag keys to values$",
    ),
    "snapshot classes: default as a string": (
        lambda: SnapshotClassesChart(cdk8s.App(), "snapshots", default="no"),
        r"^snapshots: invalid default='no': must be True or False$",
    ),
    "static volumes: known_namespaces as one string": (
        lambda: _volumes(known_namespaces="training"),
        r"^volumes: invalid known_namespaces='training': must be a list of names, not a string",
    ),
    "static volumes: read_only as a string": (
        lambda: _volumes(lustre_volumes=[LustreVolumeSpec(**LUSTRE, read_only="no")]),
        r"^volumes: invalid lustre_volumes.read_only='no': must be True or False$",
    ),
    "static volumes: an EFS volume's iam as a string": (
        lambda: _volumes(
            efs_volumes=[
                EfsVolumeSpec(
                    name="v",
                    file_system_id="fs-12345678",
                    access_point_id="fsap-12345678",
                    namespace="training",
                    iam="no",
                )
            ]
        ),
        r"^volumes: invalid efs_volumes.iam='no': must be True or False$",
    ),
    "static volumes: a Mountpoint volume's read_only as a string": (
        lambda: _volumes(
            mountpoint_volumes=[
                MountpointVolumeSpec(
                    name="m",
                    bucket_name="acme",
                    prefix="m",
                    namespace="training",
                    region="us-east-1",
                    read_only="no",
                )
            ]
        ),
        r"^volumes: invalid mountpoint_volumes.read_only='no': must be True or False$",
    ),
    "workloads: existing_namespaces as one string": (
        lambda: WorkloadsChart(
            cdk8s.App(), "workloads", namespaces=["training"], existing_namespaces="kube-system"
        ),
        r"^workloads: invalid existing_namespaces='kube-system': must be a list of names, not a string",
    ),
    "workloads: automount_token as a string": (
        lambda: WorkloadsChart(
            cdk8s.App(),
            "workloads",
            namespaces=["training"],
            service_accounts=[ServiceAccountSpec(name="reader", namespace="training", automount_token="no")],  # noqa: S106
        ),
        r"^workloads: invalid service_accounts.automount_token='no': must be True or False$",
    ),
    "teams: storage_classes as one string": (
        lambda: TeamsChart(
            cdk8s.App(), "teams", teams=[TeamSpec(name="vision", uid=2000, gid=2000)], storage_classes="gp3"
        ),
        r"^teams: invalid storage_classes='gp3': must be a list of names, not a string",
    ),
    "gpu software: env as a string": (
        lambda: GpuSoftwareChart(cdk8s.App(), "gpu", env="FAIL_ON_INIT_ERROR=false"),
        r"^gpu: invalid env='FAIL_ON_INIT_ERROR=false': must be a mapping of environment variable names to values$",
    ),
    "gpu software: an env name starting with a digit": (
        lambda: GpuSoftwareChart(cdk8s.App(), "gpu", env={"1MODE": "x"}),
        r"^gpu: invalid env=\{'1MODE': 'x'\}: names must be letters, digits",
    ),
    "gpu software: an env value that is a number": (
        lambda: GpuSoftwareChart(cdk8s.App(), "gpu", env={"MIG_STRATEGY": 1}),
        r"^gpu: invalid env=\{'MIG_STRATEGY': 1\}: names must be .*; values strings$",
    ),
    "gpu operator: driver_enabled as a string": (
        lambda: gpu_operator_helm_chart(driver_enabled="no"),
        r"^gpu_operator_helm_chart: invalid driver_enabled='no': must be True or False$",
    ),
    "gpu operator: extra_values as a string": (
        lambda: gpu_operator_helm_chart(extra_values="mig.strategy=single"),
        r"^gpu_operator_helm_chart: invalid extra_values='mig.strategy=single': must be a mapping of Helm values$",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrong_kind_of_value_is_named_with_the_prop(case):
    build, message = CASES[case]
    with pytest.raises(EksAiDataValidationError, match=message):
        build()


def test_edge_values_pass():
    GpuSoftwareChart(cdk8s.App(), "gpu", env={"_MODE": "x", "a.b-c": "", "FAIL_ON_INIT_ERROR": "false"})
    _volumes(
        known_namespaces=("training", "inference"),
        lustre_volumes=[LustreVolumeSpec(**LUSTRE, read_only=True)],
    )
    SnapshotClassesChart(cdk8s.App(), "snapshots", default=False, tags={"team": "ml"})
