"""Example Corp's CDK app: an AI/ML data platform on EKS built with eks-ai-data inside existing resources."""

from __future__ import annotations

import aws_cdk as cdk

from .existing import PRODUCTION, ExistingResources
from .ml_platform import MlPlatformStack


def build(app: cdk.App, existing: ExistingResources = PRODUCTION) -> MlPlatformStack:
    """Add the ML platform stack, deployed to the existing resources' account and Region, to ``app``."""
    return MlPlatformStack(
        app,
        "ExampleCorpMlPlatform",
        existing=existing,
        env=cdk.Environment(account=existing.account, region=existing.region),
        description="Example Corp ML platform: EKS with p5 GPU nodes and FSx for Lustre linked to S3",
    )


__all__ = ["PRODUCTION", "ExistingResources", "MlPlatformStack", "build"]
