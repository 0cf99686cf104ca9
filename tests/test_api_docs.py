"""Every parameter of the public API is documented: one ``:param name:`` line per constructor parameter (and per
dataclass field) of every class the package and its subpackages export, so generated API docs (``make docs``)
list each of them."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re

import pytest

PACKAGES = ("eks_ai_data", "eks_ai_data.k8s", "eks_ai_data.governance", "eks_ai_data.observability")


def _public_classes():
    for package in PACKAGES:
        module = importlib.import_module(package)
        names = getattr(module, "__all__", None) or list(getattr(module, "_EXPORTS", {}))
        for name in sorted(names):
            obj = getattr(module, name)
            if inspect.isclass(obj):
                yield f"{package}.{name}", obj


def _parameters(cls: type) -> list[str]:
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls) if f.init]
    if "__init__" not in cls.__dict__:
        return []
    signature = inspect.signature(cls.__init__)
    return [
        name
        for name, p in signature.parameters.items()
        if name not in ("self", "scope", "id") and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


CLASSES = dict(_public_classes())


def test_the_public_api_has_classes_to_check():
    assert len(CLASSES) > 60
    assert "eks_ai_data.AiCluster" in CLASSES and "eks_ai_data.k8s.NamespaceSpec" in CLASSES


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_constructor_parameter_has_its_own_param_line(name):
    cls = CLASSES[name]
    doc = inspect.getdoc(cls) or ""
    if "__init__" in cls.__dict__:
        doc += "\n" + (inspect.getdoc(cls.__init__) or "")
    lines = doc.splitlines()
    assert not [line for line in lines if line.count(":param ") > 1], f"{name}: one :param per line"
    documented = {m.group(1) for line in lines if (m := re.match(r"\s*:param (\w+):", line))}
    assert [p for p in _parameters(cls) if p not in documented] == []


@pytest.mark.parametrize(
    ("options", "construct", "set_by_the_pattern"),
    [
        (
            "eks_ai_data.nodegroups:GpuNodeGroupOptions",
            "eks_ai_data.nodegroups:GpuNodeGroup",
            {"cluster", "instance_types", "subnet"},
        ),
        (
            "eks_ai_data.compute.node_pools:GpuNodePoolOptions",
            "eks_ai_data.compute.node_pools:GpuNodePool",
            {"karpenter", "instance_types", "subnet"},
        ),
        (
            "eks_ai_data.observability.container_insights:ContainerInsightsOptions",
            "eks_ai_data.observability.container_insights:ContainerInsights",
            {"cluster"},
        ),
    ],
)
def test_pass_through_options_are_the_constructs_props_and_nothing_else(
    options, construct, set_by_the_pattern
):
    def load(path):
        module, name = path.split(":")
        return getattr(importlib.import_module(module), name)

    typed, cls = load(options), load(construct)
    assert typed.__total__ is False  # every key optional: the construct's defaults apply
    assert set(typed.__annotations__) == set(_parameters(cls)) - set_by_the_pattern
