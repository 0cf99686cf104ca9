"""A cdk8s-plus DaemonSet set up for node-level agents (shared by the NVMe and GPU charts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cdk8s
import cdk8s_plus_27 as kplus
from constructs import Construct

from ._common import metadata


def node_daemonset(
    scope: Construct,
    *,
    name: str,
    namespace: str,
    node_selector: Mapping[str, str],
    tolerations: Sequence[Mapping[str, str]],
    service_account: kplus.IServiceAccount | None = None,
    automount_token: bool = False,
    pod_labels: Mapping[str, str] | None = None,
    priority_class_name: str = "system-node-critical",
) -> kplus.DaemonSet:
    """A DaemonSet whose pods run as the node agent they are: root allowed (containers say how much),
    a stable selector (``app.kubernetes.io/name: <name>``, not cdk8s' path hash: selectors are
    immutable), a ``nodeSelector``, the given tolerations, a priority class, ``RuntimeDefault`` seccomp.

    cdk8s-plus has no setter for the node selector, priority class and seccomp profile: they are
    JSON patches on the pod template.
    """
    labels = dict(pod_labels or {"app.kubernetes.io/name": name})
    ds = kplus.DaemonSet(
        scope,
        "daemon-set",
        metadata=metadata(name, namespace, labels=labels),
        pod_metadata=cdk8s.ApiObjectMetadata(labels=labels),
        select=False,
        service_account=service_account,
        automount_service_account_token=automount_token,
        security_context=kplus.PodSecurityContextProps(ensure_non_root=False),
    )
    ds.select(kplus.LabelSelector.of(labels=labels))
    spec = "/spec/template/spec"
    cdk8s.ApiObject.of(ds).add_json_patch(
        cdk8s.JsonPatch.add(f"{spec}/nodeSelector", {"kubernetes.io/os": "linux", **node_selector}),
        cdk8s.JsonPatch.add(f"{spec}/tolerations", [dict(t) for t in tolerations]),
        cdk8s.JsonPatch.add(f"{spec}/priorityClassName", priority_class_name),
        cdk8s.JsonPatch.add(f"{spec}/securityContext/seccompProfile", {"type": "RuntimeDefault"}),
    )
    return ds
