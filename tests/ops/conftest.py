"""Fake AWS for the operations-command tests, made cheap to set up for every test (each test gets a fresh one).

Two costs of moto 5.2.5 and botocore that no test asserts on dominated these tests' time:

- moto's EC2 backend loads, for every Region a test touches, its default AMIs plus that Region's "latest" and
  ECS-optimized image lists (about 1,300 images per backend). ``MOTO_AMIS_PATH`` (read when moto imports
  ``moto/ec2/models/amis.py``) replaces all of them with one list: we hand it moto's own default list, so
  ``describe_images(Owners=["amazon"])`` still finds Amazon's images, and nothing else changes.
- every boto3 session, including the ones moto makes inside its backends (``moto/eks/utils.py`` builds a
  ``Session()`` to validate each role ARN), gets its own botocore loader, which reads and parses
  ``endpoints.json`` and each service model again. Here every session of the test session shares one loader:
  it holds parsed, read-only service data; credentials, event handlers, clients and moto's state stay per
  session and per test.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import botocore.loaders
import botocore.session
import moto
import pytest


def _default_amis_file() -> str:
    """moto's default AMI list, uncompressed (MOTO_AMIS_PATH takes a plain JSON file), once per moto version."""
    path = Path(tempfile.gettempdir()) / f"eks-ai-data-moto-{moto.__version__}-amis.json"
    if not path.exists():
        data = gzip.decompress((resources.files("moto") / "ec2/resources/amis.json.gz").read_bytes())
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: parallel test workers never read a half-written file
    return str(path)


os.environ.setdefault("MOTO_AMIS_PATH", _default_amis_file())


class _UniquePaths(list):
    """boto3 appends its resource-model folder to the loader's search paths once per session: keep it once."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_loader() -> Iterator[botocore.loaders.Loader]:
    """One botocore data loader for every session created while the ops tests run."""
    loader = botocore.loaders.create_loader()
    loader._search_paths = _UniquePaths(loader.search_paths)
    original = botocore.session.create_loader

    def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        return original(search_path_string) if search_path_string else loader

    patch = pytest.MonkeyPatch()
    patch.setattr(botocore.session, "create_loader", create_loader)
    yield loader
    patch.undo()
