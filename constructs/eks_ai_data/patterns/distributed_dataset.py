"""The distributed dataset pattern: S3 (raw data) -> FSx for Lustre (training access) -> training pods."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._validate import (
    SUBNET,
    fail,
    require,
    require_dns1123_label,
    require_dns1123_subdomain,
    require_options,
    require_resource,
    require_string_list,
    unresolved,
)
from ..cluster_interface import IAiCluster, require_ai_cluster
from ..compute.karpenter import Karpenter
from ..compute.node_pools import GpuNodePool, GpuNodePoolOptions
from ..errors import EksAiDataValidationError, reported_by
from ..lustre import DataRepositoryLink, LustreStore
from ..lustre_import import ILustreStore, require_lustre_store
from ..nodegroups import GpuNodeGroup, GpuNodeGroupOptions
from ._common import bucket_or_new, lustre_volume_spec
from .cluster_storage import ClusterStorage, require_storage

_RESERVED_GPU_PROPS = {"cluster", "instance_types", "subnet"}
_RESERVED_POOL_PROPS = {"karpenter", "instance_types", "subnet"}


class DistributedDataset(Construct):
    """A dataset in S3, served by FSx for Lustre (auto-import), to training pods on GPU nodes in the same AZ.

    - The dataset bucket: ``dataset_bucket`` if given, else a new :class:`DataBucket` encrypted with the data key.
    - A :class:`LustreStore` in ``subnet`` (default: the cluster's first private subnet), linked to
      ``s3://bucket/dataset_prefix`` at ``file_system_path`` with auto-import of new, changed and deleted objects;
      or ``lustre``, an existing store (for example in a data stack that outlives this cluster's stack).
    - Lustre traffic admitted both ways between the file system's and the nodes' security groups, as rules created
      here (the consuming side).
    - A :class:`GpuNodeGroup` pinned to the same subnet: GPU nodes and the file system share one AZ, so reads
      never cross AZs (no cross-AZ latency or data-transfer cost). With ``karpenter``, a
      :class:`~eks_ai_data.compute.node_pools.GpuNodePool` in that subnet instead.
    - A static PersistentVolume of the file system, with the node affinity of its zone, and a ``ReadWriteMany``
      claim ``claim_name`` in ``namespace``, which training pods mount.

    :param cluster: the cluster.
    :param storage: the cluster's :class:`ClusterStorage` (namespace must be its).
    :param namespace: namespace of the claim.
    :param gpu_instance_types: the GPU node group's instance types.
    :param gpu_node_group_props: further :class:`GpuNodeGroup` props (``efa``, ``max_size``, ``capacity_type``, ...).
    :param karpenter: the cluster's :class:`~eks_ai_data.compute.karpenter.Karpenter`: GPU capacity is then a
        NodePool in the file system's subnet. Default: none (a managed node group, scaled by the Cluster Autoscaler).
    :param gpu_node_pool_props: further :class:`~eks_ai_data.compute.node_pools.GpuNodePool` props (``efa``,
        ``gpu_limit``, ``capacity_types``, ...; an ``availability_zone`` must be the file system's). Default: none.
    :param dataset_bucket: an existing bucket. Default: a new DataBucket.
    :param dataset_prefix: key prefix of the dataset (ending in ``/``). Default: the whole bucket.
    :param file_system_path: where the dataset appears on the file system. Default: ``/datasets``.
    :param subnet: the subnet (AZ) of the file system and the GPU nodes. Default: the first private subnet (or the
        existing store's subnet).
    :param lustre: an existing store holding the dataset: a :class:`LustreStore` of this app, or
        ``LustreStore.from_existing(...)`` for a file system created elsewhere (then ``dataset_bucket``, ``dataset_prefix``,
        ``file_system_path``, ``subnet``, ``storage_capacity_gib`` and ``per_unit_storage_throughput`` describe
        nothing new and must be left at their defaults, and ``file_system_path`` names the directory to mount).
        Default: a new store.
    :param storage_capacity_gib: Default: 2400.
    :param per_unit_storage_throughput: MB/s/TiB. Default: 250.
    :param claim_name: Default: ``datasets``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        storage: ClusterStorage,
        namespace: str,
        gpu_instance_types: Sequence[str],
        gpu_node_group_props: GpuNodeGroupOptions | None = None,
        dataset_bucket: s3.IBucket | None = None,
        dataset_prefix: str | None = None,
        file_system_path: str = "/datasets",
        subnet: ec2.ISubnet | None = None,
        storage_capacity_gib: int | None = None,
        per_unit_storage_throughput: int | None = None,
        claim_name: str = "datasets",
        lustre: ILustreStore | None = None,
        karpenter: Karpenter | None = None,
        gpu_node_pool_props: GpuNodePoolOptions | None = None,
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        require_dns1123_label(self, "namespace", namespace)
        storage = require_storage(self, storage, namespace)
        gpu_instance_types = require_string_list(
            self, "gpu_instance_types", gpu_instance_types, what="instance types"
        )
        require_dns1123_subdomain(self, "claim_name", claim_name)
        gpu_props = require_options(
            self,
            "gpu_node_group_props",
            gpu_node_group_props,
            GpuNodeGroupOptions,
            set_here=_RESERVED_GPU_PROPS,
            set_here_reason="must not set cluster, instance_types or subnet (set here)",
        )
        pool_props = require_options(
            self,
            "gpu_node_pool_props",
            gpu_node_pool_props,
            GpuNodePoolOptions,
            set_here=_RESERVED_POOL_PROPS,
            set_here_reason="must not set karpenter, instance_types or subnet (set here)",
        )
        if karpenter is not None and not isinstance(karpenter, Karpenter):
            raise fail(self, "karpenter", karpenter, "must be the cluster's Karpenter construct (or None)")
        if subnet is not None:
            require_resource(self, "subnet", subnet, *SUBNET)
        if karpenter is None and pool_props:
            raise fail(self, "gpu_node_pool_props", sorted(pool_props), "apply only with karpenter=")
        if karpenter is not None and gpu_props:
            raise fail(
                self,
                "gpu_node_group_props",
                sorted(gpu_props),
                "describe a managed node group; with karpenter= the GPU capacity is a NodePool: use "
                "gpu_node_pool_props",
            )

        if lustre is not None:
            given = {
                "dataset_bucket": dataset_bucket,
                "subnet": subnet,
                "dataset_prefix": dataset_prefix,
                "storage_capacity_gib": storage_capacity_gib,
                "per_unit_storage_throughput": per_unit_storage_throughput,
            }
            for name, value in given.items():
                if value is not None:
                    raise fail(
                        self,
                        name,
                        getattr(getattr(value, "node", None), "path", value),
                        "describes a new file system; with lustre= (an existing store) leave it unset",
                    )
            lustre = require_lustre_store(self, "lustre", lustre)
            self.lustre: ILustreStore = lustre
            self.subnet = lustre.subnet
            self.data_bucket = None
            self.bucket = _linked_bucket(self, lustre, file_system_path)
        else:
            self.subnet = subnet if subnet is not None else cluster.private_subnets[0]
            dataset_bucket, self.data_bucket = bucket_or_new(
                self, cluster, dataset_bucket, prop="dataset_bucket"
            )
            self.bucket = dataset_bucket
            with reported_by(self.node.path, {"data_repositories": _link_prop}):
                self.lustre = LustreStore(
                    self,
                    "Lustre",
                    vpc=cluster.vpc,
                    subnet=self.subnet,
                    node_security_groups=[],
                    kms_key=cluster.keys.data_key,
                    storage_capacity_gib=2400 if storage_capacity_gib is None else storage_capacity_gib,
                    per_unit_storage_throughput=250
                    if per_unit_storage_throughput is None
                    else per_unit_storage_throughput,
                    data_repositories=[
                        DataRepositoryLink(
                            file_system_path=file_system_path,
                            bucket=dataset_bucket,
                            prefix=dataset_prefix or "",
                        )
                    ],
                )
        # Lustre traffic both ways between the nodes and the file servers, created here: the consuming side.
        self.client_rules = self.lustre.allow_clients(cluster.node_security_group, scope=self)
        self.availability_zone = self.lustre.availability_zone
        self.gpu_nodes: GpuNodeGroup | GpuNodePool
        # the node group's or pool's own checks, reported here with the props the user passed
        props_given = gpu_props if karpenter is None else pool_props
        options = "gpu_node_group_props" if karpenter is None else "gpu_node_pool_props"
        rename = {"instance_types": "gpu_instance_types", **{k: f"{options}.{k}" for k in props_given}}
        if karpenter is None:
            with reported_by(self.node.path, rename):
                self.gpu_nodes = GpuNodeGroup(
                    self,
                    "GpuNodes",
                    cluster=cluster,
                    instance_types=gpu_instance_types,
                    subnet=self.subnet,
                    **gpu_props,
                )
        else:
            zone = pool_props.get("availability_zone")
            if zone is not None and not unresolved(zone) and not unresolved(self.availability_zone):
                require(
                    self,
                    zone == self.availability_zone,
                    "gpu_node_pool_props.availability_zone",
                    zone,
                    f"must be the file system's zone ({self.availability_zone}): the pool's nodes read the dataset "
                    "from Lustre, which serves one zone",
                )
            with reported_by(self.node.path, rename):
                self.gpu_nodes = GpuNodePool(
                    self,
                    "GpuNodePool",
                    karpenter=karpenter,
                    instance_types=gpu_instance_types,
                    subnet=self.subnet,
                    **pool_props,
                )
        self.namespace = namespace
        self.claim_name = claim_name
        self.volumes = storage.add_static_volumes(
            "Volumes",
            owner=self,
            lustre_volumes=[
                lustre_volume_spec(
                    self.lustre, name=f"{namespace}-{claim_name}", namespace=namespace, claim_name=claim_name
                )
            ],
        )


def _linked_bucket(scope: Construct, lustre: ILustreStore, file_system_path: str) -> s3.IBucket:
    """The bucket an existing store links at ``file_system_path``."""
    for link in lustre.links:
        if link.file_system_path.rstrip("/") == file_system_path.rstrip("/"):
            return link.bucket
    raise fail(
        scope,
        "file_system_path",
        file_system_path,
        f"is not linked on {lustre.node.path}; linked paths: {[link.file_system_path for link in lustre.links]}",
    )


#: What a message of the LustreStore's ``data_repositories`` check is about -> the pattern prop the user passed.
_LINK_PROPS = (
    ("prefix must be", "dataset_prefix"),
    ("file_system_path", "file_system_path"),
    ("bucket", "dataset_bucket"),
)


def _link_prop(error: EksAiDataValidationError) -> str:
    """The pattern prop a LustreStore ``data_repositories`` refusal is about (its message says which)."""
    return next((prop for marker, prop in _LINK_PROPS if marker in error.allowed), error.prop)
