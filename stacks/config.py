"""Typed configuration of the reference platforms, read from CDK context.

Every field has a default that synthesizes offline as an environment-agnostic stack. Override fields in
``cdk.json`` under the context key ``eks-ai-data`` (an object), or on the command line with
``-c eks-ai-data:FIELD=VALUE`` (comma-separated for lists). Giving ``account`` and ``region`` makes the
stacks environment-specific; the VPC's ``availability_zones`` are then required (nothing is looked up).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, fields
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from eks_ai_data import catalog
from eks_ai_data.cluster import AiCluster
from eks_ai_data.compute.autoscaler import ClusterAutoscaler
from eks_ai_data.compute.karpenter import Karpenter
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.keys import DataKeys
from eks_ai_data.naming import is_dns1123_label
from eks_ai_data.nodegroups import NvmeMode
from eks_ai_data.patterns.model_repository import ModelCache
from eks_ai_data.versions import DEFAULT_KUBERNETES_VERSION

from .config_checks import check_config

CONTEXT_KEY = "eks-ai-data"
#: What scales the GPU and NVMe nodes: the Cluster Autoscaler (managed node groups) or Karpenter (NodePools).
CAPACITY_ENGINES = ("cluster-autoscaler", "karpenter")
ACCOUNT_ID = re.compile(r"^\d{12}\Z")
#: Region names: a two-letter area, words, a number (us-east-1, ap-southeast-5, us-gov-west-1, eu-isoe-west-1).
REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+\Z")


@dataclass(frozen=True)
class PlatformConfig:
    """What a platform team chooses. Defaults give a small, production-shaped platform.

    :param account: AWS account id. Default: none (environment-agnostic).
    :param region: AWS Region. Default: none (environment-agnostic).
    :param availability_zones: the VPC's AZs; required with ``region``. Default: CDK's placeholders.
    :param kubernetes_version: Default: the library's default (1.36).
    :param admin_principal_arn: IAM role given cluster-admin through an access entry. Default: none.
    :param public_access_cidrs: open the public API endpoint to these CIDRs. Default: private endpoint only.
    :param training_gpu_instance_types: Default: ``p5.48xlarge``. :param training_gpu_max_nodes: Default: 2.
    :param training_gpu_efa: Default: True. :param nvme_instance_types: Default: ``i4i.8xlarge``.
    :param nvme_mode: ``ephemeral`` or ``local-volumes``. Default: ``local-volumes``.
    :param lustre_storage_gib: Default: 2400. :param lustre_throughput: MB/s/TiB. Default: 250.
    :param teams: team namespaces ``team-<name>``, each with its EFS access point. Default: ``research``, ``platform``.
    :param team_role_arns: ``<team>=<IAM role ARN>`` entries: each role gets an EKS access entry to its team's
        Kubernetes group (a role in one team only). Default: none.
    :param inference_gpu_instance_types: Default: ``g6e.12xlarge``. :param inference_gpu_max_nodes: Default: 4.
    :param model_cache: ``efs``, ``lustre`` or ``mountpoint`` (S3 through Mountpoint, no cache). Default: ``efs``.
    :param backup_retention_days: daily backups kept. Default: 35.
    :param checkpoint_retention_days: checkpoints kept in S3. Default: 30.
    :param alarm_email: an address subscribed to each platform's alarm topic (it must confirm). Default: none.
    :param clusters: the cluster stacks of each platform, ``NAME`` or ``NAME:VERSION`` (a DNS-1123 label, and a
        Kubernetes version other than ``kubernetes_version``); two during a blue/green replacement. Default: ``blue``.
    :param capacity_engine: what brings GPU and NVMe nodes up from zero: ``cluster-autoscaler`` (managed node
        groups) or ``karpenter`` (NodePools). Default: ``cluster-autoscaler``.
    """

    account: str | None = None
    region: str | None = None
    availability_zones: tuple[str, ...] = ()
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    admin_principal_arn: str | None = None
    public_access_cidrs: tuple[str, ...] = ()
    training_gpu_instance_types: tuple[str, ...] = ("p5.48xlarge",)
    training_gpu_max_nodes: int = 2
    training_gpu_efa: bool = True
    nvme_instance_types: tuple[str, ...] = ("i4i.8xlarge",)
    nvme_mode: NvmeMode = "local-volumes"
    lustre_storage_gib: int = 2400
    lustre_throughput: int = 250
    teams: tuple[str, ...] = ("research", "platform")
    team_role_arns: tuple[str, ...] = ()
    inference_gpu_instance_types: tuple[str, ...] = ("g6e.12xlarge",)
    inference_gpu_max_nodes: int = 4
    model_cache: ModelCache = "efs"
    backup_retention_days: int = 35
    checkpoint_retention_days: int = 30
    alarm_email: str | None = None
    clusters: tuple[str, ...] = ("blue",)
    capacity_engine: str = "cluster-autoscaler"

    def __post_init__(self) -> None:
        if self.account is not None and not (
            isinstance(self.account, str) and ACCOUNT_ID.match(self.account)
        ):
            raise EksAiDataValidationError(
                f"context '{CONTEXT_KEY}'",
                "account",
                self.account,
                "must be a 12-digit AWS account id (a string)",
            )
        if self.region is not None and not (isinstance(self.region, str) and REGION_NAME.match(self.region)):
            raise EksAiDataValidationError(
                f"context '{CONTEXT_KEY}'",
                "region",
                self.region,
                "must be an AWS Region name such as eu-west-1, us-gov-west-1 or cn-north-1",
            )
        if self.capacity_engine not in CAPACITY_ENGINES:
            raise EksAiDataValidationError(
                f"context '{CONTEXT_KEY}'",
                "capacity_engine",
                self.capacity_engine,
                f"must be one of {list(CAPACITY_ENGINES)}",
            )
        check_config(self, f"context '{CONTEXT_KEY}'")

    @property
    def env(self) -> cdk.Environment | None:
        if self.account is None and self.region is None:
            return None
        return cdk.Environment(account=self.account, region=self.region)

    @classmethod
    def from_context(cls, scope: Construct) -> PlatformConfig:
        """Read the ``eks-ai-data`` context object and ``eks-ai-data:FIELD`` overrides; refuse unknown fields."""
        raw: dict[str, Any] = dict(scope.node.try_get_context(CONTEXT_KEY) or {})
        names = {f.name for f in fields(cls)}
        prefix = f"{CONTEXT_KEY}:"
        flat = {
            key[len(prefix) :]: value
            for key, value in scope.node.get_all_context().items()
            if key.startswith(prefix)
        }
        unknown = sorted(set(raw) - names) + sorted(prefix + key for key in set(flat) - names)
        if unknown:
            raise EksAiDataValidationError(
                f"context '{CONTEXT_KEY}'", "fields", unknown, f"unknown; known fields: {sorted(names)}"
            )
        raw.update({name: value for name, value in flat.items() if value is not None})
        return cls(**{name: _coerce(cls, name, value) for name, value in raw.items()})

    @property
    def team_principals(self) -> dict[str, tuple[str, ...]]:
        """``team_role_arns`` by team (every entry ``<team>=<ARN>`` of a team in ``teams``)."""
        found: dict[str, tuple[str, ...]] = {}
        for entry in self.team_role_arns:
            team, sep, arn = str(entry).partition("=")
            if not sep or team not in self.teams or not arn:
                raise EksAiDataValidationError(
                    f"context '{CONTEXT_KEY}'",
                    "team_role_arns",
                    entry,
                    f"entries must be '<team>=<IAM role ARN>' with a team of {list(self.teams)}",
                )
            found[team] = (*found.get(team, ()), arn)
        return found

    def replace(self, **changes: Any) -> PlatformConfig:
        return dataclasses.replace(self, **changes)

    def cluster_versions(self) -> list[tuple[str, str]]:
        """``(name, Kubernetes version)`` of each cluster stack, from :attr:`clusters`; refuses bad entries."""
        where = f"context '{CONTEXT_KEY}'"
        found: list[tuple[str, str]] = []
        for entry in self.clusters:
            name, _, version = str(entry).partition(":")
            if not is_dns1123_label(name):
                raise EksAiDataValidationError(
                    where, "clusters", entry, "names must be DNS-1123 labels such as 'blue' or 'green'"
                )
            if name in (n for n, _ in found):
                raise EksAiDataValidationError(
                    where, "clusters", list(self.clusters), f"names {name!r} twice"
                )
            found.append((name, version or self.kubernetes_version))
        if not found:
            raise EksAiDataValidationError(where, "clusters", [], "must name at least one cluster")
        return found

    def cluster(self, scope: Construct, vpc: ec2.IVpc, keys: DataKeys, version: str) -> AiCluster:
        """The cluster (``Platform``) every reference cluster stack starts from, on a data stack's VPC and keys."""
        return AiCluster(
            scope,
            "Platform",
            version=version,
            vpc=vpc,
            keys=keys,
            admin_principal_arn=self.admin_principal_arn,
            public_access_cidrs=self.public_access_cidrs or None,
        )

    def engine(self, scope: Construct, platform: AiCluster) -> ClusterAutoscaler | Karpenter:
        """The capacity engine ``capacity_engine`` names, on ``platform``."""
        if self.capacity_engine == "karpenter":
            return Karpenter(scope, "Karpenter", cluster=platform)
        return ClusterAutoscaler(scope, "Autoscaler", cluster=platform)

    @staticmethod
    def gpu_limit(instance_types: tuple[str, ...], max_nodes: int) -> int:
        """A Karpenter pool's GPU limit for ``max_nodes`` nodes of the largest of ``instance_types``."""
        return max_nodes * max(catalog.get(name).accelerator_count for name in instance_types)


def _coerce(cls: type, name: str, value: Any) -> Any:
    """Context values from the command line are strings: turn them into the field's type."""
    default = next(f for f in fields(cls) if f.name == name).default
    if isinstance(default, tuple):
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return tuple(value)
    if isinstance(default, bool):
        if isinstance(value, str):
            if value.lower() not in ("true", "false"):
                raise EksAiDataValidationError(
                    f"context '{CONTEXT_KEY}'", name, value, "must be true or false"
                )
            return value.lower() == "true"
        return bool(value)
    if isinstance(default, int):
        # int() would truncate 2.5 to 2 and take True as 1: only whole numbers (3, 3.0, "3") pass
        whole = (
            (isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(value, float) and value.is_integer())
            or (isinstance(value, str) and bool(re.fullmatch(r"\s*[+-]?\d+\s*", value)))
        )
        if not whole:
            raise EksAiDataValidationError(f"context '{CONTEXT_KEY}'", name, value, "must be a whole number")
        return int(value)
    return value
