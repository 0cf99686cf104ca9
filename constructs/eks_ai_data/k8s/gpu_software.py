"""GPU software: the NVIDIA device plugin DaemonSet, or the NVIDIA GPU operator as an alternative.

Choose one per cluster, never both (the operator deploys its own device plugin):

- :class:`GpuSoftwareChart` (default): the device plugin alone, for the EKS-optimized accelerated
  AMIs, which already ship the NVIDIA driver and container toolkit.
- :func:`gpu_operator_helm_chart`: the coordinates and values of the GPU operator's Helm chart, for
  the cluster to install with ``Cluster.add_helm_chart`` (e.g. for DCGM metrics, MIG management or
  GPUDirect Storage). Its values leave the driver and toolkit to the AMI and make the operator's
  node agents tolerate the project's node taints.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
from constructs import Construct

from ..errors import EksAiDataValidationError
from ..labels import (
    ACCELERATOR_LABEL,
    ACCELERATOR_NVIDIA,
    AMI_FAMILY_AL2023,
    AMI_FAMILY_LABEL,
    GPU_TAINT,
    LOCAL_NVME_TAINT,
    NODE_ROLE_LABEL,
    NODE_ROLE_SYSTEM,
)
from ..naming import LABEL_RULE, is_dns1123_label
from ._common import MANAGED_BY, fail, require_label, require_mapping, toleration, unresolved
from ._daemonset import node_daemonset

#: NVIDIA k8s-device-plugin release v0.20.0 (newest release, checked 2026-11; static manifest
#: deployments/static/nvidia-device-plugin.yml).
#: Environment variable names kubelet accepts (apimachinery validation IsEnvVarName).
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*\Z")
DEVICE_PLUGIN_VERSION = "v0.20.0"
DEVICE_PLUGIN_IMAGE = f"nvcr.io/nvidia/k8s-device-plugin:{DEVICE_PLUGIN_VERSION}"

#: NVIDIA GPU operator Helm chart v26.7.0 (newest release, checked 2026-11).
GPU_OPERATOR_REPOSITORY = "https://helm.ngc.nvidia.com/nvidia"
GPU_OPERATOR_CHART = "gpu-operator"
GPU_OPERATOR_VERSION = "v26.7.0"

_DEVICE_PLUGIN_DIR = "/var/lib/kubelet/device-plugins"


#: Where the device plugin DaemonSet runs: NVIDIA nodes on AL2023. Bottlerocket's NVIDIA variants run the device
#: plugin as a host service (Bottlerocket ``settings.kubelet-device-plugins.nvidia``), so a second plugin there would
#: register ``nvidia.com/gpu`` twice with kubelet.
DEVICE_PLUGIN_NODE_SELECTOR = {ACCELERATOR_LABEL: ACCELERATOR_NVIDIA, AMI_FAMILY_LABEL: AMI_FAMILY_AL2023}


class GpuSoftwareChart(cdk8s.Chart):
    """The NVIDIA device plugin on AL2023 GPU nodes (``eks-ai-data/accelerator=nvidia``,
    ``eks-ai-data/ami-family=al2023``), advertising ``nvidia.com/gpu`` resources. Tolerates the GPU taint and the local-NVMe taint, runs at
    ``system-node-critical`` priority, drops every capability and forbids privilege escalation
    (as upstream's static manifest), with the ``RuntimeDefault`` seccomp profile.

    :param namespace: Default: ``"kube-system"``.
    :param image: Default: :data:`DEVICE_PLUGIN_IMAGE` (pinned).
    :param env: extra environment of the plugin (e.g. ``{"MIG_STRATEGY": "single"}``). Default: none.

    Attribute: ``daemon_set``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str = "kube-system",
        image: str = DEVICE_PLUGIN_IMAGE,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id, labels=MANAGED_BY)
        require_label(self, "namespace", namespace)
        env = require_mapping(self, "env", env, "a mapping of environment variable names to values")
        for name, value in env.items():
            # kubelet takes names of printable ASCII without '=' (apimachinery IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]*)
            if not (isinstance(name, str) and ENV_NAME.match(name)) or not isinstance(value, str):
                raise fail(
                    self,
                    "env",
                    {name: value},
                    "names must be letters, digits, '-', '.' or '_', not starting with a digit; values strings",
                )
        if not unresolved(image) and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
            raise fail(self, "image", image, "must be pinned to a version tag")
        self.daemon_set = node_daemonset(
            self,
            name="nvidia-device-plugin",
            namespace=namespace,
            node_selector=DEVICE_PLUGIN_NODE_SELECTOR,
            tolerations=[toleration(GPU_TAINT), toleration(LOCAL_NVME_TAINT)],
        )
        container = self.daemon_set.add_container(
            name="nvidia-device-plugin-ctr",
            image=image,
            image_pull_policy=kplus.ImagePullPolicy.IF_NOT_PRESENT,
            # root (kubelet's device-plugin directory is root-owned) but nothing more
            security_context=kplus.ContainerSecurityContextProps(
                privileged=False,
                allow_privilege_escalation=False,
                ensure_non_root=False,
                read_only_root_filesystem=False,
            ),
            env_variables={k: kplus.EnvValue.from_value(v) for k, v in (env or {}).items()},
            resources=kplus.ContainerResources(
                cpu=kplus.CpuResources(request=kplus.Cpu.millis(10)),
                memory=kplus.MemoryResources(
                    request=cdk8s.Size.mebibytes(32), limit=cdk8s.Size.mebibytes(256)
                ),
            ),
        )
        # cdk8s-plus' Capability enum has no "ALL"
        cdk8s.ApiObject.of(self.daemon_set).add_json_patch(
            cdk8s.JsonPatch.add(
                "/spec/template/spec/containers/0/securityContext/capabilities", {"drop": ["ALL"]}
            )
        )
        container.mount(
            _DEVICE_PLUGIN_DIR,
            kplus.Volume.from_host_path(
                self,
                "device-plugins-volume",
                "kubelet-device-plugins-dir",
                path=_DEVICE_PLUGIN_DIR,
                type=kplus.HostPathVolumeType.DIRECTORY,
            ),
        )


@dataclass(frozen=True)
class HelmChartSpec:
    """Where a Helm chart is and how to install it (arguments of ``Cluster.add_helm_chart``).

    :param repository: the chart repository's URL.
    :param chart: the chart's name in that repository.
    :param version: the chart version (pinned).
    :param release: the Helm release name.
    :param namespace: the namespace the release is installed in.
    :param create_namespace: let Helm create the namespace.
    :param values: the release's values. Default: none.
    """

    repository: str
    chart: str
    version: str
    release: str
    namespace: str
    create_namespace: bool
    values: dict[str, Any] = field(default_factory=dict)


def gpu_operator_helm_chart(
    *,
    namespace: str = "gpu-operator",
    driver_enabled: bool = False,
    toolkit_enabled: bool = False,
    dcgm_exporter_enabled: bool = True,
    extra_values: Mapping[str, Any] | None = None,
) -> HelmChartSpec:
    """The NVIDIA GPU operator Helm chart (pinned :data:`GPU_OPERATOR_VERSION`), the alternative to
    :class:`GpuSoftwareChart`.

    :param namespace: Default: ``"gpu-operator"`` (created by the install).
    :param driver_enabled: let the operator install the NVIDIA driver. Default: False (the
        EKS-optimized accelerated AMIs ship it).
    :param toolkit_enabled: let the operator install the container toolkit. Default: False (ditto).
    :param dcgm_exporter_enabled: GPU metrics for Prometheus. Default: True.
    :param extra_values: merged over the computed values (top-level keys replace). Default: none.
    """
    if not is_dns1123_label(namespace):
        raise EksAiDataValidationError("gpu_operator_helm_chart", "namespace", namespace, LABEL_RULE)
    for prop, flag in (
        ("driver_enabled", driver_enabled),
        ("toolkit_enabled", toolkit_enabled),
        ("dcgm_exporter_enabled", dcgm_exporter_enabled),
    ):
        if not isinstance(flag, bool):
            raise EksAiDataValidationError("gpu_operator_helm_chart", prop, flag, "must be True or False")
    if extra_values is not None and not isinstance(extra_values, Mapping):
        raise EksAiDataValidationError(
            "gpu_operator_helm_chart", "extra_values", extra_values, "must be a mapping of Helm values"
        )
    gpu_tolerations = [toleration(GPU_TAINT), toleration(LOCAL_NVME_TAINT)]
    values: dict[str, Any] = {
        "driver": {"enabled": driver_enabled},
        "toolkit": {"enabled": toolkit_enabled},
        "dcgmExporter": {"enabled": dcgm_exporter_enabled},
        "daemonsets": {"priorityClassName": "system-node-critical", "tolerations": gpu_tolerations},
        "operator": {"nodeSelector": {"kubernetes.io/os": "linux", NODE_ROLE_LABEL: NODE_ROLE_SYSTEM}},
        "node-feature-discovery": {"worker": {"tolerations": gpu_tolerations}},
    }
    values.update(extra_values or {})
    return HelmChartSpec(
        repository=GPU_OPERATOR_REPOSITORY,
        chart=GPU_OPERATOR_CHART,
        version=GPU_OPERATOR_VERSION,
        release="gpu-operator",
        namespace=namespace,
        create_namespace=True,
        values=values,
    )
