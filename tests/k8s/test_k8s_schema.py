"""Every object the charts emit is valid for the cluster's Kubernetes version; manifests are snapshotted."""

from __future__ import annotations

import jsonschema
import kubernetes_validate
import pytest
from k8s_support import all_objects, kubernetes_version, reference_app, validate
from syrupy.extensions.json import JSONSnapshotExtension

OBJECTS = all_objects()


@pytest.mark.parametrize("obj", [o for _, o in OBJECTS], ids=[i for i, _ in OBJECTS])
def test_object_is_valid_for_the_cluster_version(obj):
    validate(obj)


def test_every_chart_emits_objects_and_every_kind_is_checked():
    kinds = {o["kind"] for _, o in OBJECTS}
    assert kinds == {
        "Namespace",
        "ServiceAccount",
        "StorageClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "VolumeSnapshotClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "DaemonSet",
        "NodePool",
        "EC2NodeClass",
    }
    # the schemas of the cluster's version are there (kubernetes-validate would otherwise fall back)
    assert kubernetes_version() == "1.36.0"
    assert kubernetes_version() in kubernetes_validate.utils.all_versions()


def test_strict_validation_rejects_unknown_fields():
    """The check is not vacuous: a misspelled field fails, in the core schema and the CRD schema alike."""
    storage_class = next(o for _, o in OBJECTS if o["kind"] == "StorageClass")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(
            {**storage_class, "volumeBindingModes": "Immediate"}, "1.36.0", strict=True
        )
    snapshot_class = next(o for _, o in OBJECTS if o["kind"] == "VolumeSnapshotClass")
    with pytest.raises(jsonschema.ValidationError):
        validate({**snapshot_class, "deletionPolicy": "Keep"})
    with pytest.raises(jsonschema.ValidationError):
        validate({**snapshot_class, "driverName": "ebs.csi.aws.com"})


def _with(obj: dict, path: str, value) -> dict:
    import copy

    changed = copy.deepcopy(obj)
    *parents, leaf = path.split(".")
    target = changed
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[leaf] = value
    return changed


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        ("NodePool", "spec.disruption.consolidationPolicy", "WhenIdle"),
        ("NodePool", "spec.disruption.budgets.0.reasons", ["Expired"]),
        ("NodePool", "spec.template.spec.expireAfter", "30d"),
        ("NodePool", "spec.template.spec.requirements.0.operator", "Equals"),
        ("NodePool", "spec.template.spec.requirements.0.values", []),
        ("NodePool", "spec.template.metadata.labels", {"karpenter.sh/pool": "x"}),
        ("NodePool", "spec.limits", {"nvidia.com/gpu": "sixteen"}),
        ("NodePool", "spec.weight", 101),
        ("NodePool", "spec.template.spec.nodeClassRef", {"name": "gpu"}),
        ("EC2NodeClass", "spec.instanceStorePolicy", "RAID1"),
        ("EC2NodeClass", "spec.amiSelectorTerms", [{"alias": "al2023@latest"}, {"id": "ami-0123"}]),
        ("EC2NodeClass", "spec.amiSelectorTerms", [{"alias": "ubuntu@latest"}]),
        ("EC2NodeClass", "spec.capacityReservationSelectorTerms", [{"id": "reservation-1"}]),
        ("EC2NodeClass", "spec.metadataOptions.httpPutResponseHopLimit", 0),
        ("EC2NodeClass", "spec.blockDeviceMappings.0.ebs.volumeType", "gp4"),
        ("EC2NodeClass", "spec.instanceProfile", "KarpenterNodeInstanceProfile"),
        ("EC2NodeClass", "spec.subnetSelector", [{"id": "subnet-0a1b2c3d4e5f60718"}]),
    ],
)
def test_karpenter_schemas_reject_what_the_crds_reject(kind, path, value):
    obj = next(o for _, o in OBJECTS if o["kind"] == kind and o["metadata"]["name"] == "gpu-training")
    validate(obj)
    with pytest.raises(jsonschema.ValidationError):
        validate(_with(obj, path, value))


@pytest.mark.parametrize("chart_id", list(reference_app()))
def test_manifests_snapshot(chart_id, snapshot):
    assert reference_app()[chart_id].to_json() == snapshot(extension_class=JSONSnapshotExtension)
