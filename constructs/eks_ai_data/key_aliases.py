"""KMS alias names of :class:`~eks_ai_data.keys.DataKeys`: KMS's rules, defaults unique by construction, and
an app-wide check that no two ``DataKeys`` create the same alias in one account and Region."""

from __future__ import annotations

import hashlib
import re
import weakref
from dataclasses import dataclass

from aws_cdk import Stack
from constructs import Construct, IConstruct

from ._validate import fail, unresolved

#: KMS developer guide, "Create aliases": 1-256 characters (``alias/`` included) of letters, digits, ``/``,
#: ``_`` and ``-``; ``alias/aws/`` is reserved for AWS managed keys. (The API reference's pattern also admits
#: ``:``; the guide does not, so neither do we.)
ALIAS_NAME = re.compile(r"^alias/(?!aws/)[a-zA-Z0-9/_-]+\Z")
MAX_ALIAS_LENGTH = 256
DEFAULT_ALIAS_ROOT = "alias/eks-ai-data"
#: The longest purpose suffix a prefix gets (``/secrets``): a default prefix leaves room for it.
_LONGEST_SUFFIX = len("/secrets")
_NOT_IN_ALIAS = re.compile(r"[^a-zA-Z0-9_-]")


def default_alias_prefix(scope: Construct) -> str:
    """``alias/eks-ai-data/<stack name>/<ids of the construct path below the stack>``.

    Construct paths are unique in a stack and stack names in an account and Region, so defaults never meet.
    When an id has characters an alias cannot hold (they become ``-``) or the prefix would leave no room for
    ``/secrets`` within 256 characters, the prefix is shortened and ends in a hash of the full construct path,
    so that it stays unique.
    """
    stack = Stack.of(scope)
    scopes = scope.node.scopes
    if unresolved(stack.stack_name):  # a nested stack: name it by its path from the app instead
        ids = [c.node.id for c in scopes[1:]]
    else:
        ids = [stack.stack_name, *(c.node.id for c in scopes[scopes.index(stack) + 1 :])]
    cleaned = [_NOT_IN_ALIAS.sub("-", part) for part in ids]
    prefix = "/".join([DEFAULT_ALIAS_ROOT, *cleaned])
    limit = MAX_ALIAS_LENGTH - _LONGEST_SUFFIX
    if cleaned != ids or len(prefix) > limit:
        digest = hashlib.sha256(scope.node.path.encode()).hexdigest()[:10]
        prefix = prefix[: limit - len(digest) - 1].rstrip("/") + "-" + digest
    return prefix


def key_aliases(scope: Construct, prefix: str, purposes: list[str], *, given: bool) -> dict[str, str]:
    """``{purpose: "<prefix>/<purpose>"}``, each checked against KMS's alias rules (tokens are not checked)."""
    aliases = {purpose: f"{prefix}/{purpose}" for purpose in purposes}
    if unresolved(prefix):
        return aliases
    what = "alias_prefix" if given else "alias_prefix (default)"
    for alias in aliases.values():
        if not ALIAS_NAME.match(alias):
            raise fail(
                scope,
                what,
                prefix,
                f"gives the alias {alias!r}: an alias must start with 'alias/' (not 'alias/aws/', reserved for "
                "AWS managed keys) and use only letters, digits, '/', '_' and '-'",
            )
        if len(alias) > MAX_ALIAS_LENGTH:
            raise fail(
                scope,
                what,
                prefix,
                f"gives the alias {alias!r} ({len(alias)} characters): KMS allows at most {MAX_ALIAS_LENGTH}, "
                "'alias/' included",
            )
    return aliases


@dataclass(frozen=True)
class _Claim:
    alias: str
    account: str | None  # None: the stack may deploy to any account
    region: str | None
    path: str


#: Aliases claimed so far, per app (the construct tree's root).
_CLAIMS: weakref.WeakKeyDictionary[IConstruct, list[_Claim]] = weakref.WeakKeyDictionary()


def claim_aliases(scope: Construct, prefix: str, aliases: list[str]) -> None:
    """Record ``aliases`` for ``scope``'s stack environment; refuse one another construct of the app already
    claimed where both stacks could deploy to the same account and Region (an unknown account or Region
    matches any)."""
    stack = Stack.of(scope)
    account = None if unresolved(stack.account) else stack.account
    region = None if unresolved(stack.region) else stack.region
    claims = _CLAIMS.setdefault(scope.node.root, [])
    for alias in aliases:
        if unresolved(alias):
            continue
        for other in claims:
            if other.alias == alias and _may_meet(other.account, account) and _may_meet(other.region, region):
                raise fail(
                    scope,
                    "alias_prefix",
                    prefix,
                    f"gives the alias {alias!r}, which {other.path} also creates, and both stacks can deploy to "
                    "the same account and Region (KMS aliases are unique per account and Region; a stack "
                    "without a concrete account or Region may deploy to any): pass a distinct alias_prefix",
                )
    claims.extend(_Claim(a, account, region, scope.node.path) for a in aliases if not unresolved(a))


def _may_meet(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b
