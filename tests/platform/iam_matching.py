"""IAM policy statements and the matching rules of the policy model (tests/platform/iam_model.py): principals,
actions, resources (wildcards, ``ArnLike`` per ARN part) and condition operators, as the IAM user guide's policy
evaluation logic and condition-operator reference describe them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ContextValue = str | bool | int | float | Sequence[str]


@dataclass(frozen=True)
class Statement:
    """One policy statement, resolved to plain values. ``where`` names its policy (``stack/logical-id#sid``)."""

    where: str
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: Any  # None (identity policy), "*", or {"AWS": [...], "Service": [...], ...}
    not_principal: Any
    conditions: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an IAM role or user (``arn``) with its identity statements, or an AWS service."""

    arn: str
    account: str
    statements: tuple[Statement, ...] = ()
    service: str | None = None
    unmodeled: tuple[str, ...] = ()  # AWS managed policies the model cannot read


def parse_statement(where: str, raw: Mapping[str, Any]) -> Statement:
    """A statement of plain IAM JSON (intrinsics already resolved)."""

    def many(key: str) -> tuple[str, ...] | None:
        value = raw.get(key)
        if value is None:
            return None
        return tuple(value) if isinstance(value, list) else (value,)

    return Statement(
        where=where,
        effect=raw["Effect"],
        actions=many("Action"),
        not_actions=many("NotAction"),
        resources=many("Resource"),
        not_resources=many("NotResource"),
        principal=raw.get("Principal"),
        not_principal=raw.get("NotPrincipal"),
        conditions=raw.get("Condition", {}),
    )


def service_of(action: str) -> str:
    """``kms`` for ``kms:Decrypt``."""
    return action.split(":", 1)[0].lower()


def principal_kind(s: Statement, principal: Principal) -> str | None:
    """How a resource-policy statement's principal matches: ``"direct"``, ``"account"`` (delegation) or ``None``."""
    if s.principal is None and s.not_principal is None:
        return "direct"  # an identity statement: it belongs to the principal
    if s.not_principal is not None:
        return None if names(s.not_principal, principal) else "direct"
    return names(s.principal, principal)


def names(block: Any, principal: Principal) -> str | None:
    """Whether a ``Principal`` block names ``principal`` (``"direct"``) or its account (``"account"``)."""
    if block == "*":
        return "direct"
    entries = {k: (v if isinstance(v, list) else [v]) for k, v in block.items()}
    for value in entries.get("AWS", []):
        if value == "*":
            return "direct"
        if principal.service is None and value == principal.arn:
            return "direct"
    for value in entries.get("Service", []):
        if principal.service is not None and value == principal.service:
            return "direct"
    for value in entries.get("AWS", []):
        account = value if re.fullmatch(r"\d{12}", value) else None
        root = re.fullmatch(r"arn:[a-z-]+:iam::(\d{12}):root", value)
        if root:
            account = root.group(1)
        if account is not None and principal.service is None and account == principal.account:
            return "account"
    return None


def like(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM wildcards: ``*`` any run of characters, ``?`` one character."""
    if not case:
        pattern, value = pattern.lower(), value.lower()
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def arn_like(pattern: str, value: str) -> bool:
    """``ArnLike``: the six colon-separated parts match separately (IAM user guide, ARN condition operators)."""
    p, v = pattern.split(":", 5), value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return like(pattern, value)
    return all(like(a, b) for a, b in zip(p, v, strict=True))


def resource_like(pattern: str, resource: str) -> bool:
    """A ``Resource`` entry against an ARN (``*`` is anything: in a key policy, the key itself)."""
    return pattern == "*" or arn_like(pattern, resource)


OPERATORS = {
    "StringEquals": (lambda v, c: v == c, False),
    "StringNotEquals": (lambda v, c: v == c, True),
    "StringEqualsIgnoreCase": (lambda v, c: v.lower() == c.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, c: v.lower() == c.lower(), True),
    "StringLike": (lambda v, c: like(v, c), False),
    "StringNotLike": (lambda v, c: like(v, c), True),
    "ArnEquals": (lambda v, c: v == c, False),
    "ArnNotEquals": (lambda v, c: v == c, True),
    "ArnLike": (lambda v, c: arn_like(v, c), False),
    "ArnNotLike": (lambda v, c: arn_like(v, c), True),
    "Bool": (lambda v, c: v.lower() == c.lower(), False),
    "NumericEquals": (lambda v, c: float(c) == float(v), False),
    "NumericNotEquals": (lambda v, c: float(c) == float(v), True),
    "NumericLessThan": (lambda v, c: float(c) < float(v), False),
    "NumericLessThanEquals": (lambda v, c: float(c) <= float(v), False),
    "NumericGreaterThan": (lambda v, c: float(c) > float(v), False),
    "NumericGreaterThanEquals": (lambda v, c: float(c) >= float(v), False),
}


def condition(operator: str, key: str, values: Any, ctx: Mapping[str, ContextValue]) -> bool:
    """One ``{operator: {key: values}}`` entry against the request context (condition keys are case-insensitive)."""
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    wanted = [_text(v) for v in (values if isinstance(values, list) else [values])]
    lowered = {k.lower(): v for k, v in ctx.items()}
    present = key.lower() in lowered
    if op == "Null":
        return (not present) == (wanted[0].lower() == "true")
    if op not in OPERATORS:
        raise NotImplementedError(f"condition operator {operator}")
    test, negated = OPERATORS[op]
    if not present:
        return qualifier == "ForAllValues" or if_exists or negated
    raw = lowered[key.lower()]
    given = [_text(x) for x in raw] if isinstance(raw, (list, tuple)) else [_text(raw)]
    oks = [any(test(w, item) for w in wanted) != negated for item in given]
    if qualifier == "ForAllValues":
        return all(oks)
    if qualifier == "ForAnyValue":
        return any(oks)
    return all(oks) if negated else any(oks)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


__all__ = ["ContextValue", "Principal", "Statement", "condition", "like", "parse_statement", "principal_kind"]
