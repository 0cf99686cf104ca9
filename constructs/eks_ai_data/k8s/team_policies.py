"""What a team namespace's objects say: the RBAC rules of a team's members, the NetworkPolicies that isolate the
namespace, and the quota keys Kubernetes reads (pure data, used by :class:`~eks_ai_data.k8s.teams.TeamsChart`).

RBAC (Kubernetes "Using RBAC Authorization"): a namespaced Role bound to the team's group grants only in that
namespace; nothing here is cluster-scoped. The Role is the platform's own and deliberately narrower than EKS's
``AmazonEKSEditPolicy`` (EKS user guide, access-policy-reference: that policy may create and delete
``networkpolicies`` and ``impersonate`` service accounts): members run workloads, claims, config and secrets, and
only read the quota, limits, policies and service accounts the platform set.

NetworkPolicies (Kubernetes "Network Policies"): a pod selected by any policy for a direction allows only what the
union of those policies allows. ``default-deny`` selects every pod for both directions; the others open:

- same-namespace traffic, both ways;
- DNS to CoreDNS (``kube-system`` pods labelled ``k8s-app: kube-dns``, UDP and TCP 53: the rule the VPC CNI's
  network policy agent maintainers give for DNS under an egress policy, aws/aws-network-policy-agent issue 230);
- HTTPS (TCP 443) to any address outside the link-local range ``169.254.0.0/16``: AWS APIs and S3 (the S3 gateway
  endpoint routes S3's public prefixes, which a NetworkPolicy cannot name: it takes CIDRs only), the EKS API, STS.
  The trade-off: any HTTPS destination on the internet is reachable through the NAT gateways; a NetworkPolicy cannot
  narrow it to AWS services;
- the EKS Pod Identity agent, ``169.254.170.23`` TCP 80 (EKS user guide, pod-id-agent-setup): the only link-local
  address a pod may reach, so the instance metadata service (``169.254.169.254``) stays closed to pods on the network
  as well as by the hop limit of 1.

No rule opens NFS (2049) or Lustre (988, 1018-1023): the file systems are mounted by the node, not by pods (the EFS
node plugin runs on the host network, aws-efs-csi-driver chart node-daemonset.yaml; the Lustre client is the
node's kernel module), and NetworkPolicies govern pod traffic only.
"""

from __future__ import annotations

from typing import Any

READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete", "deletecollection")

#: ``(api group, resources, verbs)`` of a team member's Role in the team's namespace.
TEAM_MEMBER_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "",
        ("pods", "services", "configmaps", "secrets", "persistentvolumeclaims"),
        READ + WRITE,
    ),
    ("", ("pods/exec", "pods/attach", "pods/portforward"), ("get", "create")),
    (
        "",
        (
            "pods/log",
            "pods/status",
            "events",
            "endpoints",
            "serviceaccounts",
            "resourcequotas",
            "limitranges",
        ),
        READ,
    ),
    (
        "apps",
        ("deployments", "deployments/scale", "statefulsets", "statefulsets/scale", "replicasets"),
        READ + WRITE,
    ),
    ("batch", ("jobs", "cronjobs"), READ + WRITE),
    ("autoscaling", ("horizontalpodautoscalers",), READ + WRITE),
    ("policy", ("poddisruptionbudgets",), READ + WRITE),
    ("networking.k8s.io", ("networkpolicies",), READ),
    ("discovery.k8s.io", ("endpointslices",), READ),
)

DNS_SELECTOR = {"k8s-app": "kube-dns"}
#: The label Kubernetes sets on every namespace (NamespaceDefaultLabelName, GA in 1.22).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
LINK_LOCAL = "169.254.0.0/16"
POD_IDENTITY_AGENT = "169.254.170.23/32"
GPU_QUOTA_KEY = "requests.nvidia.com/gpu"


def storage_quota_key(storage_class: str) -> str:
    """The ResourceQuota key that caps the storage all claims of ``storage_class`` in a namespace request."""
    return f"{storage_class}.storageclass.storage.k8s.io/requests.storage"


def role_rules() -> list[dict[str, Any]]:
    return [
        {"apiGroups": [group], "resources": list(resources), "verbs": list(verbs)}
        for group, resources, verbs in TEAM_MEMBER_RULES
    ]


def network_policies() -> dict[str, dict[str, Any]]:
    """``{name: spec}`` of a team namespace's NetworkPolicies (every pod of the namespace selected)."""
    every_pod: dict[str, Any] = {}
    return {
        "default-deny": {"podSelector": every_pod, "policyTypes": ["Ingress", "Egress"]},
        "allow-same-namespace": {
            "podSelector": every_pod,
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": every_pod}]}],
            "egress": [{"to": [{"podSelector": every_pod}]}],
        },
        "allow-dns": {
            "podSelector": every_pod,
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "kube-system"}},
                            "podSelector": {"matchLabels": dict(DNS_SELECTOR)},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        },
        "allow-https": {
            "podSelector": every_pod,
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [LINK_LOCAL]}}],
                    "ports": [{"protocol": "TCP", "port": 443}],
                }
            ],
        },
        "allow-pod-identity-agent": {
            "podSelector": every_pod,
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT}}],
                    "ports": [{"protocol": "TCP", "port": 80}],
                }
            ],
        },
    }
