"""The Pod Security Standards' ``baseline`` and ``restricted`` checks (Kubernetes "Pod Security Standards", v1.36
profile), as Pod Security Admission applies them to a pod spec: :func:`violations` lists what a namespace enforcing
``level`` would refuse. Checks the fields a pod template can carry; AppArmor and SELinux types are not modelled (the
platform sets neither)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Capabilities ``baseline`` lets a container add (the PSS baseline "Capabilities" control).
BASELINE_CAPABILITIES = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
#: Volume types ``restricted`` allows.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod spec of a Pod, or of a workload's pod template (Job, Deployment, ...; CronJob's job template)."""
    if obj["kind"] == "Pod":
        return obj["spec"]
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def violations(spec: Mapping[str, Any], level: str = "restricted") -> list[str]:
    """What Pod Security Admission at ``level`` (``baseline`` or ``restricted``) refuses in ``spec``."""
    found: list[str] = []
    containers = [
        *spec.get("initContainers", []),
        *spec.get("containers", []),
        *spec.get("ephemeralContainers", []),
    ]
    pod_context = spec.get("securityContext", {})
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            found.append(f"{key}")
    for volume in spec.get("volumes", []):
        if "hostPath" in volume:
            found.append(f"hostPath volume {volume['name']}")
    for c in containers:
        context = c.get("securityContext", {})
        name = c["name"]
        if context.get("privileged"):
            found.append(f"{name}: privileged")
        added = set(context.get("capabilities", {}).get("add", []))
        if added - BASELINE_CAPABILITIES:
            found.append(f"{name}: adds {sorted(added - BASELINE_CAPABILITIES)}")
        if any(p.get("hostPort") for p in c.get("ports", [])):
            found.append(f"{name}: hostPort")
    if level == "baseline":
        return found
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if kinds - RESTRICTED_VOLUMES:
            found.append(f"volume {volume['name']}: type {sorted(kinds)}")
    pod_non_root = pod_context.get("runAsNonRoot")
    pod_seccomp = pod_context.get("seccompProfile", {}).get("type")
    if pod_context.get("runAsUser") == 0:
        found.append("pod: runAsUser 0")
    for c in containers:
        context = c.get("securityContext", {})
        name = c["name"]
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation is not false")
        if context.get("runAsNonRoot", pod_non_root) is not True:
            found.append(f"{name}: runAsNonRoot is not true")
        if context.get("runAsUser") == 0:
            found.append(f"{name}: runAsUser 0")
        if context.get("seccompProfile", {}).get("type", pod_seccomp) not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: no RuntimeDefault or Localhost seccomp profile")
        capabilities = context.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            found.append(f"{name}: does not drop ALL capabilities")
        if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: adds capabilities other than NET_BIND_SERVICE")
    return found
