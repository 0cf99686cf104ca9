"""Kubernetes naming rules (layer 1: no CDK import), shared by the constructs and the charts."""

from __future__ import annotations

import re

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

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
