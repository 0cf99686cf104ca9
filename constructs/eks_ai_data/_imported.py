"""What the imports of existing file systems share (``LustreStore.from_existing``, ``SharedEfs.from_existing``)."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from ._validate import fail
from .errors import EksAiDataValidationError, shown


def is_instance(value: object, protocol: Any) -> bool:
    """``isinstance(value, protocol)`` for a runtime-checkable protocol, ``False`` where reading a member raises
    (a jsii object may answer a missing member with ``RuntimeError``: see ``cluster_interface.is_ai_cluster``)."""
    try:
        return isinstance(value, protocol)
    except RuntimeError:
        return False


def refused(scope: Construct, prop: str, value: object, *, bare: str, other: str) -> EksAiDataValidationError:
    """The error for a value that is not the store a pattern needs: ``bare`` when it is a bare file system (it has a
    ``file_system_id``: say how to describe it), else ``other``."""
    what = shown(value)
    return fail(scope, prop, what, bare if hasattr(value, "file_system_id") else other)


def only_security_group(scope: Construct, file_system: Any, what: str) -> ec2.ISecurityGroup:
    """The one security group in an imported file system's connections (``what``: how its import names it)."""
    groups = list(file_system.connections.security_groups)
    if len(groups) != 1:
        raise fail(
            scope,
            "file_system",
            getattr(getattr(file_system, "node", None), "path", None) or file_system.file_system_id,
            f"must carry exactly one security group in its connections (has {len(groups)}): {what}",
        )
    return groups[0]
