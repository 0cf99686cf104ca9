"""Team namespaces with real isolation (:class:`TeamSpec`, :class:`TeamsChart`).

Per team, in its own namespace (named after the team):

- Pod Security Admission ``restricted`` enforced (and audited and warned): non-root, no privilege escalation, every
  capability dropped, a seccomp profile, no host namespaces or host paths. ``baseline`` only with a recorded reason
  (the namespace's ``eks-ai-data/pod-security-reason`` annotation); ``privileged`` never.
- A Role ``team-member`` bound to the team's Kubernetes group (which EKS access entries map the team's IAM roles to:
  :class:`~eks_ai_data.governance.TeamAccess`); what it can and cannot do: :mod:`eks_ai_data.k8s.team_policies`.
- A ResourceQuota ``team-quota``: ``requests.nvidia.com/gpu`` (extended resources are quota'd by requests only) and,
  for every StorageClass the cluster has, the storage its claims may request (``0`` for classes the team is not
  given). Static claims (``storageClassName: ""``, the platform's) count against no class.
- A LimitRange ``team-defaults``: default CPU and memory requests of containers that set none (the scheduler then
  reserves something for every pod).
- NetworkPolicies: default deny, then same namespace, DNS, HTTPS and the Pod Identity agent
  (:func:`~eks_ai_data.k8s.team_policies.network_policies`). They take effect only where the VPC CNI's network
  policy agent is on (``AiCluster`` turns it on; an imported cluster's ``vpc-cni`` add-on needs
  ``{"enableNetworkPolicy": "true"}``), otherwise they are silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import cdk8s
from constructs import Construct

from ..naming import GROUP_RULE, is_team_group
from . import team_policies as policies
from ._common import (
    MANAGED_BY,
    api_object,
    fail,
    metadata,
    require_int_range,
    require_items,
    require_label,
    require_labels,
    require_names,
    unresolved,
)
from .workloads import SYSTEM_NAMESPACES

TEAM_LABEL = "eks-ai-data/team"
POD_SECURITY_REASON = "eks-ai-data/pod-security-reason"
TeamPodSecurity = Literal["restricted", "baseline"]
#: Kubernetes reserves the ``kube-`` prefix for its own namespaces (Kubernetes "Namespaces" concept page).
RESERVED_NAMESPACE_PREFIX = "kube-"
_STORAGE = re.compile(
    r"[1-9]\d*(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?|0\.\d*[1-9]\d*(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)"
)
_CPU = re.compile(r"\d+(\.\d+)?m?")
_MEMORY = re.compile(r"\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?")
_MAX_GPUS = 100_000
_MAX_POSIX_ID = 2**32 - 2  # 2**32-1 is (uid_t)-1, "no change", in chown(2)


@dataclass(frozen=True)
class TeamSpec:
    """A team: its namespace, the IAM roles of its members, its quotas and its POSIX identity on shared EFS.

    :param name: the team's namespace (a DNS-1123 label, not a system namespace, not ``kube-*``).
    :param uid: the POSIX uid the team's EFS access point acts as (1-4294967294; unique per platform).
    :param gid: the POSIX gid of the team's access point (1-4294967294; unique per platform).
    :param iam_role_arns: IAM roles (or users) of the team's members; each gets an EKS access entry mapping it to
        ``kubernetes_group`` (an IAM principal can be in one access entry only). Default: none.
    :param kubernetes_group: the Kubernetes group the Role is bound to. Default: ``eks-ai-data:<name>``.
    :param gpu_quota: whole ``nvidia.com/gpu`` devices the namespace's pods may request, at least 1. Default:
        ``None``, no GPUs (the quota is 0).
    :param storage_quotas: StorageClass name -> storage its claims may request in the namespace (a Kubernetes
        quantity, e.g. ``"2Ti"``). Classes not named get 0. Default: none.
    :param default_cpu_request: request of containers that set none. Default: ``"250m"``.
    :param default_memory_request: request of containers that set none. Default: ``"512Mi"``.
    :param pod_security: ``restricted`` or ``baseline``. Default: ``restricted``.
    :param pod_security_reason: why ``baseline`` is needed (required with it, recorded on the namespace).
    :param labels: extra namespace labels. Default: none.
    """

    name: str
    uid: int
    gid: int
    iam_role_arns: Sequence[str] = ()
    kubernetes_group: str | None = None
    gpu_quota: int | None = None
    storage_quotas: Mapping[str, str] = field(default_factory=dict)
    default_cpu_request: str = "250m"
    default_memory_request: str = "512Mi"
    pod_security: TeamPodSecurity = "restricted"
    pod_security_reason: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def group(self) -> str:
        """The Kubernetes group of the team's members."""
        return self.kubernetes_group or f"eks-ai-data:{self.name}"


class TeamsChart(cdk8s.Chart):
    """The namespaces of ``teams`` and, in each, its Role and RoleBinding, quota, limits and network policies.

    :param teams: the teams (names, uids and gids unique).
    :param storage_classes: every StorageClass of the cluster (each gets a quota line per team, 0 unless given).
    :param reserved_namespaces: namespaces other charts create (a team must not take one over). Default: none.

    Attributes: ``namespaces`` (team name -> Namespace ApiObject), ``teams`` (name -> spec).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        teams: Sequence[TeamSpec],
        storage_classes: Iterable[str],
        reserved_namespaces: Iterable[str] = (),
    ) -> None:
        super().__init__(scope, id, labels=MANAGED_BY)
        teams = require_items(self, "teams", teams, TeamSpec)
        classes = require_names(self, "storage_classes", storage_classes)
        self.teams: dict[str, TeamSpec] = {}
        self.namespaces: dict[str, cdk8s.ApiObject] = {}
        reserved = set(reserved_namespaces)
        for team in teams:
            self._check(team, classes, reserved)
            self.teams[team.name] = team
        self._check_unique(teams)
        for team in teams:
            self._team(team, classes)

    # -- validation -------------------------------------------------------------------------------------
    def _check(self, team: TeamSpec, classes: list[str], reserved: set[str]) -> None:
        if not isinstance(team, TeamSpec):
            raise fail(self, "teams", team, "must be TeamSpec objects")
        require_label(self, "teams.name", team.name)
        if team.name in SYSTEM_NAMESPACES or team.name.startswith(RESERVED_NAMESPACE_PREFIX):
            raise fail(
                self,
                "teams.name",
                team.name,
                f"collides with a namespace Kubernetes, EKS or the platform owns ({', '.join(sorted(SYSTEM_NAMESPACES))}, "
                f"or {RESERVED_NAMESPACE_PREFIX}*): name the team's own namespace",
            )
        if team.name in reserved:
            raise fail(self, "teams.name", team.name, "is a workload namespace of this cluster already")
        require_labels(
            self, "teams.labels", team.labels, set_here=(TEAM_LABEL, "pod-security.kubernetes.io/")
        )
        for prop, posix_id in (("uid", team.uid), ("gid", team.gid)):
            require_int_range(self, f"teams.{prop}", posix_id, 1, _MAX_POSIX_ID)
        if not unresolved(team.group) and not is_team_group(team.group):
            raise fail(self, "teams.kubernetes_group", team.group, GROUP_RULE)
        if team.gpu_quota is not None and (
            isinstance(team.gpu_quota, bool)
            or not isinstance(team.gpu_quota, int)
            or not 1 <= team.gpu_quota <= _MAX_GPUS
        ):
            raise fail(
                self,
                "teams.gpu_quota",
                {team.name: team.gpu_quota},
                f"must be a whole number of GPUs from 1 to {_MAX_GPUS} (devices are requested whole); "
                "leave it None for a team without GPUs",
            )
        for storage_class, quantity in team.storage_quotas.items():
            if storage_class not in classes:
                raise fail(
                    self,
                    "teams.storage_quotas",
                    {team.name: storage_class},
                    f"names no StorageClass of this cluster; its classes: {sorted(classes)}",
                )
            if not (isinstance(quantity, str) and _STORAGE.fullmatch(quantity)):
                raise fail(
                    self,
                    "teams.storage_quotas",
                    {storage_class: quantity},
                    "must be a positive Kubernetes quantity such as '500Gi' or '2Ti' (omit a class to give none)",
                )
        for prop, value, pattern in (
            ("default_cpu_request", team.default_cpu_request, _CPU),
            ("default_memory_request", team.default_memory_request, _MEMORY),
        ):
            if not (isinstance(value, str) and pattern.fullmatch(value)):
                raise fail(
                    self, f"teams.{prop}", value, "must be a Kubernetes quantity such as '250m' or '512Mi'"
                )
        if team.pod_security not in ("restricted", "baseline"):
            raise fail(
                self,
                "teams.pod_security",
                team.pod_security,
                "must be 'restricted' or 'baseline' (with pod_security_reason); team namespaces are never privileged",
            )
        if team.pod_security == "baseline" and not (team.pod_security_reason or "").strip():
            raise fail(
                self,
                "teams.pod_security_reason",
                team.pod_security_reason,
                f"{team.name} asks for 'baseline': say which documented need 'restricted' cannot meet",
            )
        if team.pod_security == "restricted" and team.pod_security_reason is not None:
            # recorded only with 'baseline': on a restricted namespace it would be dropped
            raise fail(
                self,
                "teams.pod_security_reason",
                team.pod_security_reason,
                f"applies only with pod_security='baseline' ({team.name} is 'restricted'): drop it",
            )

    def _check_unique(self, teams: Sequence[TeamSpec]) -> None:
        for prop, key in (
            ("name", lambda t: t.name),
            ("uid", lambda t: t.uid),
            ("gid", lambda t: t.gid),
            ("kubernetes_group", lambda t: t.group),
        ):
            owners: dict[object, str] = {}
            for team in teams:
                value = key(team)
                if unresolved(value):
                    continue
                if value in owners:
                    raise fail(
                        self,
                        f"teams.{prop}",
                        value,
                        f"must be unique: teams {owners[value]} and {team.name} both use it",
                    )
                owners[value] = team.name
        owners = {}
        for team in teams:
            for arn in team.iam_role_arns:
                if arn in owners and not unresolved(arn):
                    raise fail(
                        self,
                        "teams.iam_role_arns",
                        arn,
                        f"is in teams {owners[arn]} and {team.name}: an IAM principal can be in one EKS access entry",
                    )
                owners[arn] = team.name

    # -- objects ----------------------------------------------------------------------------------------
    def _team(self, team: TeamSpec, classes: list[str]) -> None:
        level = team.pod_security
        labels = {
            **team.labels,
            TEAM_LABEL: team.name,
            "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        }
        annotations = {POD_SECURITY_REASON: team.pod_security_reason or ""} if level != "restricted" else None
        ns = team.name
        namespace = api_object(
            self,
            f"ns-{ns}",
            api_version="v1",
            kind="Namespace",
            meta=metadata(ns, labels=labels, annotations=annotations),
        )
        self.namespaces[ns] = namespace
        rbac = "rbac.authorization.k8s.io"
        limits = {"cpu": team.default_cpu_request, "memory": team.default_memory_request}
        objects: list[tuple[str, str, str, str, dict]] = [  # (id prefix, apiVersion, kind, name, body)
            ("role", f"{rbac}/v1", "Role", "team-member", {"rules": policies.role_rules()}),
            (
                "binding",
                f"{rbac}/v1",
                "RoleBinding",
                "team-member",
                {
                    "subjects": [{"kind": "Group", "name": team.group, "apiGroup": rbac}],
                    "roleRef": {"kind": "Role", "name": "team-member", "apiGroup": rbac},
                },
            ),
            ("quota", "v1", "ResourceQuota", "team-quota", {"spec": {"hard": self._quota(team, classes)}}),
            (
                "limits",
                "v1",
                "LimitRange",
                "team-defaults",
                {"spec": {"limits": [{"type": "Container", "defaultRequest": limits}]}},
            ),
            *(
                (f"netpol-{name}", "networking.k8s.io/v1", "NetworkPolicy", name, {"spec": spec})
                for name, spec in policies.network_policies().items()
            ),
        ]
        for prefix, api_version, kind, name, body in objects:
            obj = api_object(
                self, f"{prefix}-{ns}", api_version=api_version, kind=kind, meta=metadata(name, ns), **body
            )
            obj.node.add_dependency(namespace)

    @staticmethod
    def _quota(team: TeamSpec, classes: list[str]) -> dict[str, str]:
        hard = {policies.GPU_QUOTA_KEY: str(team.gpu_quota or 0)}
        for storage_class in classes:
            hard[policies.storage_quota_key(storage_class)] = team.storage_quotas.get(storage_class, "0")
        return hard
