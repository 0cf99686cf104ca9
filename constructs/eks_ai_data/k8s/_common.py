"""Helpers shared by the charts: token detection, validation with the chart's path, tolerations.

Layer 3 never imports aws_cdk: a CDK token reaches a chart as an encoded string (``"${Token[...]}"``,
or ``"#{Token[...]}"`` for a list token) or as an encoded number, and is resolved when the cluster
applies the chart. Such values are never validated.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import cdk8s
from constructs import Construct

from ..errors import EksAiDataValidationError
from ..errors import require_bool as require_bool
from ..errors import require_items as require_items
from ..errors import require_mapping as require_mapping
from ..labels import Taint
from ..naming import (
    LABEL_RULE,
    SUBDOMAIN_RULE,
    is_dns1123_label,
    is_dns1123_subdomain,
    label_key_problem,
    label_value_problem,
)

_TOKEN_MARKERS = ("${Token[", "#{Token[")
# aws-cdk encodes number tokens as doubles close to -1.8881545897087626e+289.
_NUMBER_TOKEN_LIMIT = -1e289


def unresolved(value: Any) -> bool:
    """True when ``value`` is, or contains, a CDK token (a value known only when the chart is applied)."""
    if isinstance(value, str):
        return any(marker in value for marker in _TOKEN_MARKERS)
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value <= _NUMBER_TOKEN_LIMIT
    if isinstance(value, Mapping):
        return any(unresolved(k) or unresolved(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(unresolved(v) for v in value)
    return False


def concrete(values: Any) -> bool:
    """True when ``values`` hold no CDK token, so they can be written to a manifest file as they are.

    ``values`` may be a cdk8s Chart or App (its synthesized objects are inspected), or any nesting of
    mappings, sequences, strings and numbers (e.g. a chart's props). ``make manifests`` writes only
    the charts for which this holds.
    """
    if isinstance(values, cdk8s.App):
        return all(concrete(chart) for chart in values.charts)
    if isinstance(values, cdk8s.Chart):
        return not unresolved(values.to_json())
    return not unresolved(values)


def write_manifests(*charts: cdk8s.Chart, outdir: str) -> list[str]:
    """Write each chart to ``outdir/<chart id>.k8s.yaml`` and return the paths written.

    Raises :class:`EksAiDataValidationError` for a chart whose objects still hold CDK tokens: such a
    chart can only be applied through the cluster (``Cluster.add_cdk8s_chart``).
    """
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for chart in charts:
        if not concrete(chart):
            raise EksAiDataValidationError(
                chart.node.path, "values", "<CDK token>", "must be concrete to be written to a file"
            )
        path = os.path.join(outdir, f"{chart.node.id}.k8s.yaml")
        with open(path, "w", encoding="utf-8") as out:
            out.write(cdk8s.Yaml.stringify(*chart.to_json()))
        paths.append(path)
    return paths


# -- validation (messages name the chart's node path) ----------------------------------------------


def fail(scope: Construct, prop: str, value: Any, allowed: str) -> EksAiDataValidationError:
    return EksAiDataValidationError(scope.node.path, prop, value, allowed)


def require(scope: Construct, condition: bool, prop: str, value: Any, allowed: str) -> None:
    """Raise unless ``condition`` holds; unresolved values are never checked."""
    if not unresolved(value) and not condition:
        raise fail(scope, prop, value, allowed)


def require_int_range(scope: Construct, prop: str, value: Any, low: int, high: int) -> None:
    """``value`` is an int in ``[low, high]`` (``None`` and tokens pass)."""
    if value is None or unresolved(value):
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(scope, prop, value, f"must be an integer between {low} and {high}")


def require_label(scope: Construct, prop: str, value: Any) -> None:
    """A DNS-1123 label (namespaces, service accounts)."""
    if not unresolved(value) and not is_dns1123_label(value):
        raise fail(scope, prop, value, LABEL_RULE)


def require_subdomain(scope: Construct, prop: str, value: Any) -> None:
    """A DNS-1123 subdomain (names of most object kinds)."""
    if not unresolved(value) and not is_dns1123_subdomain(value):
        raise fail(scope, prop, value, SUBDOMAIN_RULE)


def require_pattern(scope: Construct, prop: str, value: Any, pattern: re.Pattern[str], allowed: str) -> None:
    if not unresolved(value) and not (isinstance(value, str) and pattern.fullmatch(value)):
        raise fail(scope, prop, value, allowed)


def require_one_of(scope: Construct, prop: str, value: Any, choices: Iterable[Any]) -> None:
    choices = tuple(choices)
    if not unresolved(value) and value not in choices:
        raise fail(scope, prop, value, "must be one of " + ", ".join(map(repr, choices)))


def require_names(scope: Construct, prop: str, value: Any) -> list[str]:
    """``value`` as a list of names (strings); one string on its own is refused (Python would iterate it letter by
    letter)."""
    if isinstance(value, str):
        raise fail(scope, prop, value, f"must be a list of names, not a string: [{value!r}]")
    items = list(value)
    if not all(isinstance(item, str) for item in items):
        raise fail(scope, prop, items, "must be a list of names (strings)")
    return items


def require_labels(scope: Construct, prop: str, labels: Any, *, set_here: Iterable[str] = ()) -> None:
    """Object labels the API server accepts (apimachinery ValidateLabels: a ``[prefix/]name`` key, a value of at
    most 63 characters, possibly empty), none of them a key the chart sets itself (``set_here``: keys or key
    prefixes ending in ``/``), which would otherwise be overwritten silently."""
    if not isinstance(labels, Mapping):
        raise fail(scope, prop, labels, "must be a mapping of label keys to values")
    owned = tuple(set_here)
    for key, value in labels.items():
        if unresolved(key) or unresolved(value):
            continue
        problem = label_key_problem(key) or label_value_problem(value, allow_empty=True)
        if problem is None and (key in owned or key.startswith(tuple(o for o in owned if o.endswith("/")))):
            problem = f"is set by eks-ai-data itself ({', '.join(owned)}); choose another key"
        if problem is not None:
            raise fail(scope, prop, {key: value}, problem)


def require_unique(scope: Construct, prop: str, names: Iterable[str]) -> None:
    """No concrete name appears twice."""
    seen: set[str] = set()
    for name in names:
        if unresolved(name):
            continue
        if name in seen:
            raise fail(scope, prop, name, "must be unique: the name is used twice")
        seen.add(name)


# -- AWS identifiers (checked only when concrete) ----------------------------------------------

FILE_SYSTEM_ID = re.compile(r"fs-[0-9a-f]{8,40}")
ACCESS_POINT_ID = re.compile(r"fsap-[0-9a-f]{8,40}")
SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8,17}")
SECURITY_GROUP_ID = re.compile(r"sg-[0-9a-f]{8,17}")
KMS_KEY_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/mrk-[0-9a-f]{32}"
)
#: Availability Zone names (``us-east-1a``, ``us-gov-west-1b``; Local Zones ``us-west-2-lax-1a``).
ZONE_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+([a-z]|-[a-z]+-\d+[a-z])")
#: The node label kubelet sets from the instance's Availability Zone (well-known label).
ZONE_LABEL = "topology.kubernetes.io/zone"
HOSTNAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+")
TAG_KEY = re.compile(r"[^=]{1,128}")


def require_tags(scope: Construct, prop: str, tags: Mapping[str, str]) -> None:
    """AWS tags passed as ``key=value`` strings: key 1-128 characters without ``=``, value at most 256."""
    for key, value in tags.items():
        if unresolved(key) or unresolved(value):
            continue
        if not isinstance(key, str) or not TAG_KEY.fullmatch(key) or key.startswith("aws:"):
            raise fail(
                scope, prop, key, "tag keys must be 1-128 characters, without '=' or the 'aws:' prefix"
            )
        if not isinstance(value, str) or len(value) > 256:
            raise fail(scope, prop, value, "tag values must be strings of at most 256 characters")


def tag_specifications(tags: Mapping[str, str]) -> dict[str, str]:
    """EBS CSI driver ``tagSpecification_N`` parameters, numbered from 1 in the mapping's order."""
    return {f"tagSpecification_{i}": f"{key}={value}" for i, (key, value) in enumerate(tags.items(), start=1)}


def zone_affinity(zone: str) -> dict[str, Any]:
    """A PersistentVolume ``nodeAffinity`` that admits only nodes in ``zone`` (``topology.kubernetes.io/zone``)."""
    return {
        "required": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": ZONE_LABEL, "operator": "In", "values": [zone]}]}
            ]
        }
    }


def toleration(taint: Taint) -> dict[str, str]:
    """A toleration of ``taint`` whatever its value (operator ``Exists``)."""
    return {"key": taint.key, "operator": "Exists", "effect": taint.effect}


def metadata(
    name: str,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> cdk8s.ApiObjectMetadata:
    return cdk8s.ApiObjectMetadata(
        name=name,
        namespace=namespace,
        labels=dict(labels) if labels else None,
        annotations=dict(annotations) if annotations else None,
    )


#: Label put on every object the charts emit.
MANAGED_BY = {"app.kubernetes.io/managed-by": "eks-ai-data"}


def api_object(
    scope: Construct, id: str, *, api_version: str, kind: str, meta: cdk8s.ApiObjectMetadata, **body: Any
) -> cdk8s.ApiObject:
    """A plain ``ApiObject`` with top-level fields (``spec``, ``provisioner``, ...): the Python
    binding of ``ApiObject`` takes only apiVersion, kind and metadata, so the rest is added by JSON patch."""
    obj = cdk8s.ApiObject(scope, id, api_version=api_version, kind=kind, metadata=meta)
    obj.add_json_patch(*(cdk8s.JsonPatch.add(f"/{key}", value) for key, value in body.items()))
    return obj
