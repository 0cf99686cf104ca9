"""The model repository pattern: S3 (model storage) -> EFS or FSx for Lustre (cache) -> inference pods."""

from __future__ import annotations

from typing import Literal

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as aws_efs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._validate import (
    ACCESS_POINT,
    fail,
    require,
    require_dns1123_label,
    require_dns1123_subdomain,
    require_resource,
)
from ..cluster_interface import IAiCluster, require_ai_cluster
from ..efs import SharedEfs
from ..efs_import import ISharedEfs, require_shared_efs
from ..identity import WorkloadIdentity
from ..k8s import EfsVolumeSpec, MountpointVolumeSpec, ServiceAccountSpec
from ..lustre import DataRepositoryLink, LustreStore
from ..lustre_import import ILustreStore, require_lustre_store
from ._common import bucket_or_new, lustre_volume_spec
from .cluster_storage import ClusterStorage, require_storage

ModelCache = Literal["efs", "lustre", "mountpoint"]
MODEL_CACHES = ("efs", "lustre", "mountpoint")


class ModelRepository(Construct):
    """Models in S3, cached on EFS (or FSx for Lustre), mounted ``ReadWriteMany`` by inference pods.

    - The model bucket: ``model_bucket`` if given, else a new :class:`DataBucket`.
    - ``cache="efs"`` (default): an access point ``/<namespace>/models`` on ``efs`` (a :class:`SharedEfs`, created
      if not given) and a static volume + claim of it, mounted ``tls,iam`` by the EFS CSI driver (granted here).
      EFS spans every AZ, so inference pods anywhere can mount it; a model-sync job running as the repository's
      identity copies models from S3 into the claim.
    - ``cache="lustre"``: a :class:`LustreStore` linked to ``s3://bucket/models_prefix`` with auto-import, so
      models load lazily from S3 on first read at Lustre speed; it lives in one AZ (``subnet``), and its volume
      carries that zone's node affinity.
    - ``cache="mountpoint"``: no cache; a read-only Mountpoint for Amazon S3 volume + claim of
      ``s3://bucket/models_prefix/`` only (``prefix models/``), mounted with the credentials of the pod that uses
      the claim (``authenticationSource: pod``): pods must run as ``service_account``, and the Mountpoint driver
      (installed by :class:`ClusterStorage` on first use) gets no role of its own. A pod of another namespace, or
      with another service account, has no claim to it and no role that reads the prefix.
    - A read-only workload identity (``service_account`` in ``namespace``, IRSA) on ``s3://bucket/models_prefix/``.
      With a file-system cache it gets no EFS permission: pods reach the cache through the claim, which the driver
      mounts with its own role.

    Data that outlives the cluster (a data stack, several clusters one after the other): pass the stores and
    the bucket from there, ``efs`` with ``access_point`` (created where the file system is; this construct then
    creates nothing on it) or ``lustre`` (linked to the model bucket at ``/models``), and ``model_bucket``. The
    node security-group rules are created here, on the consuming side.

    :param cluster: the cluster.
    :param storage: the cluster's ClusterStorage.
    :param namespace: of the claim.
    :param cache: ``efs``, ``lustre`` or ``mountpoint``. Default: ``efs``.
    :param efs: the file system to use: a SharedEfs, or ``SharedEfs.from_existing(...)`` for one created
        elsewhere. Default: a new one.
    :param access_point: an existing access point on ``efs`` holding the models. Default: a new one,
        ``/<namespace>/models``, owned by ``uid``.
    :param lustre: an existing store linking ``/models`` to ``model_bucket`` (``cache="lustre"``): a LustreStore, or
        ``LustreStore.from_existing(...)`` for a file system created elsewhere.
        Default: a new one.
    :param model_bucket: Default: a new DataBucket.
    :param models_prefix: Default: ``models``.
    :param service_account: Default: ``model-reader``.
    :param claim_name: Default: ``models``.
    :param uid: POSIX uid/gid of the access point's files (with ``mountpoint``: of the mounted files). Default: 1000.
    :param subnet: the Lustre cache's subnet. Default: the first private subnet.
    :param lustre_capacity_gib: Default: 1200.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        storage: ClusterStorage,
        namespace: str,
        cache: ModelCache = "efs",
        efs: ISharedEfs | None = None,
        model_bucket: s3.IBucket | None = None,
        models_prefix: str = "models",
        service_account: str = "model-reader",
        claim_name: str = "models",
        uid: int = 1000,
        subnet: ec2.ISubnet | None = None,
        lustre_capacity_gib: int = 1200,
        access_point: aws_efs.IAccessPoint | None = None,
        lustre: ILustreStore | None = None,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        require(self, cache in MODEL_CACHES, "cache", cache, f"must be one of {list(MODEL_CACHES)}")
        require_dns1123_label(self, "namespace", namespace)
        storage = require_storage(self, storage, namespace)
        require_dns1123_subdomain(self, "claim_name", claim_name)
        require(
            self,
            isinstance(models_prefix, str) and models_prefix.strip("/") != "",
            "models_prefix",
            models_prefix,
            "must name a key prefix",
        )
        if access_point is not None:
            require_resource(self, "access_point", access_point, *ACCESS_POINT)
        if cache != "efs" and efs is not None:
            raise fail(self, "efs", efs.node.path, "is only used with cache='efs'")
        if cache == "efs" and lustre is not None:
            raise fail(self, "lustre", lustre.node.path, "is only used with cache='lustre'")
        if access_point is not None and efs is None:
            raise fail(
                self,
                "access_point",
                access_point.node.path,
                "names an access point of an existing file system: pass that SharedEfs as efs too",
            )
        if lustre is not None and model_bucket is None:
            raise fail(
                self, "model_bucket", None, "is required with lustre= (the bucket the store links at /models)"
            )
        prefix = models_prefix.strip("/")

        model_bucket, self.data_bucket = bucket_or_new(self, cluster, model_bucket, prop="model_bucket")
        self.bucket = model_bucket
        self.namespace = namespace
        self.claim_name = claim_name
        self.cache = cache

        self.identity = WorkloadIdentity(
            self, "Reader", cluster=cluster.cluster, namespace=namespace, service_account=service_account
        )
        self.identity.read_prefix(model_bucket, prefix)

        self.efs: ISharedEfs | None = None
        self.lustre: ILustreStore | None = None
        volume_name = f"{namespace}-{claim_name}"
        if cache == "efs":
            if efs is not None:
                efs = require_shared_efs(self, "efs", efs)
            else:
                efs = SharedEfs(
                    self,
                    "Cache",
                    vpc=cluster.vpc,
                    node_security_groups=[],
                    kms_key=cluster.keys.data_key,
                )
            self.efs = efs
            self.client_rules: list = efs.allow_clients(cluster.node_security_group, scope=self)
            storage.grant_efs_mounts(efs)
            self.access_point = access_point or efs.add_access_point(
                f"{namespace}-models", path=f"/{namespace}/models", uid=uid, gid=uid, permissions="755"
            )
            self.volumes = storage.add_static_volumes(
                "Volumes",
                owner=self,
                efs_volumes=[
                    EfsVolumeSpec(
                        name=volume_name,
                        file_system_id=efs.file_system_id,
                        access_point_id=self.access_point.access_point_id,
                        namespace=namespace,
                        claim_name=claim_name,
                    )
                ],
            )
        elif cache == "mountpoint":
            self.client_rules = []
            self.volumes = storage.add_static_volumes(
                "Volumes",
                owner=self,
                mountpoint_volumes=[
                    MountpointVolumeSpec(
                        name=volume_name,
                        bucket_name=model_bucket.bucket_name,
                        prefix=prefix,
                        namespace=namespace,
                        region=model_bucket.env.region,
                        claim_name=claim_name,
                        uid=uid,
                        gid=uid,
                    )
                ],
            )
        else:
            self.lustre = (
                require_lustre_store(self, "lustre", lustre)
                if lustre is not None
                else LustreStore(
                    self,
                    "Cache",
                    vpc=cluster.vpc,
                    subnet=subnet if subnet is not None else cluster.private_subnets[0],
                    node_security_groups=[],
                    kms_key=cluster.keys.data_key,
                    storage_capacity_gib=lustre_capacity_gib,
                    data_repositories=[
                        DataRepositoryLink(
                            file_system_path="/models", bucket=model_bucket, prefix=f"{prefix}/"
                        )
                    ],
                )
            )
            self.client_rules = self.lustre.allow_clients(cluster.node_security_group, scope=self)
            self.volumes = storage.add_static_volumes(
                "Volumes",
                owner=self,
                lustre_volumes=[
                    lustre_volume_spec(
                        self.lustre, name=volume_name, namespace=namespace, claim_name=claim_name
                    )
                ],
            )
        self.service_accounts = storage.add_service_accounts(
            "ServiceAccounts",
            owner=self,
            service_accounts=[
                ServiceAccountSpec(
                    name=service_account, namespace=namespace, role_arn=self.identity.irsa_role_arn
                )
            ],
        )
