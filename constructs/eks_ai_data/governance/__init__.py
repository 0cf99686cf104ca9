"""Data governance (layer 2): the Glue Data Catalog of a platform's datasets (:class:`DatasetCatalog`) and who may
do what in the cluster (:class:`TeamAccess`: EKS access entries for team members)."""

from __future__ import annotations

from .access import TeamAccess
from .dataset_catalog import DatasetCatalog, DatasetSpec

__all__ = ["DatasetCatalog", "DatasetSpec", "TeamAccess"]
