"""What :class:`~eks_ai_data.backup.DataBackupPlan` may select: Lustre file systems FSx can back up, EKS clusters AWS
Backup can reach, and the checks that need the whole app (associations added after the selection).

The rules are :mod:`eks_ai_data.protection_matrix`'s; this module reads them off constructs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import IStableListProducer, Stack, Token
from aws_cdk import aws_backup as backup
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct, IValidation

from ._validate import fail, require, unresolved
from .backup_rules import TAG_KEY, TAG_VALUE
from .errors import EksAiDataValidationError, shown
from .protection_matrix import EKS_BACKUP_AUTHENTICATION_MODES, EKS_CLUSTER_ARN, lustre_backup_problem

if TYPE_CHECKING:
    from .lustre import DataRepositoryLink


@jsii.implements(IStableListProducer)
class Listed:
    """A list read when the template is rendered (``add_*`` calls may follow the first one)."""

    def __init__(self, items: list[str]) -> None:
        self._items = items

    def produce(self) -> list[str]:
        return list(self._items)


@jsii.implements(IValidation)
class SynthCheck:
    """Runs ``check()`` when the app synthesizes; an :class:`EksAiDataValidationError` becomes the message."""

    def __init__(self, check: Callable[[], list[str]]) -> None:
        self._check = check

    def validate(self) -> list[str]:
        try:
            return self._check()
        except EksAiDataValidationError as error:
            return [str(error)]


# --------------------------------------------------------------------------- EBS volumes by tag


def check_tag(scope: Construct, key: str, value: str) -> None:
    """A tag AWS Backup can select on (tag key and value rules of the AWS Backup API reference)."""
    require(
        scope,
        isinstance(key, str) and bool(TAG_KEY.match(key)) and not key.startswith("aws:"),
        "key",
        key,
        "must be a tag key: 1-128 letters, digits, spaces or _.:/=+-@, not starting with 'aws:'",
    )
    require(
        scope,
        isinstance(value, str) and bool(TAG_VALUE.match(value)),
        "value",
        value,
        "must be a tag value: 0-256 letters, digits, spaces or _.:/=+-@",
    )


def ebs_tag_selection(
    scope: Construct, n: int, key: str, value: str, *, plan_id: str, role: iam.IRole
) -> backup.CfnBackupSelection:
    """The ``n``-th EBS selection: volumes of this account and Region (the resource type) AND the tag
    (``Conditions``), so no other tagged resource is swept in."""
    volumes = Stack.of(scope).format_arn(service="ec2", resource="volume", resource_name="*")
    return backup.CfnBackupSelection(
        scope,
        "EbsSelection" if n == 1 else f"EbsSelection{n}",
        backup_plan_id=plan_id,
        backup_selection=backup.CfnBackupSelection.BackupSelectionResourceTypeProperty(
            selection_name=f"ebs-by-tag-{n}",
            iam_role_arn=role.role_arn,
            resources=[volumes],
            conditions={
                "StringEquals": [{"ConditionKey": f"aws:ResourceTag/{key}", "ConditionValue": value}]
            },
        ),
    )


# --------------------------------------------------------------------------- FSx for Lustre


@dataclass(frozen=True)
class LustreEntry:
    """A Lustre file system selected by a plan, kept so that associations added later are still seen.

    :param label: what the user passed (construct path or ARN), for messages.
    :param file_system_id: the id (a token for a file system of this app); associations name it.
    :param links: ``LustreStore.links`` when a LustreStore was given (read again at synth time).
    """

    label: str
    file_system_id: str
    links: Callable[[], tuple] | None = None


def lustre_of(scope: Construct, file_system: Any) -> tuple[fsx.LustreFileSystem, LustreEntry]:
    """The L2 file system and its entry for a ``LustreStore`` or an ``fsx.LustreFileSystem``; raise if FSx cannot
    back it up now (scratch, ``ImportPath``/``ExportPath``, or a LustreStore with links).

    ``file_system`` is whatever the user passed (checked here, so typed ``Any``): a LustreStore is told apart by its
    ``file_system`` and ``links`` attributes, without importing the module that defines it.
    """
    if (
        getattr(file_system, "created", True) is False
    ):  # LustreStore.from_existing: not this app's file system
        raise fail(
            scope,
            "file_system",
            file_system.node.path,
            "is an imported file system (LustreStore.from_existing): this plan does not know its deployment type "
            "or S3 links, and its backups belong to the stack or tool that owns it; back it up there (or, when it "
            "is persistent and not linked to S3, select its literal ARN with add_file_system)",
        )
    is_store = hasattr(file_system, "links") and hasattr(file_system, "file_system")
    l2 = file_system.file_system if is_store else file_system
    if not isinstance(l2, fsx.LustreFileSystem):
        raise fail(
            scope,
            "file_system",
            shown(file_system),
            "must be a LustreStore, an fsx.LustreFileSystem or an FSx file system ARN",
        )
    label = file_system.node.path
    cfn = l2.node.default_child
    config = Stack.of(l2).resolve(getattr(cfn, "lustre_configuration", None)) or {}
    deployment = str(config.get("deploymentType", config.get("DeploymentType", "")))
    if lustre_backup_problem(deployment, linked=False):
        raise fail(
            scope,
            "file_system",
            f"{label} ({deployment})",
            "must be a PERSISTENT_1/PERSISTENT_2 file system: FSx does not back up scratch file systems",
        )
    links = [
        f"{name}={config[key]}"
        for name, key in (
            ("import_path", "importPath"),
            ("import_path", "ImportPath"),
            ("export_path", "exportPath"),
            ("export_path", "ExportPath"),
        )
        if config.get(key)
    ]
    if is_store:
        links += [describe_link(link) for link in file_system.links]
    if links:
        raise fail(scope, "file_system", label, linked_message(links))
    later = (lambda: tuple(file_system.links)) if is_store else None
    return l2, LustreEntry(label, l2.file_system_id, later)


def describe_link(link: DataRepositoryLink) -> str:
    """``/datasets -> s3://<bucket construct path>/datasets/`` for a ``DataRepositoryLink``."""
    bucket = link.bucket
    name = bucket.bucket_name
    where = getattr(getattr(bucket, "node", None), "path", None) if unresolved(name) else name
    prefix = getattr(link, "prefix", "")
    return f"{link.file_system_path} -> s3://{where}/{prefix}"


def linked_message(links: list[str]) -> str:
    return (
        f"is linked to S3 ({'; '.join(links)}): FSx does not back up file systems linked to an S3 data repository "
        "(FSx for Lustre user guide, Working with backups); the durable copy is the linked bucket: back it up with "
        "add_bucket and leave the file system out of the plan"
    )


def linked_lustre_problems(scope: Construct, entries: list[LustreEntry]) -> list[EksAiDataValidationError]:
    """Selected Lustre file systems that the app links to S3 (LustreStore links or CfnDataRepositoryAssociations
    anywhere in the app, whenever they were added)."""
    if not entries:
        return []
    associations = [
        c for c in scope.node.root.node.find_all() if isinstance(c, fsx.CfnDataRepositoryAssociation)
    ]
    problems = []
    for entry in entries:
        links = [describe_link(link) for link in entry.links()] if entry.links else []
        if not links:
            links = [
                f"{a.file_system_path} -> {_render(a, a.data_repository_path)} ({a.node.path})"
                for a in associations
                if _same_id(a, a.file_system_id, entry.file_system_id)
            ]
        if links:
            problems.append(fail(scope, "file_system", entry.label, linked_message(links)))
    return problems


def _same_id(anchor: IConstruct, candidate: str, wanted: str) -> bool:
    if candidate == wanted:
        return True
    if Token.is_unresolved(candidate) or Token.is_unresolved(wanted):
        stack = Stack.of(anchor)
        try:
            return stack.resolve(candidate) == stack.resolve(wanted)
        except Exception:
            return False
    return False


def _render(anchor: IConstruct, value: str) -> str:
    """A data repository path with references shown as ``<LogicalId>``."""
    resolved = Stack.of(anchor).resolve(value)

    def text(v: object) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, dict) and "Fn::Join" in v:
            sep, parts = v["Fn::Join"]
            return sep.join(text(p) for p in parts)
        if isinstance(v, dict) and "Ref" in v:
            return f"<{v['Ref']}>"
        return str(v)

    return text(resolved)


# --------------------------------------------------------------------------- EKS clusters


def eks_cluster_of(scope: Construct, cluster: object) -> tuple[str, str]:
    """``(ARN, label)`` of an ``IAiCluster``, an ``aws_eks_v2`` cluster or a cluster ARN; raise for a cluster AWS
    Backup cannot reach (authentication mode ``CONFIG_MAP``, when this app sets it)."""
    if isinstance(cluster, str):
        if unresolved(cluster) or not EKS_CLUSTER_ARN.match(cluster):
            raise fail(
                scope,
                "cluster",
                cluster,
                "must be a literal EKS cluster ARN (arn:<partition>:eks:<region>:<account>:cluster/<name>), an "
                "AiCluster or an aws_eks_v2 cluster",
            )
        return cluster, cluster
    inner = getattr(cluster, "cluster", None)
    target = inner if inner is not None and hasattr(inner, "cluster_arn") else cluster
    arn = getattr(target, "cluster_arn", None)
    if not isinstance(arn, str):
        raise fail(
            scope,
            "cluster",
            shown(cluster),
            "must be an AiCluster (IAiCluster), an aws_eks_v2 cluster (eks.ICluster) or a cluster ARN",
        )
    label = getattr(getattr(cluster, "node", None), "path", None) or arn
    problem = authentication_problem(target)
    if problem:
        raise fail(scope, "cluster", label, problem)
    return arn, label


def authentication_mode(cluster: object) -> str | None:
    """The ``AccessConfig.AuthenticationMode`` this app gives the cluster, or ``None`` when it cannot be seen (an
    imported cluster, or a raw property override)."""
    cfn = getattr(getattr(cluster, "node", None), "default_child", None)
    if not isinstance(cfn, eks.CfnCluster):
        return None
    config = Stack.of(cfn).resolve(cfn.access_config) or {}
    mode = config.get("authenticationMode", config.get("AuthenticationMode"))
    return mode if isinstance(mode, str) else None


def authentication_problem(cluster: object) -> str | None:
    mode = authentication_mode(cluster)
    if mode is None or mode in EKS_BACKUP_AUTHENTICATION_MODES:
        return None
    return (
        f"has authentication mode {mode}: AWS Backup reaches a cluster through an access entry it creates, so the "
        f"mode must be {' or '.join(sorted(EKS_BACKUP_AUTHENTICATION_MODES))} (Amazon EKS user guide, Back up your "
        "EKS clusters with AWS Backup)"
    )


__all__ = [
    "Listed",
    "LustreEntry",
    "SynthCheck",
    "authentication_mode",
    "authentication_problem",
    "check_tag",
    "ebs_tag_selection",
    "eks_cluster_of",
    "linked_lustre_problems",
    "lustre_of",
]
