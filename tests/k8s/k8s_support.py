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
from eks_ai_data.k8s.karpenter import NodeClassSpec, NodePoolChart, NodePoolSpec
from eks_ai_data.labels import GPU_TAINT
from eks_ai_data.launch_template import al2023_user_data
from eks_ai_data.versions import DEFAULT_KUBERNETES_VERSION

# kubernetes-validate reads and parses its packaged schema files on every call: the kind's schema and all of
# _definitions.json, 1.6 MB for 1.36 (kubernetes_validate/utils.py, validate -> schema_contents). They are data
# files of the installed package, so each is parsed once per test process here: a validation then takes about 1 ms
# instead of 16 ms, with the same schemas, registry and validator as before.
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)

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
        "node-pool": NodePoolChart(
            app,
            "node-pool",
            name="gpu-training",
            node_class=NodeClassSpec(
                role="KarpenterNodeRole-ml-training",
                subnet_ids=["subnet-0a1b2c3d4e5f60718"],
                security_group_ids=["sg-0a1b2c3d4e5f60718"],
                ami_alias="al2023@v20260714",
                kms_key_arn=KMS_ARN,
                instance_store_raid0=True,
                capacity_reservation_ids=["cr-0123456789abcdef0"],
                placement_group="gpu-training",
            ),
            node_pool=NodePoolSpec(
                instance_types=["p5.48xlarge"],
                capacity_types=["reserved", "on-demand"],
                zones=["us-west-2a"],
                labels={"eks-ai-data/accelerator": "nvidia", "eks-ai-data/ami-family": "al2023"},
                taints=[GPU_TAINT],
                limits={"nvidia.com/gpu": "16"},
            ),
        ),
        "nvme-pool": NodePoolChart(
            app,
            "nvme-pool",
            name="nvme-local",
            node_class=NodeClassSpec(
                role="KarpenterNodeRole-ml-training",
                subnet_ids=["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"],
                security_group_ids=["sg-0a1b2c3d4e5f60718"],
                ami_alias="al2023@v20260714",
                root_volume_gib=100,
                user_data=al2023_user_data("mount"),
            ),
            node_pool=NodePoolSpec(
                instance_types=["i4i.8xlarge", "i4i.16xlarge"],
                capacity_types=["on-demand", "spot"],
                zones=["us-west-2a", "us-west-2b"],
                labels={"eks-ai-data/local-nvme": "local-volumes"},
                taints=[],
                limits={"cpu": "128"},
                weight=10,
            ),
        ),
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

# Karpenter's CRDs (aws/karpenter-provider-aws v1.14.1, pkg/apis/crds/karpenter.sh_nodepools.yaml and
# karpenter.k8s.aws_ec2nodeclasses.yaml): the fields the library emits, with the CRDs' enums, patterns, ranges and
# required fields, and the CEL rules that JSON Schema can say (role xor instanceProfile; an alias is the only AMI
# term), strict as above.
_QUANTITY = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
_LABEL_KEY = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(\/))?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
_LABEL_VALUE = {
    "type": "string",
    "maxLength": 63,
    "pattern": r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
}
_DURATION = r"^(([0-9]+(s|m|h))+|Never)$"
_TAINT = {
    "type": "object",
    "required": ["key", "effect"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "minLength": 1, "pattern": _LABEL_KEY},
        "value": {"type": "string", "pattern": _LABEL_KEY},
        "effect": {"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
    },
}
_OBJECT_META = {
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
}
NODE_POOL_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "karpenter.sh/v1"},
        "kind": {"const": "NodePool"},
        "metadata": _OBJECT_META,
        "spec": {
            "type": "object",
            "required": ["template"],
            "additionalProperties": False,
            "properties": {
                "template": {
                    "type": "object",
                    "required": ["spec"],
                    "additionalProperties": False,
                    "properties": {
                        "metadata": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "labels": {
                                    "type": "object",
                                    "maxProperties": 100,
                                    "additionalProperties": _LABEL_VALUE,
                                    # label domains karpenter.sh / karpenter.k8s.aws are restricted (CEL)
                                    "propertyNames": {
                                        "not": {"pattern": r"^([^/]*\.)?karpenter\.(sh|k8s\.aws)/"}
                                    },
                                },
                                "annotations": _STRING_MAP,
                            },
                        },
                        "spec": {
                            "type": "object",
                            "required": ["nodeClassRef", "requirements"],
                            "additionalProperties": False,
                            "properties": {
                                "nodeClassRef": {
                                    "type": "object",
                                    "required": ["group", "kind", "name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "group": {"type": "string", "minLength": 1, "pattern": r"^[^/]*$"},
                                        "kind": {"type": "string", "minLength": 1},
                                        "name": {"type": "string", "minLength": 1},
                                    },
                                },
                                "requirements": {
                                    "type": "array",
                                    "maxItems": 100,
                                    "items": {
                                        "type": "object",
                                        "required": ["key", "operator"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "key": {
                                                "type": "string",
                                                "maxLength": 316,
                                                "pattern": _LABEL_KEY,
                                            },
                                            "operator": {
                                                "enum": [
                                                    "Gte",
                                                    "Lte",
                                                    "In",
                                                    "NotIn",
                                                    "Exists",
                                                    "DoesNotExist",
                                                    "Gt",
                                                    "Lt",
                                                ]
                                            },
                                            "values": {"type": "array", "items": _LABEL_VALUE},
                                            "minValues": {"type": "integer", "minimum": 1, "maximum": 50},
                                        },
                                        # "requirements with operator 'In' must have a value defined"
                                        "if": {"properties": {"operator": {"const": "In"}}},
                                        "then": {
                                            "required": ["values"],
                                            "properties": {"values": {"minItems": 1}},
                                        },
                                    },
                                },
                                "taints": {"type": "array", "items": _TAINT},
                                "startupTaints": {"type": "array", "items": _TAINT},
                                "expireAfter": {"type": "string", "pattern": _DURATION},
                                "terminationGracePeriod": {
                                    "type": "string",
                                    "pattern": r"^([0-9]+(s|m|h))+$",
                                },
                            },
                        },
                    },
                },
                "disruption": {
                    "type": "object",
                    "required": ["consolidateAfter"],
                    "additionalProperties": False,
                    "properties": {
                        "consolidateAfter": {"type": "string", "pattern": _DURATION},
                        "consolidationPolicy": {
                            "enum": ["WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced"]
                        },
                        "budgets": {
                            "type": "array",
                            "maxItems": 50,
                            "items": {
                                "type": "object",
                                "required": ["nodes"],
                                "additionalProperties": False,
                                "properties": {
                                    "nodes": {"type": "string", "pattern": r"^((100|[0-9]{1,2})%|[0-9]+)$"},
                                    "reasons": {
                                        "type": "array",
                                        "maxItems": 50,
                                        "uniqueItems": True,
                                        "items": {"enum": ["Underutilized", "Empty", "Drifted"]},
                                    },
                                    "schedule": {"type": "string"},
                                    "duration": {
                                        "type": "string",
                                        "pattern": r"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$",
                                    },
                                },
                                "dependentRequired": {"schedule": ["duration"], "duration": ["schedule"]},
                            },
                        },
                    },
                },
                "limits": {
                    "type": "object",
                    "additionalProperties": {
                        "anyOf": [{"type": "integer"}, {"type": "string", "pattern": _QUANTITY}]
                    },
                },
                "weight": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        },
    },
}
_SELECTOR_TAGS = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {"type": "string", "minLength": 1},
}
EC2_NODE_CLASS_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "karpenter.k8s.aws/v1"},
        "kind": {"const": "EC2NodeClass"},
        "metadata": _OBJECT_META,
        "spec": {
            "type": "object",
            "required": ["amiSelectorTerms", "securityGroupSelectorTerms", "subnetSelectorTerms"],
            "additionalProperties": False,
            "oneOf": [{"required": ["role"]}, {"required": ["instanceProfile"]}],
            "properties": {
                "role": {"type": "string", "minLength": 1},
                "instanceProfile": {"type": "string", "minLength": 1},
                "amiFamily": {
                    "enum": [
                        "AL2",
                        "AL2023",
                        "Bottlerocket",
                        "Custom",
                        "Windows2019",
                        "Windows2022",
                        "Windows2025",
                    ]
                },
                "amiSelectorTerms": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 30,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "properties": {
                            "alias": {
                                "type": "string",
                                "maxLength": 30,
                                "pattern": r"^(al2|al2023|bottlerocket|windows2019|windows2022|windows2025)@.+$",
                            },
                            "id": {"type": "string", "pattern": r"ami-[0-9a-z]+"},
                            "name": {"type": "string"},
                            "owner": {"type": "string"},
                            "ssmParameter": {"type": "string"},
                            "tags": _SELECTOR_TAGS,
                        },
                    },
                    # an alias must be the only term, with no other field
                    "if": {"contains": {"required": ["alias"]}},
                    "then": {"maxItems": 1, "items": {"maxProperties": 1}},
                },
                "subnetSelectorTerms": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 30,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "oneOf": [{"required": ["id"]}, {"required": ["tags"]}],
                        "properties": {
                            "id": {"type": "string", "pattern": r"subnet-[0-9a-z]+"},
                            "tags": _SELECTOR_TAGS,
                        },
                    },
                },
                "securityGroupSelectorTerms": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 30,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "oneOf": [{"required": ["id"]}, {"required": ["name"]}, {"required": ["tags"]}],
                        "properties": {
                            "id": {"type": "string", "pattern": r"sg-[0-9a-z]+"},
                            "name": {"type": "string"},
                            "tags": _SELECTOR_TAGS,
                        },
                    },
                },
                "capacityReservationSelectorTerms": {
                    "type": "array",
                    "maxItems": 30,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "id": {"type": "string", "pattern": r"^cr-[0-9a-z]+$"},
                            "ownerID": {"type": "string", "pattern": r"^[0-9]{12}$"},
                            "tags": _SELECTOR_TAGS,
                            "instanceMatchCriteria": {"enum": ["open", "targeted"]},
                        },
                    },
                },
                "placementGroupSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "oneOf": [{"required": ["id"]}, {"required": ["name"]}],
                    "properties": {
                        "id": {"type": "string", "pattern": r"^pg-[0-9a-z]+$"},
                        "name": {"type": "string"},
                    },
                },
                "instanceStorePolicy": {"enum": ["RAID0"]},
                "userData": {"type": "string"},
                "metadataOptions": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "httpEndpoint": {"enum": ["enabled", "disabled"]},
                        "httpProtocolIPv6": {"enum": ["enabled", "disabled"]},
                        "httpPutResponseHopLimit": {"type": "integer", "minimum": 1, "maximum": 64},
                        "httpTokens": {"enum": ["required", "optional"]},
                    },
                },
                "blockDeviceMappings": {
                    "type": "array",
                    "maxItems": 50,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "deviceName": {"type": "string"},
                            "rootVolume": {"type": "boolean"},
                            "ebs": {
                                "type": "object",
                                "additionalProperties": False,
                                "anyOf": [{"required": ["snapshotID"]}, {"required": ["volumeSize"]}],
                                "properties": {
                                    "deleteOnTermination": {"type": "boolean"},
                                    "encrypted": {"type": "boolean"},
                                    "iops": {"type": "integer"},
                                    "kmsKeyID": {"type": "string"},
                                    "snapshotID": {"type": "string"},
                                    "throughput": {"type": "integer"},
                                    "volumeSize": {
                                        "type": "string",
                                        "pattern": r"^((?:[1-9][0-9]{0,3}|[1-4][0-9]{4}|[5][0-8][0-9]{3}|59000)Gi|(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|[6][0-3][0-9]{3}|64000)G|([1-9]||[1-5][0-7]|58)Ti|([1-9]||[1-5][0-9]|6[0-3]|64)T)$",
                                    },
                                    "volumeType": {
                                        "enum": ["standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"]
                                    },
                                },
                            },
                        },
                    },
                },
                "tags": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "propertyNames": {
                        "not": {
                            "anyOf": [
                                {
                                    "enum": [
                                        "eks:eks-cluster-name",
                                        "karpenter.sh/nodepool",
                                        "karpenter.sh/nodeclaim",
                                        "karpenter.k8s.aws/ec2nodeclass",
                                    ]
                                },
                                {"pattern": r"^kubernetes\.io/cluster"},
                            ]
                        }
                    },
                },
            },
        },
    },
}

CRD_SCHEMAS = {
    ("snapshot.storage.k8s.io/v1", "VolumeSnapshotClass"): VOLUME_SNAPSHOT_CLASS_SCHEMA,
    ("karpenter.sh/v1", "NodePool"): NODE_POOL_SCHEMA,
    ("karpenter.k8s.aws/v1", "EC2NodeClass"): EC2_NODE_CLASS_SCHEMA,
}


def validate(obj: dict[str, Any]) -> None:
    """Raise unless ``obj`` is valid for the cluster's Kubernetes version (strict: no unknown fields)."""
    crd_schema = CRD_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
    if crd_schema is not None:
        jsonschema.validate(obj, crd_schema, cls=jsonschema.Draft202012Validator)
    else:
        kubernetes_validate.validate(obj, kubernetes_version(), strict=True)
