"""The package's public surface: lazy exports resolve, and the import stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import eks_ai_data


@pytest.mark.parametrize("name", sorted(n for n in eks_ai_data.__all__ if n != "__version__"))
def test_every_export_resolves(name):
    assert getattr(eks_ai_data, name) is not None


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        eks_ai_data.Nope  # noqa: B018


def test_importing_the_package_does_not_load_aws_cdk():
    code = "import sys, eks_ai_data; print('aws_cdk' in sys.modules, 'jsii' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
