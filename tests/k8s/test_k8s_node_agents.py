"""Node-level DaemonSets (local static provisioner, NVIDIA device plugin), the GPU operator alternative,
and the token helpers used to decide which charts can be written to files."""

from __future__ import annotations

import cdk8s
import pytest
import yaml
from k8s_support import objects_of, reference_app

from eks_ai_data import labels
from eks_ai_data.errors import EksAiDataValidationError
from eks_ai_data.k8s import (
    DEVICE_PLUGIN_IMAGE,
    GPU_OPERATOR_VERSION,
    LOCAL_PROVISIONER_IMAGE,
    GpuSoftwareChart,
    LocalNvmeChart,
    concrete,
    gpu_operator_helm_chart,
    unresolved,
    write_manifests,
)


def tolerated(pod_spec: dict, taint: labels.Taint) -> bool:
    """Whether the pod tolerates ``taint`` by Kubernetes' rules."""
    for t in pod_spec.get("tolerations", []):
        if t.get("effect") not in (None, taint.effect):
            continue
        if t.get("operator") == "Exists" and t.get("key") in (None, taint.key):
            return True
        if t.get("key") == taint.key and t.get("value") == taint.value:
            return True
    return False


@pytest.fixture(scope="module")
def provisioner():
    return objects_of(reference_app()["local-nvme"], "DaemonSet")["local-volume-provisioner"]


@pytest.fixture(scope="module")
def device_plugin():
    return objects_of(reference_app()["gpu-software"], "DaemonSet")["nvidia-device-plugin"]


def test_provisioner_runs_on_local_volume_nodes_whatever_their_taints(provisioner):
    pod = provisioner["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {
        "kubernetes.io/os": "linux",
        labels.LOCAL_NVME_LABEL: labels.LOCAL_NVME_VOLUMES,
    }
    for taint in labels.ALL_NODE_TAINTS:
        assert tolerated(pod, taint), taint
    assert pod["priorityClassName"] == "system-node-critical"
    assert pod["serviceAccountName"] == "local-volume-provisioner"
    assert pod["automountServiceAccountToken"] is True  # it talks to the API server
    selector = provisioner["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": "local-volume-provisioner"}
    assert selector.items() <= provisioner["spec"]["template"]["metadata"]["labels"].items()


def test_provisioner_container_sees_the_disks_as_the_user_data_mounts_them(provisioner):
    pod = provisioner["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == LOCAL_PROVISIONER_IMAGE
    assert LOCAL_PROVISIONER_IMAGE.endswith(":v2.9.0")
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts[labels.LOCAL_DISKS_DIR]["mountPropagation"] == "HostToContainer"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts[labels.LOCAL_DISKS_DIR]["name"]]["hostPath"]["path"] == labels.LOCAL_DISKS_DIR
    assert (
        volumes[mounts["/etc/provisioner/config"]["name"]]["configMap"]["name"]
        == "local-volume-provisioner-config"
    )
    env = {e["name"]: e for e in container["env"]}
    assert env["MY_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env["JOB_CONTAINER_IMAGE"]["value"] == LOCAL_PROVISIONER_IMAGE


def test_provisioner_config_matches_the_disk_layout():
    config = objects_of(reference_app()["local-nvme"], "ConfigMap")["local-volume-provisioner-config"]
    class_map = yaml.safe_load(config["data"]["storageClassMap"])
    assert class_map == {
        labels.LOCAL_NVME_STORAGE_CLASS: {
            "hostDir": labels.LOCAL_DISKS_DIR,
            "mountDir": labels.LOCAL_DISKS_DIR,
            "volumeMode": "Filesystem",
            "accessMode": "ReadWriteOnce",
            "namePattern": "*",
        }
    }
    assert config["data"]["setPVOwnerRef"] == "true"
    assert "topology.kubernetes.io/zone" in yaml.safe_load(config["data"]["nodeLabelsForPV"])


def test_provisioner_rbac_is_what_it_needs():
    chart = reference_app()["local-nvme"]
    rules = objects_of(chart, "ClusterRole")["local-volume-provisioner"]["rules"]
    granted = {
        (g, r, v)
        for rule in rules
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    assert ("", "persistentvolumes", "create") in granted
    assert ("", "persistentvolumes", "delete") in granted
    assert ("storage.k8s.io", "storageclasses", "list") in granted
    assert ("", "nodes", "get") in granted
    assert ("", "nodes", "update") not in granted
    assert not any("*" in x for x in granted)
    binding = objects_of(chart, "ClusterRoleBinding")["local-volume-provisioner"]
    assert binding["roleRef"]["name"] == "local-volume-provisioner"
    assert binding["subjects"][0]["name"] == "local-volume-provisioner"
    assert binding["subjects"][0]["namespace"] == "kube-system"


def test_device_plugin_on_gpu_nodes(device_plugin):
    pod = device_plugin["spec"]["template"]["spec"]
    assert pod["nodeSelector"][labels.ACCELERATOR_LABEL] == labels.ACCELERATOR_NVIDIA
    assert tolerated(pod, labels.GPU_TAINT)
    assert tolerated(pod, labels.LOCAL_NVME_TAINT)
    assert not tolerated(pod, labels.NEURON_TAINT)
    assert pod["priorityClassName"] == "system-node-critical"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert container["image"] == DEVICE_PLUGIN_IMAGE
    assert DEVICE_PLUGIN_IMAGE == "nvcr.io/nvidia/k8s-device-plugin:v0.20.0"
    security = container["securityContext"]
    assert security["privileged"] is False
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert container["volumeMounts"] == [
        {"mountPath": "/var/lib/kubelet/device-plugins", "name": "kubelet-device-plugins-dir"}
    ]


def test_device_plugin_env():
    chart = GpuSoftwareChart(cdk8s.App(), "gpu", env={"MIG_STRATEGY": "single"})
    (container,) = objects_of(chart, "DaemonSet")["nvidia-device-plugin"]["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["env"] == [{"name": "MIG_STRATEGY", "value": "single"}]


@pytest.mark.parametrize(
    ("chart", "props", "message"),
    [
        (LocalNvmeChart, {"namespace": "Kube"}, r"namespace='Kube': must be a DNS-1123 label"),
        (LocalNvmeChart, {"storage_class_name": "Local"}, r"storage_class_name='Local': must be a DNS-1123"),
        (LocalNvmeChart, {"disks_dir": "mnt/disks"}, r"disks_dir='mnt/disks': must be an absolute path"),
        (LocalNvmeChart, {"image": "example.com/provisioner"}, r"must be pinned to a version tag"),
        (
            LocalNvmeChart,
            {"image": "example.com:5000/provisioner:latest"},
            r"must be pinned to a version tag",
        ),
        (GpuSoftwareChart, {"image": "nvcr.io/nvidia/k8s-device-plugin"}, r"must be pinned to a version tag"),
        (GpuSoftwareChart, {"namespace": "-gpu"}, r"namespace='-gpu': must be a DNS-1123 label"),
    ],
)
def test_invalid_node_agent_input(chart, props, message):
    with pytest.raises(EksAiDataValidationError, match=r"^bad: invalid .*" + message):
        chart(cdk8s.App(), "bad", **props)


def test_gpu_operator_alternative():
    spec = gpu_operator_helm_chart()
    assert (spec.repository, spec.chart, spec.version) == (
        "https://helm.ngc.nvidia.com/nvidia",
        "gpu-operator",
        GPU_OPERATOR_VERSION,
    )
    assert GPU_OPERATOR_VERSION == "v26.7.0"
    assert spec.values["driver"] == {"enabled": False}
    assert spec.values["toolkit"] == {"enabled": False}
    operands = {"tolerations": spec.values["daemonsets"]["tolerations"]}
    assert tolerated(operands, labels.GPU_TAINT) and tolerated(operands, labels.LOCAL_NVME_TAINT)
    assert tolerated(
        {"tolerations": spec.values["node-feature-discovery"]["worker"]["tolerations"]}, labels.GPU_TAINT
    )
    assert spec.values["operator"]["nodeSelector"][labels.NODE_ROLE_LABEL] == labels.NODE_ROLE_SYSTEM
    custom = gpu_operator_helm_chart(
        namespace="gpu", driver_enabled=True, extra_values={"mig": {"strategy": "mixed"}}
    )
    assert custom.namespace == "gpu" and custom.values["driver"] == {"enabled": True}
    assert custom.values["mig"] == {"strategy": "mixed"}
    with pytest.raises(EksAiDataValidationError, match=r"gpu_operator_helm_chart: invalid namespace='GPU'"):
        gpu_operator_helm_chart(namespace="GPU")


def test_unresolved_recognizes_cdk_tokens():
    assert unresolved("${Token[TOKEN.1]}")
    assert unresolved("arn:${Token[AWS.Partition.3]}:kms")
    assert unresolved(["a", "#{Token[TOKEN.2]}"])
    assert unresolved({"k": {"n": -1.8881545897087626e289}})
    assert not unresolved("fs-0123")
    assert not unresolved({"a": [1, True, None, "b"]})


def test_concrete_tells_which_charts_can_be_written(tmp_path):
    charts = reference_app()
    assert not concrete(charts["storage-classes"])  # kmsKeyId is a token
    assert not concrete(charts["workloads"])  # a role ARN is a token
    assert concrete(charts["local-nvme"]) and concrete(charts["gpu-software"])
    assert not concrete(charts["local-nvme"].node.scope)  # the app: some of its charts hold tokens
    assert concrete({"name": "x", "sizes": [1, 2]}) and not concrete({"arn": "${Token[TOKEN.9]}"})
    paths = write_manifests(charts["local-nvme"], charts["gpu-software"], outdir=str(tmp_path))
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["local-nvme.k8s.yaml", "gpu-software.k8s.yaml"]
    docs = list(yaml.safe_load_all(open(paths[1])))
    assert docs == charts["gpu-software"].to_json()
    with pytest.raises(EksAiDataValidationError, match=r"storage-classes: invalid values='<CDK token>'"):
        write_manifests(charts["storage-classes"], outdir=str(tmp_path))
