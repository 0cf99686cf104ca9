"""What the patterns share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._validate import BUCKET, require_resource
from ..bucket import DataBucket
from ..cluster_interface import IAiCluster
from ..errors import EksAiDataValidationError
from ..k8s import LustreVolumeSpec
from ..lustre_import import ILustreStore


def bucket_or_new(
    scope: Construct, cluster: IAiCluster, bucket: s3.IBucket | None, *, prop: str, **props: Any
) -> tuple[s3.IBucket, DataBucket | None]:
    """``bucket`` as given, or a new :class:`DataBucket` ``Bucket`` under ``scope`` encrypted with the data key.

    Either way the bucket is allowed through the cluster network's S3 endpoint (when the cluster made its
    network: a VPC you pass in has an endpoint policy of yours). Returns the bucket to use and the
    DataBucket created (``None`` when the bucket was given).
    """
    created = None
    if bucket is not None:
        require_resource(scope, prop, bucket, *BUCKET)  # ``prop``: the pattern's name for it, in messages
    if bucket is None:
        created = DataBucket(scope, "Bucket", encryption_key=cluster.keys.data_key, **props)
        bucket = created.bucket
    network = getattr(cluster, "network", None)  # None: a VPC the cluster was given (or an imported cluster)
    if network is not None:
        network.allow_bucket(bucket)
    return bucket, created


def lustre_volume_spec(
    store: ILustreStore,
    *,
    name: str,
    namespace: str,
    claim_name: str | None = None,
    read_only: bool = False,
    mount_options: Sequence[str] = ("flock",),
) -> LustreVolumeSpec:
    """A static PersistentVolume + claim of ``store``: its id, DNS and mount names, capacity and zone filled in."""
    if not all(
        hasattr(store, a) for a in ("file_system_id", "dns_name", "mount_name", "storage_capacity_gib")
    ):
        raise EksAiDataValidationError(
            "lustre_volume_spec",
            "store",
            store,
            "must be a LustreStore or LustreStore.from_existing(...) (an ILustreStore), not a file system id",
        )
    return LustreVolumeSpec(
        name=name,
        file_system_id=store.file_system_id,
        dns_name=store.dns_name,
        mount_name=store.mount_name,
        storage_capacity_gib=store.storage_capacity_gib,
        namespace=namespace,
        availability_zone=store.availability_zone,
        claim_name=claim_name,
        read_only=read_only,
        mount_options=tuple(mount_options),
    )
