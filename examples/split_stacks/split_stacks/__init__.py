"""Example Corp's ML platform: one data stack, and a cluster stack per name in the ``clusters`` context value."""

from __future__ import annotations

import aws_cdk as cdk

from .cluster import PlatformClusterStack
from .data import PlatformDataStack

ACCOUNT, REGION = "111122223333", "us-east-1"
AVAILABILITY_ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
ADMIN_ROLE = "arn:aws:iam::111122223333:role/PlatformAdmins"
KUBERNETES_VERSION = "1.36"
DATA_STACK = "ExampleCorpMlData"


def cluster_stack_name(cluster: str) -> str:
    return f"ExampleCorpMl{cluster[:1].upper()}{cluster[1:]}"


def clusters(app: cdk.App) -> list[str]:
    """The ``clusters`` context value (``-c clusters=blue,green``, or a list in cdk.json). Default: ``blue``."""
    value = app.node.try_get_context("clusters") or "blue"
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    return [name for name in names if name]


def build(app: cdk.App) -> list[cdk.Stack]:
    """The data stack, then one cluster stack per cluster name."""
    env = cdk.Environment(account=ACCOUNT, region=REGION)
    data = PlatformDataStack(app, DATA_STACK, env=env, availability_zones=AVAILABILITY_ZONES)
    stacks: list[cdk.Stack] = [data]
    for name in clusters(app):
        stacks.append(
            PlatformClusterStack(
                app,
                cluster_stack_name(name),
                env=env,
                data=data,
                kubernetes_version=KUBERNETES_VERSION,
                admin_principal_arn=ADMIN_ROLE,
            )
        )
    return stacks


__all__ = [
    "DATA_STACK",
    "PlatformClusterStack",
    "PlatformDataStack",
    "build",
    "cluster_stack_name",
    "clusters",
]
