"""What every eks-ai-data construct needs from a cluster (:class:`IAiCluster`), whoever created the cluster.

Two classes implement it, as aws-cdk-lib's ``efs.IFileSystem`` is implemented by a created and an imported
file system:

- :class:`~eks_ai_data.cluster.AiCluster`: a cluster this app creates;
- :class:`~eks_ai_data.imported_cluster.ImportedAiCluster` (``AiCluster.from_existing(...)``): a cluster
  that exists already (another stack, Terraform, eksctl), described by explicit props.

Node groups, storage drivers, in-cluster charts, identities, capacity engines and the patterns take an
``IAiCluster`` and use only what this interface offers, so they work the same on both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IDependable

from ._validate import fail
from .errors import shown

if TYPE_CHECKING:

    class CreatedEksCluster(eks.Cluster, eks.ICluster):
        """For type checkers only: an ``aws_eks_v2.Cluster``, which is an ``eks.ICluster``.

        aws-cdk-lib's Python ``Cluster`` implements ``ICluster`` (``@jsii.implements``) but its generated class does
        not declare ``kubectl_provider_options``, a member of the ``ICluster`` protocol, so mypy finds it no
        ``ICluster``. :attr:`AiCluster.cluster <eks_ai_data.cluster.AiCluster.cluster>` is typed with this class.
        """

else:
    CreatedEksCluster = eks.Cluster


@runtime_checkable
class IPlatformKeys(Protocol):
    """The platform's keys: :class:`~eks_ai_data.keys.DataKeys` or :class:`PlatformKeys`."""

    @property
    def data_key(self) -> kms.IKey: ...

    @property
    def backup_key(self) -> kms.IKey | None: ...


@dataclass(frozen=True)
class PlatformKeys:
    """Existing keys of a platform whose cluster already exists (no key is created).

    :param data_key: encrypts data at rest (EBS root and CSI volumes, FSx, EFS, S3, logs). Required.
    :param backup_key: encrypts the AWS Backup vault. Default: none (no backup plan, or pass one to it).
    :param secrets_key: the key the cluster's secrets are encrypted with, if any (informational). Default: none.
    """

    data_key: kms.IKey
    backup_key: kms.IKey | None = None
    secrets_key: kms.IKey | None = None


@runtime_checkable
class IAiCluster(Protocol):
    """An EKS cluster as eks-ai-data's constructs see it.

    Attributes every implementation offers:

    - ``cluster``: the ``aws_eks_v2`` cluster, with a kubectl provider (charts, Helm, manifests apply through it);
    - ``keys``: the platform keys (``data_key`` encrypts node volumes and data stores);
    - ``vpc`` and ``private_subnets``: where nodes, file systems and the kubectl provider live;
    - ``node_security_group``: the security group the platform's managed nodes carry (the EKS cluster security
      group); file systems admit their clients by it;
    - ``kubernetes_version``: ``"1.36"``-style minor version (charts are validated against it, add-ons and
      controllers are pinned to it);
    - ``oidc_provider``: the IAM OIDC provider for IRSA, ``None`` when the cluster has none (Pod Identity only);
    - ``system_node_labels``: labels of the nodes controllers run on (``{}``: no placement constraint);
    - ``node_dependency``: what add-ons and charts wait for before they are created (nodes to run on), or ``None``;
    - ``pod_identity_agent``: the ``eks-pod-identity-agent`` add-on to wait for, or ``None`` (installed already,
      or not managed here);
    - ``created``: ``True`` when this app creates the cluster (cluster-level settings can be changed), ``False``
      for an imported one.
    """

    @property
    def node(self) -> Any: ...

    @property
    def cluster(self) -> eks.ICluster: ...

    @property
    def keys(self) -> IPlatformKeys: ...

    @property
    def vpc(self) -> ec2.IVpc: ...

    @property
    def private_subnets(self) -> list[ec2.ISubnet]: ...

    @property
    def node_security_group(self) -> ec2.ISecurityGroup: ...

    @property
    def kubernetes_version(self) -> str: ...

    @property
    def oidc_provider(self) -> iam.IOpenIdConnectProvider | None: ...

    @property
    def system_node_labels(self) -> Mapping[str, str]: ...

    @property
    def node_dependency(self) -> IDependable | None: ...

    @property
    def pod_identity_agent(self) -> IDependable | None: ...

    @property
    def created(self) -> bool: ...


def require_ai_cluster(scope: Construct, prop: str, value: object) -> IAiCluster:
    """``value`` as an :class:`IAiCluster`, or a clear error naming what to pass instead.

    A bare ``aws_eks_v2`` cluster (created or imported) lacks the facts the constructs need (keys, subnets, node
    security group, Kubernetes version): the message says how to describe it with ``AiCluster.from_existing``.
    """
    if is_ai_cluster(value):
        return value
    what = shown(value)
    hint = (
        "an aws_eks_v2 cluster on its own lacks the platform facts the constructs need: describe it with "
        "AiCluster.from_existing(scope, id, cluster_name=..., kubernetes_version=..., vpc=..., keys=...)"
        if _looks_like_eks_cluster(value)
        else "must be an AiCluster or AiCluster.from_existing(...) (an IAiCluster)"
    )
    raise fail(scope, prop, what, hint)


def is_ai_cluster(value: object) -> TypeGuard[IAiCluster]:
    """``isinstance(value, IAiCluster)``, ``False`` where reading one of its attributes raises.

    A runtime-checkable protocol reads every member with ``hasattr``, in an order that changes with the process's
    string hashing, and ``hasattr`` passes on anything but ``AttributeError``. A jsii object answers some
    properties with a ``RuntimeError`` (``eks.Cluster.from_cluster_attributes`` without a VPC: "vpc is not
    defined for this imported cluster"), so without this the check failed in some processes only.
    """
    try:
        return isinstance(value, IAiCluster)
    except RuntimeError:
        return False


def _looks_like_eks_cluster(value: object) -> bool:
    # jsii interfaces are not runtime-checkable protocols: recognise an eks.ICluster by what it offers
    try:
        return all(hasattr(value, name) for name in ("cluster_name", "cluster_arn", "add_manifest"))
    except RuntimeError:
        return False


def dependencies(*items: IDependable | None) -> Sequence[IDependable]:
    """The given dependables without the ``None`` ones (an imported cluster has no node group to wait for)."""
    return [item for item in items if item is not None]
