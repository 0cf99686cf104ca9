"""The L1 resource behind an L2 construct, typed (layer 2)."""

from __future__ import annotations

from typing import TypeVar

from constructs import IConstruct

_T = TypeVar("_T")


def default_child(construct: IConstruct, kind: type[_T]) -> _T:
    """``construct.node.default_child`` as the CloudFormation resource class ``kind`` it is.

    constructs' ``Node.default_child`` is typed ``IConstruct | None`` (any construct may have one or none); an L2
    of aws-cdk-lib always has its L1 there, and jsii hands it back as that L1's Python class. A construct without
    one (or with another kind) is a programming error here, so it raises rather than returning ``None``.
    """
    child = construct.node.default_child
    if not isinstance(child, kind):
        raise TypeError(f"{construct.node.path}: expected a {kind.__name__} default child, found {child!r}")
    return child
