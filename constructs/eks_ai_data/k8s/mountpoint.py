"""Static Mountpoint for Amazon S3 volumes that mount one key prefix with the workload pod's own credentials.

What the Mountpoint CSI driver v2 does with the PersistentVolume (awslabs/mountpoint-s3-csi-driver, docs/CONFIGURATION.md,
pkg/driver/node/node.go, pkg/mountpoint/args.go, pkg/driver/node/volumecontext/volume_context.go):

- ``csi.driver: s3.csi.aws.com``; ``volumeHandle`` must be unique across PersistentVolumes (two PVs with one handle
  are processed as one); static provisioning only, ``storageClassName: ""``.
- ``volumeAttributes.bucketName`` names the bucket; ``authenticationSource: pod`` makes the driver mount with the
  credentials of the pod that uses the claim (its service account's IRSA role, through the token kubelet passes
  for audience ``sts.amazonaws.com``), never the driver's own; ``stsRegion`` is the STS Region for IRSA (without
  it the driver asks IMDS, which a hop limit of 1 keeps out of reach).
- ``mountOptions`` are Mountpoint flags without ``--``, ``key value`` or ``key=value``: ``prefix <p>/`` shows only
  the keys under ``<p>/`` (the trailing ``/`` is part of the prefix), ``region`` the bucket's Region;
  ``allow-other`` lets users other than the Mountpoint process (a non-root workload) use the mount, ``uid``/``gid``
  set the files' owner. A ``ReadOnlyMany`` volume is mounted ``--read-only`` by the driver.

Why IRSA and not EKS Pod Identity for the workload's service account: pod-level mounts with Pod Identity were
reported to fail with "No signing credentials available" while IRSA on the same service account worked
(mountpoint-s3-csi-driver issue 781); :class:`~eks_ai_data.identity.WorkloadIdentity` defaults to IRSA.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs import Construct

from ._common import fail, require, require_int_range, unresolved

MOUNTPOINT_CSI_DRIVER = "s3.csi.aws.com"
#: S3 bucket names (general purpose buckets): 3-63 of lower-case letters, digits, '.' and '-'.
BUCKET_NAME = re.compile(r"(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_PREFIX_SEGMENT = re.compile(r"[^*?/\s][^*?/]*(?<!\s)|[^*?/\s]")
_POSIX_ID_MAX = (
    2**31 - 2
)  # Linux uid_t/gid_t, minus the reserved "nobody" overflow id (2**32-1 is invalid too)


@dataclass(frozen=True)
class MountpointVolumeSpec:
    """One key prefix of an S3 bucket offered to one namespace through Mountpoint, with the pod's own credentials.

    :param name: the PersistentVolume name (cluster-wide; also its ``volumeHandle``).
    :param bucket_name: the bucket (or a token).
    :param prefix: the key prefix the volume shows, e.g. ``models`` (mounted as ``prefix models/``; the pods'
        IAM role needs ``s3:ListBucket`` on it and ``s3:GetObject`` under it:
        ``WorkloadIdentity.read_prefix(bucket, prefix)``).
    :param namespace: namespace of the claim.
    :param region: the bucket's Region (or a token), also the STS Region of the pods' IRSA credentials.
    :param claim_name: Default: ``name``.
    :param read_only: ``ReadOnlyMany``, mounted ``--read-only``. Default: True. Writable volumes (``ReadWriteMany``)
        create new objects only (Mountpoint's default: no overwrite, no delete).
    :param uid: owner uid of the files. Default: none (Mountpoint's process owner; ``allow-other`` still lets the
        pod's user read them).
    :param gid: owner gid of the files. Default: none.
    :param capacity_gib: the capacity written on the volume and claim (S3 has none; Kubernetes requires one).
        Default: 1024.
    """

    name: str
    bucket_name: str
    prefix: str
    namespace: str
    region: str
    claim_name: str | None = None
    read_only: bool = True
    uid: int | None = None
    gid: int | None = None
    capacity_gib: int = 1024


def mountpoint_prefix(scope: Construct, prop: str, prefix: str) -> str:
    """The prefix without surrounding '/': non-empty segments of no '*', '?' or outer spaces, no '..'."""
    if unresolved(prefix):
        return prefix
    path = prefix.strip("/") if isinstance(prefix, str) else ""
    segments = path.split("/") if path else []
    if (
        not segments
        or (isinstance(prefix, str) and prefix.startswith("/"))
        or not all(_PREFIX_SEGMENT.fullmatch(s) and s != ".." for s in segments)
    ):
        raise fail(
            scope,
            prop,
            prefix,
            "must be an S3 key prefix such as 'models' or 'teams/research/models': no leading '/', no '*' or '?', "
            "no empty or '..' segments (a whole-bucket mount is not offered: a namespace reads its prefix only)",
        )
    return path


def mountpoint_pv_spec(scope: Construct, spec: MountpointVolumeSpec) -> dict:
    """The PersistentVolume ``spec`` fields (``mountOptions``, ``csi``) of a pod-level Mountpoint volume."""
    prefix = mountpoint_prefix(scope, "mountpoint_volumes.prefix", spec.prefix)
    require(
        scope,
        isinstance(spec.bucket_name, str) and bool(BUCKET_NAME.fullmatch(spec.bucket_name)),
        "mountpoint_volumes.bucket_name",
        spec.bucket_name,
        "must be an S3 bucket name: 3-63 lower-case letters, digits, '.' or '-'",
    )
    require(
        scope,
        isinstance(spec.region, str) and bool(REGION.fullmatch(spec.region)),
        "mountpoint_volumes.region",
        spec.region,
        "must be an AWS Region such as 'us-east-1' (the bucket's; also the STS Region of the pods' IRSA role)",
    )
    require_int_range(scope, "mountpoint_volumes.uid", spec.uid, 0, _POSIX_ID_MAX)
    require_int_range(scope, "mountpoint_volumes.gid", spec.gid, 0, _POSIX_ID_MAX)
    options = [f"prefix {prefix}/", f"region {spec.region}", "allow-other"]
    options += [f"uid={spec.uid}"] if spec.uid is not None else []
    options += [f"gid={spec.gid}"] if spec.gid is not None else []
    return {
        "mountOptions": options,
        "csi": {
            "driver": MOUNTPOINT_CSI_DRIVER,
            "volumeHandle": spec.name,
            "volumeAttributes": {
                "bucketName": spec.bucket_name,
                "authenticationSource": "pod",
                "stsRegion": spec.region,
            },
        },
    }
