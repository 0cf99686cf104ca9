"""What every reference data stack and cluster stack starts from."""

from __future__ import annotations

from typing import Any

from aws_cdk import CrossStackReferences, ReferenceStrength
from constructs import Construct

from eks_ai_data.keys import DataKeys
from eks_ai_data.network import ClusterNetwork, ZonalStack

from .config import PlatformConfig


class DataStack(ZonalStack):
    """A platform's data stack: termination protection on, the keys (``Keys``) and the VPC (``Network``)."""

    def __init__(
        self, scope: Construct, id: str, *, config: PlatformConfig, platform: str, **kwargs: Any
    ) -> None:
        super().__init__(
            scope,
            id,
            env=config.env,
            availability_zones=config.availability_zones or None,
            termination_protection=True,
            description=f"eks-ai-data {platform} platform: data that outlives its clusters",
            **kwargs,
        )
        self.keys = DataKeys(self, "Keys")
        self.network = ClusterNetwork(
            self, "Network", logs_key=self.keys.data_key, availability_zones=config.availability_zones or None
        )


class ClusterStack(ZonalStack):
    """A cluster stack on a :class:`DataStack`: the cluster (``Platform``) on the data stack's VPC and keys."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        data: DataStack,
        kubernetes_version: str,
        platform: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            id,
            env=config.env,
            availability_zones=config.availability_zones or None,
            description=f"eks-ai-data {platform} cluster (Kubernetes {kubernetes_version}) on {data.stack_name}",
            **kwargs,
        )
        # The data stack's values arrive as CloudFormation exports (strong references), whatever the app's
        # default: CloudFormation then refuses to change or delete a value this cluster uses (see the README).
        CrossStackReferences.of(self).consume(ReferenceStrength.STRONG)
        self.platform = config.cluster(self, data.network.vpc, data.keys, kubernetes_version)
