"""What the patterns share."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..bucket import DataBucket
from ..cluster import AiCluster


def bucket_or_new(
    scope: Construct, cluster: AiCluster, bucket: s3.IBucket | None, **props: Any
) -> tuple[s3.IBucket, DataBucket | None]:
    """``bucket`` as given, or a new :class:`DataBucket` ``Bucket`` under ``scope`` encrypted with the data key.

    Either way the bucket is allowed through the cluster network's S3 endpoint (when the cluster made its
    network: a VPC you pass in has an endpoint policy of yours). Returns the bucket to use and the
    DataBucket created (``None`` when the bucket was given).
    """
    created = None
    if bucket is None:
        created = DataBucket(scope, "Bucket", encryption_key=cluster.keys.data_key, **props)
        bucket = created.bucket
    network = getattr(cluster, "network", None)  # None: a VPC the cluster was given (or an imported cluster)
    if network is not None:
        network.allow_bucket(bucket)
    return bucket, created
