"""The training checkpoint pattern: instance storage (frequent checkpoints) -> S3 (durable checkpoints)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

from aws_cdk import Duration, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._validate import fail, require, require_bool, require_dns1123_label, whole_days
from ..cluster_interface import IAiCluster, require_ai_cluster
from ..compute.node_pools import GpuNodePool, NvmeNodePool
from ..errors import require_items
from ..identity import WorkloadIdentity
from ..k8s import ServiceAccountSpec
from ..lustre import DataRepositoryLink
from ..lustre_import import ILustreStore, require_lustre_store
from ..nodegroups import GpuNodeGroup, NvmeNodeGroup
from ._common import bucket_or_new
from .cluster_storage import ClusterStorage, require_storage

CheckpointSync = Literal["lustre-export", "writer-identity"]
#: What training runs on: managed node groups or Karpenter node pools (told apart by their ``local_storage``).
ScratchNodes: TypeAlias = "GpuNodeGroup | NvmeNodeGroup | GpuNodePool | NvmeNodePool"


class TrainingCheckpoints(Construct):
    """Frequent checkpoints on local NVMe, durable copies in an S3 checkpoint bucket, old checkpoints expired.

    Training pods write checkpoints to NVMe-backed ``emptyDir`` scratch (node groups whose instance store is a
    RAID0 array), then copy the ones worth keeping to durable storage in one of two ways:

    - ``lustre-export``: to ``export_path`` on a Lustre file system that auto-exports new and changed files to
      ``s3://checkpoint bucket/prefix/`` (no AWS credentials in the pod). Deleting a checkpoint file on Lustre does
      not delete it in S3 unless ``export_deletes=True`` (then a local ``rm`` deletes the object; the versioned
      bucket keeps it as a noncurrent version for ``noncurrent_expire_after``); old checkpoints leave S3 through
      the lifecycle rule instead;
    - ``writer-identity``: directly to S3, through a workload identity (``service_account`` in ``namespace``)
      that may write (and delete, to rotate) under the prefix and nothing else.

    The writer identity is created in both modes (resuming from S3 needs it too in ``lustre-export`` mode).
    Lifecycle: checkpoints under the prefix expire after ``expire_after`` (noncurrent versions after
    ``noncurrent_expire_after``); incomplete multipart uploads are aborted after 7 days (DataBucket).

    :param cluster: the cluster the training pods run on (an :class:`~eks_ai_data.AiCluster` or one imported with
        ``AiCluster.from_existing``).
    :param storage: the cluster's :class:`~eks_ai_data.ClusterStorage` (its drivers and volume registry).
    :param namespace: namespace of the training pods and the writer's service account.
    :param service_account: the writer identity's service account. Default: ``checkpoint-writer``.
    :param scratch_node_groups: node groups (or Karpenter node pools) training runs on; at least one must carry a local NVMe RAID0.
    :param sync: ``lustre-export`` or ``writer-identity``. Default: ``lustre-export`` when ``lustre`` is given.
    :param lustre: the file system that exports (``lustre-export``): a LustreStore, or ``LustreStore.from_existing``
        for one created elsewhere (the association is then created on it here); when it links ``export_path`` already (a store
        in a data stack, linked there), that link must export to the checkpoint bucket's prefix and is used as it
        is.
    :param export_path: the Lustre directory exported to S3. Default: ``/checkpoints``.
    :param checkpoint_bucket: an existing bucket. Default: a new DataBucket.
    :param prefix: key prefix of checkpoints. Default: ``checkpoints``.
    :param expire_after: how long a checkpoint is kept. Default: 30 days.
    :param noncurrent_expire_after: how long an overwritten checkpoint version is kept. Default: 7 days.
    :param lifecycle: add the expiry rule to the checkpoint bucket. An imported bucket's rules cannot be changed
        from here, nor those of a bucket in another stack (a data stack that outlives this one), so with such a
        ``checkpoint_bucket`` this must be ``False`` (manage expiry where the bucket is). Default: ``True``.
    :param export_deletes: with ``lustre-export``, also export deletions (see above). Default: ``False``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        storage: ClusterStorage,
        namespace: str,
        scratch_node_groups: Sequence[ScratchNodes],
        service_account: str = "checkpoint-writer",
        sync: CheckpointSync | None = None,
        lustre: ILustreStore | None = None,
        export_path: str = "/checkpoints",
        checkpoint_bucket: s3.IBucket | None = None,
        prefix: str = "checkpoints",
        expire_after: Duration | None = None,
        noncurrent_expire_after: Duration | None = None,
        lifecycle: bool = True,
        export_deletes: bool = False,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        require_dns1123_label(self, "namespace", namespace)
        storage = require_storage(self, storage, namespace)
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
        scratch_node_groups = require_items(
            self,
            "scratch_node_groups",
            scratch_node_groups,
            (GpuNodeGroup, NvmeNodeGroup, GpuNodePool, NvmeNodePool),
            what="node groups or node pools (GpuNodeGroup, NvmeNodeGroup, GpuNodePool, NvmeNodePool)",
        )
        require_bool(self, "lifecycle", lifecycle)
        require_bool(self, "export_deletes", export_deletes)
        if not any(_has_local_nvme(group) for group in scratch_node_groups):
            raise fail(
                self,
                "scratch_node_groups",
                [group.node.path for group in scratch_node_groups],
                "must include a node group whose NVMe instance store is a RAID0 array (frequent checkpoints land on "
                "emptyDir there): a GpuNodeGroup of a type with instance store, or an NvmeNodeGroup in ephemeral mode",
            )
        require(
            self,
            isinstance(prefix, str) and prefix.strip("/") != "",
            "prefix",
            prefix,
            "must name a key prefix (not the bucket root)",
        )
        prefix = prefix.strip("/")
        expire = expire_after if expire_after is not None else Duration.days(30)
        noncurrent = noncurrent_expire_after if noncurrent_expire_after is not None else Duration.days(7)
        # S3 lifecycle rules take whole, positive days (LifecycleExpiration Days, NoncurrentDays: at least 1)
        for prop, duration in (("expire_after", expire), ("noncurrent_expire_after", noncurrent)):
            days = whole_days(self, prop, duration)
            require(
                self,
                days >= 1,
                prop,
                f"{days} days",
                "must be at least 1 day (S3 lifecycle rules count days from 1)",
            )

        checkpoint_bucket, self.data_bucket = bucket_or_new(
            self,
            cluster,
            checkpoint_bucket,
            prop="checkpoint_bucket",
            noncurrent_version_expiration=noncurrent,
        )
        self.bucket = checkpoint_bucket
        self.prefix = prefix
        self.sync = sync
        if lifecycle:
            if isinstance(checkpoint_bucket, s3.Bucket) and (
                Stack.of(checkpoint_bucket).node.path != Stack.of(self).node.path
            ):
                raise fail(
                    self,
                    "lifecycle",
                    True,
                    f"cannot add the expiry rule to {checkpoint_bucket.node.path}: it belongs to another stack, "
                    "which must not change with this one; set lifecycle=False and expire "
                    f"'{prefix}/' where the bucket is defined",
                )
            if not isinstance(checkpoint_bucket, s3.Bucket):
                raise fail(
                    self,
                    "lifecycle",
                    True,
                    f"cannot add the expiry rule to {checkpoint_bucket.node.path}: an imported bucket's lifecycle "
                    "rules are not this app's to change; set lifecycle=False and expire "
                    f"'{prefix}/' on that bucket yourself",
                )
            checkpoint_bucket.add_lifecycle_rule(
                id="ExpireOldCheckpoints",
                prefix=f"{prefix}/",
                expiration=expire,
                noncurrent_version_expiration=noncurrent,
            )
        elif expire_after is not None:
            raise fail(
                self,
                "expire_after",
                f"{expire_after.to_days()} days",
                "has no effect with lifecycle=False (no expiry rule is created)",
            )
        if export_deletes and sync != "lustre-export":
            raise fail(self, "export_deletes", True, "applies only to sync='lustre-export'")

        if sync == "lustre-export" and lustre is not None:  # required with it (checked above)
            lustre = require_lustre_store(self, "lustre", lustre)
            wanted = DataRepositoryLink(
                file_system_path=export_path,
                bucket=checkpoint_bucket,
                prefix=f"{prefix}/",
                auto_import=True,
                auto_export=True,
                auto_export_deletes=export_deletes,
            )
            existing = next(
                (
                    link
                    for link in lustre.links
                    if link.file_system_path.rstrip("/") == export_path.rstrip("/")
                ),
                None,
            )
            if existing is None:
                lustre.add_data_repository(wanted)
            elif not _same_link(self, existing, wanted):
                raise fail(
                    self,
                    "lustre",
                    lustre.node.path,
                    f"links {export_path} already, but not as an export to s3://<checkpoint bucket>/{prefix}/ "
                    f"with auto_export=True and auto_export_deletes={export_deletes}",
                )
        self.identity = WorkloadIdentity(
            self, "Writer", cluster=cluster.cluster, namespace=namespace, service_account=service_account
        )
        self.identity.write_prefix(checkpoint_bucket, prefix, delete=True)
        self.service_accounts = storage.add_service_accounts(
            "ServiceAccounts",
            owner=self,
            service_accounts=[
                ServiceAccountSpec(
                    name=service_account, namespace=namespace, role_arn=self.identity.irsa_role_arn
                )
            ],
        )


def _same_link(scope: Construct, a: DataRepositoryLink, b: DataRepositoryLink) -> bool:
    stack = Stack.of(scope)
    return (
        stack.resolve(a.bucket.bucket_name) == stack.resolve(b.bucket.bucket_name)
        and a.prefix == b.prefix
        and (a.auto_export, a.auto_export_deletes) == (b.auto_export, b.auto_export_deletes)
    )


def _has_local_nvme(group: ScratchNodes) -> bool:
    if isinstance(group, NvmeNodeGroup):
        return group.mode == "ephemeral"
    return getattr(group, "local_storage", "none") == "raid0"
