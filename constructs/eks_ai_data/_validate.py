"""Validation helpers for layer-2 constructs (token-aware wrappers of :mod:`errors`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aws_cdk import Token
from constructs import Construct

from .errors import EksAiDataValidationError
from .errors import require_bool as require_bool
from .errors import require_mapping as require_mapping
from .naming import (
    ALLOWED_RESERVED_LABEL_PREFIXES,
    EKS_LABEL_MAX,
    IAM_PRINCIPAL_ARN,
    IAM_PRINCIPAL_RULE,
    LABEL_RULE,
    MAX_CLUSTER_NAME,
    RESERVED_LABEL_PREFIXES,
    SUBDOMAIN_RULE,
    eks_name_rule,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_eks_name,
    label_key_problem,
    label_value_problem,
)

# aws-cdk-lib's Token.isUnresolved (core/lib/private/encoding.js, unresolved()) is false for a string without this
# marker ("${Token[" and "#{Token[" both contain it), for a number outside its token-double encoding (huge negative
# doubles) and for booleans and null: answered here, without a round trip to the jsii kernel (about 130 of the
# reference app's 1,700 kernel requests). Everything else is asked, as before.
_TOKEN_MARKER = "Token["  # noqa: S105 (a CDK token marker, not a secret)
_LIST_TOKEN_MARKER = "#{Token["  # noqa: S105 (BEGIN_LIST_TOKEN_MARKER, not a secret)
_LARGEST_PLAIN_INT = 2**53


def unresolved(value: Any) -> bool:
    """True when ``value`` is (or contains) a CDK token that resolves only at deploy time."""
    if isinstance(value, (list, tuple)):
        # a list token (Token.as_list, Fn.split) is one encoded element, which alone is not a string token
        if len(value) == 1 and isinstance(value[0], str) and _LIST_TOKEN_MARKER in value[0]:
            return Token.is_unresolved(list(value))
        return any(unresolved(v) for v in value)
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str) and _TOKEN_MARKER not in value:
        return False
    if isinstance(value, int) and abs(value) < _LARGEST_PLAIN_INT:
        return False
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


def require_cluster_name(scope: Construct, value: object) -> None:
    """Refuse what EKS would refuse as a cluster name (a token is left to CloudFormation)."""
    require(
        scope,
        is_eks_name(value, MAX_CLUSTER_NAME),
        "cluster_name",
        value,
        f"must be an EKS cluster name: {eks_name_rule(MAX_CLUSTER_NAME)}",
    )


def require_enum(scope: Construct, prop: str, value: Any, enum: type) -> None:
    """``value`` is a member of the (jsii) enum ``enum``; a string such as ``"SPOT"`` gets the spelling to use
    (jsii's own type error names no construct and an internal argument)."""
    if isinstance(value, enum):
        return
    members = [m.name for m in enum]  # type: ignore[attr-defined]  # an enum.Enum subclass
    raise fail(scope, prop, value, f"must be {enum.__name__}.<member>, one of {members}")


def require_resource(scope: Construct, prop: str, value: Any, attribute: str, what: str) -> None:
    """``value`` is a CDK resource that has ``attribute`` (jsii interfaces cannot be checked with isinstance),
    e.g. an ``s3.IBucket`` (``bucket_arn``) rather than its name."""
    if not hasattr(value, attribute) or isinstance(value, str):
        raise fail(scope, prop, value, f"must be {what}")


def require_resources(scope: Construct, prop: str, value: Any, attribute: str, what: str) -> None:
    """``value`` is a list of CDK resources that have ``attribute`` (as :func:`require_resource`); one resource on
    its own, ids, strings or ``None`` are refused with ``must be <what>``."""
    if (
        value is None
        or isinstance(value, str)
        or hasattr(value, attribute)
        or not isinstance(value, Iterable)
        or not all(hasattr(item, attribute) and not isinstance(item, str) for item in value)
    ):
        node = getattr(value, "node", None)
        # a construct is named by its path, not its token
        raise fail(scope, prop, node.path if node is not None else value, f"must be {what}")


def require_security_groups(scope: Construct, prop: str, value: Any) -> None:
    """A list of ``ec2.ISecurityGroup`` (one group on its own, ids or ``None`` are refused)."""
    require_resources(
        scope,
        prop,
        value,
        "security_group_id",
        "a list of ec2.ISecurityGroup (e.g. [cluster.node_security_group]; "
        "ec2.SecurityGroup.from_security_group_id(...) for an id), or [] to admit clients later",
    )


def require_options(
    scope: Construct,
    prop: str,
    value: Any,
    options: type,
    *,
    set_here: Iterable[str] = (),
    set_here_reason: str = "",
) -> dict[str, Any]:
    """``value`` (``None``: no options) as a dict whose keys are all fields of the ``TypedDict`` ``options``,
    else a validation error listing the fields allowed; keys in ``set_here`` (props the caller sets itself) are
    refused first, with ``set_here_reason``."""
    if value is None:
        return {}
    allowed = sorted(options.__annotations__)
    if not isinstance(value, Mapping):
        raise fail(scope, prop, value, f"must be a {options.__name__} (a dict with keys among {allowed})")
    clash = sorted(set(set_here) & set(value))
    if clash:
        raise fail(scope, prop, clash, set_here_reason)
    unknown = sorted(str(k) for k in value if k not in options.__annotations__)
    if unknown:
        raise fail(scope, prop, unknown, f"unknown {options.__name__} keys: allowed are {allowed}")
    return dict(value)


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


def validate_node_labels(
    scope: Construct,
    prop: str,
    labels: Mapping[str, str],
    *,
    reserved: Iterable[str] = (),
    eks_limits: bool = True,
) -> None:
    """Node labels EKS and kubelet accept, none of them a key the library sets itself (``reserved``).

    EKS CreateNodegroup limits keys and values to 63 characters each (the whole key, prefix included) and refuses
    empty values; kubelet refuses to self-apply labels under ``kubernetes.io/`` and ``k8s.io/`` except
    ``kubelet.kubernetes.io/`` and ``node.kubernetes.io/`` (NodeRestriction).
    """
    if not isinstance(labels, Mapping):
        raise fail(scope, prop, labels, "must be a mapping of label keys to values")
    reserved_keys = set(reserved)
    limit = EKS_LABEL_MAX if eks_limits else None
    for key, value in labels.items():
        if unresolved(key) or unresolved(value):
            continue
        problem = label_key_problem(key, max_length=limit)
        if (
            problem is None
            and any(key.startswith(p) or f".{p}" in key for p in RESERVED_LABEL_PREFIXES)
            and not key.startswith(ALLOWED_RESERVED_LABEL_PREFIXES)
        ):
            problem = "label keys under kubernetes.io/ and k8s.io/ are reserved (kubelet refuses to set them)"
        if problem is None and key in reserved_keys:
            problem = (
                f"is set by eks-ai-data itself (reserved keys: {sorted(reserved_keys)}); choose another key"
            )
        if problem is not None:
            raise fail(scope, prop, {key: value}, problem)
        problem = label_value_problem(value, allow_empty=not eks_limits)
        if problem is not None:
            raise fail(scope, prop, {key: value}, problem)


def require_string_list(scope: Construct, prop: str, value: Any, *, what: str = "names") -> list[str]:
    """``value`` as a list of strings; a single string (which Python would iterate letter by letter) is refused."""
    if isinstance(value, str):
        raise fail(scope, prop, value, f"must be a list of {what}, not a string: [{value!r}]")
    try:
        items = list(value)
    except TypeError:
        raise fail(scope, prop, value, f"must be a list of {what}") from None
    for item in items:
        if not isinstance(item, str):
            raise fail(scope, prop, items, f"must be a list of {what} (strings)")
    return items


def require_int(scope: Construct, prop: str, value: Any, low: int, high: int) -> int:
    """An integer (not a bool, not a float) in ``[low, high]``; tokens pass unchecked."""
    if unresolved(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(scope, prop, value, f"must be a whole number between {low} and {high}")
    if not low <= value <= high:
        raise fail(scope, prop, value, f"must be between {low} and {high}")
    return value


def whole_days(scope: Construct, prop: str, duration: Any) -> int:
    """A ``Duration`` as whole days, or the project's error (jsii's own error names no construct or prop)."""
    if not hasattr(duration, "to_hours"):
        raise fail(scope, prop, duration, "must be an aws_cdk.Duration such as Duration.days(7)")
    hours = duration.to_hours(integral=False)
    if unresolved(hours):
        raise fail(scope, prop, duration.to_string(), "must be a concrete number of days, not a token")
    if hours % 24:
        raise fail(scope, prop, f"{hours:g} hours", "must be a whole number of days")
    return int(hours // 24)


def require_duration(scope: Construct, prop: str, value: Any, *, example: str = "Duration.days(7)") -> None:
    """``value`` is an ``aws_cdk.Duration`` (``None`` passes: the caller's default applies); a bare number is
    refused, since it names no unit (jsii's own error names no construct or prop)."""
    if value is not None and not hasattr(value, "to_seconds"):
        raise fail(scope, prop, value, f"must be an aws_cdk.Duration such as {example}")


#: ``require_resource(scope, prop, value, *KIND)`` for the resource props the library takes: the attribute the CDK
#: interface has, and what the message asks for.
KEY = (
    "key_arn",
    "a kms.IKey (e.g. DataKeys.data_key, or kms.Key.from_key_arn(...) for an existing key), not its ARN",
)
BUCKET = ("bucket_arn", "an s3.IBucket (e.g. DataBucket.bucket), not its name")
SUBNET = (
    "subnet_id",
    "an ec2.ISubnet (e.g. vpc.private_subnets[0], or ec2.Subnet.from_subnet_attributes(...))",
)
VPC = ("vpc_id", "an ec2.IVpc (e.g. ClusterNetwork.vpc, or ec2.Vpc.from_vpc_attributes(...))")
GRANTABLE = ("grant_principal", "an iam.IGrantable (e.g. an iam.Role or a WorkloadIdentity.role), not an ARN")
ACCESS_POINT = ("access_point_arn", "an efs.IAccessPoint (e.g. SharedEfs.add_access_point(...)), not its id")


def require_principal_arn(scope: Construct, prop: str, value: Any) -> None:
    """An IAM role or user ARN, as an EKS access entry's principal takes (EKS API CreateAccessEntry principalArn)."""
    require(
        scope,
        isinstance(value, str) and bool(IAM_PRINCIPAL_ARN.match(value)),
        prop,
        value,
        IAM_PRINCIPAL_RULE,
    )
