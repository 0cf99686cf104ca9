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

from collections.abc import Sequence

from aws_cdk import CfnJson
from aws_cdk import aws_iam as iam
from constructs import Construct

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
    """Exactly these service accounts of ``namespace``, through the cluster's OIDC provider (``CfnJson`` ``id``)."""
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
