"""What Kubernetes decides about the objects a platform applies: RBAC (who may do what, where), NetworkPolicies (which
connections a pod may open or accept) and ResourceQuota admission (whether a new claim or pod fits), reduced to the
fields the platform emits. Sources: Kubernetes "Using RBAC Authorization", "Network Policies" (NetworkPolicy v1
semantics: a pod selected by no policy for a direction is unrestricted in it; otherwise the union of the selecting
policies' rules applies, and a connection needs the source's egress and the destination's ingress), "Resource
Quotas" (storage per StorageClass, extended resources by ``requests.``), "Labels and Selectors".

Use: ``RbacModel(objects).allows(["eks-ai-data:team-a"], "create", "jobs", "team-a", api_group="batch")``,
``NetworkModel(objects).allows(Pod("team-a"), Pod("kube-system", {"k8s-app": "kube-dns"}), 53, "UDP")``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.platform.k8s_model import matches_expressions

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A label selector (``matchLabels`` and ``matchExpressions``; ``{}`` selects everything)."""
    if selector is None:
        return False
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    return matches_expressions(labels, selector.get("matchExpressions", []))


# -- RBAC -------------------------------------------------------------------------------------------------
class RbacModel:
    """Roles, ClusterRoles and their bindings among ``objects``."""

    def __init__(self, objects: Iterable[Mapping[str, Any]]) -> None:
        self.objects = list(objects)

    def _of(self, kind: str) -> list[Mapping[str, Any]]:
        return [o for o in self.objects if o.get("kind") == kind]

    def bindings_of(self, groups: Sequence[str]) -> list[Mapping[str, Any]]:
        """RoleBindings and ClusterRoleBindings naming any of ``groups``."""
        return [
            b
            for kind in ("RoleBinding", "ClusterRoleBinding")
            for b in self._of(kind)
            if any(s.get("kind") == "Group" and s.get("name") in groups for s in b.get("subjects", []))
        ]

    def allows(
        self, groups: Sequence[str], verb: str, resource: str, namespace: str | None, *, api_group: str = ""
    ) -> bool:
        """Whether a user in ``groups`` may ``verb`` ``resource`` (``pods/exec`` for subresources) in ``namespace``
        (``None``: a cluster-scoped resource, or all namespaces)."""
        for binding in self.bindings_of(groups):
            ref = binding["roleRef"]
            bound_ns = binding["metadata"].get("namespace")
            if binding["kind"] == "RoleBinding" and bound_ns != namespace:
                continue  # a RoleBinding grants in its own namespace only
            for role in self._of(ref["kind"]):
                if role["metadata"]["name"] != ref["name"]:
                    continue
                if ref["kind"] == "Role" and role["metadata"].get("namespace") != bound_ns:
                    continue
                for rule in role.get("rules", []):
                    if (
                        (api_group in rule.get("apiGroups", []) or "*" in rule.get("apiGroups", []))
                        and (resource in rule.get("resources", []) or "*" in rule.get("resources", []))
                        and (verb in rule.get("verbs", []) or "*" in rule.get("verbs", []))
                    ):
                        return True
        return False


# -- NetworkPolicy ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pod:
    """A pod (namespace and labels; an IP for ``ipBlock`` peers) or, with ``namespace=None``, an address outside
    the cluster (``ip`` required)."""

    namespace: str | None
    labels: Mapping[str, str] = field(default_factory=dict)
    ip: str | None = None


class NetworkModel:
    """The NetworkPolicies among ``objects``; namespaces' labels from the Namespace objects (plus the label
    Kubernetes sets on every namespace, ``kubernetes.io/metadata.name``) and ``namespace_labels``."""

    def __init__(
        self,
        objects: Iterable[Mapping[str, Any]],
        namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        objects = list(objects)
        self.policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
        self._ns_labels: dict[str, dict[str, str]] = {}
        for o in objects:
            if o.get("kind") == "Namespace":
                self._ns_labels[o["metadata"]["name"]] = dict(o["metadata"].get("labels", {}))
        for name, labels in (namespace_labels or {}).items():
            self._ns_labels.setdefault(name, {}).update(labels)

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return {**self._ns_labels.get(namespace, {}), NAMESPACE_NAME_LABEL: namespace}

    def _selecting(self, pod: Pod, direction: str) -> list[Mapping[str, Any]]:
        if pod.namespace is None:
            return []
        return [
            p
            for p in self.policies
            if p["metadata"].get("namespace") == pod.namespace
            and selects(p["spec"].get("podSelector"), pod.labels)
            and direction in p["spec"].get("policyTypes", ["Ingress"])
        ]

    def _peer_matches(self, peer: Mapping[str, Any], policy_ns: str, other: Pod) -> bool:
        if "ipBlock" in peer:
            if other.ip is None:
                return False
            address = ipaddress.ip_address(other.ip)
            block = peer["ipBlock"]
            return address in ipaddress.ip_network(block["cidr"]) and not any(
                address in ipaddress.ip_network(e) for e in block.get("except", [])
            )
        if other.namespace is None:
            return False  # pod and namespace selectors select pods only
        if "namespaceSelector" in peer:
            if not selects(peer["namespaceSelector"], self.namespace_labels(other.namespace)):
                return False
        elif other.namespace != policy_ns:
            return False  # a podSelector alone selects pods of the policy's namespace
        return selects(peer.get("podSelector", {}), other.labels)

    @staticmethod
    def _port_matches(ports: Sequence[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
        if not ports:
            return True
        for p in ports:
            if p.get("protocol", "TCP") != protocol:
                continue
            if "port" not in p:
                return True
            start, end = int(p["port"]), int(p.get("endPort", p["port"]))
            if start <= port <= end:
                return True
        return False

    def _direction_allows(self, pod: Pod, other: Pod, direction: str, port: int, protocol: str) -> bool:
        policies = self._selecting(pod, direction)
        if not policies:
            return True
        key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
        for policy in policies:
            for rule in policy["spec"].get(key, []):
                peers = rule.get(peers_key)
                if (not peers or any(self._peer_matches(peer, pod.namespace, other) for peer in peers)) and (
                    self._port_matches(rule.get("ports"), port, protocol)
                ):
                    return True
        return False

    def allows(self, source: Pod, destination: Pod, port: int, protocol: str = "TCP") -> bool:
        """Whether ``source`` may connect to ``destination`` on ``port``: its egress and the destination's ingress."""
        return self._direction_allows(
            source, destination, "Egress", port, protocol
        ) and self._direction_allows(destination, source, "Ingress", port, protocol)


# -- ResourceQuota admission ------------------------------------------------------------------------------
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "m": 10**-3}


def quantity(value: str | int) -> float:
    """A Kubernetes quantity as a number (``"2Ti"`` -> 2**41)."""
    text = str(value)
    for suffix, factor in [*_BINARY.items(), *_DECIMAL.items()]:
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def quota_admits(quota: Mapping[str, Any], requests: Mapping[str, str | int]) -> bool:
    """Whether an empty namespace with ``quota`` admits an object asking for ``requests`` (quota keys: a claim of
    class C asks ``C.storageclass.storage.k8s.io/requests.storage``, a pod ``requests.nvidia.com/gpu``). A key the
    quota does not name is not limited."""
    hard = quota["spec"]["hard"]
    return all(key not in hard or quantity(amount) <= quantity(hard[key]) for key, amount in requests.items())
