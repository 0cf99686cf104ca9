"""Shared by the chart tests: one reference cdk8s App with every chart, and the schema check."""

from __future__ import annotations

import functools
from typing import Any

import cdk8s
import jsonschema
import kubernetes_validate

from eks_ai_data.k8s import (
    EfsClassSpec,
    EfsVolumeSpec,
    GpuSoftwareChart,
    LocalNvmeChart,
    LustreClassSpec,
    LustreVolumeSpec,
    MountpointVolumeSpec,
    NamespaceSpec,
    ServiceAccountSpec,
    SnapshotClassesChart,
    StaticVolumesChart,
    StorageClassesChart,
    WorkloadsChart,
)
from eks_ai_data.versions import DEFAULT_KUBERNETES_VERSION

#: Values known at deploy time only, encoded as aws-cdk-lib encodes tokens; the charts carry them through.
DEFERRED_KEY_ARN = "${Token[TOKEN.101]}"
DEFERRED_ROLE_ARN = "${Token[TOKEN.102]}"
DEFERRED_LUSTRE_ID = "${Token[TOKEN.103]}"
DEFERRED_LUSTRE_DNS = "${Token[TOKEN.104]}"
DEFERRED_LUSTRE_MOUNT = "${Token[TOKEN.105]}"
DEFERRED_ZONE = "${Token[TOKEN.106]}"

KMS_ARN = "arn:aws:kms:us-west-2:123456789012:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
EFS_MODELS = "fs-0a1b2c3d4e5f60718"
EFS_SHARED = "fs-0a1b2c3d4e5f60719"


def kubernetes_version() -> str:
    """The schema version: the cluster's Kubernetes version (default 1.36) as kubernetes-validate names it."""
    return DEFAULT_KUBERNETES_VERSION + ".0"


@functools.cache
def reference_app() -> dict[str, cdk8s.Chart]:
    """Every chart, with realistic values (tokens where the reference stack passes tokens)."""
    app = cdk8s.App()
    workloads = WorkloadsChart(
        app,
        "workloads",
        namespaces=["training", NamespaceSpec("inference", pod_security="restricted", labels={"team": "ml"})],
        service_accounts=[
            ServiceAccountSpec("trainer", "training", role_arn=DEFERRED_ROLE_ARN),
            ServiceAccountSpec(
                "model-server", "inference", role_arn="arn:aws:iam::123456789012:role/model-server"
            ),
            ServiceAccountSpec("batch", "training"),
        ],
    )
    charts = {
        "workloads": workloads,
        "storage-classes": StorageClassesChart(
            app,
            "storage-classes",
            kms_key_arn=DEFERRED_KEY_ARN,
            gp3_iops=6000,
            gp3_throughput=500,
            gp3_tags={"team": "ml-platform"},
            efs_classes=[
                EfsClassSpec(EFS_MODELS, name="efs-ap"),
                EfsClassSpec(
                    EFS_SHARED,
                    name="efs-ap-shared",
                    directory_perms="0750",
                    gid_range_start=60000,
                    gid_range_end=61000,
                    base_path="/shared",
                ),
            ],
            lustre_class=LustreClassSpec(
                subnet_id="subnet-0a1b2c3d4e5f60718",
                security_group_ids=["sg-0a1b2c3d4e5f60718", "sg-0a1b2c3d4e5f60719"],
                kms_key_id=KMS_ARN,
                cluster_name="ml-training",
            ),
        ),
        "static-volumes": StaticVolumesChart(
            app,
            "static-volumes",
            known_namespaces=workloads.namespace_names,
            lustre_volumes=[
                LustreVolumeSpec(
                    name="datasets",
                    file_system_id=DEFERRED_LUSTRE_ID,
                    dns_name=DEFERRED_LUSTRE_DNS,
                    mount_name=DEFERRED_LUSTRE_MOUNT,
                    storage_capacity_gib=4800,
                    namespace="training",
                    availability_zone=DEFERRED_ZONE,
                ),
                LustreVolumeSpec(
                    name="model-cache",
                    file_system_id="fs-0a1b2c3d4e5f60720",
                    dns_name="fs-0a1b2c3d4e5f60720.fsx.us-west-2.amazonaws.com",
                    mount_name="abcdefgh",
                    storage_capacity_gib=1200,
                    namespace="inference",
                    availability_zone="us-west-2b",
                    claim_name="models",
                    read_only=True,
                ),
            ],
            efs_volumes=[
                EfsVolumeSpec(
                    name="shared-home",
                    file_system_id=EFS_SHARED,
                    access_point_id="fsap-0a1b2c3d4e5f60718",
                    namespace="training",
                    iam=True,
                ),
            ],
            mountpoint_volumes=[
                MountpointVolumeSpec(
                    name="inference-models-s3",
                    bucket_name="acme-models",
                    prefix="models/llama",
                    namespace="inference",
                    region="us-west-2",
                    claim_name="models-s3",
                    uid=1000,
                    gid=1000,
                ),
            ],
        ),
        "snapshot-classes": SnapshotClassesChart(app, "snapshot-classes", tags={"team": "ml-platform"}),
        "local-nvme": LocalNvmeChart(app, "local-nvme"),
        "gpu-software": GpuSoftwareChart(app, "gpu-software"),
    }
    return charts


def all_objects() -> list[tuple[str, dict[str, Any]]]:
    """(test id, object) for every object every chart emits."""
    out = []
    for chart_id, chart in reference_app().items():
        for obj in chart.to_json():
            out.append((f"{chart_id}/{obj['kind']}/{obj['metadata']['name']}", obj))
    return out


def objects_of(chart: cdk8s.Chart, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in chart.to_json() if o["kind"] == kind}


# VolumeSnapshotClass is a CRD (external-snapshotter, client/config/crd/
# snapshot.storage.k8s.io_volumesnapshotclasses.yaml, v8.6.0), not in the core schema: this is its
# v1 openAPIV3Schema, made strict (no unknown fields) as kubernetes-validate's strict mode is.
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
VOLUME_SNAPSHOT_CLASS_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "driver", "deletionPolicy"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "snapshot.storage.k8s.io/v1"},
        "kind": {"const": "VolumeSnapshotClass"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {
                    "type": "string",
                    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
                },
                "labels": _STRING_MAP,
                "annotations": _STRING_MAP,
            },
        },
        "driver": {"type": "string"},
        "deletionPolicy": {"enum": ["Delete", "Retain"]},
        "parameters": _STRING_MAP,
    },
}

CRD_SCHEMAS = {("snapshot.storage.k8s.io/v1", "VolumeSnapshotClass"): VOLUME_SNAPSHOT_CLASS_SCHEMA}


def validate(obj: dict[str, Any]) -> None:
    """Raise unless ``obj`` is valid for the cluster's Kubernetes version (strict: no unknown fields)."""
    crd_schema = CRD_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
    if crd_schema is not None:
        jsonschema.validate(obj, crd_schema)
    else:
        kubernetes_validate.validate(obj, kubernetes_version(), strict=True)
