"""What :class:`stacks.config.PlatformConfig` refuses before any stack is built, so that a bad
``-c eks-ai-data:FIELD=VALUE`` is reported as that field of the context, not as a prop of a construct deep in a
stack (or as a Python error). Each limit is the one the construct that takes the field applies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eks_ai_data import catalog, lustre_sizing
from eks_ai_data.backup_rules import MAX_LIFECYCLE_DAYS
from eks_ai_data.compute.managed_group import MAX_NODEGROUP_SIZE
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.naming import is_dns1123_label
from eks_ai_data.patterns.model_repository import MODEL_CACHES
from eks_ai_data.versions import SUPPORTED_RELEASES

if TYPE_CHECKING:
    from .config import PlatformConfig

#: Team namespaces are ``team-<name>``: a DNS-1123 label of at most 63 characters.
TEAM_PREFIX = "team-"


def check_config(config: PlatformConfig, where: str) -> None:
    """Raise :class:`EksAiDataValidationError` (``where``: the context key) for the first field no stack takes."""

    def fail(field: str, value: Any, allowed: str) -> EksAiDataValidationError:
        return EksAiDataValidationError(where, field, value, allowed)

    if config.kubernetes_version not in SUPPORTED_RELEASES:
        raise fail(
            "kubernetes_version", config.kubernetes_version, f"must be one of {sorted(SUPPORTED_RELEASES)}"
        )
    for field, needs in (
        ("training_gpu_instance_types", "accelerators"),
        ("inference_gpu_instance_types", "accelerators"),
        ("nvme_instance_types", "NVMe instance store"),
    ):
        types = getattr(config, field)
        if not types:
            raise fail(field, list(types), "must name at least one instance type (comma-separated)")
        for name in types:
            spec = catalog.lookup(name)
            if spec is None:
                raise fail(
                    field,
                    name,
                    "is not in the instance catalog the node groups use (eks_ai_data.catalog; "
                    "catalog.register(...) describes a newer type)",
                )
            if not (spec.has_accelerators if needs == "accelerators" else spec.has_nvme):
                raise fail(field, name, f"has no {needs}: {catalog.describe(spec)}")
    for entry in config.clusters:
        _, _, version = str(entry).partition(":")
        if version and version not in SUPPORTED_RELEASES:
            raise fail("clusters", entry, f"versions must be one of {sorted(SUPPORTED_RELEASES)}")
    for field in ("training_gpu_max_nodes", "inference_gpu_max_nodes"):
        value = getattr(config, field)
        # the managed node groups' maximum size (GpuNodeGroup max_size, EKS CreateNodegroup scalingConfig)
        if not 1 <= value <= MAX_NODEGROUP_SIZE:
            raise fail(
                field, value, f"must be between 1 and {MAX_NODEGROUP_SIZE} (a node group's maximum size)"
            )
    if config.nvme_mode not in ("ephemeral", "local-volumes"):
        raise fail("nvme_mode", config.nvme_mode, "must be 'ephemeral' or 'local-volumes'")
    if config.model_cache not in MODEL_CACHES:
        raise fail("model_cache", config.model_cache, f"must be one of {list(MODEL_CACHES)}")
    # the training stack's LustreStore: PERSISTENT_2 on SSD (FSx for Lustre user guide, storage capacity and
    # throughput per deployment type; the same table as LustreStore's own check)
    throughputs = lustre_sizing.allowed_throughputs(lustre_sizing.PERSISTENT_2)
    if config.lustre_throughput not in throughputs:
        raise fail(
            "lustre_throughput", config.lustre_throughput, f"must be one of {list(throughputs)} (MB/s/TiB)"
        )
    if not lustre_sizing.is_valid_storage_capacity(
        config.lustre_storage_gib, lustre_sizing.PERSISTENT_2, lustre_sizing.SSD, config.lustre_throughput
    ):
        rule = lustre_sizing.storage_capacity_rule(lustre_sizing.PERSISTENT_2, lustre_sizing.SSD)
        raise fail("lustre_storage_gib", config.lustre_storage_gib, f"must be {rule}")
    for team in config.teams:
        if not is_dns1123_label(f"{TEAM_PREFIX}{team}"):
            raise fail(
                "teams",
                team,
                f"names must make a DNS-1123 label as '{TEAM_PREFIX}<name>': at most {63 - len(TEAM_PREFIX)} "
                "lower-case letters, digits or '-', starting and ending with a letter or digit",
            )
    if len(set(config.teams)) != len(config.teams):
        raise fail("teams", list(config.teams), "must not name a team twice")
    # AWS Backup lifecycle DeleteAfterDays (1 to 36500, as BackupRuleSpec); S3 lifecycle Expiration Days: at least 1
    if not 1 <= config.backup_retention_days <= MAX_LIFECYCLE_DAYS:
        raise fail(
            "backup_retention_days",
            config.backup_retention_days,
            f"must be between 1 and {MAX_LIFECYCLE_DAYS}",
        )
    if config.checkpoint_retention_days < 1:
        raise fail(
            "checkpoint_retention_days",
            config.checkpoint_retention_days,
            "must be at least 1 (S3 lifecycle expirations count whole days from 1)",
        )
