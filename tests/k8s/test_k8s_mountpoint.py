"""Static Mountpoint for Amazon S3 volumes: what the v2 driver does with them (pod-level credentials, one prefix,
read-only), and the bad input it would refuse or misread, refused at synth time instead."""

from __future__ import annotations

import cdk8s
import pytest
from k8s_support import objects_of, reference_app, validate

from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.k8s import MountpointVolumeSpec, StaticVolumesChart

DEFERRED_BUCKET = "${Token[TOKEN.201]}"
DEFERRED_REGION = "${Token[TOKEN.202]}"


def driver_args(mount_options: list[str], access_mode: str) -> dict[str, str]:
    """The Mountpoint arguments the node plugin builds (pkg/mountpoint/args.go ``ParseArgs``; node.go adds
    ``--read-only`` for ``ReadOnlyMany``): ``key value`` or ``key=value``, whichever separator comes first."""
    raw = (["--read-only"] if access_mode == "ReadOnlyMany" else []) + mount_options
    args = {}
    for option in raw:
        option = option.strip(" ")
        space, equals = option.find(" "), option.find("=")
        if space != -1 and (equals == -1 or space < equals):
            key, value = option.split(" ", 1)
        elif equals != -1:
            key, value = option.split("=", 1)
        else:
            key, value = option, ""
        args["--" + key.lstrip("-")] = value.strip(" ")
    return args


def chart(*specs: MountpointVolumeSpec, namespaces=("inference",)) -> StaticVolumesChart:
    return StaticVolumesChart(cdk8s.App(), "volumes", known_namespaces=namespaces, mountpoint_volumes=specs)


def spec(**changes) -> MountpointVolumeSpec:
    props = dict(
        name="models", bucket_name="acme-models", prefix="models", namespace="inference", region="us-east-1"
    )
    return MountpointVolumeSpec(**{**props, **changes})


def test_the_volume_mounts_one_prefix_with_the_pods_credentials_read_only():
    pv = objects_of(reference_app()["static-volumes"], "PersistentVolume")["inference-models-s3"]["spec"]
    assert pv["csi"] == {
        "driver": "s3.csi.aws.com",
        "volumeHandle": "inference-models-s3",  # unique: the PV's own name
        "volumeAttributes": {
            "bucketName": "acme-models",
            "authenticationSource": "pod",  # the workload's service account, never the driver's role
            "stsRegion": "us-west-2",  # IRSA's STS Region without IMDS (hop limit 1)
        },
    }
    assert pv["accessModes"] == ["ReadOnlyMany"]
    assert pv["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["storageClassName"] == ""
    assert pv["claimRef"]["namespace"] == "inference" and pv["claimRef"]["name"] == "models-s3"
    args = driver_args(pv["mountOptions"], pv["accessModes"][0])
    assert args == {
        "--read-only": "",
        "--prefix": "models/llama/",  # Mountpoint's prefix ends with '/': only keys under it are visible
        "--region": "us-west-2",
        "--allow-other": "",  # a non-root workload (Pod Security restricted) may use the mount
        "--uid": "1000",
        "--gid": "1000",
    }


def test_the_claim_is_bound_to_the_volume_in_its_namespace_only():
    claims = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in reference_app()["static-volumes"].to_json()
        if o["kind"] == "PersistentVolumeClaim"
    }
    pvc = claims[("inference", "models-s3")]["spec"]
    assert pvc["volumeName"] == "inference-models-s3"
    assert pvc["accessModes"] == ["ReadOnlyMany"]
    assert [k for k in claims if k[1] == "models-s3"] == [("inference", "models-s3")]


def test_writable_volumes_and_tokens():
    volumes = chart(
        spec(read_only=False, bucket_name=DEFERRED_BUCKET, region=DEFERRED_REGION, prefix="models/")
    )
    for obj in volumes.to_json():
        validate(obj)
    pv = objects_of(volumes, "PersistentVolume")["models"]["spec"]
    assert pv["accessModes"] == ["ReadWriteMany"]
    args = driver_args(pv["mountOptions"], "ReadWriteMany")
    assert "--read-only" not in args and "--allow-delete" not in args  # new objects only
    assert args["--prefix"] == "models/" and args["--region"] == DEFERRED_REGION
    assert pv["csi"]["volumeAttributes"]["bucketName"] == DEFERRED_BUCKET


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prefix": ""}, r"mountpoint_volumes.prefix='': must be an S3 key prefix"),
        ({"prefix": "/models"}, r"prefix='/models': must be an S3 key prefix"),
        ({"prefix": "models/*"}, r"prefix='models/\*'"),
        ({"prefix": "a//b"}, r"prefix='a//b'"),
        ({"prefix": "a/../b"}, r"prefix='a/../b'"),
        ({"prefix": "models "}, r"prefix='models '"),
        ({"bucket_name": "Acme_Models"}, r"bucket_name='Acme_Models': must be an S3 bucket name"),
        ({"region": "us-east"}, r"region='us-east': must be an AWS Region"),
        ({"uid": -1}, r"uid=-1: must be an integer between 0 and"),
        ({"gid": 2**32}, r"gid=4294967296: must be an integer between 0 and"),
        (
            {"namespace": "training"},
            r"mountpoint_volumes.namespace='training': must be a namespace the charts create",
        ),
        ({"capacity_gib": 0}, r"capacity_gib=0: must be an integer between 1 and"),
    ],
)
def test_bad_input_is_refused_with_the_prop_and_value(changes, message):
    with pytest.raises(EksAiDataValidationError, match=message):
        chart(spec(**changes))


def test_a_volume_name_is_unique_across_volume_kinds():
    with pytest.raises(EksAiDataValidationError, match=r"volume name='models': must be unique"):
        chart(spec(), spec(claim_name="other"))
