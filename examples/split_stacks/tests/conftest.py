"""The split-stacks app's tests: its directory on sys.path, and the app synthesized once per session for each
phase of a blue/green replacement (cdk.json's context, cdk init's flags, plus ``clusters``) and under no flags."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[1]
if str(APP_DIR) not in sys.path:
    sys.path.append(str(APP_DIR))


def _synth(tmp_path_factory: pytest.TempPathFactory, name: str, clusters: str | None, flags: bool = True):
    from split_stacks import build

    from tests.conftest import synthesize

    context = json.loads((APP_DIR / "cdk.json").read_text())["context"] if flags else {}
    if clusters is not None:
        context = {**context, "clusters": clusters}
    return synthesize(build, tmp_path_factory.mktemp(name), context=context)


@pytest.fixture(scope="session")
def split_blue(tmp_path_factory):
    """As ``cdk synth`` builds it: the data stack and the blue cluster."""
    return _synth(tmp_path_factory, "split-blue", None)


@pytest.fixture(scope="session")
def split_blue_green(tmp_path_factory):
    """During the replacement: ``-c clusters=blue,green``."""
    return _synth(tmp_path_factory, "split-blue-green", "blue,green")


@pytest.fixture(scope="session")
def split_green(tmp_path_factory):
    """After the cut-over: ``-c clusters=green``."""
    return _synth(tmp_path_factory, "split-green", "green")


@pytest.fixture(scope="session")
def split_no_flags(tmp_path_factory):
    """The default app under no feature flags."""
    return _synth(tmp_path_factory, "split-no-flags", None, flags=False)
