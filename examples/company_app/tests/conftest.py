"""Example Corp's app tests: put the app's directory on sys.path and synthesize the app once per session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[1]
# Appended, not prepended: the project root stays ahead of it, so `tests.*` names the project's tests/ (the
# app's own tests/ directory would otherwise join the `tests` namespace package first).
if str(APP_DIR) not in sys.path:
    sys.path.append(str(APP_DIR))


@pytest.fixture(scope="session")
def company_app(tmp_path_factory: pytest.TempPathFactory):
    """The app as ``cdk synth`` builds it (cdk.json's context included), with cdk-nag, synthesized once."""
    from company_app import build
    from tests.conftest import synthesize

    context = json.loads((APP_DIR / "cdk.json").read_text()).get("context", {})
    return synthesize(build, tmp_path_factory.mktemp("company-app"), context=context)


@pytest.fixture(scope="session")
def company_app_no_flags(tmp_path_factory: pytest.TempPathFactory):
    """The same app under no feature flags (an older project's cdk.json), synthesized once."""
    from company_app import build
    from tests.conftest import synthesize

    return synthesize(build, tmp_path_factory.mktemp("company-app-no-flags"))
