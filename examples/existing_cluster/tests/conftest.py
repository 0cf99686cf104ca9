"""The existing-cluster app's tests: its directory on sys.path, the app synthesized once per session per flag set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[1]
# Appended, not prepended: the project root stays ahead of it, so `tests.*` names the project's tests/.
if str(APP_DIR) not in sys.path:
    sys.path.append(str(APP_DIR))


@pytest.fixture(scope="session")
def existing_cluster_app(tmp_path_factory: pytest.TempPathFactory):
    """The app as ``cdk synth`` builds it (cdk.json's context: cdk init's flags), with cdk-nag."""
    from existing_cluster import build

    from tests.conftest import synthesize

    context = json.loads((APP_DIR / "cdk.json").read_text())["context"]
    return synthesize(build, tmp_path_factory.mktemp("existing-cluster"), context=context)


@pytest.fixture(scope="session")
def existing_cluster_no_flags(tmp_path_factory: pytest.TempPathFactory):
    """The same app under no feature flags (what an older project's cdk.json amounts to)."""
    from existing_cluster import build

    from tests.conftest import synthesize

    return synthesize(build, tmp_path_factory.mktemp("existing-cluster-no-flags"))
