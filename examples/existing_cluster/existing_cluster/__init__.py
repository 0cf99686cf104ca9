"""Example Corp's training platform on an existing EKS cluster, built with eks-ai-data."""

from __future__ import annotations

import aws_cdk as cdk

from .existing import RESEARCH, ExistingCluster
from .stack import TrainingOnExistingClusterStack


def build(app: cdk.App, existing: ExistingCluster = RESEARCH) -> TrainingOnExistingClusterStack:
    """Add the stack, in the existing cluster's account and Region, to ``app``."""
    return TrainingOnExistingClusterStack(
        app,
        "ExampleCorpResearchTraining",
        existing=existing,
        env=cdk.Environment(account=existing.account, region=existing.region),
        description=f"Example Corp: GPU nodes, FSx for Lustre and storage drivers on EKS cluster {existing.cluster_name}",
    )


__all__ = ["RESEARCH", "ExistingCluster", "TrainingOnExistingClusterStack", "build"]
