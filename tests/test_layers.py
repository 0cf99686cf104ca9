"""design.md's layers: imports only point down. Checked on the source, module by module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "constructs" / "eks_ai_data"

#: layer 1 (facts and checks) and the AWS API tooling: no CDK, no cdk8s, no jsii
LAYER_1 = {
    "catalog",
    "catalog_data",
    "errors",
    "naming",
    "labels",
    "versions",
    "schedule",
    "lustre_sizing",
    "stateful",
}
NO_CDK = [
    *sorted(LAYER_1),
    "guard",
    "cli",
    "ops.aws",
    "ops.preflight",
    "ops.quotas",
    "ops.stack",
    "ops.table",
    "ops.verify",
]
CDK_ROOTS = {"aws_cdk", "constructs", "cdk8s", "cdk8s_plus_27", "jsii"}


def imports(module: str) -> set[str]:
    """Absolute names imported by ``eks_ai_data.<module>`` (relative imports resolved)."""
    path = PACKAGE.joinpath(*module.split(".")).with_suffix(".py")
    if not path.exists():
        path = PACKAGE.joinpath(*module.split("."), "__init__.py")
    package = (
        ["eks_ai_data", *module.split(".")[:-1]]
        if path.name != "__init__.py"
        else ["eks_ai_data", *module.split(".")]
    )
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def modules(subpackage: str | None = None) -> list[str]:
    root = PACKAGE / subpackage if subpackage else PACKAGE
    found = []
    for path in sorted(root.glob("*.py")):
        name = path.stem if not subpackage else f"{subpackage}.{path.stem}"
        found.append(name.removesuffix(".__init__") if path.stem == "__init__" else name)
    return found


@pytest.mark.parametrize("module", NO_CDK)
def test_layer_one_and_tooling_never_import_cdk(module):
    assert {n.split(".")[0] for n in imports(module)} & CDK_ROOTS == set()


@pytest.mark.parametrize("module", sorted(LAYER_1))
def test_layer_one_imports_only_layer_one(module):
    ours = {n.split(".")[1] for n in imports(module) if n.startswith("eks_ai_data.")}
    assert ours <= LAYER_1


@pytest.mark.parametrize("module", modules("k8s"))
def test_charts_use_cdk8s_and_layer_one_only(module):
    names = imports(module)
    assert not any(n.split(".")[0] == "aws_cdk" for n in names)
    ours = {n.split(".")[1] for n in names if n.startswith("eks_ai_data.")}
    assert ours <= LAYER_1 | {"k8s"}


@pytest.mark.parametrize(
    "module", [m for m in modules() if m not in LAYER_1 and m not in NO_CDK and m != "__init__"]
)
def test_aws_resources_never_import_patterns(module):
    assert not any(n.startswith("eks_ai_data.patterns") for n in imports(module))


@pytest.mark.parametrize("module", modules("governance"))
def test_layer_two_subpackages_never_import_charts_or_patterns(module):
    names = imports(module)
    assert not any(n.startswith(("eks_ai_data.patterns", "eks_ai_data.k8s")) for n in names)
