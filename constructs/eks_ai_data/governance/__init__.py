"""Governance: who may do what in the cluster (layer 2, aws-cdk-lib): EKS access entries for team members."""

from .access import TeamAccess

__all__ = ["TeamAccess"]
