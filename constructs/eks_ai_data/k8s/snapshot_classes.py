"""VolumeSnapshotClass for EBS volumes (snapshot.storage.k8s.io/v1, a CRD of external-snapshotter)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import cdk8s
from constructs import Construct

from ..labels import BACKUP_TAG_KEY
from ._common import (
    MANAGED_BY,
    api_object,
    fail,
    metadata,
    require_bool,
    require_mapping,
    require_one_of,
    require_subdomain,
    require_tags,
    tag_specifications,
)
from .storage_classes import EBS_CSI_DRIVER

DEFAULT_SNAPSHOT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"


class SnapshotClassesChart(cdk8s.Chart):
    """The EBS VolumeSnapshotClass. Needs the snapshot CRDs and controller (the EBS CSI add-on's
    snapshotter sidecar uses them; install the ``snapshot-controller`` EKS add-on).

    :param name: Default: ``"ebs-snapshots"``.
    :param deletion_policy: what happens to the EBS snapshot when its VolumeSnapshot is deleted.
        Default: ``"Retain"`` (durable).
    :param default: mark the class the default for the EBS driver. Default: True.
    :param tags: tags on every snapshot (EBS CSI ``tagSpecification_N``). Default: none. The backup
        tag is refused: AWS Backup selects volumes, not snapshots taken by Kubernetes.

    Attribute: ``snapshot_class`` (the ApiObject).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str = "ebs-snapshots",
        deletion_policy: Literal["Retain", "Delete"] = "Retain",
        default: bool = True,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id, labels=MANAGED_BY)
        tags = require_mapping(self, "tags", tags, "a mapping of tag keys to values")
        require_bool(self, "default", default)
        require_subdomain(self, "name", name)
        require_one_of(self, "deletion_policy", deletion_policy, ("Retain", "Delete"))
        require_tags(self, "tags", tags)
        if BACKUP_TAG_KEY in tags:
            raise fail(self, "tags", BACKUP_TAG_KEY, "the backup tag belongs on volumes, not snapshots")
        body: dict = {"driver": EBS_CSI_DRIVER, "deletionPolicy": deletion_policy}
        if tags:
            body["parameters"] = tag_specifications(tags)
        self.snapshot_class = api_object(
            self,
            "snapshot-class",
            api_version="snapshot.storage.k8s.io/v1",
            kind="VolumeSnapshotClass",
            meta=metadata(name, annotations={DEFAULT_SNAPSHOT_CLASS_ANNOTATION: "true"} if default else None),
            **body,
        )
