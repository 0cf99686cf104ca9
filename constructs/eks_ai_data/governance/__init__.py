"""Data governance (layer 2): the Glue Data Catalog of a platform's datasets (:class:`DatasetCatalog`)."""

from __future__ import annotations

from .dataset_catalog import DatasetCatalog, DatasetSpec

__all__ = ["DatasetCatalog", "DatasetSpec"]
