"""The distributed dataset pattern: S3 (raw data) -> FSx for Lustre (training access) -> training pods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._validate import fail, require_dns1123_label, require_dns1123_subdomain
from ..cluster import AiCluster
from ..k8s import LustreVolumeSpec
from ..lustre import DataRepositoryLink, LustreStore
from ..nodegroups import GpuNodeGroup
from ._common import bucket_or_new
from .cluster_storage import ClusterStorage

_RESERVED_GPU_PROPS = {"cluster", "instance_types", "subnet"}


class DistributedDataset(Construct):
    """A dataset in S3, served by FSx for Lustre (auto-import), to training pods on GPU nodes in the same AZ.

    - The dataset bucket: ``dataset_bucket`` if given, else a new :class:`DataBucket` encrypted with the data key.
    - A :class:`LustreStore` in ``subnet`` (default: the cluster's first private subnet), linked to
      ``s3://bucket/dataset_prefix`` at ``file_system_path`` with auto-import of new, changed and deleted objects.
    - A :class:`GpuNodeGroup` pinned to the same subnet: GPU nodes and the file system share one AZ, so reads
      never cross AZs (no cross-AZ latency or data-transfer cost).
    - A static PersistentVolume of the file system and a ``ReadWriteMany`` claim ``claim_name`` in ``namespace``,
      which training pods mount.

    :param cluster: the cluster. :param storage: the cluster's :class:`ClusterStorage` (namespace must be its).
    :param namespace: namespace of the claim. :param gpu_instance_types: the GPU node group's instance types.
    :param gpu_node_group_props: further :class:`GpuNodeGroup` props (``efa``, ``max_size``, ``capacity_type``, ...).
    :param dataset_bucket: an existing bucket. Default: a new DataBucket.
    :param dataset_prefix: key prefix of the dataset (ending in ``/``). Default: the whole bucket.
    :param file_system_path: where the dataset appears on the file system. Default: ``/datasets``.
    :param subnet: the subnet (AZ) of the file system and the GPU nodes. Default: the first private subnet.
    :param storage_capacity_gib: Default: 2400. :param per_unit_storage_throughput: MB/s/TiB. Default: 250.
    :param claim_name: Default: ``datasets``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: AiCluster,
        storage: ClusterStorage,
        namespace: str,
        gpu_instance_types: Sequence[str],
        gpu_node_group_props: Mapping[str, Any] | None = None,
        dataset_bucket: s3.IBucket | None = None,
        dataset_prefix: str = "",
        file_system_path: str = "/datasets",
        subnet: ec2.ISubnet | None = None,
        storage_capacity_gib: int = 2400,
        per_unit_storage_throughput: int = 250,
        claim_name: str = "datasets",
    ) -> None:
        super().__init__(scope, id)
        require_dns1123_label(self, "namespace", namespace)
        require_dns1123_subdomain(self, "claim_name", claim_name)
        gpu_props = dict(gpu_node_group_props or {})
        clash = sorted(_RESERVED_GPU_PROPS & set(gpu_props))
        if clash:
            raise fail(
                self,
                "gpu_node_group_props",
                clash,
                "must not set cluster, instance_types or subnet (set here)",
            )

        self.subnet = subnet if subnet is not None else cluster.private_subnets[0]
        dataset_bucket, self.data_bucket = bucket_or_new(self, cluster, dataset_bucket)
        self.bucket = dataset_bucket
        self.lustre = LustreStore(
            self,
            "Lustre",
            vpc=cluster.vpc,
            subnet=self.subnet,
            node_security_groups=[cluster.node_security_group],
            kms_key=cluster.keys.data_key,
            storage_capacity_gib=storage_capacity_gib,
            per_unit_storage_throughput=per_unit_storage_throughput,
            data_repositories=[
                DataRepositoryLink(
                    file_system_path=file_system_path, bucket=dataset_bucket, prefix=dataset_prefix
                )
            ],
        )
        self.gpu_nodes = GpuNodeGroup(
            self,
            "GpuNodes",
            cluster=cluster,
            instance_types=gpu_instance_types,
            subnet=self.subnet,
            **gpu_props,
        )
        self.availability_zone = self.lustre.availability_zone
        self.namespace = namespace
        self.claim_name = claim_name
        self.volumes = storage.add_static_volumes(
            id,
            lustre_volumes=[
                LustreVolumeSpec(
                    name=f"{namespace}-{claim_name}",
                    file_system_id=self.lustre.file_system_id,
                    dns_name=self.lustre.dns_name,
                    mount_name=self.lustre.mount_name,
                    storage_capacity_gib=storage_capacity_gib,
                    namespace=namespace,
                    claim_name=claim_name,
                )
            ],
        )
