"""EKS access entries that map a team's IAM principals to its Kubernetes group (:class:`TeamAccess`).

Why Kubernetes RBAC and not EKS access policies: an access entry of type ``STANDARD`` with ``KubernetesGroups`` and
no access policy gives its principal exactly what RoleBindings grant the group (EKS user guide, grant-k8s-access),
and the team's Role is in the team's namespace only (:mod:`eks_ai_data.k8s.team_policies`). The namespace-scoped
``AmazonEKSEditPolicy`` would also let members create and delete the namespace's NetworkPolicies (undoing its
isolation) and impersonate its service accounts (EKS user guide, access-policy-reference); access policies cannot
be changed, and ``kubectl auth can-i`` does not show them. The RBAC objects are in the platform's manifests, where
the tests read them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

from .._validate import fail, unresolved
from ..cluster_interface import IAiCluster, require_ai_cluster
from ..naming import GROUP_RULE, is_team_group

PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")


class TeamAccess(Construct):
    """One EKS access entry (``STANDARD``, no access policy) per IAM principal, mapping it to ``kubernetes_group``.

    :param cluster: the cluster (:class:`~eks_ai_data.cluster.AiCluster` or ``AiCluster.from_existing(...)``).
    :param kubernetes_group: the group the team's RoleBinding names (not ``system:*``, ``eks:*``, ``aws:*``,
        ``amazon:*`` or ``iam:*``).
    :param principal_arns: IAM role (or user) ARNs of the team's members; an IAM principal can be in one access
        entry of a cluster only (EKS user guide), so none may be the cluster's administrator too.

    Attribute: :attr:`entries` (``eks.CfnAccessEntry`` per principal, in the given order).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: IAiCluster,
        kubernetes_group: str,
        principal_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, id)
        cluster = require_ai_cluster(self, "cluster", cluster)
        if not unresolved(kubernetes_group) and not is_team_group(kubernetes_group):
            raise fail(self, "kubernetes_group", kubernetes_group, GROUP_RULE)
        stack = Stack.of(self)
        admins = {
            json.dumps(stack.resolve(entry.node.default_child.principal_arn), sort_keys=True): entry.node.path
            for entry in getattr(cluster, "admin_access", [])
        }
        seen: set[str] = set()
        self.entries: list[eks.CfnAccessEntry] = []
        for index, arn in enumerate(principal_arns):
            if not unresolved(arn) and not (isinstance(arn, str) and PRINCIPAL_ARN.match(arn)):
                raise fail(
                    self,
                    "principal_arns",
                    arn,
                    "must be IAM role or user ARNs (arn:aws:iam::ACCOUNT:role/NAME)",
                )
            key = json.dumps(stack.resolve(arn), sort_keys=True)
            if key in seen:
                raise fail(self, "principal_arns", arn, "lists the same principal twice")
            if key in admins:
                raise fail(
                    self,
                    "principal_arns",
                    arn,
                    f"already has the cluster's admin access entry ({admins[key]}): an IAM principal can be in "
                    "one access entry of a cluster",
                )
            seen.add(key)
            self.entries.append(
                eks.CfnAccessEntry(
                    self,
                    f"Entry{index}",
                    cluster_name=cluster.cluster.cluster_name,
                    principal_arn=arn,
                    type="STANDARD",
                    kubernetes_groups=[kubernetes_group],
                )
            )
