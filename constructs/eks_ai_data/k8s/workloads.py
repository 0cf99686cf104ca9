"""Workload namespaces and their ServiceAccounts, annotated with the IAM role they assume (IRSA)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import cdk8s
import cdk8s_plus_27 as kplus
from constructs import Construct

from ._common import (
    MANAGED_BY,
    fail,
    metadata,
    require_bool,
    require_items,
    require_label,
    require_labels,
    require_names,
    require_one_of,
    require_pattern,
    require_subdomain,
    require_unique,
    unresolved,
)

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
#: Namespaces Kubernetes, EKS and the platform's add-ons create and own: a chart that "creates" one would take it
#: over (relabel its Pod Security level, and delete it with the chart). ``mount-s3`` holds Mountpoint for S3's pods
#: (mountpoint-s3-csi-driver chart values ``mountpointPod.namespace``), ``gpu-operator`` the NVIDIA GPU operator.
SYSTEM_NAMESPACES = frozenset(
    {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "amazon-cloudwatch",
        "mount-s3",
        "gpu-operator",
    }
)
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
PodSecurityLevel = Literal["privileged", "baseline", "restricted"]
_LEVELS = ("privileged", "baseline", "restricted")


@dataclass(frozen=True)
class NamespaceSpec:
    """A workload namespace.

    :param name: DNS-1123 label.
    :param pod_security: Pod Security Admission level enforced. Default: ``"restricted"`` (non-root, no
        privilege escalation, capabilities dropped, a seccomp profile, no host paths or host namespaces);
        ``"restricted"`` is also audited and warned about whatever is enforced.
    :param labels: extra labels. Default: none.
    """

    name: str
    pod_security: PodSecurityLevel = "restricted"
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceAccountSpec:
    """A ServiceAccount, optionally bound to an IAM role through IRSA.

    :param name: DNS-1123 label... as Kubernetes requires for ServiceAccounts (a subdomain is
        accepted by the API, but a label keeps IAM trust conditions simple).
    :param namespace: a namespace the chart creates, or one of ``existing_namespaces``.
    :param role_arn: IAM role ARN (string or token). Default: None (no IAM role).
    :param automount_token: mount a Kubernetes API token in pods. Default: False (IRSA's web
        identity token is injected separately by EKS and does not need it).
    """

    name: str
    namespace: str
    role_arn: str | None = None
    automount_token: bool = False


class WorkloadsChart(cdk8s.Chart):
    """Namespaces for workloads and their ServiceAccounts.

    :param namespaces: names or :class:`NamespaceSpec`. Default: none.
    :param service_accounts: Default: none.
    :param existing_namespaces: namespaces that exist without this chart and may hold service
        accounts. Default: ``("kube-system",)``.

    Attributes: ``namespaces`` and ``service_accounts`` (dicts of cdk8s-plus objects by name and by
    ``namespace/name``) and ``namespace_names`` (the names this chart creates: pass them to
    :class:`~eks_ai_data.k8s.StaticVolumesChart` as ``known_namespaces``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespaces: Sequence[NamespaceSpec | str] = (),
        service_accounts: Sequence[ServiceAccountSpec] = (),
        existing_namespaces: Iterable[str] = ("kube-system",),
    ) -> None:
        super().__init__(scope, id, labels=MANAGED_BY)
        namespaces = require_items(self, "namespaces", namespaces, (NamespaceSpec, str))
        service_accounts = require_items(self, "service_accounts", service_accounts, ServiceAccountSpec)
        specs = [NamespaceSpec(n) if isinstance(n, str) else n for n in namespaces]
        require_unique(self, "namespaces", [s.name for s in specs])
        self.namespaces: dict[str, kplus.Namespace] = {}
        for spec in specs:
            require_label(self, "namespaces", spec.name)
            if spec.name in SYSTEM_NAMESPACES:
                raise fail(
                    self,
                    "namespaces",
                    spec.name,
                    f"is a namespace Kubernetes or EKS owns ({', '.join(sorted(SYSTEM_NAMESPACES))}); the chart "
                    "would relabel it and delete it with the chart: name your own namespace (service accounts may "
                    "still go into kube-system)",
                )
            require_one_of(self, "pod_security", spec.pod_security, _LEVELS)
            # the Pod Security labels come from pod_security (Kubernetes "Enforce Pod Security Standards with
            # Namespace Labels"): given again here they would be overwritten
            require_labels(self, "labels", spec.labels, set_here=("pod-security.kubernetes.io/",))
            labels = {
                **spec.labels,
                "pod-security.kubernetes.io/enforce": spec.pod_security,
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            }
            self.namespaces[spec.name] = kplus.Namespace(
                self, f"ns-{spec.name}", metadata=metadata(spec.name, labels=labels)
            )
        self.namespace_names: tuple[str, ...] = tuple(s.name for s in specs)

        allowed = set(self.namespace_names) | set(
            require_names(self, "existing_namespaces", existing_namespaces)
        )
        for account in service_accounts:
            require_bool(self, "service_accounts.automount_token", account.automount_token)
        require_unique(self, "service_accounts", [f"{a.namespace}/{a.name}" for a in service_accounts])
        self.service_accounts: dict[str, kplus.ServiceAccount] = {}
        for account in service_accounts:
            # ServiceAccount names are DNS-1123 subdomains (kubernetes pkg/apis/core/validation, ValidateServiceAccountName)
            require_subdomain(self, "service_accounts.name", account.name)
            require_label(self, "service_accounts.namespace", account.namespace)
            if not unresolved(account.namespace) and account.namespace not in allowed:
                raise fail(
                    self,
                    "service_accounts.namespace",
                    account.namespace,
                    "must be a namespace this chart creates or an existing one: "
                    + ", ".join(sorted(allowed)),
                )
            annotations = None
            if account.role_arn is not None:
                require_pattern(
                    self, "service_accounts.role_arn", account.role_arn, ROLE_ARN, "must be an IAM role ARN"
                )
                annotations = {ROLE_ARN_ANNOTATION: account.role_arn}
            key = f"{account.namespace}/{account.name}"
            sa = kplus.ServiceAccount(
                self,
                f"sa-{account.namespace}-{account.name}",
                metadata=metadata(account.name, account.namespace, annotations=annotations),
                automount_token=account.automount_token,
            )
            if account.namespace in self.namespaces:
                sa.node.add_dependency(self.namespaces[account.namespace])
            self.service_accounts[key] = sa
