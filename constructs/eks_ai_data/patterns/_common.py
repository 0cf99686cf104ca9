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

    Returns the bucket to use and the DataBucket created (``None`` when the bucket was given).
    """
    if bucket is not None:
        return bucket, None
    created = DataBucket(scope, "Bucket", encryption_key=cluster.keys.data_key, **props)
    return created.bucket, created
