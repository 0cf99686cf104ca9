"""Validation helpers for layer-2 constructs (token-aware wrappers of :mod:`errors`)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Token
from constructs import Construct

from .errors import EksAiDataValidationError
from .naming import LABEL_RULE, SUBDOMAIN_RULE, is_dns1123_label, is_dns1123_subdomain


def unresolved(value: Any) -> bool:
    """True when ``value`` is (or contains) a CDK token that resolves only at deploy time."""
    if isinstance(value, (list, tuple)):
        return any(unresolved(v) for v in value)
    return Token.is_unresolved(value)


def fail(scope: Construct, prop: str, value: Any, allowed: str) -> EksAiDataValidationError:
    """Build the error for ``scope`` (raise it: ``raise fail(self, ...)``)."""
    return EksAiDataValidationError(scope.node.path, prop, value, allowed)


def require(scope: Construct, condition: bool, prop: str, value: Any, allowed: str) -> None:
    """Raise unless ``condition`` holds; values that are unresolved tokens are never checked."""
    if unresolved(value):
        return
    if not condition:
        raise fail(scope, prop, value, allowed)


def require_range(scope: Construct, prop: str, value: int | float | None, low: float, high: float) -> None:
    """``low <= value <= high`` (``None`` and tokens pass)."""
    if value is None or unresolved(value):
        return
    if not low <= value <= high:
        raise fail(scope, prop, value, f"must be between {low} and {high}")


def require_dns1123_label(scope: Construct, prop: str, value: str) -> None:
    """A Kubernetes name that must be a DNS-1123 label (namespaces, service accounts)."""
    if not unresolved(value) and not is_dns1123_label(value):
        raise fail(scope, prop, value, LABEL_RULE)


def require_dns1123_subdomain(scope: Construct, prop: str, value: str) -> None:
    """A Kubernetes object name that must be a DNS-1123 subdomain (most object kinds)."""
    if not unresolved(value) and not is_dns1123_subdomain(value):
        raise fail(scope, prop, value, SUBDOMAIN_RULE)
