"""Helm releases of the capacity constructs, applied through the cluster's kubectl provider (:func:`helm_release`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from ..capacity_versions import ChartPin
from ..cluster_interface import IAiCluster, dependencies
from ..identity import IdentityMode, WorkloadIdentity


def helm_release(
    scope: Construct,
    id: str,
    *,
    cluster: IAiCluster,
    chart: ChartPin,
    release: str,
    values: Mapping[str, Any] | None = None,
    namespace: str = "kube-system",
    skip_crds: bool = False,
    after: Sequence[IDependable | None] = (),
) -> eks.HelmChart:
    """``chart`` at its pinned version as release ``release``, created once the cluster has nodes to run on (and
    after ``after``)."""
    chart_release = eks.HelmChart(
        scope,
        id,
        cluster=cluster.cluster,
        chart=chart.chart,
        repository=chart.repository,
        version=chart.version,
        release=release,
        namespace=namespace,
        create_namespace=False,
        skip_crds=skip_crds or None,
        values=dict(values) if values is not None else None,
    )
    for dependency in dependencies(cluster.node_dependency, *after):
        chart_release.node.add_dependency(dependency)
    return chart_release


def controller_identity(
    scope: Construct, cluster: IAiCluster, *, service_account: str, mode: IdentityMode, description: str
) -> WorkloadIdentity:
    """The role of a controller's service account in ``kube-system``, through ``mode`` (EKS Pod Identity or IRSA)."""
    return WorkloadIdentity(
        scope,
        "Identity",
        cluster=cluster.cluster,
        namespace="kube-system",
        service_account=service_account,
        mode=mode,
        description=description,
    )


def service_account_values(identity: WorkloadIdentity) -> dict[str, Any]:
    """A chart's ``serviceAccount`` values for ``identity`` (created by the chart, named, annotated for IRSA)."""
    values: dict[str, Any] = {"create": True, "name": identity.service_account_name}
    if identity.service_account_annotations:
        values["annotations"] = identity.service_account_annotations
    return values


def identity_dependencies(cluster: IAiCluster, identity: WorkloadIdentity) -> list[IDependable | None]:
    """What a controller's pods wait for to get credentials: the Pod Identity agent and the association."""
    return [cluster.pod_identity_agent, identity.pod_identity_association]
