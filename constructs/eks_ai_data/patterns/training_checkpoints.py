"""The training checkpoint pattern: instance storage (frequent checkpoints) -> S3 (durable checkpoints)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._validate import fail, require, require_dns1123_label
from ..cluster import AiCluster
from ..identity import WorkloadIdentity
from ..k8s import ServiceAccountSpec
from ..lustre import DataRepositoryLink, LustreStore
from ..nodegroups import GpuNodeGroup, NvmeNodeGroup
from ._common import bucket_or_new
from .cluster_storage import ClusterStorage

CheckpointSync = Literal["lustre-export", "writer-identity"]


class TrainingCheckpoints(Construct):
    """Frequent checkpoints on local NVMe, durable copies in an S3 checkpoint bucket, old checkpoints expired.

    Training pods write checkpoints to NVMe-backed ``emptyDir`` scratch (node groups whose instance store is a
    RAID0 array), then copy the ones worth keeping to durable storage in one of two ways:

    - ``lustre-export``: to ``export_path`` on a Lustre file system that auto-exports new, changed and deleted
      files to ``s3://checkpoint bucket/prefix/`` (no AWS credentials in the pod);
    - ``writer-identity``: directly to S3, through a workload identity (``service_account`` in ``namespace``)
      that may write (and delete, to rotate) under the prefix and nothing else.

    The writer identity is created in both modes (resuming from S3 needs it too in ``lustre-export`` mode).
    Lifecycle: checkpoints under the prefix expire after ``expire_after`` (noncurrent versions after
    ``noncurrent_expire_after``); incomplete multipart uploads are aborted after 7 days (DataBucket).

    :param scratch_node_groups: node groups training runs on; at least one must carry a local NVMe RAID0.
    :param sync: ``lustre-export`` or ``writer-identity``. Default: ``lustre-export`` when ``lustre`` is given.
    :param lustre: the file system that exports (``lustre-export``). :param export_path: Default: ``/checkpoints``.
    :param checkpoint_bucket: an existing bucket. Default: a new DataBucket.
    :param prefix: key prefix of checkpoints. Default: ``checkpoints``.
    :param expire_after: how long a checkpoint is kept. Default: 30 days.
    :param noncurrent_expire_after: how long an overwritten checkpoint version is kept. Default: 7 days.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: AiCluster,
        storage: ClusterStorage,
        namespace: str,
        scratch_node_groups: Sequence[GpuNodeGroup | NvmeNodeGroup],
        service_account: str = "checkpoint-writer",
        sync: CheckpointSync | None = None,
        lustre: LustreStore | None = None,
        export_path: str = "/checkpoints",
        checkpoint_bucket: s3.IBucket | None = None,
        prefix: str = "checkpoints",
        expire_after: Duration | None = None,
        noncurrent_expire_after: Duration | None = None,
    ) -> None:
        super().__init__(scope, id)
        require_dns1123_label(self, "namespace", namespace)
        sync = sync or ("lustre-export" if lustre is not None else "writer-identity")
        require(
            self,
            sync in ("lustre-export", "writer-identity"),
            "sync",
            sync,
            "must be 'lustre-export' or 'writer-identity'",
        )
        if sync == "lustre-export" and lustre is None:
            raise fail(self, "lustre", None, "is required when sync is 'lustre-export'")
        if not any(_has_local_nvme(group) for group in scratch_node_groups):
            raise fail(
                self,
                "scratch_node_groups",
                [group.node.path for group in scratch_node_groups],
                "must include a node group whose NVMe instance store is a RAID0 array (frequent checkpoints land on "
                "emptyDir there): a GpuNodeGroup of a type with instance store, or an NvmeNodeGroup in ephemeral mode",
            )
        require(
            self, prefix.strip("/") != "", "prefix", prefix, "must name a key prefix (not the bucket root)"
        )
        prefix = prefix.strip("/")
        expire = expire_after or Duration.days(30)
        noncurrent = noncurrent_expire_after or Duration.days(7)

        checkpoint_bucket, self.data_bucket = bucket_or_new(
            self, cluster, checkpoint_bucket, noncurrent_version_expiration=noncurrent
        )
        self.bucket = checkpoint_bucket
        self.prefix = prefix
        self.sync = sync
        if isinstance(checkpoint_bucket, s3.Bucket):
            checkpoint_bucket.add_lifecycle_rule(
                id="ExpireOldCheckpoints",
                prefix=f"{prefix}/",
                expiration=expire,
                noncurrent_version_expiration=noncurrent,
            )

        if sync == "lustre-export":
            lustre.add_data_repository(
                DataRepositoryLink(
                    file_system_path=export_path,
                    bucket=checkpoint_bucket,
                    prefix=f"{prefix}/",
                    auto_import=True,
                    auto_export=True,
                )
            )
        self.identity = WorkloadIdentity(
            self, "Writer", cluster=cluster.cluster, namespace=namespace, service_account=service_account
        )
        self.identity.write_prefix(checkpoint_bucket, prefix, delete=True)
        self.service_accounts = storage.add_service_accounts(
            id,
            [
                ServiceAccountSpec(
                    name=service_account, namespace=namespace, role_arn=self.identity.irsa_role_arn
                )
            ],
        )


def _has_local_nvme(group: GpuNodeGroup | NvmeNodeGroup) -> bool:
    if isinstance(group, NvmeNodeGroup):
        return group.mode == "ephemeral"
    return getattr(group, "local_storage", "none") == "raid0"
