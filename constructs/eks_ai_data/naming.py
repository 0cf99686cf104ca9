"""Kubernetes naming rules (layer 1: no CDK import), shared by the constructs and the charts."""

from __future__ import annotations

import re

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
    "must be 3-63 lowercase letters, digits, '.' or '-', start and end with a letter or digit, have no '..', not "
    "look like an IP address, not start with "
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
