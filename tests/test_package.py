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


def test_every_data_file_of_the_package_is_shipped():
    """Files the package reads at run time that are not Python (the price table, the validation worker, py.typed)
    are in the wheel only when pyproject.toml's package-data lists them."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(eks_ai_data.__file__).parent
    globs = tomllib.loads((root.parent.parent / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    data = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert data
    assert [f for f in data if not any(fnmatch.fnmatch(f, g) for g in globs["eks_ai_data"])] == []
