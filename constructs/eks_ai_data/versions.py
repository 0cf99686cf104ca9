"""Kubernetes versions the library supports (layer 1: facts, no CDK import).

A cluster's kubectl provider needs the kubectl Lambda layer that matches the cluster's Kubernetes
version (``aws-cdk.lambda-layer-kubectl-vNN`` on PyPI). The default version is the newest that all of
these cover (checked 2026-11):

- aws-cdk-lib 2.275 ``aws_eks_v2.KubernetesVersion`` (up to ``V1_36``);
- a kubectl layer package on PyPI (``aws-cdk.lambda-layer-kubectl-v36`` 2.0.1);
- Amazon EKS standard support (14 months from the EKS release; 1.36 is the newest EKS release).

Only the default's layer package is a dependency of the package; the others are optional installs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KubernetesRelease:
    version: str  # "1.36"
    kubectl_layer_package: str  # the PyPI distribution
    kubectl_layer_module: str  # its import name
    kubectl_layer_class: str  # the layer construct it exports


def _release(minor: int) -> KubernetesRelease:
    return KubernetesRelease(
        version=f"1.{minor}",
        kubectl_layer_package=f"aws-cdk.lambda-layer-kubectl-v{minor}",
        kubectl_layer_module=f"aws_cdk.lambda_layer_kubectl_v{minor}",
        kubectl_layer_class=f"KubectlV{minor}Layer",
    )


#: Versions that aws-cdk-lib's aws_eks_v2, a kubectl layer on PyPI and EKS (standard or extended support) cover.
SUPPORTED_RELEASES: dict[str, KubernetesRelease] = {r.version: r for r in map(_release, (33, 34, 35, 36))}

#: The default cluster version.
DEFAULT_KUBERNETES_VERSION = "1.36"


def release(version: str) -> KubernetesRelease | None:
    """The release facts for ``version`` ("1.36"), or ``None`` when the library does not support it."""
    return SUPPORTED_RELEASES.get(version)
