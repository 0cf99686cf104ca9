"""Kubernetes naming rules (layer 1: no CDK import), shared by the constructs and the charts."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")

LABEL_RULE = (
    "must be a DNS-1123 label: at most 63 lower-case alphanumeric characters or '-', "
    "starting and ending with an alphanumeric character"
)
SUBDOMAIN_RULE = (
    "must be a DNS-1123 subdomain: at most 253 lower-case alphanumeric characters, '-' or '.', "
    "starting and ending with an alphanumeric character"
)


def is_dns1123_label(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 63 and bool(DNS1123_LABEL.match(value))


def is_dns1123_subdomain(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 253 and bool(DNS1123_SUBDOMAIN.match(value))


# -- labels (Kubernetes apimachinery validation.IsQualifiedName / IsValidLabelValue) ----------------
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
#: Prefixes the Kubernetes project reserves; kubelet refuses to self-apply most labels under them (NodeRestriction).
RESERVED_LABEL_PREFIXES = ("kubernetes.io/", "k8s.io/")
#: Node-group labels that kubelet may set under a reserved prefix (kubelet's allowed --node-labels namespaces).
ALLOWED_RESERVED_LABEL_PREFIXES = ("kubelet.kubernetes.io/", "node.kubernetes.io/")
#: EKS CreateNodegroup: label keys and values are each 1-63 characters (the whole key, prefix included).
EKS_LABEL_MAX = 63


def label_key_problem(key: object, *, max_length: int | None = None) -> str | None:
    """Why ``key`` is not a valid Kubernetes label key (``[prefix/]name``), or ``None`` when it is."""
    if not isinstance(key, str) or not key:
        return "label keys must be non-empty strings"
    if max_length is not None and len(key) > max_length:
        return f"label keys must be at most {max_length} characters here (EKS node group limit)"
    prefix, _, name = key.rpartition("/")
    if "/" in key and not prefix:
        return "a label key's prefix must not be empty"
    if prefix and not is_dns1123_subdomain(prefix):
        return f"a label key's prefix must be a DNS-1123 subdomain ({prefix!r} is not)"
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return (
            "a label key's name must be 1-63 characters of letters, digits, '-', '_' or '.', beginning and "
            "ending with a letter or digit"
        )
    return None


def label_value_problem(value: object, *, max_length: int = 63, allow_empty: bool = True) -> str | None:
    """Why ``value`` is not a valid Kubernetes label value, or ``None`` when it is."""
    if not isinstance(value, str):
        return "label values must be strings"
    if not value:
        return None if allow_empty else "label values must not be empty here"
    if len(value) > max_length or not _LABEL_NAME.match(value):
        return (
            f"label values must be at most {max_length} characters of letters, digits, '-', '_' or '.', "
            "beginning and ending with a letter or digit"
        )
    return None


# -- S3 bucket names (Amazon S3 user guide, "General purpose bucket naming rules") -------------------
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+\Z")
#: Prefixes and suffixes S3 reserves (access points, Object Lambda, Multi-Region Access Points, directory and table
#: buckets, the documentation examples).
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
BUCKET_RULE = (
    "must be 3-63 lowercase letters, digits, '.' or '-', start and end with a letter or digit, have no '..', '.-' "
    "or '-.', not look like an IP address, not start with "
    + ", ".join(RESERVED_BUCKET_PREFIXES)
    + " and not end with "
    + ", ".join(RESERVED_BUCKET_SUFFIXES)
    + " (S3 general purpose bucket naming rules)"
)


def is_bucket_name(value: object) -> bool:
    """Whether ``value`` is a name S3 accepts for a general purpose bucket."""
    return (
        isinstance(value, str)
        and bool(_BUCKET_NAME.match(value))
        and ".." not in value
        # aws-cdk-lib's Bucket (aws-s3/lib/bucket.ts, validateBucketName) also refuses a dash next to a period
        and ".-" not in value
        and "-." not in value
        and not _IP_ADDRESS.match(value)
        and not value.startswith(RESERVED_BUCKET_PREFIXES)
        and not value.endswith(RESERVED_BUCKET_SUFFIXES)
    )


# -- Kubernetes groups of EKS access entries ----------------------------------------------------------
#: Group-name prefixes a team's group must not use: Kubernetes' own ``system:`` groups (``system:masters`` is
#: cluster-admin), and the prefixes EKS reserves for access-entry user names (EKS user guide, grant-k8s-access:
#: ``system:``, ``eks:``, ``aws:``, ``amazon:``, ``iam:``).
RESERVED_GROUP_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
_GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._@-]{0,127}\Z")
GROUP_RULE = (
    "must be a Kubernetes group name of 1-128 letters, digits and ':._@-', not starting with "
    + ", ".join(RESERVED_GROUP_PREFIXES)
)


def is_team_group(value: object) -> bool:
    """A group an access entry may map IAM principals to, and a RoleBinding may name."""
    return (
        isinstance(value, str)
        and bool(_GROUP_NAME.match(value))
        and not value.startswith(RESERVED_GROUP_PREFIXES)
    )


# -- EKS resource names and add-on versions ---------------------------------------------------------
#: EKS CreateCluster ``name`` (1-100) and CreateNodegroup ``nodegroupName`` (1-63): ``^[0-9A-Za-z][A-Za-z0-9\-_]*``.
EKS_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]*\Z")
#: EKS add-on versions as DescribeAddonVersions lists them, e.g. ``v1.20.4-eksbuild.1``.
ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+\Z")
ADDON_VERSION_RULE = (
    "must be an EKS add-on version v<major>.<minor>.<patch>-eksbuild.<n>, e.g. 'v1.20.4-eksbuild.1'"
)


def eks_name_rule(max_length: int) -> str:
    return f"1-{max_length} letters, digits, '-' or '_', starting with a letter or digit (EKS API)"


#: EKS cluster names (CreateCluster API): 1-100 characters, a letter or digit first, then letters, digits, '-', '_'.
MAX_CLUSTER_NAME = 100


def is_eks_name(value: object, max_length: int) -> bool:
    return isinstance(value, str) and len(value) <= max_length and bool(EKS_NAME.match(value))


# -- IAM principals ------------------------------------------------------------------------------------
#: An IAM role or user ARN, path allowed (IAM paths are ``/`` or ``/`` + printable ASCII + ``/``; names are 1-64
#: ``[\w+=,.@-]``). EKS access entries take role ARNs with a path (EKS user guide, "Create access entries"); STS
#: assumed-role ARNs are refused there.
IAM_PRINCIPAL_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)/([\x21-\x7e]*/)?[\w+=,.@-]{1,64}\Z", re.A
)
IAM_PRINCIPAL_RULE = (
    "must be an IAM role or user ARN, arn:<partition>:iam::<12-digit account>:role/[<path>/]<name> (or user/...); "
    "not an STS assumed-role ARN"
)


# -- IPv4 CIDR blocks ----------------------------------------------------------------------------------
_IPV4_CIDR = re.compile(r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}\Z")


def ipv4_cidr_problem(value: object) -> str | None:
    """Why ``value`` is not an IPv4 CIDR block ``a.b.c.d/n`` with no host bits set, or ``None`` when it is."""
    if not isinstance(value, str) or not _IPV4_CIDR.match(value):
        return "must be an IPv4 CIDR block a.b.c.d/n"
    try:
        network = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        return "must be an IPv4 CIDR block a.b.c.d/n (octets 0-255, prefix 0-32)"
    if str(network) != value:
        return f"has host bits set: the network is {network}"
    return None


# -- Kubernetes tolerations (pkg/apis/core/validation ValidateTolerations) ------------------------------
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_TOLERATION_FIELDS = frozenset({"key", "operator", "value", "effect", "tolerationSeconds"})


def toleration_problem(toleration: object) -> str | None:
    """Why the API server would refuse ``toleration``, or ``None`` when it accepts it.

    As Kubernetes' ValidateTolerations: a non-empty key is a qualified name (label key rules); an empty key needs
    operator ``Exists``; operator ``Equal`` (the default) takes a label value, ``Exists`` no value; effect empty (any)
    or a taint effect; ``tolerationSeconds`` only with ``NoExecute``. Negative seconds, which Kubernetes treats as 0,
    are refused here as meaningless (write 0).
    """
    if not isinstance(toleration, Mapping):
        return "must be a mapping of key/operator/value/effect/tolerationSeconds"
    unknown = sorted(set(toleration) - _TOLERATION_FIELDS)
    if unknown:
        return f"has unknown fields {unknown}: allowed are key, operator, value, effect, tolerationSeconds"
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    value = toleration.get("value") or ""
    effect = toleration.get("effect") or ""
    if key:
        problem = label_key_problem(key)
        if problem is not None:
            return problem.replace("label key", "toleration key")
    elif operator != "Exists":
        return "operator must be Exists when key is empty (which tolerates every taint)"
    if operator not in ("Equal", "Exists"):
        return "operator must be Equal or Exists"
    if operator == "Exists" and value:
        return "value must be empty with operator Exists"
    if operator == "Equal":
        problem = label_value_problem(value)
        if problem is not None:
            return problem.replace("label values", "toleration values")
    if effect and effect not in TAINT_EFFECTS:
        return f"effect must be empty (any) or one of {list(TAINT_EFFECTS)}"
    seconds = toleration.get("tolerationSeconds")
    if seconds is not None:
        if effect != "NoExecute":
            return "tolerationSeconds needs effect NoExecute"
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            return "tolerationSeconds must be a whole number of seconds, 0 or more"
    return None
