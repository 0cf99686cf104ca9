"""Trust policies for Kubernetes service accounts: IRSA and EKS Pod Identity (one implementation for the library).

- IRSA (EKS user guide, "IAM roles for service accounts"): the cluster's IAM OIDC provider federates
  ``sts:AssumeRoleWithWebIdentity``; ``StringEquals`` on ``<issuer>:sub`` = ``system:serviceaccount:NS:SA`` (one
  value, or a list when a role serves several accounts) and ``<issuer>:aud`` = ``sts.amazonaws.com``, never
  ``StringLike``. The issuer is a deploy-time value, so the condition keys are rendered through ``CfnJson``.
- Pod Identity (EKS user guide, "EKS Pod Identity"): ``pods.eks.amazonaws.com`` with ``sts:AssumeRole`` and
  ``sts:TagSession``, ``StringEquals`` on the session tags EKS sets: ``aws:RequestTag/eks-cluster-arn``,
  ``/kubernetes-namespace`` and ``/kubernetes-service-account``.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from aws_cdk import CfnJson
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from ._validate import fail, require_dns1123_label, require_dns1123_subdomain, unresolved

IRSA_AUDIENCE = "sts.amazonaws.com"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def _one_or_list(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def irsa_principal(
    scope: Construct,
    id: str,
    provider: iam.IOpenIdConnectProvider,
    namespace: str,
    service_accounts: Sequence[str],
) -> iam.IPrincipal:
    """Exactly these service accounts of ``namespace``, through the cluster's OIDC provider (``CfnJson`` ``id``).
    Kubernetes names only: a namespace is a DNS-1123 label, a service account a DNS-1123 subdomain (a trust
    condition on any other name would never match a token)."""
    require_dns1123_label(scope, "namespace", namespace)
    for service_account in service_accounts:
        require_dns1123_subdomain(scope, "service_account", service_account)
    issuer = provider.open_id_connect_provider_issuer
    conditions = CfnJson(
        scope,
        id,
        value={
            f"{issuer}:sub": _one_or_list(
                [f"system:serviceaccount:{namespace}:{sa}" for sa in service_accounts]
            ),
            f"{issuer}:aud": IRSA_AUDIENCE,
        },
    )
    return iam.OpenIdConnectPrincipal(provider, {"StringEquals": conditions})


def pod_identity_principal(
    cluster_arn: str, namespace: str, service_accounts: Sequence[str]
) -> iam.IPrincipal:
    """Exactly these service accounts of ``namespace`` in the cluster ``cluster_arn``, through EKS Pod Identity."""
    return iam.PrincipalWithConditions(
        iam.SessionTagsPrincipal(iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL)),
        {
            "StringEquals": {
                "aws:RequestTag/eks-cluster-arn": cluster_arn,
                "aws:RequestTag/kubernetes-namespace": namespace,
                "aws:RequestTag/kubernetes-service-account": _one_or_list(list(service_accounts)),
            }
        },
    )


#: Per app (the construct tree's root): ``(cluster path, namespace, service account)`` -> the construct that gave the
#: service account a role. A jsii interface proxy (an imported cluster) takes no Python attributes, hence the root.
_CLAIMS: weakref.WeakKeyDictionary[IConstruct, dict[tuple[str, str, str], str]] = weakref.WeakKeyDictionary()


def claim_service_account(
    scope: Construct, prop: str, cluster: IConstruct, namespace: str, service_accounts: Sequence[str]
) -> None:
    """Refuse a second role for a service account of ``cluster`` (naming both constructs).

    EKS holds one Pod Identity association per cluster, namespace and service account (CreatePodIdentityAssociation
    answers ResourceInUseException for a second), and a ServiceAccount carries one ``eks.amazonaws.com/role-arn``
    annotation: of two IRSA roles, one would never be used. Tokens are not checked.
    """
    claims = _CLAIMS.setdefault(scope.node.root, {})
    for service_account in service_accounts:
        if unresolved(namespace) or unresolved(service_account):
            continue
        key = (cluster.node.path, namespace, service_account)
        owner = claims.setdefault(key, scope.node.path)
        if owner != scope.node.path:
            raise fail(
                scope,
                prop,
                f"{namespace}/{service_account}",
                f"already has a role from {owner} on cluster {cluster.node.path}: a service account gets one IAM "
                "role (one Pod Identity association, one role-arn annotation); reuse that identity or name another "
                "service account",
            )
